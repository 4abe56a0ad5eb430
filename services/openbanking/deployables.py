"""What the landing zone deploys from services/: one record per deployable (Fargate service, one-off Fargate task,
Lambda function) of the workload accounts and of the developer sandbox's account (`SANDBOX_DEPLOYABLES`), with
what the infrastructure must give it: image or archive, port and health check, trigger,
the DynamoDB tables it reads and writes, and the resources it uses (ledger database, cache, signing key, event
bus and queue, core-banking feed).

The infrastructure imports this module, so it is plain data and imports nothing but the standard library. Tests
tie each record to the code: the container facts to its Dockerfile, the Lambda facts to `make lambdas`, the tables
to `TABLES`, and the settings a deployable needs (:mod:`openbanking.settings_contract`) to these flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

#: `service`: a long-running Fargate service; `task`: a one-off Fargate task; `lambda`: a Lambda function.
Kind = Literal["service", "task", "lambda"]
#: What invokes a Lambda function.
Trigger = Literal["sqs", "dynamodb-stream", "schedule", "eventbridge-rule", "api-authorizer", "secret-rotation"]
#: How a deployable uses the ledger (Aurora PostgreSQL): `read` and `write` log in with IAM authentication as the
#: role of :data:`LEDGER_ROLES`; `owner` connects with the cluster's master credentials to migrate the schema and
#: provision those roles; `seed` connects with the master credentials too, to write synthetic data (the sandbox
#: account only, after the `owner` task).
LedgerAccess = Literal["read", "write", "owner", "seed"]

#: The PostgreSQL login role (IAM database user, `rds-db:connect` resource name) of each ledger access level. The
#: `ledger_migrate` task creates both and grants each exactly the statements its deployables run.
LEDGER_ROLES: dict[str, str] = {"read": "ob_ledger_reader", "write": "ob_ledger_writer"}

#: The `source` of the EventBridge entries the `outbox_relay` puts on the event bus.
OUTBOX_EVENT_SOURCE = "openbanking.outbox"
#: Their `detail-type`: the OBIE event type's last segment.
OUTBOX_DETAIL_TYPES = ("resource-update", "consent-authorization-revoked")
#: The pattern of the rule that sends them to the `event_router` (JSON, as `aws.cloudwatch.EventRule` takes it).
OUTBOX_EVENT_PATTERN = json.dumps({"source": [OUTBOX_EVENT_SOURCE], "detail-type": list(OUTBOX_DETAIL_TYPES)})

#: The Python runtime and architecture every Lambda archive is built for (`make lambdas`).
LAMBDA_RUNTIME = "python3.11"
LAMBDA_ARCHITECTURE = "x86_64"


@dataclass(frozen=True)
class HealthCheck:
    """A container health check exactly as the Dockerfile's `HEALTHCHECK` declares it (ECS `healthCheck`)."""

    #: The probe's argv (exec form); ECS takes `["CMD", *command]`.
    command: tuple[str, ...]
    #: Seconds between probes.
    interval_seconds: int
    #: Seconds one probe may take.
    timeout_seconds: int
    #: Seconds after start during which failures do not count.
    start_period_seconds: int
    #: Consecutive failures that make the container unhealthy.
    retries: int
    #: The HTTP path the probe asks on the container port, also right for a load balancer's HTTP health check;
    #: None when the probe asks another port (ingestion's health server).
    path: str | None = None


