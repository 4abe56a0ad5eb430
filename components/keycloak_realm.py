"""The Keycloak realm third parties get their tokens from, as code: a pure function from typed settings to the realm
JSON Keycloak imports at its first start (`kc.sh start --import-realm`).

What the realm enforces (docs/identity.md):

- every third-party client carries the client role :data:`THIRD_PARTY_ROLE`, and the client policy
  :data:`THIRD_PARTY_POLICY` applies Keycloak's global `fapi-1-advanced` and `fapi-ciba` profiles to exactly those
  clients, plus :data:`THIRD_PARTY_PROFILE` (PKCE, PAR-only request parameters, no implicit or password grant);
- each client itself is confidential, authenticates with its certificate (`tls_client_auth`: `client-x509`, subject
  DN matched exactly) or a JWT signed by a key of its directory JWKS (`private_key_jwt`: `client-jwt`), signs its
  request objects and assertions with PS256 or ES256, must push its authorization requests (PAR) as signed request
  objects, gets certificate-bound access tokens (RFC 8705), and has exactly its redirect URIs and scopes;
- tokens are signed with PS256 (the realm's RSA key) or ES256, never RS256; access tokens are short-lived;
- CIBA is on (poll mode), under the FAPI CIBA profile;
- the claims the services read come from one contract (:mod:`openbanking.claims`): the TPP's organisation id
  (hard-coded per client) and the consent id (`openbanking_intent_id`, in the shared :data:`CLAIMS_SCOPE`), which
  the bank's consent step stores as a user-session note once the PSU has decided and which the mapper then copies
  into the tokens; the client is the tokens' `azp` (and `client_id` in client-credentials tokens), as Keycloak
  writes them;
- the IdP's own client for the services' internal authorisation endpoints (:data:`CONSENT_CLIENT_ROLE`) is a
  confidential, certificate-authenticated service account whose only scope is the consent-authorisation scope;
- Keycloak's built-in browser clients (account console, admin CLI, admin console) are disabled: no public client.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openbanking.claims import (
    API_SCOPES,
    CONSENT_AUTHORISATION_SCOPE,
    INTENT_ID_CLAIM,
    SIGNING_ALGORITHMS,
    TPP_ID_CLAIM,
)

#: The client role every third party's client carries: the FAPI policy's condition.
THIRD_PARTY_ROLE = "openbanking-third-party"
#: The client role of the IdP's own client that reports PSU decisions to the services.
CONSENT_CLIENT_ROLE = "openbanking-consent-authoriser"
#: The client policy for third parties, and the profile it adds to Keycloak's global FAPI profiles.
THIRD_PARTY_POLICY = "openbanking-third-parties"
THIRD_PARTY_PROFILE = "openbanking-third-party"
#: Keycloak's global client profiles the third parties' policy applies (FAPI 1 Advanced; FAPI CIBA).
FAPI_PROFILES = ("fapi-1-advanced", "fapi-ciba")
#: The consent authoriser's policy and profile.
CONSENT_CLIENT_POLICY = "openbanking-consent-authoriser"
CONSENT_CLIENT_PROFILE = "openbanking-consent-authoriser"
#: Keycloak's client authenticator of each OAuth client authentication method.
AUTHENTICATORS = {"tls_client_auth": "client-x509", "private_key_jwt": "client-jwt"}
#: The algorithm the realm signs tokens with by default (its RSA key is a PS256 key).
TOKEN_SIGNING_ALGORITHM = "PS256"
#: Keycloak's built-in clients a realm gets unless the file names them; named here, disabled.
BUILT_IN_BROWSER_CLIENTS = ("account", "account-console", "admin-cli", "security-admin-console")
#: The client scope every third party's tokens get: the consent id and the authentication context (the same for all
#: clients, so in one scope rather than on each client; only the organisation differs per client).
CLAIMS_SCOPE = "openbanking-claims"
#: OBIE's authentication context classes, mapped to Keycloak's levels of authentication.
ACR_LEVELS = {"urn:openbanking:psd2:ca": 1, "urn:openbanking:psd2:sca": 2}

Authentication = Literal["tls_client_auth", "private_key_jwt"]


@dataclass(frozen=True)
class RealmLimits:
    """How long the realm's tokens, codes, requests and sessions last (seconds)."""

    #: Access tokens (FAPI: short).
    access_token: int
    #: Authorization codes.
    authorization_code: int
    #: A pushed authorization request's `request_uri`.
    par_request_uri: int
    #: A CIBA authentication request.
    ciba_expires_in: int
    #: The interval a CIBA client polls at.
    ciba_poll_interval: int
    #: A PSU's idle and longest session.
    sso_session_idle: int
    #: The longest a PSU's session lasts.
    sso_session_max: int


