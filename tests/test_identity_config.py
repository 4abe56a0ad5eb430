"""The identity section of the config: Keycloak or an external IdP, each with exactly its keys; the image by
digest in the stack's region; the third parties' clients consistent with the services' claims contract; the IdP's
and the clients' key hosts on the egress allow-list; the ingress VPC with Keycloak only; prod survives an AZ."""

from __future__ import annotations

import copy

import pytest

from environments.config import CONFIG_KEY, WorkloadConfig
from environments.validation import load_environment
from tests.test_config import problems, stack_config

K = CONFIG_KEY
DIGEST = "sha256:" + "ab" * 32
EXTERNAL = {"provider": "external", "issuer": "https://idp.example-bank.co.uk/oauth2",
            "jwksUrl": "https://idp.example-bank.co.uk/oauth2/jwks",
            "mtlsEndpointAliases": {"tokenEndpoint": "https://mtls.idp.example-bank.co.uk/oauth2/token",
                                    "pushedAuthorizationRequestEndpoint": "https://mtls.idp.example-bank.co.uk/par"}}


def external_dev() -> dict:
    raw = stack_config("dev")
    raw["identity"] = copy.deepcopy(EXTERNAL)
    del raw["network"]["ingressVpcCidr"]
    raw["network"]["egressAllowedDomains"].append("idp.example-bank.co.uk")
    return raw


def test_the_shipped_stacks_run_keycloak_with_their_clients() -> None:
    for stack in ("dev", "prod"):
        config = load_environment(stack_config(stack))
        assert isinstance(config, WorkloadConfig)
        assert config.identity.provider == "keycloak" and config.identity.image is not None
        assert config.identity.clients and config.network.ingress_vpc_cidr is not None


def test_an_external_idp_takes_its_issuer_keys_and_aliases_and_needs_no_ingress_vpc() -> None:
    config = load_environment(external_dev())
    assert isinstance(config, WorkloadConfig)
    assert config.identity.mtls_endpoint_aliases is not None
    assert config.identity.mtls_endpoint_aliases.metadata() == {
        "token_endpoint": "https://mtls.idp.example-bank.co.uk/oauth2/token",
        "pushed_authorization_request_endpoint": "https://mtls.idp.example-bank.co.uk/par"}


def test_the_identity_section_is_required() -> None:
    raw = stack_config("dev")
    del raw["identity"]
    assert problems(raw) == [f"{K}.identity: is required for a workload stack (the IdP that issues third parties "
                             "their tokens: provider keycloak or external)"]


def test_each_provider_takes_its_own_keys_only() -> None:
    raw = stack_config("dev")
    raw["identity"]["issuer"] = "https://idp.example-bank.co.uk"
    del raw["identity"]["image"]
    assert problems(raw) == [
        f"{K}.identity.issuer: is only used with provider external; this identity's provider is keycloak",
        f"{K}.identity.image: is required with provider keycloak (the Keycloak image in the bank's registry, by "
        "digest)"]
    raw = external_dev()
    raw["identity"]["clients"] = []
    del raw["identity"]["jwksUrl"]
    assert problems(raw) == [
        f"{K}.identity.clients: is only used with provider keycloak; this identity's provider is external",
        f"{K}.identity.jwksUrl: is required with provider external (what the API edge trusts the external IdP by)"]


@pytest.mark.parametrize(("image", "expected"), [
    ("quay.io/keycloak/keycloak:26.4", "is not an image in an ECR registry pinned by digest"),
    ("200000000009.dkr.ecr.eu-west-2.amazonaws.com/identity/keycloak:26.4", "is not an image in an ECR registry"),
    (f"200000000009.dkr.ecr.eu-west-1.amazonaws.com/identity/keycloak@{DIGEST}", "is in eu-west-1, not the stack's "
     "region 'eu-west-2'"),
])
def test_the_image_is_the_bank_s_by_digest_in_the_stack_s_region(image: str, expected: str) -> None:
    raw = stack_config("dev")
    raw["identity"]["image"] = image
    [line] = problems(raw)
    assert line.startswith(f"{K}.identity.image: {image!r} {expected}"), line


