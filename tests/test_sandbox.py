"""The sandbox stack on its rendered record: the sandbox account runs the services, the IdP and the CA (cheaply), a
TPP meets a mutual-TLS entry that trusts the sandbox CA and nothing else, what needs no certificate is on an entry of
its own, the developer portal is CloudFront's alone, and nothing of the sandbox reaches the data centre or the
workload accounts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from cryptography import x509

from accounts.edge import STAGE_NAME, TPP_TRUSTSTORE_KEY
from accounts.sandbox import CA_KEY_VARIABLE, IDP_KEY_VARIABLE
from accounts.service_plane import functions_of
from components.api_definition import AUTHORIZER, CLIENT_CERT_HEADER, CLIENT_CERT_SOURCE
from components.open_http_api import STRIPPED_HEADERS
from environments.edge import truststore_pem
from lz.reachability import BLACKHOLE, analyse
from lz.render import Rendering
from openbanking.deployables import DEPLOYABLES
from openbanking.operations import OPERATIONS, SANDBOX_ROUTES
from openbanking.sandbox.instructions import DeployedEntries, instructions, steps
from tests.conftest import ROOT, by, of_type, one

Render = Callable[[str], Rendering]
DOMAIN = "sandbox.openbanking.example-bank.co.uk"
SERVICES = ("ais", "pis", "events", "sandbox_idp", "sandbox_ca")
TASK = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.fixture(scope="module")
def sandbox(rendered: Render) -> Rendering:
    return rendered("sandbox")


def config_of(rendering: Rendering) -> dict[str, Any]:
    return json.loads(rendering.program.config(rendering.stack).values["landingzone:environment"])


def containers(rendering: Rendering) -> dict[str, tuple[dict, dict]]:
    """Deployable -> (task definition record, its container), from the family's last part."""
    found = {}
    for task in of_type(rendering, TASK):
        [container] = json.loads(task["inputs"]["containerDefinitions"])
        family = task["inputs"]["family"]
        [deployable] = [d for d in DEPLOYABLES if family == f"sandbox-sandbox-{d.replace('_', '-')}"]
        found[deployable] = (task, container)
    return found


def environment_of(container: dict) -> dict[str, str]:
    return {v["name"]: v["value"] for v in container["environment"]}


def objects(rendering: Rendering, bucket_part: str) -> dict[str, dict]:
    return {o["inputs"]["key"]: o for o in of_type(rendering, "aws:s3/bucketObjectv2:BucketObjectv2")
            if bucket_part in o["inputs"]["bucket"]}


# --- what runs ---------------------------------------------------------------------------------------------------


def test_the_sandbox_account_runs_the_services_the_idp_the_ca_their_lambdas_and_both_tasks(sandbox: Rendering) -> None:
    running = containers(sandbox)
    assert set(running) == {*SERVICES, "ledger_migrate", "sandbox_seed"}
    assert all(task["account"] == "sandbox" for task, _ in running.values())
    lambdas = {f["inputs"]["name"].removeprefix("sandbox-sandbox-").replace("-", "_")
               for f in of_type(sandbox, "aws:lambda/function:Function")}
    assert lambdas == {*functions_of(SERVICES, DEPLOYABLES), "authorizer"}
    services = {s["inputs"]["name"] for s in of_type(sandbox, "aws:ecs/service:Service")}
    assert services == {f"sandbox-sandbox-{s.replace('_', '-')}" for s in SERVICES}, "the tasks are one-off: no service"
    tables = {t["inputs"]["name"].removeprefix("sandbox-sandbox-") for t in of_type(sandbox, "aws:dynamodb/table:Table")}
    assert "sandbox-directory" in tables and {"consents", "payments", "events"} <= tables
    [bus] = of_type(sandbox, "aws:cloudwatch/eventBus:EventBus")
    relays = [f for f in of_type(sandbox, "aws:lambda/function:Function") if f["inputs"]["name"].endswith("outbox-relay")]
    assert [r["inputs"]["environment"]["variables"]["OB_EVENT_BUS"] for r in relays] == [bus["outputs"]["arn"]]