@dataclass(frozen=True)
class ThirdPartyClient:
    """A third party's OAuth client."""

    #: The client id (the directory's software id).
    client_id: str
    #: The TPP's Open Banking organisation id (the tokens' organisation claim).
    organisation_id: str
    #: Its transport certificate's subject (RFC 4514), matched exactly by `tls_client_auth`.
    certificate_subject_dn: str
    #: Its signing keys (the directory's keystore).
    jwks_uri: str
    #: Its redirect URIs, matched exactly.
    redirect_uris: Sequence[str]
    #: The OBIE scopes it may ask for.
    scopes: Sequence[str]
    #: `tls_client_auth` or `private_key_jwt`.
    authentication: Authentication
    #: PS256 or ES256: its request objects, client assertions and CIBA requests.
    signing_algorithm: str


@dataclass(frozen=True)
class ConsentClient:
    """The IdP's own client: how the consent step identifies itself to the services' internal endpoints."""

    #: Its client id.
    client_id: str
    #: The subject of the certificate it authenticates with (issued by the bank's internal CA).
    certificate_subject_dn: str


@dataclass(frozen=True)
class RealmSettings:
    """Everything the realm is generated from."""

    #: The realm's name (the issuer's last path segment).
    name: str
    #: Its display name, for the PSU.
    display_name: str
    #: Token, code, request and session lifetimes.
    limits: RealmLimits
    #: The third parties' clients.
    clients: Sequence[ThirdPartyClient]
    #: The consent step's client.
    consent_client: ConsentClient


def _executor(name: str, **configuration: Any) -> dict[str, Any]:
    return {"executor": name, "configuration": configuration}


def _mapper(name: str, mapper: str, **config: str) -> dict[str, Any]:
    return {"name": name, "protocol": "openid-connect", "protocolMapper": mapper, "consentRequired": False,
            "config": config}


def _hard_coded_claim(claim: str, value: str) -> dict[str, Any]:
    return _mapper(claim, "oidc-hardcoded-claim-mapper", **{
        "claim.name": claim, "claim.value": value, "jsonType.label": "String", "access.token.claim": "true",
        "id.token.claim": "false", "userinfo.token.claim": "false", "introspection.token.claim": "true"})


def third_party_client(client: ThirdPartyClient) -> dict[str, Any]:
    """One third party's client representation."""
    if client.signing_algorithm not in SIGNING_ALGORITHMS:
        raise ValueError(f"client {client.client_id}: {client.signing_algorithm} is not one of {SIGNING_ALGORITHMS}")
    if client.authentication not in AUTHENTICATORS:
        raise ValueError(f"client {client.client_id}: {client.authentication} is not one of {sorted(AUTHENTICATORS)}")
    unknown = sorted(set(client.scopes) - set(API_SCOPES))
    if unknown:
        raise ValueError(f"client {client.client_id}: scopes {unknown} are not OBIE API scopes {API_SCOPES}")
    if any("*" in uri or not uri.startswith("https://") for uri in client.redirect_uris):
        raise ValueError(f"client {client.client_id}: redirect URIs must be exact https URIs")
    algorithm = client.signing_algorithm
    return {
        "clientId": client.client_id,
        "name": f"TPP {client.organisation_id}",
        "description": f"Open Banking third party {client.organisation_id}",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "bearerOnly": False,
        "clientAuthenticatorType": AUTHENTICATORS[client.authentication],
        # Authorization code (PAR, signed request object, PKCE) for PSU consents, client credentials for the TPP's
        # own calls (creating a consent), CIBA for decoupled authentication. No implicit, no password grant.
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "consentRequired": True,
        "fullScopeAllowed": False,
        "frontchannelLogout": False,
        "redirectUris": list(client.redirect_uris),
        "webOrigins": [],
        "defaultClientScopes": [CLAIMS_SCOPE],
        "optionalClientScopes": list(client.scopes),
        "attributes": {
            "tls.client.certificate.bound.access.tokens": "true",
            "require.pushed.authorization.requests": "true",
            "request.object.required": "request or request_uri",
            "request.object.signature.alg": algorithm,
            "token.endpoint.auth.signing.alg": algorithm,
            "ciba.backchannel.auth.request.signing.alg": algorithm,
            "id.token.signed.response.alg": TOKEN_SIGNING_ALGORITHM,
            "access.token.signed.response.alg": TOKEN_SIGNING_ALGORITHM,
            "user.info.response.signature.alg": TOKEN_SIGNING_ALGORITHM,
            "pkce.code.challenge.method": "S256",
            "oidc.ciba.grant.enabled": "true",
            "ciba.backchannel.token.delivery.mode": "poll",
            "use.jwks.url": "true",
            "jwks.url": client.jwks_uri,
            "x509.subjectdn": client.certificate_subject_dn,
            "x509.allow.regex.pattern.comparison": "false",
            "exclude.session.state.from.auth.response": "false",
            "acr.loa.map": json.dumps(ACR_LEVELS, sort_keys=True, separators=(",", ":")),
            "use.refresh.tokens": "true",
            "client_credentials.use_refresh_token": "false",
        },
        "protocolMappers": [_hard_coded_claim(TPP_ID_CLAIM, client.organisation_id)],
    }