def test_a_client_s_certificate_names_its_organisation() -> None:
    raw = stack_config("dev")
    client = raw["identity"]["clients"][0]
    client["certificateSubjectDn"] = "CN=x,OU=0015800001ZZZZZZZZ,O=OpenBanking,C=GB"
    client["scopes"] = ["accounts", "openbanking:consent-authorisation", "accounts"]
    client["redirectUris"] = ["https://tpp.example.com/cb#frag", "http://tpp.example.com/cb"]
    lines = problems(raw)
    assert lines == [
        f"{K}.identity.clients[0].redirectUris[0]: 'https://tpp.example.com/cb#frag' is not an exact https redirect "
        "URI (a DNS host, no fragment, user info or wildcard)",
        f"{K}.identity.clients[0].redirectUris[1]: 'http://tpp.example.com/cb' is not an exact https redirect URI (a "
        "DNS host, no fragment, user info or wildcard)",
    ]
    client["redirectUris"] = ["https://tpp.example.com/cb"]
    assert problems(raw) == [
        f"{K}.identity.clients[0].certificateSubjectDn: 'CN=x,OU=0015800001ZZZZZZZZ,O=OpenBanking,C=GB' names the "
        "organisation '0015800001ZZZZZZZZ', not organisationId '0015800001HQQrZAAX'; the services refuse tokens whose "
        "org_id differs from the certificate's organisation",
        f"{K}.identity.clients[0].scopes[1]: 'openbanking:consent-authorisation' is not an OBIE API scope (accounts, "
        "payments, fundsconfirmations)",
        f"{K}.identity.clients[0].scopes[2]: 'accounts' is listed twice",
    ]


def test_an_eidas_organisation_identifier_is_read_like_the_services_read_it() -> None:
    raw = stack_config("prod")
    assert load_environment(raw)  # PSDGB-OB-<id> in organizationIdentifier
    raw["identity"]["clients"][0]["certificateSubjectDn"] = "not a DN"
    [line] = problems(raw)
    assert line.startswith(f"{K}.identity.clients[0].certificateSubjectDn: 'not a DN' is not an RFC 4514 "
                           "distinguished name")


def test_client_ids_are_unique_and_sizes_fit_fargate() -> None:
    raw = stack_config("dev")
    raw["identity"]["clients"].append(copy.deepcopy(raw["identity"]["clients"][0]))
    raw["identity"]["cpu"] = 1024
    raw["identity"]["memory"] = 1024
    assert problems(raw) == [
        f"{K}.identity.memory: 1024 does not go with cpu 1024 (Fargate: 2048-8192 MiB in steps of 1024)",
        f"{K}.identity.clients[1].clientId: '5ZPeT7Vi1p3Kl1QpOEkjHz' is already clients[0]'s"]


def test_the_idp_s_and_the_clients_key_hosts_are_on_the_egress_allow_list() -> None:
    raw = stack_config("dev")
    raw["network"]["egressAllowedDomains"] = ["keystore.openbankingtest.org.uk", "matls-sso.openbankingtest.org.uk"]
    raw["identity"]["clients"][0]["jwksUri"] = "https://keys.example-tpp.com/jwks"
    assert problems(raw) == [
        f"{K}.network.egressAllowedDomains: does not let out auth.dev.openbanking.example-bank.co.uk, where the API "
        "authorizer fetches Keycloak's JWKS (through the egress proxy); add it",
        f"{K}.identity.clients[0].jwksUri: 'https://keys.example-tpp.com/jwks' names keys.example-tpp.com, which "
        "network.egressAllowedDomains does not let out; Keycloak could not fetch the client's keys"]
    raw = external_dev()
    raw["network"]["egressAllowedDomains"].remove("idp.example-bank.co.uk")
    assert problems(raw) == [
        f"{K}.identity.jwksUrl: 'https://idp.example-bank.co.uk/oauth2/jwks' names idp.example-bank.co.uk, which "
        "network.egressAllowedDomains does not let out; the API authorizer could not fetch its keys"]


