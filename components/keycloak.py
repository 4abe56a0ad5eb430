"""Keycloak, the FAPI authorization server of the identity account [13], on Fargate behind PrivateLink.

- **TLS ends in Keycloak.** The internal NLB passes TCP through (no TLS listener anywhere on the way), so the
  TLS session a third party opens is Keycloak's own and Keycloak sees the client certificate it binds tokens to
  (RFC 8705; Keycloak has no lookup for certificates a load balancer forwards in headers). Keycloak offers TLS 1.3
  and 1.2 with FAPI's GCM suites only, requests a client certificate (`https-client-auth=request`: the JWKS and
  discovery documents stay reachable without one) and trusts exactly the TPPs' CA bundle of the API edge.
- **Its key** comes from the TLS secret (:mod:`components.idp_certificate`), its realm from the generated realm
  file (:mod:`components.keycloak_realm`): the entry point writes both, and the TPPs' CA bundle, to a task-local
  volume, unsets them, and starts `kc.sh start --optimized --import-realm`. The root file system stays read-only;
  `/opt/keycloak/data` and `/tmp` are the only writable places.
- **Its database** is Aurora PostgreSQL (Serverless v2) admitting Keycloak's tasks only. Keycloak signs in with the
  cluster's RDS-managed credentials through the AWS Advanced JDBC Wrapper's Secrets Manager plugin, which reads
  the secret itself and reads it again when a rotation makes a sign-in fail; no password is in the task definition.
- **A cluster** of tasks through the database (JGroups `jdbc-ping`): ports 7800 and 57800 open between Keycloak's
  own tasks and nothing else; health on the management port 9000 (`/health/ready`, HTTPS); autoscaling on CPU.
- **Reached** through a VPC endpoint service that admits exactly the account of the public entry (the network
  account), each connection accepted by this account.
- The admin console and API are not built into the image (keycloak/Dockerfile): this port faces the internet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from .aurora_postgres import AuroraPostgres, AuroraPostgresArgs
from .container_task import ContainerSpec, ContainerTaskArgs
from .endpoint_service import EndpointService, EndpointServiceArgs
from .fargate_service import (
    FargateService,
    FargateServiceArgs,
    ServiceCluster,
    ServiceClusterArgs,
    TargetHealth,
    TcpPassthrough,
)
from .network_access import Egress, workload_security_group

#: The HTTPS port of the Keycloak container; the NLB's TCP 443 passes through to it.
HTTPS_PORT = 8443
#: The management interface: health and metrics.
MANAGEMENT_PORT = 9000
#: JGroups: cluster transport and failure detection (FD_SOCK2, port offset 50000), between Keycloak's tasks only.
CLUSTER_PORTS = (7800, 57800)
#: The public listener port (TCP pass-through).
LISTENER_PORT = 443
#: TLS 1.3 with AES-GCM, and FAPI 1.0 Advanced's TLS 1.2 suites (Part 2, 8.5): GCM only, no CBC, no ChaCha20.
FAPI_CIPHER_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                      "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")
TLS_PROTOCOLS = ("TLSv1.3", "TLSv1.2")
#: Keycloak's user in the image.
USER = "1000"
#: Where the entry point writes what Keycloak reads from files (a task-local volume).
DATA_DIR = "/opt/keycloak/data"
TLS_DIR = f"{DATA_DIR}/tls"
IMPORT_DIR = f"{DATA_DIR}/import"
#: Where keycloak/Dockerfile puts the RDS CA bundle (the JDBC driver verifies the cluster's certificate).
RDS_CA_FILE = "/opt/keycloak/conf/rds-global-bundle.pem"
#: Keycloak's database on the cluster.
DATABASE = "keycloak"
#: The container's variables that hold what the entry point writes to files (then unsets).
FILE_VARIABLES = {"OB_TLS_CERTIFICATE": f"{TLS_DIR}/server.crt", "OB_TLS_PRIVATE_KEY": f"{TLS_DIR}/server.key",
                  "OB_TPP_TRUSTSTORE": f"{TLS_DIR}/tpp-cas.pem"}
#: ECS task definitions are at most 64 KiB; what the container carries as values (the realm file, the TPPs' CA
#: bundle) must leave room for the rest of the definition (about 5 KiB: keep 8).
MAX_CARRIED_BYTES = 56 * 1024


def entry_point(realm_name: str) -> list[str]:
    """The container's entry point: files from variables (owner-only), then Keycloak in the foreground."""
    writes = [f"printf '%s' \"${variable}\" > {path}" for variable, path in FILE_VARIABLES.items()]
    script = "; ".join([
        "set -eu", "umask 077", f"mkdir -p {TLS_DIR} {IMPORT_DIR}", *writes,
        f"printf '%s' \"$OB_REALM\" > {IMPORT_DIR}/{realm_name}.json",
        f"unset {' '.join(FILE_VARIABLES)} OB_REALM",
        "exec /opt/keycloak/bin/kc.sh start --optimized --import-realm",
    ])
    return ["/bin/bash", "-c", script]