def consent_client(client: ConsentClient) -> dict[str, Any]:
    """The consent step's own client: client credentials with its certificate, one scope, bound tokens."""
    return {
        "clientId": client.client_id,
        "name": "Open Banking consent step",
        "description": "The IdP's consent step: reports PSU decisions to the services' internal endpoints",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "bearerOnly": False,
        "clientAuthenticatorType": "client-x509",
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "consentRequired": False,
        "fullScopeAllowed": False,
        "redirectUris": [],
        "webOrigins": [],
        "defaultClientScopes": [CONSENT_AUTHORISATION_SCOPE],
        "optionalClientScopes": [],
        "attributes": {
            "tls.client.certificate.bound.access.tokens": "true",
            "access.token.signed.response.alg": TOKEN_SIGNING_ALGORITHM,
            "x509.subjectdn": client.certificate_subject_dn,
            "x509.allow.regex.pattern.comparison": "false",
            "client_credentials.use_refresh_token": "false",
        },
    }


def _disabled_built_in(client_id: str) -> dict[str, Any]:
    """A built-in browser client, named so the import does not create it enabled (and public)."""
    return {"clientId": client_id, "enabled": False, "publicClient": False, "bearerOnly": True,
            "standardFlowEnabled": False, "implicitFlowEnabled": False, "directAccessGrantsEnabled": False,
            "serviceAccountsEnabled": False, "redirectUris": [], "webOrigins": []}


def _scope(name: str, description: str, on_consent_screen: bool) -> dict[str, Any]:
    return {"name": name, "description": description, "protocol": "openid-connect",
            "attributes": {"include.in.token.scope": "true",
                           "display.on.consent.screen": "true" if on_consent_screen else "false"}}


SCOPE_DESCRIPTIONS = {"accounts": "Read your account information", "payments": "Initiate payments from your account",
                      "fundsconfirmations": "Confirm funds are available in your account"}


