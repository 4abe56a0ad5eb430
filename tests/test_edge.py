"""The api account's edge on the rendered dev (regional perimeter) and prod (cloudfront perimeter) records: what
a TPP meets (mutual TLS against a pinned truststore, WAF, Shield), what the REST API routes (exactly the
implemented operations, each authorised by the uncached authorizer and carried to the service's workload over
PrivateLink), and what never happens (the default endpoint, a route over the Transit Gateway)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from accounts.edge import ORIGIN_TRUSTSTORE_KEY, STAGE_NAME, TPP_TRUSTSTORE_KEY
from components.api_definition import AUTHORIZER, CONTEXT_HEADERS, GATEWAY_RESPONSES
from components.api_perimeter import CACHING_DISABLED, VIEWER_CERT_HEADERS
from environments.edge import truststore_pem
from lz.render import Rendering
from openbanking.operations import OPERATIONS
from tests.conftest import by, of_type, one

Render = Callable[[str], Rendering]
STACKS = ("dev", "prod")
PERIMETER = {"dev": "regional", "prod": "cloudfront"}
DOMAIN = {"dev": "dev.openbanking.example-bank.co.uk", "prod": "openbanking.example-bank.co.uk"}
#: Where the shipped configs run each exposed service.
SERVICE_ACCOUNT = {"ais": "workload:ais", "pis": "workload:pis", "events": "workload:pis"}


def definition(rendering: Rendering) -> dict:
    return json.loads(one(rendering, "aws:apigateway/restApi:RestApi")["inputs"]["body"])


def config_edge(rendering: Rendering) -> dict:
    return json.loads(rendering.program.config(rendering.stack).values["landingzone:environment"])["edge"]


def truststore_objects(rendering: Rendering) -> dict[str, dict]:
    return {o["inputs"]["key"]: o for o in of_type(rendering, "aws:s3/bucketObjectv2:BucketObjectv2")
            if "truststore" in o["inputs"]["bucket"]}


# --- the REST API -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_the_api_routes_exactly_the_implemented_operations_and_only_through_its_domain(rendered: Render,
                                                                                        stack: str) -> None:
    rendering = rendered(stack)
    api = one(rendering, "aws:apigateway/restApi:RestApi")
    assert api["account"] == "api"
    assert api["inputs"]["disableExecuteApiEndpoint"] is True
    assert api["inputs"]["endpointConfiguration"]["types"] == "REGIONAL"
    routes = {(method.upper(), path) for path, item in definition(rendering)["paths"].items() for method in item}
    assert routes == {(op.method, op.path) for op in OPERATIONS}
    mapping = one(rendering, "aws:apigateway/basePathMapping:BasePathMapping")
    assert mapping["inputs"].get("basePath") in (None, "") and mapping["inputs"]["stageName"] == STAGE_NAME
    assert mapping["inputs"]["domainName"] == f"api.{DOMAIN[stack]}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_route_is_authorised_by_the_uncached_authorizer_of_the_api_account(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    document = definition(rendering)
    scheme = document["components"]["securitySchemes"][AUTHORIZER]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "request" and scheme["authorizerResultTtlInSeconds"] == 0
    authorizer = one(rendering, "aws:lambda/function:Function", account="api")
    assert scheme["authorizerUri"] == authorizer["outputs"]["invokeArn"]
    assert authorizer["inputs"]["handler"] == "openbanking.lambdas.authorizer.handler"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{AUTHORIZER: []}], (method, path)
            headers = operation["x-amazon-apigateway-integration"]["requestParameters"]
            # the verdict reaches the service in the x-ob-* headers, whatever the client sent under those names
            assert {f"integration.request.header.{h}": f"context.authorizer.{k}"
                    for k, h in CONTEXT_HEADERS.items()}.items() <= headers.items()
    permission = one(rendering, "aws:lambda/permission:Permission", account="api")
    api = one(rendering, "aws:apigateway/restApi:RestApi")
    assert permission["inputs"]["principal"] == "apigateway.amazonaws.com"
    assert permission["inputs"]["sourceArn"] == api["outputs"]["executionArn"] + "/authorizers/*"


@pytest.mark.parametrize("stack", STACKS)
def test_each_operation_goes_over_privatelink_to_the_account_running_its_service(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    links = by(rendering, "aws:apigateway/vpcLink:VpcLink")
    balancers = by(rendering, "aws:lb/loadBalancer:LoadBalancer", "arn")
    endpoints = by(rendering, "aws:ec2/vpcEndpoint:VpcEndpoint")
    services = {r["outputs"]["serviceName"]: r for r in of_type(rendering, "aws:ec2/vpcEndpointService:VpcEndpointService")}
    groups = {g["outputs"]["arn"]: g for g in of_type(rendering, "aws:lb/targetGroup:TargetGroup")}
    attachments = of_type(rendering, "aws:lb/targetGroupAttachment:TargetGroupAttachment")
    listeners = of_type(rendering, "aws:lb/listener:Listener")
    for path, item in definition(rendering)["paths"].items():
        for method, operation in item.items():
            service = next(op.service for op in OPERATIONS if op.path == path and op.method == method.upper())
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "http_proxy" and integration["connectionType"] == "VPC_LINK"
            assert integration["uri"] == f"https://{service}.internal.{DOMAIN[stack]}{path}"
            # the VPC link's NLB forwards to the pinned addresses of the endpoint to this service's workload
            link = links[integration["connectionId"]]
            nlb = balancers[link["inputs"]["targetArn"]]
            assert nlb["account"] == "api" and nlb["inputs"]["internal"] is True
            [listener] = [x for x in listeners if x["inputs"]["loadBalancerArn"] == nlb["outputs"]["arn"]]
            assert listener["inputs"]["protocol"] == "TCP"  # TLS runs through to the workload's own NLB
            group = groups[listener["inputs"]["defaultActions"][0]["targetGroupArn"]]
            targets = {a["inputs"]["targetId"] for a in attachments
                       if a["inputs"]["targetGroupArn"] == group["outputs"]["arn"]}
            [endpoint] = [e for e in endpoints.values() if e["account"] == "api"
                          and services.get(e["inputs"]["serviceName"], {}).get("account") == SERVICE_ACCOUNT[service]
                          and "ec2" not in e["inputs"]["serviceName"]
                          and services[e["inputs"]["serviceName"]]["name"].endswith(f"-{service}-endpoint")]
            pinned = {c["ipv4"] for c in endpoint["inputs"]["subnetConfigurations"]}
            assert targets == pinned and len(pinned) == len(endpoint["inputs"]["subnetIds"])


@pytest.mark.parametrize("stack", STACKS)
def test_each_workload_accepts_the_api_accounts_endpoint_to_its_own_services_only(rendered: Render,
                                                                                    stack: str) -> None:
    rendering = rendered(stack)
    services = by(rendering, "aws:ec2/vpcEndpointService:VpcEndpointService")
    endpoints = by(rendering, "aws:ec2/vpcEndpoint:VpcEndpoint")
    accepted = set()
    # (the identity account's own connections, to and from it, are tests/test_identity.py's)
    for accepter in of_type(rendering, "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter"):
        service = services[accepter["inputs"]["vpcEndpointServiceId"]]
        endpoint = endpoints[accepter["inputs"]["vpcEndpointId"]]
        if "identity" in (service["account"], endpoint["account"]):
            continue
        assert accepter["account"] == service["account"] != endpoint["account"] == "api"
        assert endpoint["inputs"]["serviceName"] == service["outputs"]["serviceName"]
        assert service["inputs"]["acceptanceRequired"] is True
        accepted.add(service["name"].rsplit("-", 2)[-2])
    assert accepted == set(SERVICE_ACCOUNT)


@pytest.mark.parametrize("stack", STACKS)
def test_the_stage_logs_tls_certificate_and_verdict_traces_throttles_and_caches_nothing(rendered: Render,
                                                                                         stack: str) -> None:
    rendering = rendered(stack)
    stage = one(rendering, "aws:apigateway/stage:Stage")
    assert stage["inputs"]["xrayTracingEnabled"] is True and stage["inputs"]["cacheClusterEnabled"] is False
    fields = json.loads(stage["inputs"]["accessLogSettings"]["format"])
    for variable in ("$context.tlsVersion", "$context.cipherSuite", "$context.identity.clientCert.serialNumber",
                     "$context.identity.clientCert.issuerDN", "$context.authorizer.status",
                     "$context.authorizer.error", "$context.responseLatency", "$context.requestId"):
        assert variable in fields.values(), variable
    groups = {g["outputs"]["arn"]: g for g in of_type(rendering, "aws:cloudwatch/logGroup:LogGroup")}
    assert groups[stage["inputs"]["accessLogSettings"]["destinationArn"]]["inputs"]["kmsKeyId"]
    settings = one(rendering, "aws:apigateway/methodSettings:MethodSettings")["inputs"]
    edge = config_edge(rendering)
    assert settings["methodPath"] == "*/*"
    assert settings["settings"]["cachingEnabled"] is False and settings["settings"]["dataTraceEnabled"] is False
    assert settings["settings"]["throttlingRateLimit"] == edge["throttleRate"]
    assert settings["settings"]["throttlingBurstLimit"] == edge["throttleBurst"]


@pytest.mark.parametrize("stack", [*STACKS, "sandbox"])
def test_every_stage_access_log_group_sends_every_line_to_the_foundations_destination(rendered: Render,
                                                                                        stack: str) -> None:
    rendering = rendered(stack)
    destination = rendered("foundation").outputs["apiAccessLogDestinationArn"]
    groups = by(rendering, "aws:cloudwatch/logGroup:LogGroup", "arn")
    filters = of_type(rendering, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    roles = by(rendering, "aws:iam/role:Role", "arn")
    policies = {p["inputs"]["role"]: json.loads(p["inputs"]["policy"])
                for p in of_type(rendering, "aws:iam/rolePolicy:RolePolicy")}
    stages = of_type(rendering, "aws:apigateway/stage:Stage") + of_type(rendering, "aws:apigatewayv2/stage:Stage")
    assert len(stages) == (2 if stack == "sandbox" else 1)  # the sandbox's entry without client certificates too
    for stage in stages:
        group = groups[stage["inputs"]["accessLogSettings"]["destinationArn"]]
        [subscription] = [f for f in filters if f["inputs"]["logGroup"] == group["inputs"]["name"]]
        inputs = subscription["inputs"]
        assert subscription["account"] == group["account"]
        assert inputs["destinationArn"] == destination and inputs["filterPattern"] == ""
        # the organization-wide destination needs the sender's own role: CloudWatch Logs of this account only,
        # allowed to put log events to that destination and nothing else
        role = roles[inputs["roleArn"]]
        [trust] = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
        assert trust["Condition"] == {"StringLike": {"aws:SourceArn":
                                                     f"arn:aws:logs:eu-west-2:{group['account_id']}:*"}}
        [grant] = policies[role["outputs"]["name"]]["Statement"]
        assert (grant["Effect"], grant["Action"], grant["Resource"]) == ("Allow", "logs:PutLogEvents", destination)
    # nothing else of the stack is subscribed (the destination's stream expects the access log's lines)
    assert len(filters) == len(stages)


@pytest.mark.parametrize("stack", STACKS)
def test_refusals_answer_with_obie_error_bodies_echoing_the_interaction_id(rendered: Render, stack: str) -> None:
    responses = definition(rendered(stack))["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {r.type for r in GATEWAY_RESPONSES} >= {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED",
                                                                     "DEFAULT_4XX", "DEFAULT_5XX", "WAF_FILTERED",
                                                                     "BAD_REQUEST_BODY"}
    for response in responses.values():
        assert response["responseParameters"]["gatewayresponse.header.x-fapi-interaction-id"] == \
            "method.request.header.x-fapi-interaction-id"
        body = response["responseTemplates"]["application/json"].replace("$context.requestId", "id")
        assert set(json.loads(body)) == {"Code", "Id", "Message", "Errors"}


# --- mutual TLS and the perimeters -----------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_the_domain_requires_client_certificates_from_a_pinned_truststore_version(rendered: Render,
                                                                                  stack: str) -> None:
    rendering = rendered(stack)
    domain = one(rendering, "aws:apigateway/domainName:DomainName")["inputs"]
    assert domain["endpointConfiguration"]["types"] == "REGIONAL" and domain["securityPolicy"] == "TLS_1_2"
    assert domain["ownershipVerificationCertificateArn"] == domain["regionalCertificateArn"]
    mtls = domain["mutualTlsAuthentication"]
    objects = truststore_objects(rendering)
    key = ORIGIN_TRUSTSTORE_KEY if PERIMETER[stack] == "cloudfront" else TPP_TRUSTSTORE_KEY
    bucket = objects[key]["inputs"]["bucket"]
    assert mtls["truststoreUri"] == f"s3://{bucket}/{key}"
    assert mtls["truststoreVersion"] == objects[key]["outputs"]["versionId"]
    # the TPP bundle is the config's file, each certificate re-encoded
    assert objects[TPP_TRUSTSTORE_KEY]["inputs"]["content"] == truststore_pem(config_edge(rendering)["truststoreBundle"])


def test_dev_puts_waf_on_the_stage_with_a_per_client_rate(rendered: Render) -> None:
    rendering = rendered("dev")
    stage = one(rendering, "aws:apigateway/stage:Stage")
    association = one(rendering, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association["inputs"]["resourceArn"] == stage["outputs"]["arn"]
    acls = by(rendering, "aws:wafv2/webAcl:WebAcl", "arn")
    acl = acls[association["inputs"]["webAclArn"]]["inputs"]
    assert acl["scope"] == "REGIONAL"
    rules = {r["Name"]: r for r in json.loads(acl["ruleJson"])}
    assert rules["rate-per-client-ip"]["Statement"]["RateBasedStatement"]["Limit"] == \
        config_edge(rendering)["rateLimitPerIp"]
    assert not of_type(rendering, "aws:shield/subscription:Subscription")
    assert not [d for d in of_type(rendering, "aws:cloudfront/distribution:Distribution")
                if d["inputs"]["aliases"] == [f"api.{DOMAIN['dev']}"]]
    authorizer = one(rendering, "aws:lambda/function:Function", account="api")
    assert authorizer["inputs"]["environment"]["variables"]["OB_CLIENT_CERT_SOURCE"] == "mtls"


def test_prod_fronts_the_api_with_cloudfront_viewer_mtls_waf_and_shield(rendered: Render) -> None:
    rendering = rendered("prod")
    [perimeter] = [d for d in of_type(rendering, "aws:cloudfront/distribution:Distribution")
                   if d["inputs"]["aliases"] == [f"api.{DOMAIN['prod']}"]]
    inputs = perimeter["inputs"]
    # viewer mTLS against a trust store made from the pinned TPP bundle
    assert inputs["viewerMtlsConfig"]["mode"] == "required"
    stores = by(rendering, "aws:cloudfront/trustStore:TrustStore")
    store = stores[inputs["viewerMtlsConfig"]["trustStoreConfig"]["trustStoreId"]]
    location = store["inputs"]["caCertificatesBundleSource"]["caCertificatesBundleS3Location"]
    tpp = truststore_objects(rendering)[TPP_TRUSTSTORE_KEY]
    assert (location["key"], location["version"]) == (TPP_TRUSTSTORE_KEY, tpp["outputs"]["versionId"])
    assert inputs["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2025" and inputs["httpVersion"] != "http3"
    # WAF at CloudFront's scope (us-east-1), Shield Advanced on the distribution
    acl = by(rendering, "aws:wafv2/webAcl:WebAcl", "arn")[inputs["webAclId"]]
    assert acl["inputs"]["scope"] == "CLOUDFRONT" and acl["outputs"]["region"] == "us-east-1"
    protections = {p["inputs"]["resourceArn"] for p in of_type(rendering, "aws:shield/protection:Protection")}
    assert perimeter["outputs"]["arn"] in protections
    assert one(rendering, "aws:shield/subscription:Subscription", account="api")["inputs"]["skipDestroy"] is True
    # the origin: the API's domain, over origin mTLS with a certificate of the configured us-east-1 CA
    domain = one(rendering, "aws:apigateway/domainName:DomainName")
    [origin] = inputs["origins"]
    assert origin["domainName"] == domain["outputs"]["regionalDomainName"]
    certificates = by(rendering, "aws:acm/certificate:Certificate", "arn")
    client = certificates[origin["customOriginConfig"]["originMtlsConfig"]["clientCertificateArn"]]
    assert client["inputs"]["certificateAuthorityArn"] == config_edge(rendering)["originCertificateAuthorityArn"]
    assert client["outputs"]["region"] == "us-east-1"
    # the API domain trusts only that CA (so nothing but CloudFront gets in)
    assert domain["inputs"]["mutualTlsAuthentication"]["truststoreUri"].endswith(ORIGIN_TRUSTSTORE_KEY)
    # nothing cached; the certificate forwarded to the authorizer, which reads it from there
    behavior = inputs["defaultCacheBehavior"]
    assert behavior["cachePolicyId"] == CACHING_DISABLED
    policy = by(rendering, "aws:cloudfront/originRequestPolicy:OriginRequestPolicy")[behavior["originRequestPolicyId"]]
    assert set(VIEWER_CERT_HEADERS) <= set(policy["inputs"]["headersConfig"]["headers"]["items"])
    authorizer = one(rendering, "aws:lambda/function:Function", account="api")
    assert authorizer["inputs"]["environment"]["variables"]["OB_CLIENT_CERT_SOURCE"] == "cloudfront"


@pytest.mark.parametrize("stack", STACKS)
def test_every_web_acl_runs_the_managed_groups_limits_bodies_and_logs_without_tokens(rendered: Render,
                                                                                    stack: str) -> None:
    rendering = rendered(stack)
    logging = {c["inputs"]["resourceArn"]: c for c in
               of_type(rendering, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")}
    limit = config_edge(rendering).get("maxRequestBodyKib", 16) * 1024
    acls = of_type(rendering, "aws:wafv2/webAcl:WebAcl")
    assert {a["inputs"]["scope"] for a in acls} == {"REGIONAL", "CLOUDFRONT"}
    for acl in acls:
        rules = {r["Name"]: r for r in json.loads(acl["inputs"]["ruleJson"])}
        assert {"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet", "body-size"} <= set(rules)
        size = rules["body-size"]["Statement"]["SizeConstraintStatement"]
        assert size["Size"] == limit and size["FieldToMatch"]["Body"]["OversizeHandling"] == "MATCH"
        config = logging[acl["outputs"]["arn"]]["inputs"]
        assert config["logDestinationConfigs"][0].split(":::")[1].startswith("aws-waf-logs-")
        assert {"singleHeader": {"name": "authorization"}} in config["redactedFields"]


# --- DNS, the authorizer's settings, the static data -------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_the_public_zone_is_signed_and_logged_and_names_the_api(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    zone = one(rendering, "aws:route53/zone:Zone", account="api")
    assert zone["inputs"]["name"] == DOMAIN[stack]
    ksk = one(rendering, "aws:route53/keySigningKey:KeySigningKey")
    keys = by(rendering, "aws:kms/key:Key", "arn")
    key = keys[ksk["inputs"]["keyManagementServiceArn"]]
    assert key["outputs"]["region"] == "us-east-1" and key["inputs"]["customerMasterKeySpec"] == "ECC_NIST_P256"
    assert one(rendering, "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec")["inputs"]["signingStatus"] == "SIGNING"
    query_log = one(rendering, "aws:route53/queryLog:QueryLog")
    assert query_log["inputs"]["cloudwatchLogGroupArn"].startswith("arn:aws:logs:us-east-1:")
    records = {(r["inputs"]["name"], r["inputs"]["type"]): r for r in of_type(rendering, "aws:route53/record:Record")
               if r["inputs"].get("aliases")}
    [target] = records[(f"api.{DOMAIN[stack]}", "A")]["inputs"]["aliases"]
    if PERIMETER[stack] == "regional":
        assert target["name"] == one(rendering, "aws:apigateway/domainName:DomainName")["outputs"]["regionalDomainName"]
    else:
        assert target["name"].endswith(".cloudfront.net")
    assert rendered(stack).outputs["edge"]["dnssecDsRecord"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_authorizer_runs_in_the_api_vpc_and_leaves_through_the_proxy(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    authorizer = one(rendering, "aws:lambda/function:Function", account="api")["inputs"]
    variables = authorizer["environment"]["variables"]
    assert variables["OB_TOKEN_ISSUER"] == f"https://auth.{DOMAIN[stack]}/realms/openbanking"
    assert variables["OB_JWKS_URL"].startswith(variables["OB_TOKEN_ISSUER"] + "/")
    assert variables["OB_TRUSTSTORE"].endswith("/" + TPP_TRUSTSTORE_KEY)
    assert variables["HTTPS_PROXY"].startswith("http://proxy.") and variables["HTTPS_PROXY"].endswith(":3128")
    assert authorizer["vpcConfig"]["subnetIds"] and authorizer["tracingConfig"]["mode"] == "Active"
    groups = by(rendering, "aws:ec2/securityGroup:SecurityGroup")
    [group_id] = authorizer["vpcConfig"]["securityGroupIds"]
    egress = [r["inputs"] for r in of_type(rendering, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
              if r["inputs"]["securityGroupId"] == group_id]
    assert groups[group_id]["account"] == "api"
    assert sorted(r["fromPort"] for r in egress) == [443, 443, 3128]


@pytest.mark.parametrize("stack", STACKS)
def test_the_static_site_publishes_the_implemented_specs_and_the_signing_jwks_to_cloudfront_only(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [site] = [d for d in of_type(rendering, "aws:cloudfront/distribution:Distribution")
              if d["inputs"]["aliases"] == [f"static.{DOMAIN[stack]}"]]
    [origin] = site["inputs"]["origins"]
    assert origin["originAccessControlId"]
    objects = {o["inputs"]["key"]: o["inputs"] for o in of_type(rendering, "aws:s3/bucketObjectv2:BucketObjectv2")
               if o["inputs"]["bucket"].startswith(f"{stack}-api-static-")}
    published = set()
    for key, obj in objects.items():
        if key.startswith("openapi/"):
            document = json.loads(obj["content"])
            base = document["servers"][0]["url"].removeprefix(f"https://api.{DOMAIN[stack]}")
            published |= {(m.upper(), base + p) for p, item in document["paths"].items() for m in item
                          if m in ("get", "post", "put", "delete", "patch")}
    assert published == {(op.method, op.path) for op in OPERATIONS}
    # one PS256 key per workload that signs, its kid the KMS key's id
    jwks = json.loads(objects["jwks.json"]["content"])
    signing = {k["outputs"]["keyId"] for k in of_type(rendering, "aws:kms/key:Key")
               if k["inputs"].get("customerMasterKeySpec", "").startswith("RSA_")}
    assert {k["kid"] for k in jwks["keys"]} == signing
    for key in jwks["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "PS256" and key["use"] == "sig" and "d" not in key
        assert len(base64.urlsafe_b64decode(key["n"] + "==")) * 8 >= 2048
    policy = json.loads(one(rendering, "aws:s3/bucketPolicy:BucketPolicy", account="api",
                            name=f"{stack}-api-static-bucket-policy")["inputs"]["policy"])
    [reader] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reader["Condition"] == {"StringEquals": {"aws:SourceArn": site["outputs"]["arn"]}}
