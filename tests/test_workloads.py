"""The workload accounts of dev and prod, on the rendered record: what runs where, what each deployable is told
and may do, and the properties a bank's reviewer checks (no privileged or writable container, no secret in an
environment, every table recoverable and encrypted, data stores open to their users only, every Lambda with a
failure path, exactly the intended accounts behind each endpoint service)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from accounts.service_plane import consumer_group, functions_of
from lz.render import Rendering
from openbanking.common.tables import TABLES
from openbanking.deployables import DEPLOYABLES, LEDGER_ROLES, OUTBOX_EVENT_SOURCE
from openbanking.settings_contract import required_variables, secret_variables
from tests.conftest import of_type

Render = Callable[[str], Rendering]
STACKS = ("dev", "prod")
TASK = "aws:ecs/taskDefinition:TaskDefinition"
FUNCTION = "aws:lambda/function:Function"
TABLE = "aws:dynamodb/table:Table"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
#: account label -> the services it runs, as the shipped configs place them.
PLACEMENT = {"workload:ais": ("ais", "ingestion"), "workload:pis": ("pis", "events", "ingestion")}


def config_of(rendering: Rendering) -> dict[str, Any]:
    return json.loads(rendering.program.config(rendering.stack).values["landingzone:environment"])


def account_ids(rendering: Rendering) -> dict[str, str]:
    return {str(k): str(v) for k, v in rendering.outputs["accounts"].items()}


def containers(rendering: Rendering) -> Iterator[tuple[dict, dict, str]]:
    """(task definition record, its one container, the deployable it runs)."""
    for task in of_type(rendering, TASK):
        if not task["account"].startswith("workload:"):
            continue  # Keycloak, in the identity account: tests/test_identity.py
        [container] = json.loads(task["inputs"]["containerDefinitions"])
        family = task["inputs"]["family"]
        deployable = next(d for d in DEPLOYABLES if family.endswith("-" + d.replace("_", "-")))
        yield task, container, deployable


def functions(rendering: Rendering) -> Iterator[tuple[dict, str]]:
    for function in of_type(rendering, FUNCTION):
        name = function["inputs"]["name"]
        yield function, next(d for d in DEPLOYABLES if name.endswith("-" + d.replace("_", "-")))


def feed_kind(rendering: Rendering) -> str:
    workloads = config_of(rendering)["workloads"]
    return next(w["coreBankingFeed"]["type"] for w in workloads.values() if "coreBankingFeed" in w)


def statements(rendering: Rendering) -> Iterator[tuple[dict, dict]]:
    """(role policy record, statement) for every inline role policy."""
    for policy in of_type(rendering, "aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
            yield policy, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stack", STACKS)
def test_each_workload_account_runs_its_configured_services_and_their_lambdas(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    for account, services in PLACEMENT.items():
        running = {d for task, _, d in containers(rendering) if task["account"] == account}
        lambdas = {d for f, d in functions(rendering) if f["account"] == account}
        assert running == {*services, "ledger_migrate"}, account
        assert lambdas == set(functions_of(services, DEPLOYABLES)), account
    # the events service's router and delivery sit with it (pis), the outbox wherever consents or payments live
    pis_lambdas = {d for f, d in functions(rendering) if f["account"] == "workload:pis"}
    assert {"event_router", "event_delivery", "outbox_relay", "consent_expiry"} <= pis_lambdas


@pytest.mark.parametrize("stack", STACKS)
def test_no_container_is_privileged_writable_or_root(rendered: Render, stack: str) -> None:
    found = list(containers(rendered(stack)))
    assert len(found) == 7
    for task, container, deployable in found:
        assert container["privileged"] is False and container["readonlyRootFilesystem"] is True, deployable
        assert container["user"] == f"{DEPLOYABLES[deployable].user}:{DEPLOYABLES[deployable].user}" != "0:0"
        assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
        assert [m["containerPath"] for m in container["mountPoints"]] == ["/tmp"]
        assert [v["name"] for v in task["inputs"]["volumes"]] == ["tmp"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert task["inputs"]["networkMode"] == "awsvpc" and task["inputs"]["requiresCompatibilities"] == ["FARGATE"]


@pytest.mark.parametrize("stack", [*STACKS, "sandbox"])
def test_every_deployable_is_given_every_setting_it_needs_and_secrets_only_as_secrets(rendered: Render,
                                                                                      stack: str) -> None:
    rendering = rendered(stack)
    feed = feed_kind(rendering) if "workloads" in config_of(rendering) else None  # the sandbox has no feed
    for task, container, deployable in containers(rendering):
        env = {v["name"] for v in container["environment"]}
        secrets = {v["name"] for v in container["secrets"]}
        kind = feed if DEPLOYABLES[deployable].uses_feed else None
        missing = required_variables(deployable, feed=kind) - env - secrets
        assert not missing, f"{task['name']} would start without {sorted(missing)}"
        assert secret_variables(deployable, feed=kind) <= secrets, task["name"]
        assert not env & secret_variables(deployable, feed=kind)
        assert all(v["valueFrom"].startswith("arn:aws:secretsmanager:") for v in container["secrets"])
    for function, deployable in functions(rendering):
        env = set(function["inputs"]["environment"]["variables"])
        missing = required_variables(deployable) - env
        assert not missing, f"{function['name']} would start without {sorted(missing)}"
        assert not secret_variables(deployable)


@pytest.mark.parametrize("stack", STACKS)
def test_containers_run_the_image_from_their_own_account(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    ids, digests = account_ids(rendering), stack == "prod"
    for task, container, _ in containers(rendering):
        registry = f"{ids[task['account']]}.dkr.ecr.eu-west-2.amazonaws.com/"
        assert container["image"].startswith(registry), container["image"]
        if digests:  # prod runs what CI promoted, by digest; no image is built at deploy time
            assert "@sha256:" in container["image"] and ":" not in container["image"].split("/", 1)[1].split("@")[0]
    assert bool(of_type(rendering, "docker-build:index:Image")) is not digests
    for repository in of_type(rendering, "aws:ecr/repository:Repository"):
        inputs = repository["inputs"]
        assert inputs["imageTagMutability"] == "IMMUTABLE" and inputs["imageScanningConfiguration"]["scanOnPush"]
        assert inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"


@pytest.mark.parametrize("stack", STACKS)
def test_tables_are_the_services_own_definitions_in_the_account_of_their_users(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    keys = {k["outputs"]["arn"]: k for k in of_type(rendering, "aws:kms/key:Key")}
    for account, services in PLACEMENT.items():
        used = {t for d in [*services, *functions_of(services, DEPLOYABLES)] for t in DEPLOYABLES[d].tables}
        tables = {t["inputs"]["name"]: t for t in of_type(rendering, TABLE) if t["account"] == account}
        prefix = f"{stack}-{account.split(':')[1]}-"
        assert set(tables) == {prefix + TABLES[t].suffix for t in used}, account
        for logical in used:
            spec, table = TABLES[logical], tables[prefix + TABLES[logical].suffix]["inputs"]
            assert (table["hashKey"], table.get("rangeKey")) == (spec.partition_key, spec.sort_key)
            assert {i["name"]: [k["attributeName"] for k in i["keySchemas"]] for i in table["globalSecondaryIndexes"]} \
                == {i.name: [k for k in (i.partition_key, i.sort_key) if k] for i in spec.indexes}
            assert (table.get("ttl") or {}).get("attributeName") == spec.ttl_attribute
            assert table["streamEnabled"] is spec.stream
            assert table["billingMode"] == "PAY_PER_REQUEST" and table["deletionProtectionEnabled"] is True
            assert table["pointInTimeRecovery"]["enabled"] is True
            key = keys[table["serverSideEncryption"]["kmsKeyArn"]]
            assert table["serverSideEncryption"]["enabled"] and key["account"] == account


def test_the_foundation_trail_records_data_events_on_the_tables_prod_really_has(rendered: Render) -> None:
    tables = {t["outputs"]["arn"] for t in of_type(rendered("prod"), TABLE)}
    configured = config_of(rendered("foundation"))["foundation"]["trail"]["dataEventTableArns"]
    assert configured and set(configured) <= tables


@pytest.mark.parametrize("stack", STACKS)
def test_no_role_reaches_a_table_key_or_database_of_another_account(rendered: Render, stack: str) -> None:
    for policy, statement in statements(rendered(stack)):
        for resource in as_list(statement.get("Resource", [])):
            if isinstance(resource, str) and resource.startswith(("arn:aws:dynamodb:", "arn:aws:rds-db:",
                                                                  "arn:aws:kms:", "arn:aws:elasticache:")):
                assert resource.split(":")[4] == policy["account_id"], (policy["name"], resource)


def test_prod_protects_its_stateful_resources(rendered: Render) -> None:
    rendering = rendered("prod")
    for type_ in (TABLE, "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance",
                  "aws:elasticache/replicationGroup:ReplicationGroup", "aws:msk/cluster:Cluster",
                  "aws:ecr/repository:Repository"):
        found = of_type(rendering, type_)
        assert found and all(r["options"]["protect"] and r["options"]["retainOnDelete"] for r in found), type_
    for cluster in of_type(rendering, "aws:rds/cluster:Cluster"):
        inputs = cluster["inputs"]
        assert inputs["deletionProtection"] and not inputs["skipFinalSnapshot"] and inputs["finalSnapshotIdentifier"]
        assert inputs["storageEncrypted"] and inputs["iamDatabaseAuthenticationEnabled"]
        assert inputs["manageMasterUserPassword"] and "masterPassword" not in inputs
    instances = of_type(rendering, "aws:rds/clusterInstance:ClusterInstance")
    assert len(instances) == 2 * len(of_type(rendering, "aws:rds/cluster:Cluster"))


def test_dev_keeps_nothing_it_could_not_tear_down(rendered: Render) -> None:
    rendering = rendered("dev")
    for type_ in (TABLE, "aws:rds/cluster:Cluster", "aws:ecr/repository:Repository"):
        assert not any(r["options"]["protect"] for r in of_type(rendering, type_)), type_
    for cluster in of_type(rendering, "aws:rds/cluster:Cluster"):
        assert cluster["inputs"]["skipFinalSnapshot"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_the_cache_refuses_plaintext_and_anonymous_clients(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    users = {u["inputs"]["userId"]: u["inputs"] for u in of_type(rendering, "aws:elasticache/user:User")}
    groups = {g["inputs"]["userGroupId"]: g["inputs"] for g in of_type(rendering, "aws:elasticache/userGroup:UserGroup")}
    caches = of_type(rendering, "aws:elasticache/replicationGroup:ReplicationGroup")
    assert len(caches) == 2
    for cache in caches:
        inputs = cache["inputs"]
        assert inputs["transitEncryptionEnabled"] and inputs["transitEncryptionMode"] == "required"
        assert inputs["atRestEncryptionEnabled"] and inputs["kmsKeyId"].startswith("arn:aws:kms:")
        [group] = [groups[g] for g in inputs["userGroupIds"]]
        members = [users[u] for u in group["userIds"]]
        [default] = [m for m in members if m["userName"] == "default"]
        assert default["accessString"].startswith("off")
        assert all(m["authenticationMode"]["type"] == "iam" for m in members if m is not default)
        if stack == "prod":
            assert inputs["multiAzEnabled"] and inputs["automaticFailoverEnabled"]


@pytest.mark.parametrize("stack", STACKS)
def test_endpoint_services_admit_exactly_the_api_account_and_the_idp_where_it_records_decisions(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    ids = account_ids(rendering)
    expected = {"ais": {ids["api"], ids["identity"]}, "pis": {ids["api"], ids["identity"]}, "events": {ids["api"]}}
    services = [s for s in of_type(rendering, "aws:ec2/vpcEndpointService:VpcEndpointService")
                if s["account"].startswith("workload:")]  # Keycloak's admits the network account: test_identity.py
    assert len(services) == 3
    balancers = {lb["outputs"]["arn"]: lb for lb in of_type(rendering, "aws:lb/loadBalancer:LoadBalancer")}
    for service in services:
        [nlb] = [balancers[arn] for arn in service["inputs"]["networkLoadBalancerArns"]]
        name = nlb["inputs"]["name"].rsplit("-", 1)[1]
        allowed = {p.split(":")[4] for p in service["inputs"]["allowedPrincipals"]}
        assert allowed == expected[name] and service["inputs"]["acceptanceRequired"] is True
        assert all(p.endswith(":root") for p in service["inputs"]["allowedPrincipals"])
        assert nlb["inputs"]["internal"] is True and nlb["account"] == service["account"]


@pytest.mark.parametrize("stack", STACKS)
def test_service_load_balancers_terminate_tls_with_private_ca_certificates_and_gcm_only_suites(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    certificates = {c["outputs"]["arn"]: c["inputs"] for c in of_type(rendering, "aws:acm/certificate:Certificate")}
    ca = config_of(rendering)["internalCertificateAuthorityArn"]
    listeners = [listener for listener in of_type(rendering, "aws:lb/listener:Listener")
                 if listener["account"].startswith("workload:")]
    assert len(listeners) == 3
    for listener in listeners:
        inputs = listener["inputs"]
        assert inputs["protocol"] == "TLS" and inputs["port"] == 443
        assert inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
        assert certificates[inputs["certificateArn"]]["certificateAuthorityArn"] == ca


@pytest.mark.parametrize("stack", STACKS)
def test_data_stores_admit_their_own_users_only(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    groups = {g["id"]: g for g in of_type(rendering, SG)}
    onprem = set(config_of(rendering)["network"]["onPremisesCidrs"])

    def admitted(store_group: dict) -> tuple[set[str], set[str]]:
        rules = [r["inputs"] for r in of_type(rendering, INGRESS) if r["inputs"]["securityGroupId"] == store_group["id"]]
        peers = {groups[r["referencedSecurityGroupId"]]["name"] for r in rules if r.get("referencedSecurityGroupId")}
        return peers, {r["cidrIpv4"] for r in rules if r.get("cidrIpv4")}

    for account, services in PLACEMENT.items():
        workload = account.split(":")[1]
        prefix = f"{stack}-workload-{workload}"
        everything = [*services, *functions_of(services, DEPLOYABLES), "ledger_migrate"]
        by_name = {g["name"]: g for g in groups.values() if g["account"] == account}
        for store, uses in (("ledger-sg", lambda d: DEPLOYABLES[d].uses_ledger),
                            ("cache-sg", lambda d: DEPLOYABLES[d].uses_cache)):
            peers, cidrs = admitted(by_name[f"{prefix}-{store}"])
            assert peers == {f"{prefix}-{d.replace('_', '-')}" for d in everything if uses(d)}, (account, store)
            assert not cidrs, (account, store)
    # the feed admits the consumer of its own account, and core banking from the data centre only
    [feed] = [g for g in groups.values() if g["name"].endswith("-feed-sg")]
    peers, cidrs = admitted(feed)
    assert peers == {f"{stack}-workload-ais-ingestion"} and cidrs == onprem


@pytest.mark.parametrize("stack", STACKS)
def test_every_lambda_has_a_failure_path(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    queues = {q["outputs"]["arn"]: q["inputs"] for q in of_type(rendering, "aws:sqs/queue:Queue")}
    invoke_configs = {c["inputs"]["functionName"]: c["inputs"]
                      for c in of_type(rendering, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")}
    mappings = of_type(rendering, "aws:lambda/eventSourceMapping:EventSourceMapping")
    for function, deployable in functions(rendering):
        name, arn = function["inputs"]["name"], function["outputs"]["arn"]
        sources = [m["inputs"] for m in mappings if m["inputs"]["functionName"] == arn]
        trigger = DEPLOYABLES[deployable].trigger
        if trigger in ("schedule", "eventbridge-rule"):  # asynchronous: retried, then kept on a queue
            destination = invoke_configs[name]["destinationConfig"]["onFailure"]["destination"]
            assert destination in queues, name
        elif trigger == "dynamodb-stream":
            assert sources and all(s["destinationConfig"]["onFailure"]["destinationArn"] in queues for s in sources)
            assert all(s["bisectBatchOnFunctionError"] and s["functionResponseTypes"] == ["ReportBatchItemFailures"]
                       for s in sources)
        elif trigger == "sqs":
            [source] = sources
            assert "deadLetterTargetArn" in json.loads(queues[source["eventSourceArn"]]["redrivePolicy"])
            assert source["functionResponseTypes"] == ["ReportBatchItemFailures"]
            assert function["inputs"]["reservedConcurrentExecutions"] >= 1
        elif trigger == "api-authorizer":  # synchronous: API Gateway answers a failure with an OBIE 500
            [api] = of_type(rendering, "aws:apigateway/restApi:RestApi")
            responses = json.loads(api["inputs"]["body"])["x-amazon-apigateway-gateway-responses"]
            assert responses["AUTHORIZER_FAILURE"]["statusCode"] == "500", name
        elif trigger == "secret-rotation":  # synchronous: Secrets Manager keeps the rotation pending and retries
            rotations = [r for r in of_type(rendering, "aws:secretsmanager/secretRotation:SecretRotation")
                         if r["inputs"]["rotationLambdaArn"] == arn]
            assert len(rotations) == 1 and not invoke_configs.get(name) and not sources, name
        else:
            pytest.fail(f"{name}: no failure path for a {trigger} trigger")
        assert function["inputs"]["vpcConfig"]["subnetIds"] and function["inputs"]["tracingConfig"]["mode"] == "Active"


@pytest.mark.parametrize("stack", STACKS)
def test_status_changes_reach_the_events_account_through_the_outbox_and_a_bus_policy_naming_the_publishers(
        rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    ids = account_ids(rendering)
    [bus] = of_type(rendering, "aws:cloudwatch/eventBus:EventBus")
    assert bus["account"] == "workload:pis" and bus["inputs"]["kmsKeyIdentifier"].startswith("arn:aws:kms:")
    relays = {f["account"]: f["inputs"]["environment"]["variables"]["OB_EVENT_BUS"]
              for f, d in functions(rendering) if d == "outbox_relay"}
    assert relays == {"workload:ais": bus["outputs"]["arn"], "workload:pis": bus["outputs"]["arn"]}
    [policy] = of_type(rendering, "aws:cloudwatch/eventBusPolicy:EventBusPolicy")
    [statement] = json.loads(policy["inputs"]["policy"])["Statement"]
    assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{ids['workload:ais']}:root"]
    assert statement["Action"] == "events:PutEvents" and statement["Resource"] == bus["outputs"]["arn"]
    assert statement["Condition"] == {"StringEquals": {"events:source": OUTBOX_EVENT_SOURCE}}
    [rule] = [r for r in of_type(rendering, "aws:cloudwatch/eventRule:EventRule") if r["inputs"].get("eventBusName")]
    assert json.loads(rule["inputs"]["eventPattern"])["source"] == [OUTBOX_EVENT_SOURCE]
    streams = {m["inputs"]["eventSourceArn"] for m in of_type(rendering, "aws:lambda/eventSourceMapping:EventSourceMapping")
               if "/stream/" in m["inputs"]["eventSourceArn"]}
    assert streams == {t["outputs"]["streamArn"] for t in of_type(rendering, TABLE) if t["inputs"]["streamEnabled"]}


@pytest.mark.parametrize("stack", STACKS)
def test_one_msk_feed_serves_every_ingesting_account_with_its_own_consumer_group(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    ids = account_ids(rendering)
    [cluster] = of_type(rendering, "aws:msk/cluster:Cluster")
    inputs = cluster["inputs"]
    assert cluster["account"] == "workload:ais"
    assert inputs["clientAuthentication"] == {"sasl": {"iam": True}, "unauthenticated": False}
    assert inputs["encryptionInfo"]["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
    assert inputs["encryptionInfo"]["encryptionAtRestKmsKeyArn"].startswith(f"arn:aws:kms:eu-west-2:{ids['workload:ais']}")
    [policy] = of_type(rendering, "aws:msk/clusterPolicy:ClusterPolicy")
    [statement] = json.loads(policy["inputs"]["policy"])["Statement"]
    assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{ids['workload:pis']}:root"]
    [connection] = of_type(rendering, "aws:msk/vpcConnection:VpcConnection")
    assert connection["account"] == "workload:pis" and connection["inputs"]["targetClusterArn"] == cluster["outputs"]["arn"]
    groups = {}
    for task, container, deployable in containers(rendering):
        if deployable == "ingestion":
            env = {v["name"]: v["value"] for v in container["environment"]}
            groups[task["account"]] = env["OB_KAFKA_GROUP_ID"]
    assert groups == {a: consumer_group(a.split(":")[1]) for a in PLACEMENT}


@pytest.mark.parametrize("stack", STACKS)
def test_services_log_in_to_the_ledger_as_their_role_and_to_the_cache_as_themselves(rendered: Render,
                                                                                     stack: str) -> None:
    rendering = rendered(stack)
    for _, container, deployable in containers(rendering):
        env = {v["name"]: v["value"] for v in container["environment"]}
        spec = DEPLOYABLES[deployable]
        if spec.logs_in_to_ledger:
            assert env["OB_DATABASE_USER"] == LEDGER_ROLES[str(spec.ledger)] and env["OB_DATABASE_IAM_AUTH"] == "true"
        if spec.uses_cache:
            assert env["OB_REDIS_URL"].startswith("rediss://") and env["OB_REDIS_USER"] == deployable
    connects = [s for _, s in statements(rendering) if s.get("Action") == "rds-db:connect"]
    assert connects and all(r.split(":dbuser:")[1].split("/")[1] in LEDGER_ROLES.values()
                            for s in connects for r in as_list(s["Resource"]))


@pytest.mark.parametrize("stack", STACKS)
def test_signers_sign_ps256_only_with_an_rsa_key_of_their_account(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    keys = {k["outputs"]["arn"]: k for k in of_type(rendering, "aws:kms/key:Key")
            if k["inputs"].get("keyUsage") == "SIGN_VERIFY" and k["inputs"]["customerMasterKeySpec"].startswith("RSA_")}
    assert {k["account"] for k in keys.values()} == {"workload:pis"}  # pis and events sign; ais signs nothing
    for policy, statement in statements(rendering):
        if statement.get("Action") == "kms:Sign":
            assert statement["Resource"] in keys and keys[statement["Resource"]]["account"] == policy["account"]
            assert statement["Condition"] == {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_watch_services_queues_and_stores_and_notify_the_accounts_topic(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    topics = {t["outputs"]["arn"]: t for t in of_type(rendering, "aws:sns/topic:Topic")}
    alarms = of_type(rendering, "aws:cloudwatch/metricAlarm:MetricAlarm")
    names = {a["inputs"]["name"] for a in alarms}
    for account, services in PLACEMENT.items():
        prefix = f"{stack}-workload-{account.split(':')[1]}"
        for service in services:
            if DEPLOYABLES[service].port is not None:
                assert {f"{prefix}-{service}-5xx-rate", f"{prefix}-{service}-p99-latency"} <= names
        assert {f"{prefix}-ledger-cpu", f"{prefix}-ledger-connections", f"{prefix}-cache-evictions"} <= names
    assert {a["inputs"]["name"] for a in alarms if "feed-lag" in a["inputs"]["name"]} == {
        f"{stack}-workload-ais-feed-lag-{consumer_group(w)}" for w in ("ais", "pis")}
    dead_letter_queues = [q for q in of_type(rendering, "aws:sqs/queue:Queue") if "deadLetterTargetArn" not in
                          q["inputs"].get("redrivePolicy", "") and q["account"].startswith("workload:")]
    watched = {a["inputs"]["dimensions"]["QueueName"] for a in alarms if a["inputs"].get("namespace") == "AWS/SQS"}
    assert watched == {q["inputs"]["name"] for q in dead_letter_queues}
    for alarm in alarms:
        [topic] = alarm["inputs"]["alarmActions"]
        assert topics[topic]["account"] == alarm["account"]
