"""The realm file Keycloak imports, generated from typed settings: every third party under FAPI 1 Advanced and
FAPI CIBA, no public client and no `none` or RS256 anywhere, PAR with signed request objects, certificate-bound and
short-lived tokens carrying the claims the services read (one contract: `openbanking.claims`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from components.keycloak_realm import (
    AUTHENTICATORS,
    BUILT_IN_BROWSER_CLIENTS,
    CLAIMS_SCOPE,
    CONSENT_CLIENT_POLICY,
    CONSENT_CLIENT_ROLE,
    FAPI_PROFILES,
    THIRD_PARTY_POLICY,
    THIRD_PARTY_PROFILE,
    THIRD_PARTY_ROLE,
    ConsentClient,
    RealmLimits,
    RealmSettings,
    ThirdPartyClient,
    realm_document,
    realm_json,
)
from openbanking.claims import (
    API_SCOPES,
    CONSENT_AUTHORISATION_SCOPE,
    INTENT_ID_CLAIM,
    SIGNING_ALGORITHMS,
    TPP_ID_CLAIM,
)

LIMITS = RealmLimits(access_token=300, authorization_code=60, par_request_uri=60, ciba_expires_in=120,
                     ciba_poll_interval=5, sso_session_idle=600, sso_session_max=1800)
MTLS = ThirdPartyClient(
    client_id="5ZPeT7Vi1p3Kl1QpOEkjHz", organisation_id="0015800001HQQrZAAX",
    certificate_subject_dn="CN=5ZPeT7Vi1p3Kl1QpOEkjHz,OU=0015800001HQQrZAAX,O=OpenBanking,C=GB",
    jwks_uri="https://keystore.openbankingtest.org.uk/0015800001HQQrZAAX/5ZPeT7Vi1p3Kl1QpOEkjHz.jwks",
    redirect_uris=("https://tpp.example.com/cb", "https://tpp.example.com/cb?app=1"), scopes=("accounts", "payments"),
    authentication="tls_client_auth", signing_algorithm="PS256")
JWT = replace(MTLS, client_id="7aKbQ2LmN9pRsT4uVwXyZ1", organisation_id="0015800001041REAAY",
              certificate_subject_dn="CN=7aKbQ2LmN9pRsT4uVwXyZ1,2.5.4.97=PSDGB-OB-0015800001041REAAY,C=GB",
              redirect_uris=("https://app.example-tpp.co.uk/cb",), scopes=("fundsconfirmations",),
              authentication="private_key_jwt", signing_algorithm="ES256")
SETTINGS = RealmSettings(name="openbanking", display_name="Example Bank", limits=LIMITS, clients=(MTLS, JWT),
                         consent_client=ConsentClient("consent-authoriser", "CN=consent-authoriser.auth.example.com"))


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    return realm_document(SETTINGS)


def clients(realm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["clientId"]: c for c in realm["clients"]}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        try:
            nested = json.loads(value)
        except ValueError:
            return
        if isinstance(nested, dict | list):
            yield from strings(nested)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def test_every_third_party_is_under_fapi_1_advanced_and_fapi_ciba(realm: dict[str, Any]) -> None:
    policies = {p["name"]: p for p in realm["clientPolicies"]["policies"]}
    policy = policies[THIRD_PARTY_POLICY]
    assert policy["enabled"] is True
    assert policy["conditions"] == [{"condition": "client-roles", "configuration": {"roles": [THIRD_PARTY_ROLE]}}]
    assert set(FAPI_PROFILES) == {"fapi-1-advanced", "fapi-ciba"} <= set(policy["profiles"])
    assert THIRD_PARTY_PROFILE in policy["profiles"]
    assert {p["name"] for p in realm["clientProfiles"]["profiles"]} >= {THIRD_PARTY_PROFILE}
    roles = realm["roles"]["client"]
    for client in (MTLS, JWT):
        assert roles[client.client_id] == [{"name": THIRD_PARTY_ROLE, "clientRole": True}]
    # the role is the third parties' alone: the consent step has its own, under its own policy
    holders = {cid for cid, rs in roles.items() if any(r["name"] == THIRD_PARTY_ROLE for r in rs)}
    assert holders == {MTLS.client_id, JWT.client_id}
    assert policies[CONSENT_CLIENT_POLICY]["conditions"][0]["configuration"]["roles"] == [CONSENT_CLIENT_ROLE]


def test_no_client_is_public_and_the_built_in_browser_clients_are_off(realm: dict[str, Any]) -> None:
    by_id = clients(realm)
    assert all(c["publicClient"] is False for c in by_id.values())
    for built_in in BUILT_IN_BROWSER_CLIENTS:
        assert by_id[built_in]["enabled"] is False
    enabled = {cid for cid, c in by_id.items() if c["enabled"]}
    assert enabled == {MTLS.client_id, JWT.client_id, SETTINGS.consent_client.client_id}
    for cid in enabled:
        assert by_id[cid]["implicitFlowEnabled"] is False and by_id[cid]["directAccessGrantsEnabled"] is False
        assert by_id[cid]["clientAuthenticatorType"] in {"client-x509", "client-jwt"}


def test_nothing_in_the_realm_names_none_or_rs256(realm: dict[str, Any]) -> None:
    found = {s for s in strings(realm) if s.lower() in ("none", "rs256", "hs256", "client-secret", "client-secret-jwt")}
    assert found == set()
    assert realm["defaultSignatureAlgorithm"] == "PS256"
    keys = realm["components"]["org.keycloak.keys.KeyProvider"]
    signing = {k["providerId"]: k["config"] for k in keys if k["providerId"] in ("rsa-generated", "ecdsa-generated")}
    assert signing["rsa-generated"]["algorithm"] == ["PS256"] and signing["rsa-generated"]["keySize"] == ["3072"]
    assert signing["ecdsa-generated"]["ecdsaEllipticCurveKey"] == ["P-256"]  # ES256
    assert {k["providerId"] for k in keys} == {"rsa-generated", "ecdsa-generated", "hmac-generated", "aes-generated"}


@pytest.mark.parametrize("client", [MTLS, JWT], ids=lambda c: c.authentication)
def test_each_third_party_pushes_signed_requests_and_gets_bound_tokens(realm: dict[str, Any],
                                                                       client: ThirdPartyClient) -> None:
    rep = clients(realm)[client.client_id]
    attributes = rep["attributes"]
    assert rep["clientAuthenticatorType"] == AUTHENTICATORS[client.authentication]
    assert attributes["tls.client.certificate.bound.access.tokens"] == "true"
    assert attributes["require.pushed.authorization.requests"] == "true"
    assert attributes["request.object.required"] == "request or request_uri"
    assert attributes["pkce.code.challenge.method"] == "S256"
    for key in ("request.object.signature.alg", "token.endpoint.auth.signing.alg",
                "ciba.backchannel.auth.request.signing.alg"):
        assert attributes[key] == client.signing_algorithm in SIGNING_ALGORITHMS
    for key in ("id.token.signed.response.alg", "access.token.signed.response.alg", "user.info.response.signature.alg"):
        assert attributes[key] == "PS256"
    # its certificate, exactly (tls_client_auth checks it; both methods bind tokens to it)
    assert attributes["x509.subjectdn"] == client.certificate_subject_dn
    assert attributes["x509.allow.regex.pattern.comparison"] == "false"
    assert attributes["use.jwks.url"] == "true" and attributes["jwks.url"] == client.jwks_uri
    assert rep["redirectUris"] == list(client.redirect_uris) and rep["webOrigins"] == []
    assert rep["optionalClientScopes"] == list(client.scopes) and rep["defaultClientScopes"] == [CLAIMS_SCOPE]
    assert rep["fullScopeAllowed"] is False and rep["consentRequired"] is True


def test_ciba_is_on_in_poll_mode(realm: dict[str, Any]) -> None:
    attributes = realm["attributes"]
    assert attributes["cibaBackchannelTokenDeliveryMode"] == "poll"
    assert attributes["cibaExpiresIn"] == "120" and attributes["cibaInterval"] == "5"
    for client in (MTLS, JWT):
        assert clients(realm)[client.client_id]["attributes"]["oidc.ciba.grant.enabled"] == "true"


def test_tokens_are_short_lived_and_refresh_tokens_single_use(realm: dict[str, Any]) -> None:
    assert realm["accessTokenLifespan"] == 300 and realm["accessCodeLifespan"] == 60
    assert realm["attributes"]["parRequestUriLifespan"] == "60"
    assert realm["revokeRefreshToken"] is True and realm["refreshTokenMaxReuse"] == 0
    assert realm["sslRequired"] == "all" and realm["registrationAllowed"] is False


@pytest.mark.parametrize("client", [MTLS, JWT], ids=lambda c: c.authentication)
def test_tokens_carry_the_claims_the_services_read(realm: dict[str, Any], client: ThirdPartyClient) -> None:
    rep = clients(realm)[client.client_id]
    [org] = rep["protocolMappers"]
    assert org["protocolMapper"] == "oidc-hardcoded-claim-mapper"
    assert org["config"]["claim.name"] == TPP_ID_CLAIM == "org_id"
    assert org["config"]["claim.value"] == client.organisation_id and org["config"]["access.token.claim"] == "true"
    # the consent id, from the session note the consent step writes, through the scope every third party has
    assert CLAIMS_SCOPE in rep["defaultClientScopes"]
    scope = next(s for s in realm["clientScopes"] if s["name"] == CLAIMS_SCOPE)
    mappers = {m["name"]: m for m in scope["protocolMappers"]}
    intent = mappers[INTENT_ID_CLAIM]
    assert intent["protocolMapper"] == "oidc-usersessionmodel-note-mapper"
    assert intent["config"]["user.session.note"] == intent["config"]["claim.name"] == INTENT_ID_CLAIM
    assert intent["config"]["access.token.claim"] == intent["config"]["id.token.claim"] == "true"
    assert mappers["acr"]["protocolMapper"] == "oidc-acr-mapper"


def test_the_consent_step_is_a_certificate_authenticated_service_account_with_one_scope(
        realm: dict[str, Any]) -> None:
    rep = clients(realm)[SETTINGS.consent_client.client_id]
    assert rep["clientAuthenticatorType"] == "client-x509" and rep["serviceAccountsEnabled"] is True
    assert rep["standardFlowEnabled"] is False and rep["redirectUris"] == []
    assert rep["defaultClientScopes"] == [CONSENT_AUTHORISATION_SCOPE] and rep["optionalClientScopes"] == []
    assert rep["attributes"]["tls.client.certificate.bound.access.tokens"] == "true"
    assert rep["attributes"]["x509.subjectdn"] == SETTINGS.consent_client.certificate_subject_dn
    scopes = {s["name"]: s for s in realm["clientScopes"]}
    assert set(scopes) == {*API_SCOPES, CONSENT_AUTHORISATION_SCOPE, CLAIMS_SCOPE}
    assert scopes[CONSENT_AUTHORISATION_SCOPE]["attributes"]["display.on.consent.screen"] == "false"
    third_party_scopes = {s for c in (MTLS, JWT) for s in clients(realm)[c.client_id]["optionalClientScopes"]}
    assert CONSENT_AUTHORISATION_SCOPE not in third_party_scopes
    assert realm["defaultDefaultClientScopes"] == realm["defaultOptionalClientScopes"] == []


def test_the_file_is_stable_compact_json() -> None:
    text = realm_json(SETTINGS)
    assert text == realm_json(SETTINGS) and json.loads(text) == realm_document(SETTINGS)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))  # compact: the env var is small


@pytest.mark.parametrize(("change", "expected"), [
    ({"signing_algorithm": "RS256"}, "RS256 is not one of ('PS256', 'ES256')"),
    ({"scopes": ("accounts", CONSENT_AUTHORISATION_SCOPE)}, "are not OBIE API scopes"),
    ({"redirect_uris": ("https://tpp.example.com/*",)}, "redirect URIs must be exact https URIs"),
    ({"client_id": "consent-authoriser"}, "client ids repeat"),
])
def test_a_realm_that_would_break_the_profile_is_refused(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        realm_document(replace(SETTINGS, clients=(replace(MTLS, **change),)))