def test_the_ingress_vpc_goes_with_keycloak_and_overlaps_nothing() -> None:
    raw = stack_config("dev")
    raw["network"]["ingressVpcCidr"] = raw["network"]["apiVpcCidr"]
    assert problems(raw) == [f"{K}.network.ingressVpcCidr: '10.64.8.0/22' overlaps network.apiVpcCidr (10.64.8.0/22)"]
    del raw["network"]["ingressVpcCidr"]
    assert problems(raw) == [f"{K}.network.ingressVpcCidr: is required with identity.provider keycloak (the public NLB "
                             "that passes third parties' TLS through to auth.<domain>)"]
    raw["network"]["ingressVpcCidr"] = "10.64.12.0/27"
    [line] = problems(raw)
    assert line.startswith(f"{K}.network.ingressVpcCidr: '10.64.12.0/27' cannot hold 2 subnet tiers x 2 availability "
                           "zones")
    raw = external_dev()
    raw["network"]["ingressVpcCidr"] = "10.64.12.0/24"
    assert problems(raw) == [f"{K}.network.ingressVpcCidr: '10.64.12.0/24' is not used: identity.provider is "
                             "external, which runs its own entry"]


def test_prod_keycloak_survives_an_az() -> None:
    raw = stack_config("prod")
    raw["identity"]["minTasks"] = 1
    raw["identity"]["database"]["instances"] = 1
    assert problems(raw) == [
        f"{K}.identity.minTasks: 1 is below the prod minimum of 2 (one Keycloak task per availability zone at least)",
        f"{K}.identity.database.instances: 1 is below the prod minimum of 2 (a reader in another AZ to fail over to)"]


def test_the_sandbox_has_no_identity_section() -> None:
    raw = stack_config("sandbox")
    raw["identity"] = copy.deepcopy(EXTERNAL)
    raw["network"]["ingressVpcCidr"] = "10.128.12.0/24"
    lines = problems(raw)
    assert f"{K}.identity: only a workload stack has an identity account (this is a sandbox stack)" in lines
    assert (f"{K}.network.ingressVpcCidr: '10.128.12.0/24' is not used by a sandbox stack: only a workload stack has "
            "an identity provider") in lines


def test_the_realm_s_session_lengths_are_in_order_and_tokens_short() -> None:
    raw = stack_config("dev")
    raw["identity"]["realm"] = {"accessTokenLifespanSeconds": 3600}
    assert problems(raw) == [
        f"{K}.identity.realm.accessTokenLifespanSeconds: 3600 input should be less than or equal to 900"]
    raw["identity"]["realm"] = {"ssoSessionIdleSeconds": 900, "ssoSessionMaxSeconds": 600}
    assert problems(raw) == [f"{K}.identity.realm.ssoSessionMaxSeconds: 600 is below ssoSessionIdleSeconds (900)"]



def test_the_clients_must_fit_keycloak_s_task_definition() -> None:
    raw = stack_config("dev")
    template = raw["identity"]["clients"][0]
    raw["identity"]["clients"] = [dict(template, clientId=f"client-{i:03d}",
                                       redirectUris=[f"https://tpp{i}.example.com/cb/{j}" for j in range(10)])
                                  for i in range(40)]
    [line] = problems(raw)
    assert line.startswith(f"{K}.identity.clients: 40 clients make a realm file of ")
    assert "over its 57344 (ECS allows 64 KiB per task definition)" in line
    raw["identity"]["clients"] = raw["identity"]["clients"][:10]
    assert load_environment(raw)