def test_the_seeding_task_and_the_migration_reach_the_ledger_with_its_master_secret_only(sandbox: Rendering) -> None:
    running = containers(sandbox)
    [cluster] = of_type(sandbox, "aws:rds/cluster:Cluster")
    for task in ("ledger_migrate", "sandbox_seed"):
        _, container = running[task]
        assert {s["name"] for s in container["secrets"]} == {"OB_DATABASE_MASTER_USERNAME", "OB_DATABASE_MASTER_PASSWORD"}
        assert environment_of(container)["OB_DATABASE_HOST"] == cluster["outputs"]["endpoint"]
    seed = environment_of(running["sandbox_seed"][1])
    box = config_of(sandbox)["sandbox"]
    assert (seed["OB_SANDBOX_CUSTOMERS"], seed["OB_SANDBOX_MONTHS"]) == (str(box["customers"]), str(box["months"]))


def test_the_keys_are_secrets_the_operator_fills_and_only_their_service_reads(sandbox: Rendering) -> None:
    secrets = {s["outputs"]["arn"]: s for s in of_type(sandbox, "aws:secretsmanager/secret:Secret")}
    assert len(secrets) == 2 and not of_type(sandbox, "aws:secretsmanager/secretVersion:SecretVersion"), \
        "the program makes the secrets, never their values"
    keys = by(sandbox, "aws:kms/key:Key", "arn")
    running = containers(sandbox)
    for variable, reader in ((CA_KEY_VARIABLE, "sandbox_ca"), (IDP_KEY_VARIABLE, "sandbox_idp")):
        [(name, arn)] = [(s["name"], s["valueFrom"]) for s in running[reader][1]["secrets"]]
        assert name == variable and arn in secrets
        assert keys[secrets[arn]["inputs"]["kmsKeyId"]]["account"] == "sandbox"
        readers = [d for d, (_, c) in running.items() if any(s["valueFrom"] == arn for s in c["secrets"])]
        assert readers == [reader]
    pem = truststore_pem(config_of(sandbox)["edge"]["truststoreBundle"])
    for reader in ("sandbox_ca", "sandbox_idp"):
        assert environment_of(running[reader][1])["OB_SANDBOX_CA_CERTIFICATE"] == pem


def test_the_idp_publishes_the_signing_key_but_only_the_services_sign_with_it(sandbox: Rendering) -> None:
    """The sandbox IdP serves the ASPSP's public key (kms:GetPublicKey); signing is the services' alone."""
    roles = {r["outputs"]["arn"]: r for r in of_type(sandbox, "aws:iam/role:Role")}
    policies = {p["inputs"]["role"]: json.loads(p["inputs"]["policy"])["Statement"]
                for p in of_type(sandbox, "aws:iam/rolePolicy:RolePolicy")}
    running = containers(sandbox)

    def actions(deployable: str) -> set[str]:
        role = roles[running[deployable][0]["inputs"]["taskRoleArn"]]
        return {a for s in policies[role["outputs"]["name"]] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                                       else s["Action"])}
    assert "kms:GetPublicKey" in actions("sandbox_idp") and "kms:Sign" not in actions("sandbox_idp")
    assert {"kms:Sign", "kms:GetPublicKey"} <= actions("pis") and {"kms:Sign", "kms:GetPublicKey"} <= actions("events")