def realm_document(settings: RealmSettings) -> dict[str, Any]:
    """The realm, as Keycloak's realm representation."""
    clients = list(settings.clients)
    ids = [c.client_id for c in clients] + [settings.consent_client.client_id]
    if len(set(ids)) != len(ids):
        raise ValueError(f"realm {settings.name}: client ids repeat ({ids})")
    limits = settings.limits
    return {
        "realm": settings.name,
        "displayName": settings.display_name,
        "enabled": True,
        "sslRequired": "all",
        "registrationAllowed": False,
        "resetPasswordAllowed": False,
        "rememberMe": False,
        "editUsernameAllowed": False,
        "bruteForceProtected": True,
        "failureFactor": 5,
        "permanentLockout": False,
        "defaultSignatureAlgorithm": TOKEN_SIGNING_ALGORITHM,
        "accessTokenLifespan": limits.access_token,
        "accessCodeLifespan": limits.authorization_code,
        "ssoSessionIdleTimeout": limits.sso_session_idle,
        "ssoSessionMaxLifespan": limits.sso_session_max,
        "revokeRefreshToken": True,
        "refreshTokenMaxReuse": 0,
        "eventsEnabled": True,
        "adminEventsEnabled": True,
        "adminEventsDetailsEnabled": True,
        "attributes": {
            "parRequestUriLifespan": str(limits.par_request_uri),
            "cibaBackchannelTokenDeliveryMode": "poll",
            "cibaExpiresIn": str(limits.ciba_expires_in),
            "cibaInterval": str(limits.ciba_poll_interval),
            "cibaAuthRequestedUserHint": "login_hint",
        },
        "defaultDefaultClientScopes": [],
        "defaultOptionalClientScopes": [],
        "clientScopes": [
            *(_scope(s, SCOPE_DESCRIPTIONS[s], True) for s in API_SCOPES),
            _scope(CONSENT_AUTHORISATION_SCOPE, "The IdP reports a PSU's decision to the services", False),
            {**_scope(CLAIMS_SCOPE, "The consent and authentication context of Open Banking tokens", False),
             "attributes": {"include.in.token.scope": "false", "display.on.consent.screen": "false"},
             "protocolMappers": [
                 # The bank's consent step stores the consent id as a user-session note once the PSU decided.
                 _mapper(INTENT_ID_CLAIM, "oidc-usersessionmodel-note-mapper", **{
                     "user.session.note": INTENT_ID_CLAIM, "claim.name": INTENT_ID_CLAIM, "jsonType.label": "String",
                     "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "false",
                     "introspection.token.claim": "true"}),
                 _mapper("acr", "oidc-acr-mapper", **{"access.token.claim": "true", "id.token.claim": "true",
                                                      "introspection.token.claim": "true"}),
             ]},
        ],
        "roles": {"client": {
            **{c.client_id: [{"name": THIRD_PARTY_ROLE, "clientRole": True}] for c in clients},
            settings.consent_client.client_id: [{"name": CONSENT_CLIENT_ROLE, "clientRole": True}],
        }},
        "clients": [*(third_party_client(c) for c in clients), consent_client(settings.consent_client),
                    *(_disabled_built_in(c) for c in BUILT_IN_BROWSER_CLIENTS)],
        "clientProfiles": {"profiles": [
            {"name": THIRD_PARTY_PROFILE,
             "description": "Open Banking third parties, on top of FAPI 1 Advanced and FAPI CIBA: PKCE with PAR, "
                            "parameters only from the pushed request, no implicit or password grant",
             "executors": [
                 _executor("pkce-enforcer", **{"auto-configure": True}),
                 _executor("secure-par-content"),
                 _executor("secure-client-authenticator", **{
                     "allowed-client-authenticators": sorted(AUTHENTICATORS.values()),
                     "default-client-authenticator": AUTHENTICATORS["tls_client_auth"]}),
                 _executor("secure-signature-algorithm", **{"default-algorithm": TOKEN_SIGNING_ALGORITHM}),
                 _executor("holder-of-key-enforcer", **{"auto-configure": True}),
                 _executor("reject-implicit-grant", **{"auto-configure": True}),
                 _executor("reject-ropc-grant", **{"auto-configure": True}),
             ]},
            {"name": CONSENT_CLIENT_PROFILE,
             "description": "The consent step: a confidential client with its certificate and bound tokens",
             "executors": [
                 _executor("confidential-client"),
                 _executor("secure-client-authenticator", **{
                     "allowed-client-authenticators": [AUTHENTICATORS["tls_client_auth"]],
                     "default-client-authenticator": AUTHENTICATORS["tls_client_auth"]}),
                 _executor("holder-of-key-enforcer", **{"auto-configure": True}),
                 _executor("full-scope-disabled", **{"auto-configure": True}),
                 _executor("reject-implicit-grant", **{"auto-configure": True}),
                 _executor("reject-ropc-grant", **{"auto-configure": True}),
             ]},
        ]},
        "clientPolicies": {"policies": [
            {"name": THIRD_PARTY_POLICY, "description": "FAPI 1 Advanced and FAPI CIBA for every third party",
             "enabled": True,
             "conditions": [{"condition": "client-roles", "configuration": {"roles": [THIRD_PARTY_ROLE]}}],
             "profiles": [*FAPI_PROFILES, THIRD_PARTY_PROFILE]},
            {"name": CONSENT_CLIENT_POLICY, "description": "The consent step's client", "enabled": True,
             "conditions": [{"condition": "client-roles", "configuration": {"roles": [CONSENT_CLIENT_ROLE]}}],
             "profiles": [CONSENT_CLIENT_PROFILE]},
        ]},
        # Signing keys: PS256 (RSA 3072) and ES256 (P-256) only; HS512 and AES keys sign and encrypt Keycloak's own
        # cookies and action tokens, never a token a client sees.
        "components": {"org.keycloak.keys.KeyProvider": [
            {"name": "rsa-ps256", "providerId": "rsa-generated",
             "config": {"priority": ["200"], "keySize": ["3072"], "algorithm": ["PS256"]}},
            {"name": "ecdsa-es256", "providerId": "ecdsa-generated",
             "config": {"priority": ["100"], "ecdsaEllipticCurveKey": ["P-256"]}},
            {"name": "hmac-hs512", "providerId": "hmac-generated",
             "config": {"priority": ["100"], "secretSize": ["64"], "algorithm": ["HS512"]}},
            {"name": "aes", "providerId": "aes-generated", "config": {"priority": ["100"], "secretSize": ["16"]}},
        ]},
    }


def realm_json(settings: RealmSettings) -> str:
    """The realm file: compact JSON, keys sorted, so an unchanged realm is the same text."""
    return json.dumps(realm_document(settings), sort_keys=True, separators=(",", ":"))