@dataclass(frozen=True)
class KeycloakSizing:
    """Task size, count and database capacity."""

    #: Fargate CPU units and memory (MiB) of one task.
    cpu: int
    #: Task memory (MiB).
    memory_mb: int
    #: Tasks autoscaling keeps between.
    min_tasks: int
    #: The most tasks autoscaling runs.
    max_tasks: int
    #: Aurora Serverless v2 capacity (ACUs).
    database_min_capacity: float
    #: The largest the cluster scales to (ACUs).
    database_max_capacity: float
    #: Aurora instances (prod: 2 at least).
    database_instances: int
    #: Days of automated backups.
    backup_retention_days: int


@dataclass(frozen=True)
class KeycloakPlacement:
    """The identity VPC, as Keycloak's pieces need it."""

    #: The VPC.
    vpc_id: pulumi.Input[str]
    #: Its CIDR (its interface endpoints, AWS's and the consent services').
    vpc_cidr: str
    #: Private subnets (tasks, NLB) and data subnets (the database), one per AZ.
    private_subnet_ids: Sequence[pulumi.Input[str]]
    #: Data subnets (the database), one per AZ.
    data_subnet_ids: Sequence[pulumi.Input[str]]
    #: Their CIDRs (the tasks' egress to the database).
    data_cidrs: Sequence[str]
    #: The S3 gateway endpoint's prefix list (image layers).
    s3_prefix_list_id: pulumi.Input[str]
    #: The egress VPC's CIDR (the proxy: TPPs' JWKS at the directory).
    egress_vpc_cidr: str


@dataclass(frozen=True)
class KeycloakArgs:
    """One Keycloak deployment."""

    #: Prefix of physical names, e.g. "prod-identity".
    name_prefix: str
    #: The account and region.
    account_id: str
    #: The region (logs, the JDBC wrapper's Secrets Manager client).
    region: str
    #: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>` (the bank's build of keycloak/).
    image: str
    #: Task and database sizing.
    sizing: KeycloakSizing
    #: The public host, e.g. "auth.prod.openbanking.example-bank.co.uk".
    hostname: str
    #: The realm's name and its file (components/keycloak_realm.py).
    realm_name: str
    #: The realm file (JSON), imported at the first start.
    realm_json: str
    #: The TPPs' CA bundle (PEM): the client certificates Keycloak accepts chain to it (the API edge's truststore).
    tpp_truststore_pem: str
    #: The TLS secret (JSON `certificate`, `privateKey`) the rotation function keeps current.
    tls_secret_arn: pulumi.Input[str]
    #: The secret's JSON keys.
    tls_secret_keys: tuple[str, str]
    #: Where it runs.
    placement: KeycloakPlacement
    #: The egress proxy (`http://proxy.<domain>:3128`): outgoing HTTPS to the internet goes through it.
    proxy_url: str
    #: Hosts outgoing requests reach directly (the consent services over PrivateLink), as domain suffixes.
    no_proxy_domains: Sequence[str]
    #: Service -> the internal authorisation URL the consent step POSTs a PSU's decision to.
    consent_endpoints: Mapping[str, str]
    #: The account allowed to connect to the endpoint service: the network account's public entry.
    entry_account_id: str
    #: The log archive's access-logs bucket (the NLB's).
    access_logs_bucket: pulumi.Input[str]
    #: The account key (logs, database, secrets).
    kms_key_arn: pulumi.Input[str]
    #: Days the logs are kept.
    log_retention_days: int
    #: Protect the database (prod).
    protect: bool
    #: What the service waits for before its first tasks start (the TLS secret's first rotation).
    ready: Sequence[pulumi.Resource] = ()