def test_the_idp_and_the_ca_name_the_sandboxs_own_entries(sandbox: Rendering) -> None:
    running = containers(sandbox)
    ca, idp = environment_of(running["sandbox_ca"][1]), environment_of(running["sandbox_idp"][1])
    assert ca["OB_SANDBOX_OCSP_URL"] == f"https://directory.{DOMAIN}/sandbox/ocsp"
    assert ca["OB_SANDBOX_CRL_URL"] == f"https://directory.{DOMAIN}/sandbox/crl"
    assert idp["OB_TOKEN_ISSUER"] == f"https://api.{DOMAIN}/sandbox"
    assert (idp["OB_SANDBOX_AIS_URL"], idp["OB_SANDBOX_PIS_URL"]) == (f"https://ais.internal.{DOMAIN}",
                                                                    f"https://pis.internal.{DOMAIN}")
    for service in ("pis", "events"):
        assert environment_of(running[service][1])["OB_TPP_JWKS_URL_TEMPLATE"] == \
            f"https://directory.{DOMAIN}/sandbox/tpps/{{tpp_id}}/jwks"
    authorizer = one(sandbox, "aws:lambda/function:Function", name="sandbox-sandbox-authorizer")
    variables = authorizer["inputs"]["environment"]["variables"]
    assert variables["OB_TOKEN_ISSUER"] == idp["OB_TOKEN_ISSUER"]
    assert variables["OB_JWKS_URL"] == f"https://directory.{DOMAIN}/sandbox/jwks"
    assert variables["OB_CLIENT_CERT_SOURCE"] == "mtls"


# --- cheap by config ------------------------------------------------------------------------------------------------


