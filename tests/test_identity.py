"""The identity account on the rendered dev and prod records (Keycloak), and on a copy of dev whose config names an
external IdP: what a third party meets (a public NLB in the network account passing TCP through, PrivateLink to
Keycloak's own TLS with FAPI's suites and the edge's CA bundle), what Keycloak may reach and what may reach its
database and secrets, how the PSU's decision reaches the services, where the authorizer's issuer comes from, and
what prod adds (every AZ, protection, Shield)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from components.ingress_vpc import INGRESS_SEGMENT
from components.keycloak import CLUSTER_PORTS, FAPI_CIPHER_SUITES, HTTPS_PORT, MANAGEMENT_PORT
from components.keycloak_realm import FAPI_PROFILES, THIRD_PARTY_POLICY, realm_json
from components.private_integration import pinned_address
from environments.config import WorkloadConfig
from environments.edge import truststore_pem
from environments.identity import realm_settings
from environments.validation import load_environment
from lz import bench, policy_gate, pulumi_yaml
from lz.project import Program
from lz.reachability import analyse
from lz.render import Renderer, Rendering
from openbanking.claims import INTERNAL_AUTHORISATION_PATHS
from tests.conftest import ROOT, of_type
from tests.test_edge import by, one
from tests.test_workloads import as_list, statements

Render = Callable[[str], Rendering]
STACKS = ("dev", "prod")
DOMAIN = {"dev": "dev.openbanking.example-bank.co.uk", "prod": "openbanking.example-bank.co.uk"}
AZS = {"dev": 2, "prod": 3}
TASK = "aws:ecs/taskDefinition:TaskDefinition"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_SERVICE = "aws:ec2/vpcEndpointService:VpcEndpointService"
ACCEPTER = "aws:ec2/vpcEndpointConnectionAccepter:VpcEndpointConnectionAccepter"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SECRET = "aws:secretsmanager/secret:Secret"


def config(rendering: Rendering) -> WorkloadConfig:
    raw = json.loads(rendering.program.config(rendering.stack).values["landingzone:environment"])
    loaded = load_environment(raw)
    assert isinstance(loaded, WorkloadConfig)
    return loaded


def keycloak_container(rendering: Rendering) -> tuple[dict, dict]:
    task = one(rendering, TASK, account="identity")
    [container] = json.loads(task["inputs"]["containerDefinitions"])
    return task, container


def env(container: dict) -> dict[str, str]:
    return {v["name"]: v["value"] for v in container["environment"]}


def role_arn_of(rendering: Rendering, policy: dict) -> str:
    return next(r["outputs"]["arn"] for r in of_type(rendering, "aws:iam/role:Role")
                if r["id"] == policy["inputs"]["role"])


def keycloak_nlb(rendering: Rendering) -> dict:
    return one(rendering, LB, account="identity")


def public_nlb(rendering: Rendering) -> dict:
    [nlb] = [lb for lb in of_type(rendering, LB) if lb["account"] == "network" and lb["inputs"]["internal"] is False]
    return nlb


def ingress_vpc(rendering: Rendering) -> dict:
    [vpc] = [v for v in of_type(rendering, "aws:ec2/vpc:Vpc") if v["inputs"]["tags"]["lz:segment"] == INGRESS_SEGMENT]
    return vpc


def keycloak_group(rendering: Rendering) -> str:
    service = one(rendering, "aws:ecs/service:Service", account="identity")
    [group] = service["inputs"]["networkConfiguration"]["securityGroups"]
    return group


# --- Keycloak itself -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_runs_the_configured_image_unprivileged_on_a_read_only_root(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    task, container = keycloak_container(rendering)
    assert container["image"] == config(rendering).identity.image
    assert container["user"] == "1000:1000" and container["privileged"] is False
    assert container["readonlyRootFilesystem"] is True
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert sorted(m["containerPath"] for m in container["mountPoints"]) == ["/opt/keycloak/data", "/tmp"]
    assert {v["name"] for v in task["inputs"]["volumes"]} == {"tmp", "opt-keycloak-data"}
    assert not any("hostPath" in v or "efsVolumeConfiguration" in v for v in task["inputs"]["volumes"])
    script = container["entryPoint"][2]
    assert container["entryPoint"][:2] == ["/bin/bash", "-c"] and script.startswith("set -eu; umask 077;")
    assert script.endswith("exec /opt/keycloak/bin/kc.sh start --optimized --import-realm")
    assert "unset OB_TLS_CERTIFICATE OB_TLS_PRIVATE_KEY OB_TPP_TRUSTSTORE OB_REALM" in script
    # the key arrives as a secret only; no password anywhere in the task definition
    secret = one(rendering, SECRET, account="identity")["outputs"]["arn"]
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        "OB_TLS_CERTIFICATE": f"{secret}:certificate::", "OB_TLS_PRIVATE_KEY": f"{secret}:privateKey::"}
    assert not [name for name in env(container) if "PASSWORD" in name or "SECRET" in name]


@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_terminates_fapi_tls_requesting_certificates_of_the_edge_s_cas(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    settings = env(keycloak_container(rendering)[1])
    assert settings["KC_HOSTNAME"] == f"https://auth.{DOMAIN[stack]}" and settings["KC_HOSTNAME_STRICT"] == "true"
    assert settings["KC_HTTP_ENABLED"] == "false" and settings["KC_HTTPS_PORT"] == str(HTTPS_PORT)
    assert settings["KC_HTTPS_PROTOCOLS"] == "TLSv1.3,TLSv1.2"
    suites = settings["KC_HTTPS_CIPHER_SUITES"].split(",")
    assert suites == list(FAPI_CIPHER_SUITES) and all("_GCM_" in s for s in suites)
    assert {s for s in suites if not s.startswith("TLS_AES_")} == {
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}  # FAPI 1 Part 2, 8.5
    assert settings["KC_HTTPS_CLIENT_AUTH"] == "request"
    # the very CA bundle the API edge trusts (and uploads as its truststore)
    bundle = truststore_pem(config(rendering).edge.truststore_bundle)
    assert settings["OB_TPP_TRUSTSTORE"] == bundle
    edge_copy = next(o for o in of_type(rendering, "aws:s3/bucketObjectv2:BucketObjectv2")
                     if o["inputs"]["key"] == "tpp-truststore.pem")
    assert edge_copy["inputs"]["content"] == bundle
    assert settings["KC_TRUSTSTORE_PATHS"] == "/opt/keycloak/data/tls/tpp-cas.pem"


@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_imports_the_realm_generated_from_the_config(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    settings = env(keycloak_container(rendering)[1])
    cfg = config(rendering)
    assert settings["OB_REALM"] == realm_json(realm_settings(cfg.name, cfg.domain, cfg.identity))
    realm = json.loads(settings["OB_REALM"])
    policy = next(p for p in realm["clientPolicies"]["policies"] if p["name"] == THIRD_PARTY_POLICY)
    assert set(FAPI_PROFILES) <= set(policy["profiles"])
    configured = {c.client_id: c for c in config(rendering).identity.clients}
    clients = {c["clientId"]: c for c in realm["clients"]}
    assert configured and set(configured) <= set(clients)
    for client_id, client in configured.items():  # the subject as Java's X.500 parser reads it: 2.5.4.97, not its name
        subject = clients[client_id]["attributes"]["x509.subjectdn"]
        assert "organizationIdentifier" not in subject
        assert ("2.5.4.97=PSDGB-OB-" in subject) is ("organizationIdentifier=" in client.certificate_subject_dn)
    task, _ = keycloak_container(rendering)
    assert len(task["inputs"]["containerDefinitions"]) < 60 * 1024  # ECS's task definition limit is 64 KiB


@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_reaches_only_what_it_uses_and_only_its_nlb_and_its_peers_reach_it(rendered: Render,
                                                                                    stack: str) -> None:
    rendering = rendered(stack)
    group = keycloak_group(rendering)
    cfg = config(rendering)
    out = {(r["inputs"]["fromPort"], r["inputs"].get("cidrIpv4") or r["inputs"].get("prefixListId")
            or r["inputs"].get("referencedSecurityGroupId")) for r in of_type(rendering, EGRESS)
           if r["inputs"]["securityGroupId"] == group}
    data = {s["inputs"]["cidrBlock"] for s in of_type(rendering, "aws:ec2/subnet:Subnet")
            if s["account"] == "identity" and s["inputs"]["tags"]["lz:tier"] == "data"}
    assert {port for port, _ in out} == {443, 5432, 3128, *CLUSTER_PORTS}
    assert {peer for port, peer in out if port == 5432} == data
    assert {peer for port, peer in out if port == 3128} == {cfg.network.egress_vpc_cidr}
    assert {peer for port, peer in out if port in CLUSTER_PORTS} == {group}  # its own tasks only
    nlb_group = keycloak_nlb(rendering)["inputs"]["securityGroups"][0]
    into = {(r["inputs"]["fromPort"], r["inputs"].get("referencedSecurityGroupId"), r["inputs"].get("cidrIpv4"))
            for r in of_type(rendering, INGRESS) if r["inputs"]["securityGroupId"] == group}
    assert into == {(HTTPS_PORT, nlb_group, None), (MANAGEMENT_PORT, nlb_group, None),
                    *((p, group, None) for p in CLUSTER_PORTS)}


# --- the path from the internet ------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_no_load_balancer_on_the_idp_s_path_terminates_tls(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    groups = by(rendering, TARGET_GROUP, "arn")
    for nlb in (public_nlb(rendering), keycloak_nlb(rendering)):
        assert nlb["inputs"]["loadBalancerType"] == "network"
        listeners = [x for x in of_type(rendering, LISTENER) if x["inputs"]["loadBalancerArn"] == nlb["outputs"]["arn"]]
        assert [x["inputs"]["protocol"] for x in listeners] == ["TCP"] and listeners[0]["inputs"]["port"] == 443
        assert not {"certificateArn", "sslPolicy", "alpnPolicy"} & set(listeners[0]["inputs"])
        group = groups[listeners[0]["inputs"]["defaultActions"][0]["targetGroupArn"]]
        assert group["inputs"]["protocol"] == "TCP" and group["inputs"]["targetType"] == "ip"
    health = groups[next(x for x in of_type(rendering, LISTENER) if x["inputs"]["loadBalancerArn"]
                         == keycloak_nlb(rendering)["outputs"]["arn"])["inputs"]["defaultActions"][0][
                             "targetGroupArn"]]["inputs"]
    assert health["port"] == HTTPS_PORT
    assert {"protocol": "HTTPS", "port": str(MANAGEMENT_PORT), "path": "/health/ready"}.items() <= \
        health["healthCheck"].items()
    assert keycloak_nlb(rendering)["inputs"]["internal"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_the_public_nlb_lives_in_the_ingress_vpc_on_one_elastic_ip_per_az_and_targets_the_pinned_endpoint(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    nlb = public_nlb(rendering)
    vpc = ingress_vpc(rendering)
    subnets = by(rendering, "aws:ec2/subnet:Subnet")
    eips = {e["outputs"]["allocationId"] for e in of_type(rendering, "aws:ec2/eip:Eip") if e["account"] == "network"
            and e["name"].startswith(f"{stack}-network-ingress-eip")}
    mappings = nlb["inputs"]["subnetMappings"]
    assert len(mappings) == AZS[stack] and {m["allocationId"] for m in mappings} == eips
    assert {subnets[m["subnetId"]]["inputs"]["tags"]["lz:tier"] for m in mappings} == {"public"}
    assert {subnets[m["subnetId"]]["inputs"]["vpcId"] for m in mappings} == {vpc["id"]}
    assert nlb["inputs"]["enableDeletionProtection"] is True and nlb["inputs"]["accessLogs"]["enabled"] is True
    # its targets are the addresses of the one endpoint to Keycloak's endpoint service
    service = one(rendering, ENDPOINT_SERVICE, account="identity")
    [endpoint] = [e for e in of_type(rendering, ENDPOINT) if e["inputs"]["serviceName"] ==
                  service["outputs"]["serviceName"]]
    assert endpoint["account"] == "network" and endpoint["inputs"]["vpcId"] == vpc["id"]
    pinned = [c["ipv4"] for c in endpoint["inputs"]["subnetConfigurations"]]
    endpoint_cidrs = [subnets[c["subnetId"]]["inputs"]["cidrBlock"] for c in endpoint["inputs"]["subnetConfigurations"]]
    assert pinned == [pinned_address(c, 0) for c in endpoint_cidrs]
    group = next(g for g in of_type(rendering, TARGET_GROUP) if g["account"] == "network"
                 and g["inputs"]["vpcId"] == vpc["id"])
    targets = {a["inputs"]["targetId"] for a in of_type(rendering, "aws:lb/targetGroupAttachment:TargetGroupAttachment")
               if a["inputs"]["targetGroupArn"] == group["outputs"]["arn"]}
    assert targets == set(pinned)
    # the endpoint admits the NLB's nodes (the public subnets) on 443, nothing else
    [sg] = endpoint["inputs"]["securityGroupIds"]
    rules = {(r["inputs"]["fromPort"], r["inputs"]["cidrIpv4"]) for r in of_type(rendering, INGRESS)
             if r["inputs"]["securityGroupId"] == sg}
    public = {s["inputs"]["cidrBlock"] for s in subnets.values() if s["inputs"]["vpcId"] == vpc["id"]
              and s["inputs"]["tags"]["lz:tier"] == "public"}
    assert rules == {(443, cidr) for cidr in public}


@pytest.mark.parametrize("stack", STACKS)
def test_the_ingress_vpc_is_the_only_other_internet_facing_vpc_and_is_attached_to_nothing(rendered: Render,
                                                                                          stack: str) -> None:
    rendering = rendered(stack)
    vpc = ingress_vpc(rendering)
    vpcs = by(rendering, "aws:ec2/vpc:Vpc")
    gateways = of_type(rendering, "aws:ec2/internetGateway:InternetGateway")
    assert {g["account"] for g in gateways} == {"network"}
    assert sorted(vpcs[g["inputs"]["vpcId"]]["inputs"]["tags"]["lz:segment"] for g in gateways) == ["egress", "ingress"]
    assert not [a for a in of_type(rendering, "aws:ec2transitgateway/vpcAttachment:VpcAttachment")
                if a["inputs"]["vpcId"] == vpc["id"]]
    # nothing in it but the public NLB and the endpoint to Keycloak (no endpoint to an AWS service, no instance)
    keycloak = one(rendering, ENDPOINT_SERVICE, account="identity")["outputs"]["serviceName"]
    assert [e["inputs"]["serviceName"] for e in of_type(rendering, ENDPOINT) if e["inputs"]["vpcId"] == vpc["id"]] == \
        [keycloak]
    assert not [i for i in of_type(rendering, "aws:ec2/instance:Instance") if i["account"] == "network"]
    subnets = {s["id"] for s in of_type(rendering, "aws:ec2/subnet:Subnet") if s["inputs"]["vpcId"] == vpc["id"]}
    in_vpc = [lb for lb in of_type(rendering, LB)
              if {m.get("subnetId") for m in lb["inputs"].get("subnetMappings") or []} & subnets
              or set(lb["inputs"].get("subnets") or []) & subnets]
    assert [lb["name"] for lb in in_vpc] == [public_nlb(rendering)["name"]]
    matrix = analyse(rendering.resources)
    assert matrix.reachable_from("ingress") == set()


@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_s_endpoint_service_admits_exactly_the_network_account(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    ids = {str(k): str(v) for k, v in rendering.outputs["accounts"].items()}
    service = one(rendering, ENDPOINT_SERVICE, account="identity")
    assert service["inputs"]["allowedPrincipals"] == [f"arn:aws:iam::{ids['network']}:root"]
    assert service["inputs"]["acceptanceRequired"] is True
    assert service["inputs"]["networkLoadBalancerArns"] == [keycloak_nlb(rendering)["outputs"]["arn"]]
    assert keycloak_nlb(rendering)["inputs"]["enforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"


@pytest.mark.parametrize("stack", STACKS)
def test_every_privatelink_connection_is_accepted_by_the_service_s_owner_on_one_of_three_paths(
        rendered: Render, stack: str) -> None:
    """api -> each workload service; identity -> ais and pis (the consent step); network -> Keycloak (the public
    entry). No other endpoint connects to an endpoint service of the stack."""
    rendering = rendered(stack)
    services = by(rendering, ENDPOINT_SERVICE)
    endpoints = by(rendering, ENDPOINT)
    names = {s["outputs"]["serviceName"]: s for s in services.values()}
    paths = set()
    for accepter in of_type(rendering, ACCEPTER):
        service = services[accepter["inputs"]["vpcEndpointServiceId"]]
        endpoint = endpoints[accepter["inputs"]["vpcEndpointId"]]
        assert accepter["account"] == service["account"] != endpoint["account"]
        assert endpoint["inputs"]["serviceName"] == service["outputs"]["serviceName"]
        paths.add((endpoint["account"], service["account"], service["name"].rsplit("-endpoint", 1)[0].rsplit("-")[-1]))
    assert paths == {("api", "workload:ais", "ais"), ("api", "workload:pis", "pis"), ("api", "workload:pis", "events"),
                     ("identity", "workload:ais", "ais"), ("identity", "workload:pis", "pis"),
                     ("network", "identity", "keycloak")}
    connecting = [e for e in endpoints.values() if e["inputs"]["serviceName"] in names]
    assert len(connecting) == len(paths)  # every endpoint to a service of the stack is accepted, and only those


# --- the consent step's way to the services ------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_the_consent_step_reaches_the_services_internal_endpoints_over_privatelink_by_their_names(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    group = keycloak_group(rendering)
    services = {s["outputs"]["serviceName"]: s for s in of_type(rendering, ENDPOINT_SERVICE)}
    endpoints = {services[e["inputs"]["serviceName"]]["name"].rsplit("-", 2)[-2]: e for e in of_type(rendering, ENDPOINT)
                 if e["account"] == "identity" and e["inputs"]["serviceName"] in services}
    assert set(endpoints) == set(INTERNAL_AUTHORISATION_PATHS) == {"ais", "pis"}
    zone = one(rendering, "aws:route53/zone:Zone", account="identity")
    identity_vpc = one(rendering, "aws:ec2/vpc:Vpc", account="identity")
    assert zone["inputs"]["name"] == f"internal.{DOMAIN[stack]}"
    assert [v["vpcId"] for v in zone["inputs"]["vpcs"]] == [identity_vpc["id"]]
    records = {r["inputs"]["name"]: r["inputs"] for r in of_type(rendering, "aws:route53/record:Record")
               if r["inputs"]["zoneId"] == zone["outputs"]["zoneId"]}
    for service, endpoint in endpoints.items():
        [alias] = records[f"{service}.internal.{DOMAIN[stack]}"]["aliases"]
        assert alias["name"] == endpoint["outputs"]["dnsEntries"][0]["dnsName"]
        [sg] = endpoint["inputs"]["securityGroupIds"]
        rules = [r["inputs"] for r in of_type(rendering, INGRESS) if r["inputs"]["securityGroupId"] == sg]
        assert [(r["fromPort"], r.get("referencedSecurityGroupId"), r.get("cidrIpv4")) for r in rules] == \
            [(443, group, None)]
    settings = env(keycloak_container(rendering)[1])
    assert json.loads(settings["OB_CONSENT_ENDPOINTS"]) == {
        s: f"https://{s}.internal.{DOMAIN[stack]}{path}" for s, path in INTERNAL_AUTHORISATION_PATHS.items()}
    # Keycloak goes through the egress proxy for the internet, directly to AWS and the internal names
    mappings = settings["KC_SPI_CONNECTIONS_HTTP_CLIENT_DEFAULT_PROXY_MAPPINGS"].split(",")
    assert mappings[-1] == f".*;http://proxy.{DOMAIN[stack]}:3128"
    assert f".*\\.internal\\.{DOMAIN[stack].replace('.', chr(92) + '.')};NO_PROXY" in mappings


# --- the database and the secrets ----------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_the_database_and_the_secrets_are_reachable_only_from_keycloak(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    group = keycloak_group(rendering)
    cluster = one(rendering, "aws:rds/cluster:Cluster", account="identity")
    [db_group] = cluster["inputs"]["vpcSecurityGroupIds"]
    rules = [r["inputs"] for r in of_type(rendering, INGRESS) if r["inputs"]["securityGroupId"] == db_group]
    assert [(r["fromPort"], r.get("referencedSecurityGroupId"), r.get("cidrIpv4")) for r in rules] == \
        [(5432, group, None)]
    # who may read which secret, across every role of the stack
    tls = one(rendering, SECRET, account="identity")
    master = cluster["outputs"]["masterUserSecrets"][0]["secretArn"]
    readers: dict[str, set[str]] = {tls["outputs"]["arn"]: set(), master: set()}
    for policy, statement in statements(rendering):
        if statement["Effect"] == "Allow" and "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                for secret in readers:
                    if resource in (secret, "*"):
                        readers[secret].add(policy["name"])
    task, _ = keycloak_container(rendering)
    rotation = one(rendering, "aws:lambda/function:Function", account="identity")
    execution_policy = next(p["name"] for p in of_type(rendering, "aws:iam/rolePolicy:RolePolicy")
                            if p["inputs"]["role"] == next(r["id"] for r in of_type(rendering, "aws:iam/role:Role")
                                                           if r["outputs"]["arn"] == task["inputs"]["executionRoleArn"]))
    rotation_policy = next(p["name"] for p in of_type(rendering, "aws:iam/rolePolicy:RolePolicy")
                           if p["inputs"]["role"] == next(r["id"] for r in of_type(rendering, "aws:iam/role:Role")
                                                          if r["outputs"]["arn"] == rotation["inputs"]["role"]))
    task_policy = next(p["name"] for p in of_type(rendering, "aws:iam/rolePolicy:RolePolicy")
                       if p["inputs"]["role"] == next(r["id"] for r in of_type(rendering, "aws:iam/role:Role")
                                                      if r["outputs"]["arn"] == task["inputs"]["taskRoleArn"]))
    assert readers == {tls["outputs"]["arn"]: {execution_policy, rotation_policy}, master: {task_policy}}
    # and the TLS secret's own policy refuses everyone else, administrators of the account included
    [secret_policy] = [p for p in of_type(rendering, "aws:secretsmanager/secretPolicy:SecretPolicy")
                       if p["inputs"]["secretArn"] == tls["outputs"]["arn"]]
    [deny] = json.loads(secret_policy["inputs"]["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"]) == sorted(
        [task["inputs"]["executionRoleArn"], rotation["inputs"]["role"]])
    key = next(k["outputs"]["arn"] for k in of_type(rendering, "aws:kms/key:Key") if k["account"] == "identity"
               and k["name"].endswith("-account-key"))
    assert tls["inputs"]["kmsKeyId"] == key == cluster["inputs"]["kmsKeyId"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_certificate_is_acm_s_exportable_one_rotated_into_the_secret_before_keycloak_starts(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    host = f"auth.{DOMAIN[stack]}"
    certificate = one(rendering, "aws:acm/certificate:Certificate", account="identity")
    assert certificate["inputs"]["domainName"] == host and certificate["inputs"]["keyAlgorithm"] == "RSA_2048"
    assert certificate["inputs"]["options"]["export"] == "ENABLED"
    validation = one(rendering, "aws:acm/certificateValidation:CertificateValidation", account="identity")
    assert validation["inputs"]["certificateArn"] == certificate["outputs"]["arn"]
    # the CNAME ACM asks for is written in the public zone, in the api account
    option = certificate["outputs"]["domainValidationOptions"][0]
    [cname] = [r for r in of_type(rendering, "aws:route53/record:Record")
               if r["inputs"]["name"] == option["resourceRecordName"]]
    zone = one(rendering, "aws:route53/zone:Zone", account="api")
    assert cname["account"] == "api" and cname["inputs"]["zoneId"] == zone["outputs"]["zoneId"]
    assert cname["inputs"]["records"] == [option["resourceRecordValue"]]
    # the rotation: its function, weekly, after the validation; Keycloak's service waits for it
    rotation = one(rendering, "aws:secretsmanager/secretRotation:SecretRotation", account="identity")
    function = one(rendering, "aws:lambda/function:Function", account="identity")
    assert rotation["inputs"]["rotationLambdaArn"] == function["outputs"]["arn"]
    assert rotation["inputs"]["rotationRules"]["automaticallyAfterDays"] == 7
    assert validation["urn"] in rotation["options"]["dependsOn"]
    service = one(rendering, "aws:ecs/service:Service", account="identity")
    assert rotation["urn"] in service["options"]["dependsOn"]
    variables = function["inputs"]["environment"]["variables"]
    assert variables["OB_CERTIFICATE_ARN"] == certificate["outputs"]["arn"] and variables["OB_TLS_HOSTNAME"] == host
    assert variables["OB_ECS_SERVICE"] == service["inputs"]["name"]
    permission = one(rendering, "aws:lambda/permission:Permission", account="identity")
    assert permission["inputs"]["principal"] == "secretsmanager.amazonaws.com"
    assert permission["inputs"]["sourceArn"] == one(rendering, SECRET, account="identity")["outputs"]["arn"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_rotation_function_may_do_exactly_its_job(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    function = one(rendering, "aws:lambda/function:Function", account="identity")
    granted: dict[str, set[str]] = {}
    for policy, statement in statements(rendering):
        if role_arn_of(rendering, policy) != function["inputs"]["role"] or statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(as_list(statement["Resource"]))
    secret = one(rendering, SECRET, account="identity")["outputs"]["arn"]
    certificate = one(rendering, "aws:acm/certificate:Certificate", account="identity")["outputs"]["arn"]
    service = one(rendering, "aws:ecs/service:Service", account="identity")["inputs"]["name"]
    for action in ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                   "secretsmanager:UpdateSecretVersionStage"):
        assert granted.pop(action) == {secret}
    assert granted.pop("acm:ExportCertificate") == {certificate}
    [ecs] = granted.pop("ecs:UpdateService")
    assert ecs.endswith(f":service/{service.removesuffix('-keycloak')}/{service}")
    # what every function of the stack has: its logs, traces, the account key
    assert set(granted) == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                            "xray:PutTelemetryRecords", "kms:Decrypt", "kms:GenerateDataKey"}


# --- names and the authorizer --------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_auth_is_an_alias_of_the_public_nlb_in_the_environment_s_zone(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    record = next(r for r in of_type(rendering, "aws:route53/record:Record")
                  if r["inputs"]["name"] == f"auth.{DOMAIN[stack]}")
    nlb = public_nlb(rendering)
    assert record["account"] == "api" and record["inputs"]["type"] == "A"
    assert record["inputs"]["zoneId"] == one(rendering, "aws:route53/zone:Zone", account="api")["outputs"]["zoneId"]
    [alias] = record["inputs"]["aliases"]
    assert (alias["name"], alias["zoneId"]) == (nlb["outputs"]["dnsName"], nlb["outputs"]["zoneId"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_authorizer_trusts_the_identity_account_s_issuer_and_keys(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    identity = rendering.outputs["identity"]
    realm = config(rendering).identity.realm.name
    assert identity["issuer"] == f"https://auth.{DOMAIN[stack]}/realms/{realm}"
    assert identity["jwksUrl"] == f"{identity['issuer']}/protocol/openid-connect/certs"
    authorizer = one(rendering, "aws:lambda/function:Function", account="api")
    variables = authorizer["inputs"]["environment"]["variables"]
    assert (variables["OB_TOKEN_ISSUER"], variables["OB_JWKS_URL"]) == (identity["issuer"], identity["jwksUrl"])


# --- prod ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_prod_keycloak_spans_every_az_is_protected_and_shielded(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    prod = stack == "prod"
    cfg = config(rendering)
    service = one(rendering, "aws:ecs/service:Service", account="identity")
    private = {s["id"] for s in of_type(rendering, "aws:ec2/subnet:Subnet")
               if s["account"] == "identity" and s["inputs"]["tags"]["lz:tier"] == "private"}
    assert set(service["inputs"]["networkConfiguration"]["subnets"]) == private and len(private) == AZS[stack]
    assert service["inputs"]["networkConfiguration"]["assignPublicIp"] is False
    scaling = next(t for t in of_type(rendering, "aws:appautoscaling/target:Target") if t["account"] == "identity")
    assert scaling["inputs"]["minCapacity"] == service["inputs"]["desiredCount"] == cfg.identity.min_tasks
    cluster = one(rendering, "aws:rds/cluster:Cluster", account="identity")
    instances = [i for i in of_type(rendering, "aws:rds/clusterInstance:ClusterInstance") if i["account"] == "identity"]
    assert cluster["inputs"]["deletionProtection"] is True and cluster["inputs"]["storageEncrypted"] is True
    assert len(instances) == cfg.identity.database.instances
    assert cluster["options"]["protect"] is prod and cluster["options"]["retainOnDelete"] is prod
    shields = [p for p in of_type(rendering, "aws:shield/protection:Protection") if p["account"] == "network"]
    eips = [e for e in of_type(rendering, "aws:ec2/eip:Eip") if e["name"].startswith(f"{stack}-network-ingress-eip")]
    if prod:
        assert len(instances) >= 2 and scaling["inputs"]["minCapacity"] >= 2
        assert sorted(p["inputs"]["resourceArn"] for p in shields) == sorted(
            f"arn:aws:ec2:eu-west-2:{e['account_id']}:eip-allocation/{e['outputs']['allocationId']}" for e in eips)
        assert one(rendering, "aws:shield/subscription:Subscription", account="network")["inputs"]["skipDestroy"]
    else:
        assert shields == [] and not [s for s in of_type(rendering, "aws:shield/subscription:Subscription")
                                      if s["account"] == "network"]


# --- an external IdP -----------------------------------------------------------------------------------------

EXTERNAL = {"provider": "external", "issuer": "https://idp.example-bank.co.uk/oauth2",
            "jwksUrl": "https://idp.example-bank.co.uk/oauth2/jwks",
            "mtlsEndpointAliases": {"tokenEndpoint": "https://mtls.idp.example-bank.co.uk/oauth2/token"}}


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory) -> Rendering:
    """dev, with `identity.provider: external` (a copy of the program outside the repository)."""
    directory = tmp_path_factory.mktemp("external")
    for entry in bench.PROGRAM_ENTRIES:
        (directory / entry).symlink_to(ROOT / entry)
    (directory / "Pulumi.foundation.yaml").write_text((ROOT / "Pulumi.foundation.yaml").read_text())
    doc = pulumi_yaml.load(ROOT / "Pulumi.dev.yaml")
    environment = doc["config"]["landingzone:environment"]
    environment["identity"] = EXTERNAL
    del environment["network"]["ingressVpcCidr"]
    environment["network"]["egressAllowedDomains"].append("idp.example-bank.co.uk")
    (directory / "Pulumi.dev.yaml").write_text(json.dumps(doc, indent=1))  # JSON is YAML
    with Renderer(reuse=False) as renderer:
        return renderer.render(Program.load(Path(directory)), "dev")


def test_an_external_idp_builds_no_keycloak_and_still_wires_the_authorizer(external: Rendering) -> None:
    identity = [r for r in external.resources if r["custom"] and r["account"] == "identity"]
    types = {r["type"] for r in identity}
    for kind in ("ecs/", "rds/", "lb/", "secretsmanager/", "lambda/", "acm/", "vpcEndpointService",
                 "vpcEndpointConnectionAccepter", "route53/zone:"):
        assert not [t for t in types if kind in t], kind
    assert not [v for v in of_type(external, "aws:ec2/vpc:Vpc") if v["inputs"]["tags"]["lz:segment"] == "ingress"]
    assert len(of_type(external, "aws:ec2/internetGateway:InternetGateway")) == 1  # the egress VPC's
    authorizer = one(external, "aws:lambda/function:Function", account="api")
    variables = authorizer["inputs"]["environment"]["variables"]
    assert (variables["OB_TOKEN_ISSUER"], variables["OB_JWKS_URL"]) == (EXTERNAL["issuer"], EXTERNAL["jwksUrl"])
    assert external.outputs["identity"] == {"provider": "external", "issuer": EXTERNAL["issuer"],
                                            "jwksUrl": EXTERNAL["jwksUrl"], "mtlsEndpointAliases": {
                                                "token_endpoint": EXTERNAL["mtlsEndpointAliases"]["tokenEndpoint"]}}
    # the workloads' endpoint services admit the api account only: no IdP in the identity account calls them
    ids = {str(k): str(v) for k, v in external.outputs["accounts"].items()}
    for service in of_type(external, ENDPOINT_SERVICE):
        assert service["inputs"]["allowedPrincipals"] == [f"arn:aws:iam::{ids['api']}:root"], service["name"]
    assert not [r for r in of_type(external, "aws:route53/record:Record") if r["inputs"]["name"].startswith("auth.")]
    assert policy_gate.check(external, config_file=ROOT / "policies" / "config" / "dev.json") == []