@dataclass(frozen=True)
class Deployable:
    """One thing the workload accounts run. Container fields are set for services and tasks, Lambda fields for
    Lambdas; the data and resource fields for every kind."""

    #: Unique name, used for images, archives, log groups and roles (`ais`, `outbox_relay`, ...).
    name: str
    #: `service`, `task` or `lambda`.
    kind: Kind
    #: One line: what it does.
    description: str
    #: The module it starts from; it lists the settings classes it reads as `SETTINGS`.
    module: str

    # --- containers (services and tasks) ---------------------------------------------------------------------------
    #: The Dockerfile, relative to services/ (the build context is services/).
    dockerfile: str | None = None
    #: The container user, exactly as the Dockerfile's `USER` (numeric, non-root).
    user: str | None = None
    #: The port the container listens on for traffic (the Dockerfile's `EXPOSE`); None when it takes none.
    port: int | None = None
    #: The container health check (None for a one-off task).
    health_check: HealthCheck | None = None

    # --- Lambda functions ------------------------------------------------------------------------------------------
    #: The handler string, e.g. `openbanking.lambdas.authorizer.handler`.
    handler: str | None = None
    #: The archive `make lambdas` builds, relative to services/dist/ (`<name>.zip`).
    archive: str | None = None
    #: Memory in MB.
    memory_mb: int | None = None
    #: Function timeout in seconds.
    timeout_seconds: int | None = None
    #: What invokes it.
    trigger: Trigger | None = None
    #: Records per invocation for `sqs` and `dynamodb-stream` triggers.
    batch_size: int | None = None
    #: Whether the event source mapping must set `ReportBatchItemFailures` (partial batch responses).
    reports_batch_item_failures: bool = False
    #: The schedule expression of a `schedule` trigger.
    schedule: str | None = None
    #: The event pattern (JSON) of an `eventbridge-rule` trigger, on the bus the `outbox_relay` puts to.
    event_pattern: str | None = None

    # --- data ------------------------------------------------------------------------------------------------------
    #: Logical `TABLES` it only reads (GetItem, Query, Scan).
    reads_tables: tuple[str, ...] = ()
    #: Logical `TABLES` it reads and writes (PutItem, UpdateItem, DeleteItem, TransactWriteItems too).
    writes_tables: tuple[str, ...] = ()
    #: Logical `TABLES` whose DynamoDB stream triggers it.
    consumes_streams: tuple[str, ...] = ()
    #: How it uses the ledger database (Aurora PostgreSQL), or None.
    ledger: LedgerAccess | None = None

    # --- other resources -------------------------------------------------------------------------------------------
    #: Reads and writes the Redis cache (ElastiCache, IAM-authenticated user).
    uses_cache: bool = False
    #: Signs with the ASPSP's KMS key (kms:Sign, kms:GetPublicKey): response `x-jws-signature`, event SETs.
    uses_signing_key: bool = False
    #: With `uses_signing_key`: False when it only publishes the key's public half (kms:GetPublicKey, no kms:Sign).
    signs: bool = True
    #: Fetches TPPs' JWKS from the Open Banking Directory to verify request signatures (internet, via the proxy).
    uses_tpp_directory: bool = False
    #: Puts entries on the event bus (events:PutEvents).
    uses_event_bus: bool = False
    #: Sends messages to the event delivery queue (sqs:SendMessage).
    uses_event_queue: bool = False
    #: Sends messages to the event delivery queue's dead-letter queue (sqs:SendMessage).
    uses_dead_letter_queue: bool = False
    #: Consumes the core-banking feed (Amazon MSK or Amazon MQ).
    uses_feed: bool = False
    #: Builds links of the public API (reads `OB_BASE_URL`).
    builds_public_links: bool = False
    #: Calls the internet through the egress proxy (TPP callbacks, OCSP and CRL, the IdP's JWKS).
    needs_internet: bool = False
    #: Accepts or delivers to TPP callback URLs, which must be on the bank's callback domains (`OB_CALLBACK_DOMAINS`).
    vets_callbacks: bool = False

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table it reads or writes, each once."""
        return tuple(dict.fromkeys((*self.reads_tables, *self.writes_tables)))

    @property
    def serves_http(self) -> bool:
        """A long-running service that answers HTTP requests behind a load balancer."""
        return self.kind == "service" and self.port is not None

    @property
    def uses_tables(self) -> bool:
        return bool(self.tables)

    @property
    def uses_ledger(self) -> bool:
        return self.ledger is not None

    @property
    def logs_in_to_ledger(self) -> bool:
        """Connects to the ledger as an application role (IAM authentication), not with the master credentials."""
        return self.ledger in ("read", "write")

    @property
    def owns_ledger(self) -> bool:
        return self.ledger == "owner"

    @property
    def uses_master_credentials(self) -> bool:
        """Connects with the cluster's master credentials (the RDS-managed secret): the migration and the seeding."""
        return self.ledger in ("owner", "seed")

    @property
    def ledger_role(self) -> str | None:
        """The PostgreSQL role (IAM database user) it logs in as."""
        return LEDGER_ROLES.get(self.ledger or "")


_API_HEALTH = HealthCheck(
    command=("python", "-c", "import os, urllib.request; urllib.request.urlopen("
             "f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=2)"),
    interval_seconds=15, timeout_seconds=3, start_period_seconds=20, retries=3, path="/health")


def _api(name: str, description: str, **fields: object) -> Deployable:
    return Deployable(name=name, kind="service", description=description, module=f"openbanking.{name}.main",
                      dockerfile=f"openbanking/{name}/Dockerfile", user="10001", port=8000, health_check=_API_HEALTH,
                      builds_public_links=True, **fields)  # type: ignore[arg-type]


def _lambda(name: str, description: str, **fields: object) -> Deployable:
    module = f"openbanking.lambdas.{name}"
    return Deployable(name=name, kind="lambda", description=description, module=module, handler=f"{module}.handler",
                      archive=f"{name}.zip", **fields)  # type: ignore[arg-type]