def ecr_repository_arn(image: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:...` -> the repository's ARN (the pull permission)."""
    registry, _, rest = image.partition("/")
    account, _, _, region, *_ = registry.split(".")
    return f"arn:aws:ecr:{region}:{account}:repository/{rest.split('@')[0]}"


def cluster_name(name_prefix: str) -> str:
    return name_prefix


def service_name(name_prefix: str) -> str:
    """The Keycloak service's (and its NLB's) name: 32 characters at most."""
    return f"{name_prefix}-keycloak"[:32]


def proxy_mappings(proxy_url: str, no_proxy_domains: Sequence[str]) -> str:
    """Keycloak's outgoing HTTP proxy mappings: AWS and the listed domains directly, everything else the proxy."""
    direct = [r".*\.amazonaws\.com", *(".*" + d.replace(".", r"\.") for d in no_proxy_domains)]
    return ",".join([*(f"{pattern};NO_PROXY" for pattern in direct), f".*;{proxy_url}"])


class Keycloak(pulumi.ComponentResource):
    """Cluster, security group, database, the Keycloak service behind a pass-through NLB, the endpoint service."""

    database: AuroraPostgres
    service: FargateService
    endpoint_service: EndpointService

    def __init__(self, name: str, args: KeycloakArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:identity:Keycloak", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        carried = len(args.realm_json.encode()) + len(args.tpp_truststore_pem.encode())
        if carried > MAX_CARRIED_BYTES:
            raise ValueError(f"{name}: the realm file and the TPPs' CA bundle are {carried} bytes; a task definition "
                             f"carries at most {MAX_CARRIED_BYTES} of them (64 KiB in all): fewer clients or CAs")
        place = args.placement
        prefix = args.name_prefix
        self.security_group = workload_security_group(
            f"{name}-tasks", vpc_id=place.vpc_id, parent=self,
            description=f"{prefix} Keycloak: egress to what it uses only", egress=[
                Egress("AWS API and consent service endpoints in the VPC", 443, cidr=place.vpc_cidr),
                Egress("S3 gateway endpoint (image layers)", 443, prefix_list_id=place.s3_prefix_list_id),
                *[Egress("Keycloak's database (Aurora PostgreSQL)", 5432, cidr=c) for c in place.data_cidrs],
                Egress("the egress proxy (Squid): TPPs' JWKS", 3128, cidr=place.egress_vpc_cidr)])
        self.database = AuroraPostgres(f"{name}-database", AuroraPostgresArgs(
            cluster_identifier=f"{prefix}-keycloak", database_name=DATABASE, vpc_id=place.vpc_id,
            subnet_ids=place.data_subnet_ids, client_security_group_ids={"keycloak": self.security_group.id},
            kms_key_arn=args.kms_key_arn, min_capacity=args.sizing.database_min_capacity,
            max_capacity=args.sizing.database_max_capacity, instances=args.sizing.database_instances,
            backup_retention_days=args.sizing.backup_retention_days, log_retention_days=args.log_retention_days,
            protect=args.protect), opts=child)
        self.cluster = ServiceCluster(f"{name}-cluster", ServiceClusterArgs(cluster_name=cluster_name(prefix)),
                                      opts=child)

        db_url = pulumi.Output.all(self.database.endpoint, self.database.master_secret_arn).apply(
            lambda v: f"jdbc:aws-wrapper:postgresql://{v[0]}:5432/{DATABASE}?wrapperPlugins=secretsManager"
                      f"&secretsManagerSecretId={v[1]}&secretsManagerRegion={args.region}"
                      f"&ssl=true&sslmode=verify-full&sslrootcert={RDS_CA_FILE}")
        certificate_key, private_key_key = args.tls_secret_keys
        secret = pulumi.Output.from_input(args.tls_secret_arn)
        environment: dict[str, pulumi.Input[str]] = {
            "KC_HOSTNAME": f"https://{args.hostname}",
            "KC_HOSTNAME_STRICT": "true",
            "KC_HTTP_ENABLED": "false",
            "KC_HTTPS_PORT": str(HTTPS_PORT),
            "KC_HTTP_MANAGEMENT_PORT": str(MANAGEMENT_PORT),
            "KC_HTTPS_PROTOCOLS": ",".join(TLS_PROTOCOLS),
            "KC_HTTPS_CIPHER_SUITES": ",".join(FAPI_CIPHER_SUITES),
            "KC_HTTPS_CLIENT_AUTH": "request",
            "KC_HTTPS_CERTIFICATE_FILE": FILE_VARIABLES["OB_TLS_CERTIFICATE"],
            "KC_HTTPS_CERTIFICATE_KEY_FILE": FILE_VARIABLES["OB_TLS_PRIVATE_KEY"],
            "KC_TRUSTSTORE_PATHS": FILE_VARIABLES["OB_TPP_TRUSTSTORE"],
            "KC_DB_URL": db_url,
            "KC_CACHE": "ispn",
            "KC_CACHE_STACK": "jdbc-ping",
            "KC_LOG_CONSOLE_OUTPUT": "json",
            "KC_SPI_CONNECTIONS_HTTP_CLIENT_DEFAULT_PROXY_MAPPINGS": proxy_mappings(args.proxy_url,
                                                                                     args.no_proxy_domains),
            "OB_REALM": args.realm_json,
            "OB_TPP_TRUSTSTORE": args.tpp_truststore_pem,
            "OB_CONSENT_ENDPOINTS": json.dumps(dict(sorted(args.consent_endpoints.items())), separators=(",", ":")),
        }
        self.service = FargateService(f"{name}-service", FargateServiceArgs(
            task=ContainerTaskArgs(
                family=f"{prefix}-keycloak", account_id=args.account_id, region=args.region,
                container=ContainerSpec(
                    image=args.image, user=USER, cpu=args.sizing.cpu, memory_mb=args.sizing.memory_mb,
                    port=HTTPS_PORT, entry_point=entry_point(args.realm_name), writable_paths=[DATA_DIR],
                    health_check=("CMD", "/bin/bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{MANAGEMENT_PORT}"),
                    health_check_start_period_seconds=180, environment=environment,
                    secrets={"OB_TLS_CERTIFICATE": pulumi.Output.concat(secret, f":{certificate_key}::"),
                             "OB_TLS_PRIVATE_KEY": pulumi.Output.concat(secret, f":{private_key_key}::")}),
                repository_arn=ecr_repository_arn(args.image),
                policy_statements=[
                    # The JDBC wrapper reads the database's RDS-managed credentials (and again after a rotation).
                    {"Sid": "DatabaseCredentials", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                     "Resource": self.database.master_secret_arn},
                    {"Sid": "DatabaseCredentialsKey", "Effect": "Allow", "Action": "kms:Decrypt",
                     "Resource": args.kms_key_arn,
                     "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{args.region}.amazonaws.com"}}},
                ],
                secret_kms_key_arns=[args.kms_key_arn], log_kms_key_arn=args.kms_key_arn,
                log_retention_days=args.log_retention_days),
            cluster_arn=self.cluster.arn, cluster_name=self.cluster.name, service_name=service_name(prefix),
            vpc_id=place.vpc_id, subnet_ids=place.private_subnet_ids, security_group_id=self.security_group.id,
            min_tasks=args.sizing.min_tasks, max_tasks=args.sizing.max_tasks,
            passthrough=TcpPassthrough(port=LISTENER_PORT),
            health=TargetHealth(port=MANAGEMENT_PORT, protocol="HTTPS", path="/health/ready"),
            peer_ports=CLUSTER_PORTS, health_check_grace_seconds=300, access_logs_bucket=args.access_logs_bucket,
            ready=args.ready), opts=child)
        assert self.service.load_balancer_arn is not None  # a listener, so a load balancer
        self.endpoint_service = EndpointService(f"{name}-endpoint", EndpointServiceArgs(
            load_balancer_arn=self.service.load_balancer_arn, allowed_account_ids=[args.entry_account_id],
            description=f"{prefix} Keycloak (TLS passes through)"), opts=child)
        self.execution_role_arn = self.service.task.execution_role.arn
        self.register_outputs({"endpointServiceName": self.endpoint_service.service_name,
                               "securityGroupId": self.security_group.id})