def test_the_sandbox_is_cheap_spot_tasks_a_ledger_that_pauses_and_no_shield(sandbox: Rendering) -> None:
    for service in of_type(sandbox, "aws:ecs/service:Service"):
        assert service["inputs"]["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
        assert service["inputs"]["desiredCount"] == 1
    [providers] = of_type(sandbox, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers["inputs"]["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"
    [cluster] = of_type(sandbox, "aws:rds/cluster:Cluster")
    scaling = cluster["inputs"]["serverlessv2ScalingConfiguration"]
    assert scaling["minCapacity"] == 0 and scaling["secondsUntilAutoPause"] > 0
    assert len(of_type(sandbox, "aws:rds/clusterInstance:ClusterInstance")) == 1
    [cache] = of_type(sandbox, "aws:elasticache/replicationGroup:ReplicationGroup")
    assert cache["inputs"]["nodeType"] == "cache.t4g.micro"
    assert not of_type(sandbox, "aws:shield/subscription:Subscription")
    assert not of_type(sandbox, "aws:shield/protection:Protection")
    assert len(of_type(sandbox, "aws:ec2/natGateway:NatGateway")) == 1


# --- the mutual-TLS entry -------------------------------------------------------------------------------------------


def test_the_entry_requires_certificates_of_the_sandbox_ca_only_at_a_pinned_version(sandbox: Rendering) -> None:
    domain = one(sandbox, "aws:apigateway/domainName:DomainName")
    assert domain["account"] == "sandbox" and domain["inputs"]["domainName"] == f"api.{DOMAIN}"
    assert domain["inputs"]["endpointConfiguration"]["types"] == "REGIONAL"
    mtls = domain["inputs"]["mutualTlsAuthentication"]
    [truststore] = [o for k, o in objects(sandbox, "-truststore-").items() if k == TPP_TRUSTSTORE_KEY]
    assert mtls["truststoreUri"] == f"s3://{truststore['inputs']['bucket']}/{TPP_TRUSTSTORE_KEY}"
    assert mtls["truststoreVersion"] == truststore["outputs"]["versionId"]
    [ca] = x509.load_pem_x509_certificates(truststore["inputs"]["content"].encode())
    [shipped] = x509.load_pem_x509_certificates((ROOT / config_of(sandbox)["edge"]["truststoreBundle"]).read_bytes())
    assert ca == shipped and ca.subject == ca.issuer
    assert not [d for d in of_type(sandbox, "aws:cloudfront/distribution:Distribution")
                if d["inputs"]["aliases"] == [f"api.{DOMAIN}"]], "regional: no CloudFront in front of the API"
    stage = one(sandbox, "aws:apigateway/stage:Stage")
    association = one(sandbox, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association["inputs"]["resourceArn"] == stage["outputs"]["arn"]


def test_the_rest_api_publishes_the_apis_behind_the_authorizer_and_the_idp_without_it(sandbox: Rendering) -> None:
    api = one(sandbox, "aws:apigateway/restApi:RestApi")
    assert api["inputs"]["disableExecuteApiEndpoint"] is True
    document = json.loads(api["inputs"]["body"])
    routes = {(m.upper(), p): op for p, item in document["paths"].items() for m, op in item.items()}
    idp = {(r.method, r.path) for r in SANDBOX_ROUTES if "mtls" in r.entries}
    assert set(routes) == {(op.method, op.path) for op in OPERATIONS} | idp
    for key, operation in routes.items():
        parameters = operation["x-amazon-apigateway-integration"]["requestParameters"]
        if key in idp:
            assert operation["security"] == [] and parameters[f"integration.request.header.{CLIENT_CERT_HEADER}"] == \
                CLIENT_CERT_SOURCE, key
            assert not any(h.startswith("integration.request.header.x-ob-") for h in parameters), key
        else:
            assert operation["security"] == [{AUTHORIZER: []}], key
            assert f"integration.request.header.{CLIENT_CERT_HEADER}" not in parameters, key
    assert one(sandbox, "aws:apigateway/basePathMapping:BasePathMapping")["inputs"]["stageName"] == STAGE_NAME


def test_each_route_reaches_its_services_own_nlb_in_the_account_through_a_vpc_link(sandbox: Rendering) -> None:
    links = by(sandbox, "aws:apigateway/vpcLink:VpcLink")
    balancers = by(sandbox, "aws:lb/loadBalancer:LoadBalancer", "arn")
    document = json.loads(one(sandbox, "aws:apigateway/restApi:RestApi")["inputs"]["body"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            integration = operation["x-amazon-apigateway-integration"]
            service = operation["tags"][0]
            assert integration["connectionType"] == "VPC_LINK"
            assert integration["uri"] == f"https://{service.replace('_', '-')}.internal.{DOMAIN}{path}"
            nlb = balancers[links[integration["connectionId"]]["inputs"]["targetArn"]]
            assert nlb["account"] == "sandbox" and nlb["inputs"]["internal"] is True
            assert nlb["inputs"]["name"] == f"sandbox-sandbox-{service.replace('_', '-')}", (method, path)
    # nothing goes over PrivateLink: no endpoint service, no endpoint to one
    assert not of_type(sandbox, "aws:ec2/vpcEndpointService:VpcEndpointService")
    assert all(e["inputs"]["serviceName"].startswith("com.amazonaws.eu-west-2.")
               for e in of_type(sandbox, "aws:ec2/vpcEndpoint:VpcEndpoint"))


def test_the_service_certificates_are_public_and_validated_in_the_sandboxs_own_zone(sandbox: Rendering) -> None:
    certificates = by(sandbox, "aws:acm/certificate:Certificate", "arn")
    validations = {v["outputs"]["certificateArn"]
                   for v in of_type(sandbox, "aws:acm/certificateValidation:CertificateValidation")}
    [zone] = [z for z in of_type(sandbox, "aws:route53/zone:Zone") if not z["inputs"].get("vpcs")]
    assert zone["inputs"]["name"] == DOMAIN
    listeners = [x for x in of_type(sandbox, "aws:lb/listener:Listener") if x["inputs"]["protocol"] == "TLS"]
    assert len(listeners) == len(SERVICES)
    for listener in listeners:
        certificate = certificates[listener["inputs"]["certificateArn"]]
        assert "certificateAuthorityArn" not in certificate["inputs"] and certificate["inputs"]["validationMethod"] == "DNS"
        assert certificate["outputs"]["arn"] in validations
        assert certificate["inputs"]["domainName"].endswith(f".internal.{DOMAIN}")


def test_the_idp_alone_reaches_ais_and_pis_by_their_internal_names(sandbox: Rendering) -> None:
    groups = by(sandbox, "aws:ec2/securityGroup:SecurityGroup")
    [private] = [z for z in of_type(sandbox, "aws:route53/zone:Zone")
                 if z["inputs"].get("vpcs") and z["account"] == "sandbox"]
    [vpc] = [v for v in of_type(sandbox, "aws:ec2/vpc:Vpc") if v["account"] == "sandbox"]
    assert private["inputs"]["name"] == f"internal.{DOMAIN}"
    assert [v["vpcId"] for v in private["inputs"]["vpcs"]] == [vpc["id"]]
    names = {r["inputs"]["name"] for r in of_type(sandbox, "aws:route53/record:Record")
             if r["inputs"]["zoneId"] == private["outputs"]["zoneId"]}
    assert names == {f"ais.internal.{DOMAIN}", f"pis.internal.{DOMAIN}"}
    balancers = {lb["inputs"]["name"].removeprefix("sandbox-sandbox-"): lb for lb in
                 of_type(sandbox, "aws:lb/loadBalancer:LoadBalancer") if lb["account"] == "sandbox"}
    admitted: dict[str, set[str]] = {}
    for rule in of_type(sandbox, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        for service, lb in balancers.items():
            if rule["inputs"]["securityGroupId"] in lb["inputs"]["securityGroups"]:
                admitted.setdefault(service, set()).add(groups[rule["inputs"]["referencedSecurityGroupId"]]["name"])
    assert admitted["ais"] == admitted["pis"] == {"sandbox-sandbox-sandbox-idp"}
    assert admitted["sandbox-ca"] == admitted["sandbox-idp"] == {"sandbox-sandbox-directory-vpc-link-sg"}
    assert "events" not in admitted, "events' NLB admits the REST API's VPC link (PrivateLink traffic) only"
    for rule in of_type(sandbox, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        if any(rule["inputs"]["securityGroupId"] in lb["inputs"]["securityGroups"] for lb in balancers.values()):
            assert rule["inputs"]["fromPort"] == rule["inputs"]["toPort"] == 443 and not rule["inputs"].get("cidrIpv4")


# --- the entry without client certificates ----------------------------------------------------------------------------


def test_what_needs_no_certificate_is_an_http_api_publishing_exactly_the_open_routes(sandbox: Rendering) -> None:
    [api] = of_type(sandbox, "aws:apigatewayv2/api:Api")
    assert api["inputs"]["protocolType"] == "HTTP" and api["inputs"]["disableExecuteApiEndpoint"] is True
    routes = {r["inputs"]["routeKey"]: r for r in of_type(sandbox, "aws:apigatewayv2/route:Route")}
    assert set(routes) == {f"{r.method} {r.path}" for r in SANDBOX_ROUTES if "open" in r.entries}
    integrations = {i["id"]: i for i in of_type(sandbox, "aws:apigatewayv2/integration:Integration")}
    listeners = by(sandbox, "aws:lb/listener:Listener", "arn")
    balancers = by(sandbox, "aws:lb/loadBalancer:LoadBalancer", "arn")
    for key, route in routes.items():
        service = next(r.service for r in SANDBOX_ROUTES if f"{r.method} {r.path}" == key)
        integration = integrations[route["inputs"]["target"].removeprefix("integrations/")]["inputs"]
        assert route["inputs"]["authorizationType"] == "NONE"
        assert integration["connectionType"] == "VPC_LINK" and integration["integrationType"] == "HTTP_PROXY"
        nlb = balancers[listeners[integration["integrationUri"]]["inputs"]["loadBalancerArn"]]
        assert nlb["inputs"]["name"] == f"sandbox-sandbox-{service.replace('_', '-')}", key
        assert integration["tlsConfig"]["serverNameToVerify"] == f"{service.replace('_', '-')}.internal.{DOMAIN}"
        assert {f"remove:header.{h}" for h in STRIPPED_HEADERS} <= set(integration["requestParameters"])
    [domain] = of_type(sandbox, "aws:apigatewayv2/domainName:DomainName")
    assert domain["inputs"]["domainName"] == f"directory.{DOMAIN}"
    assert domain["inputs"]["domainNameConfiguration"]["securityPolicy"] == "TLS_1_2"
    [stage] = of_type(sandbox, "aws:apigatewayv2/stage:Stage")
    assert stage["inputs"]["accessLogSettings"]["destinationArn"].startswith("arn:aws:logs:")
    settings = stage["inputs"]["defaultRouteSettings"]
    assert settings["throttlingRateLimit"] == config_of(sandbox)["edge"]["throttleRate"]
    assert config_of(sandbox)["network"]["egressAllowedDomains"] == [f"directory.{DOMAIN}"], \
        "the authorizer and the services reach it through the proxy"


# --- the developer portal -----------------------------------------------------------------------------------------


class _Checker(HTMLParser):
    """Collects what a page loads or links to, and whether its tags balance."""

    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.links += [v or "" for k, v in attrs if k in ("href", "src")]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.balanced = False


def test_the_portal_is_served_by_cloudfront_alone_from_a_private_bucket(sandbox: Rendering) -> None:
    [site] = [d for d in of_type(sandbox, "aws:cloudfront/distribution:Distribution")
              if d["inputs"]["aliases"] == [f"developer.{DOMAIN}"]]
    assert site["inputs"]["defaultRootObject"] == "index.html" and site["inputs"]["webAclId"]
    [origin] = site["inputs"]["origins"]
    access = by(sandbox, "aws:cloudfront/originAccessControl:OriginAccessControl")[origin["originAccessControlId"]]
    assert access["inputs"]["signingBehavior"] == "always"
    policy = json.loads(one(sandbox, "aws:s3/bucketPolicy:BucketPolicy",
                            name="sandbox-sandbox-portal-bucket-policy")["inputs"]["policy"])
    [reader] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reader["Condition"] == {"StringEquals": {"aws:SourceArn": site["outputs"]["arn"]}}
    blocks = [b["inputs"] for b in of_type(sandbox, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")]
    assert all(b["blockPublicPolicy"] and b["restrictPublicBuckets"] for b in blocks)


def test_the_portal_documents_every_operation_and_shows_the_steps_as_the_sandbox_prints_them(sandbox: Rendering) -> None:
    pages = {k: o["inputs"] for k, o in objects(sandbox, "-portal-").items()}
    assert {"index.html", "errors.html"} <= set(pages)
    for key, page in pages.items():
        assert page["contentType"] == "text/html; charset=utf-8"
        checker = _Checker()
        checker.feed(page["content"])
        assert checker.scripts == 0 and checker.balanced and not checker.open, key
        assert all(not link.startswith(("http:", "https:", "//")) for link in checker.links), key
        assert "Content-Security-Policy" in page["content"]
    for op in OPERATIONS:
        slug = op.spec.removesuffix("-openapi.yaml")
        assert f"<code>{op.spec_path}</code>" in pages[f"apis/{slug}.html"]["content"], (op.method, op.path)
    printed = instructions(base_url=f"https://api.{DOMAIN}", python="python3",
                           settlement_seconds=config_of(sandbox)["sandbox"]["settlementSeconds"],
                           deployed=DeployedEntries(api_url=f"https://api.{DOMAIN}",
                                                    directory_url=f"https://directory.{DOMAIN}"))
    import html

    index = html.unescape(pages["index.html"]["content"])
    for step in steps(printed):
        assert step.text.rstrip() in index, step.title
    errors = pages["errors.html"]["content"]
    assert "UK.OBIE.Field.Missing" in errors and "UK.OBIE.Signature.Invalid" in errors and "WAF_FILTERED" in errors


# --- where the sandbox reaches ----------------------------------------------------------------------------------------


def test_the_reachability_matrix_is_the_one_the_sandbox_always_had(sandbox: Rendering) -> None:
    matrix = analyse(sandbox.resources)
    assert matrix.segments == ["sandbox", "egress", "onprem"]
    assert {s: matrix.reachable_from(s) for s in matrix.segments} == {
        "sandbox": {"egress"}, "egress": {"sandbox"}, "onprem": set()}
    assert matrix.cell("sandbox", "onprem").path == BLACKHOLE


def test_no_role_of_the_sandbox_reaches_another_account(sandbox: Rendering) -> None:
    account = config_of(sandbox)["accounts"]["sandbox"]
    for policy in of_type(sandbox, "aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
            resources = statement.get("Resource", [])
            for resource in resources if isinstance(resources, list) else [resources]:
                if isinstance(resource, str) and re.match(r"arn:aws:(dynamodb|rds-db|kms|elasticache|secretsmanager):",
                                                          resource):
                    assert resource.split(":")[4] == account, (policy["name"], resource)
