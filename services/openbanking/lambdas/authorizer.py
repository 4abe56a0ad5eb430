"""API Gateway (REST API) REQUEST authorizer for the OBIE APIs behind the mTLS custom domain.

For each request it checks: the client certificate chains to the truststore and is not revoked (OCSP, CRL
fallback, cached <= 5 min, fail closed); the bearer access token is a valid JWT of the configured issuer (JWKS cached
across invocations) bound to that certificate (RFC 8705 `cnf.x5t#S256`); its scope and consent type fit the route
(:mod:`openbanking.security.routes`). The certificate is read from one source, by perimeter
(`OB_CLIENT_CERT_SOURCE`, :mod:`openbanking.security.client_certificate`): API Gateway's
`requestContext.identity.clientCert` (`mtls`) or CloudFront's `CloudFront-Viewer-Cert-Pem` header (`cloudfront`).

The answer is an IAM policy on the request's `methodArn`: Allow with the context {tppId, clientId, scopes,
consentId, certThumbprint} that the integration maps into the `x-ob-*` headers, or Deny with a `reason` the
gateway responses put into an OBIE error body (so it never holds a character that would break that JSON). The only
exception raised is the documented `Unauthorized` (HTTP 401) when the credentials are missing altogether. The
decision depends on the route, so the authorizer's result cache must be off (TTL 0); the revocation and JWKS caches
live here instead.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import boto3
import httpx
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from openbanking.security.certificates import Truststore
from openbanking.security.client_certificate import AmbiguousCertificate, ClientCertSource, presented_certificate
from openbanking.security.revocation import RevocationChecker
from openbanking.security.routes import policy_for
from openbanking.security.settings import SecuritySettings
from openbanking.security.tokens import AccessTokenVerifier, JwksCache, MtlsAuthenticator, TokenRejected

logger = Logger(service="ob-authorizer")
#: What a Deny's `reason` may not contain: API Gateway substitutes it unescaped into the JSON of the gateway response.
_UNSAFE_IN_JSON = re.compile(r'["\\\x00-\x1f\x7f]')
_MAX_REASON_LENGTH = 300
#: FAPI's `x-fapi-interaction-id` is an RFC 4122 UUID; anything else is not echoed into the access log.
_INTERACTION_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (SecuritySettings,)


class Unauthorized(Exception):
    """API Gateway turns exactly the message 'Unauthorized' into a 401 response."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def _policy(principal: str, effect: str, method_arn: str, context: dict[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17",
                           "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}]},
        "context": context,
    }


def _bearer_token(event: APIGatewayAuthorizerRequestEvent) -> str | None:
    value = event.headers.get("authorization") or ""  # powertools' headers are case-insensitive
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def interaction_id_of(event: APIGatewayAuthorizerRequestEvent) -> str:
    """The TPP's `x-fapi-interaction-id` when it is a UUID, else empty (the services answer a malformed one)."""
    value = (event.headers.get("x-fapi-interaction-id") or "").strip()
    return value if _INTERACTION_ID.match(value) else ""


def json_safe(reason: str) -> str:
    """`reason` with quotes, backslashes and control characters replaced, and bounded: a token's `kid` or a path is
    the client's to choose, and API Gateway would otherwise let it rewrite the OBIE error body around it."""
    safe = _UNSAFE_IN_JSON.sub(lambda m: "'" if m.group() == '"' else " ", reason)
    return safe if len(safe) <= _MAX_REASON_LENGTH else safe[:_MAX_REASON_LENGTH - 3] + "..."