DEPLOYABLES: dict[str, Deployable] = {d.name: d for d in (
    _api("ais", "OBIE account information: account-access consents and the accounts, balances and transactions "
         "of the ledger, behind the API Gateway authorizer",
         writes_tables=("consents",), ledger="read", uses_cache=True),
    _api("pis", "OBIE payment initiation: domestic-payment consents, payments, funds confirmation; signs responses",
         writes_tables=("consents", "payments", "idempotency"), ledger="read", uses_signing_key=True,
         uses_tpp_directory=True, needs_internet=True),
    _api("events", "OBIE event subscriptions and aggregated polling; signs responses and event SETs",
         writes_tables=("event_subscriptions", "events"), uses_signing_key=True, uses_tpp_directory=True,
         needs_internet=True, vets_callbacks=True),
    Deployable(
        name="ingestion", kind="service", module="openbanking.ingestion.__main__",
        description="consumes core-banking events (Amazon MSK or Amazon MQ) into the ledger and invalidates its cache",
        dockerfile="openbanking/ingestion/Dockerfile", user="10001", port=None,
        health_check=HealthCheck(
            command=("python", "-c", "import os, urllib.request; urllib.request.urlopen("
                     "f\"http://127.0.0.1:{os.environ['OB_HEALTH_PORT']}/health\", timeout=2)"),
            interval_seconds=15, timeout_seconds=3, start_period_seconds=20, retries=3),
        ledger="write", uses_cache=True, uses_feed=True),
    Deployable(
        name="ledger_migrate", kind="task", module="openbanking.ledger.__main__",
        description="one-off: migrates the ledger schema and provisions the IAM-authenticated application roles with "
                    "exactly the privileges they need (run before each deployment of the services; idempotent)",
        dockerfile="openbanking/ledger/Dockerfile", user="10001", ledger="owner"),
    _lambda("authorizer", "API Gateway REQUEST authorizer: client certificate (OCSP/CRL), bound access token, route",
            memory_mb=512, timeout_seconds=10, trigger="api-authorizer", needs_internet=True),
    _lambda("consent_expiry", "rejects stale consent intents and schedules expired consents for purging",
            memory_mb=256, timeout_seconds=300, trigger="schedule", schedule="rate(15 minutes)",
            writes_tables=("consents",)),
    _lambda("event_delivery", "pushes event SETs to TPP callbacks (signed), retrying, parking refusals on the DLQ",
            memory_mb=256, timeout_seconds=120, trigger="sqs", batch_size=5, reports_batch_item_failures=True,
            uses_signing_key=True, uses_dead_letter_queue=True, needs_internet=True, vets_callbacks=True),
    _lambda("outbox_relay", "turns consent and payment status changes (table streams) into event-bus entries",
            memory_mb=256, timeout_seconds=60, trigger="dynamodb-stream", batch_size=100,
            reports_batch_item_failures=True, consumes_streams=("consents", "payments"), uses_event_bus=True,
            builds_public_links=True),
    _lambda("event_router", "stores outbox events for polling and queues them for push delivery, once per entry",
            memory_mb=256, timeout_seconds=30, trigger="eventbridge-rule", event_pattern=OUTBOX_EVENT_PATTERN,
            reads_tables=("event_subscriptions",), writes_tables=("events", "outbox_receipts"),
            uses_event_queue=True, builds_public_links=True),
    # --- the developer sandbox's account only (besides ais, pis, events, ledger_migrate and their Lambdas) ---------
    Deployable(
        name="sandbox_idp", kind="service", module="openbanking.sandbox.idp.main",
        description="the sandbox's IdP: tokens bound to sandbox certificates, the PSU's decisions and revocations, "
                    "core banking's payment reports and the settlement simulator; publishes the ASPSP's signing key",
        dockerfile="openbanking/sandbox/idp/Dockerfile", user="10001", port=8000, health_check=_API_HEALTH,
        reads_tables=("consents", "payments", "sandbox_directory"), ledger="read", uses_signing_key=True, signs=False),
    Deployable(
        name="sandbox_ca", kind="service", module="openbanking.sandbox.ca.main",
        description="the sandbox CA: TPP registration, client certificates from CSRs, OCSP responder, CRL, and the "
                    "TPPs' request-signing keys (the directory JWKS)",
        dockerfile="openbanking/sandbox/ca/Dockerfile", user="10001", port=8000, health_check=_API_HEALTH,
        writes_tables=("sandbox_directory",)),
    Deployable(
        name="sandbox_seed", kind="task", module="openbanking.sandbox.seed.__main__",
        description="one-off, rerunnable: writes the sandbox's synthetic PSUs, accounts and transactions into its "
                    "ledger (after ledger_migrate; a seeded ledger is left alone)",
        dockerfile="openbanking/sandbox/seed/Dockerfile", user="10001", ledger="seed"),
    # The identity account's: Secrets Manager rotates Keycloak's TLS secret with it (the IdP's certificate, from ACM).
    _lambda("idp_certificate", "exports the IdP's ACM certificate into Keycloak's TLS secret and redeploys Keycloak "
            "when it changed (Secrets Manager rotation)", memory_mb=256, timeout_seconds=60, trigger="secret-rotation"),
)}

#: What only the developer sandbox's account runs (the rest of what it runs is the workload accounts' software).
SANDBOX_DEPLOYABLES = ("sandbox_idp", "sandbox_ca", "sandbox_seed")
