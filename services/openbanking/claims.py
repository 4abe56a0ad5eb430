"""The contract between the bank's identity provider and the services: what an access token says and how the
IdP reports a PSU's decision. One definition, read by both sides: the services' token checks
(`openbanking.security.tokens`, the API authorizer) and internal endpoints import it, and so does the
infrastructure that generates the IdP's realm (`components/keycloak_realm.py`), so a claim renamed here is
renamed in the tokens Keycloak issues.

The infrastructure imports this module, so it is plain data and imports nothing but the standard library.
"""

from __future__ import annotations

#: JOSE algorithms of tokens, request objects and client assertions (FAPI 1 Advanced / FAPI 2): never `none`,
#: HS*, or RS256.
SIGNING_ALGORITHMS: tuple[str, ...] = ("PS256", "ES256")

#: The consent (OBIE "intent") a PSU-authorised access token was issued for: `aac-...` or `pdc-...`.
INTENT_ID_CLAIM = "openbanking_intent_id"
#: The TPP's Open Banking organisation id. It must equal the organisation of the client certificate the token is
#: bound to (the certificate's `organizationIdentifier`, `PSDGB-OB-<id>` -> `<id>`, else its `OU`).
TPP_ID_CLAIM = "org_id"
#: Where the OAuth client is named: `client_id`, else `azp`.
CLIENT_ID_CLAIMS: tuple[str, ...] = ("client_id", "azp")
#: RFC 8705: the token is bound to the client certificate whose SHA-256 thumbprint is `cnf.x5t#S256`.
CONFIRMATION_CLAIM = "cnf"
CERTIFICATE_THUMBPRINT = "x5t#S256"

#: The OBIE API scopes a third party may hold (any subset per client).
API_SCOPES: tuple[str, ...] = ("accounts", "payments", "fundsconfirmations")
#: The scope of the IdP's own calls to the services' internal authorisation endpoints; no third party holds it.
CONSENT_AUTHORISATION_SCOPE = "openbanking:consent-authorisation"

#: Service -> the internal endpoint the IdP POSTs the PSU's decision to (never routed through API Gateway;
#: reached over PrivateLink from the identity account). Body: `{"Status": "Authorised"|"Rejected", "PsuId": ...,
#: "AccountIds": [...]}` (ais) or `{"Status": ..., "PsuId": ..., "AccountId": ...}` (pis); answer 204.
INTERNAL_AUTHORISATION_PATHS: dict[str, str] = {
    "ais": "/internal/aisp/account-access-consents/{ConsentId}/authorisation",
    "pis": "/internal/pisp/domestic-payment-consents/{ConsentId}/authorisation",
}