class Authorizer:
    """The decision, independent of how the Lambda runtime delivers events (tests build it directly)."""

    def __init__(self, authenticator: MtlsAuthenticator, *, certificate_source: ClientCertSource) -> None:
        self._authenticator = authenticator
        self._certificate_source = certificate_source

    def __call__(self, event: APIGatewayAuthorizerRequestEvent) -> dict[str, Any]:
        """The policy, its context carrying the TPP's `x-fapi-interaction-id` (when it is a UUID) for the stage's
        access log (`$context.authorizer.interactionId`), whatever the verdict."""
        interaction_id = interaction_id_of(event)
        logger.append_keys(interaction_id=interaction_id or None)
        answer = self._answer(event)
        if "context" in answer:
            answer["context"]["interactionId"] = interaction_id
        return answer

    def _answer(self, event: APIGatewayAuthorizerRequestEvent) -> dict[str, Any]:
        method_arn = event.method_arn
        token = _bearer_token(event)
        try:
            certificate = presented_certificate(event.raw_event, self._certificate_source)
        except AmbiguousCertificate as exc:
            return self._deny("unknown", method_arn, str(exc))
        if token is None or certificate is None:
            logger.info("credentials missing", extra={"token": token is not None, "certificate": certificate is not None,
                                                      "certificate_source": str(self._certificate_source)})
            raise Unauthorized()
        try:
            return self._decide(event, token, certificate, method_arn)
        except Exception:  # an authorizer that raises answers 500; a bug must deny, never allow or crash
            logger.exception("authorizer error; denying")
            return _policy("unknown", "Deny", method_arn, {"reason": "the request could not be authorised"})

    def _decide(self, event: APIGatewayAuthorizerRequestEvent, token: str, certificate: str,
                method_arn: str) -> dict[str, Any]:
        method = event.http_method
        route = policy_for(method, event.path) or policy_for(method, event.resource)
        if route is None:
            return self._deny("unknown", method_arn, f"{method} {event.path} is not an exposed OBIE route")
        try:
            access = self._authenticator.authenticate(token, certificate)
        except TokenRejected as exc:
            return self._deny("unknown", method_arn, str(exc))
        refusal = route.refusal(access.scopes, access.consent_id)
        if refusal:
            return self._deny(access.client_id, method_arn, refusal, tpp_id=access.tpp_id)
        logger.info("allow", extra={"route": f"{route.method} {route.template}", "tpp_id": access.tpp_id,
                                    "client_id": access.client_id, "consent_id": access.consent_id})
        return _policy(access.client_id, "Allow", method_arn, {
            "tppId": access.tpp_id,
            "clientId": access.client_id,
            "scopes": " ".join(sorted(access.scopes)),
            "consentId": access.consent_id or "",
            "certThumbprint": access.certificate_thumbprint,
        })

    @staticmethod
    def _deny(principal: str, method_arn: str, reason: str, **log_keys: str) -> dict[str, Any]:
        logger.warning("deny", extra={"reason": reason, **log_keys})
        return _policy(principal, "Deny", method_arn, {"reason": json_safe(reason)})


def load_truststore(location: str, region: str) -> Truststore:
    """The CA bundle from a file (packaged with the function) or from S3 (the API Gateway truststore object)."""
    if location.startswith("s3://"):
        parsed = urlparse(location)
        body = boto3.client("s3", region_name=region).get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
        return Truststore.from_pem(body["Body"].read())
    with open(location, "rb") as handle:
        return Truststore.from_pem(handle.read())


def build_authorizer(settings: SecuritySettings, http: httpx.Client | None = None) -> Authorizer:
    if not settings.jwks_url:
        raise ValueError("OB_JWKS_URL must name the IdP's JWKS")
    if not settings.truststore:
        raise ValueError("OB_TRUSTSTORE must name the CA bundle (a file path or s3://bucket/key)")
    client = http or httpx.Client(timeout=settings.revocation_timeout_seconds, follow_redirects=False)
    keys = JwksCache(settings.jwks_url, client, max_age_seconds=settings.jwks_max_age_seconds,
                     min_refresh_seconds=settings.jwks_min_refresh_seconds)
    tokens = AccessTokenVerifier(settings.token_issuer, keys.key, audience=settings.token_audience,
                                 leeway_seconds=settings.token_leeway_seconds, tpp_id_claim=settings.tpp_id_claim)
    revocation = RevocationChecker(client, cache_seconds=settings.revocation_cache_seconds,
                                   require_nonce=settings.ocsp_require_nonce)
    truststore = load_truststore(settings.truststore, settings.aws_region)
    return Authorizer(MtlsAuthenticator(tokens, truststore, revocation), certificate_source=settings.client_cert_source)


_authorizer: Authorizer | None = None


def _instance() -> Authorizer:
    """Built on the first invocation and kept by the warm container, so JWKS and revocation caches carry over."""
    global _authorizer
    if _authorizer is None:
        _authorizer = build_authorizer(SecuritySettings())
    return _authorizer


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        authorizer = _instance()
    except Exception:  # misconfiguration: fail closed with a Deny rather than a 500
        logger.exception("authorizer configuration is invalid; denying")
        return _policy("unknown", "Deny", event.method_arn, {"reason": "the request could not be authorised"})
    return authorizer(event)
