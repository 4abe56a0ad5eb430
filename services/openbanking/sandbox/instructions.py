"""What `serve` prints: a bash script a TPP's developer can follow step by step, or run as it is, from any directory.

It names the interpreter, the sandbox's address and the credentials directory by absolute path, so nothing depends
on the current directory or on exporting the server's `PORT` and `OB_SANDBOX_DIR` again. It takes a TPP through
credentials, an event subscription, the account-information journey, the payment journey (with request signing
and settlement) and polling for the events, and ends with revoking the certificate. It needs bash and curl 7.76 or
later; JSON fields are read with the sandbox's own Python. tests/services/sandbox runs it as printed.

The same steps serve the deployed sandbox (:class:`DeployedEntries`): the client certificate then goes in the TLS
handshake of its mutual-TLS entry, and the CA is reached on the entry without client certificates. The developer
portal publishes them from here (:func:`steps`), so the two never drift apart.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

BEGIN = "# ---- begin: the sandbox steps (bash) ----"
END = "# ---- end: the sandbox steps ----"

#: The domestic payment of the printed journey (the consent's and the payment's Initiation are the same).
INITIATION = {"InstructionIdentification": "sandbox-instr-1", "EndToEndIdentification": "sandbox-e2e-1",
              "LocalInstrument": "UK.OBIE.FPS", "InstructedAmount": {"Amount": "10.00", "Currency": "GBP"},
              "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
                                  "Name": "ACME Inc"},
              "RemittanceInformation": {"Reference": "FRESCO-101"}}
AIS_PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits",
                   "ReadTransactionsDebits"]
EVENT_TYPES = ["urn:uk:org:openbanking:events:resource-update",
               "urn:uk:org:openbanking:events:consent-authorization-revoked"]
_FIELD = ("import functools, json, sys; print(functools.reduce(lambda d, k: d[int(k)] if isinstance(d, list) "
          "else d[k], sys.argv[1].split('.'), json.load(sys.stdin)))")


@dataclass(frozen=True)
class DeployedEntries:
    """The deployed sandbox's two front doors, and where a developer keeps the credentials."""

    #: The mutual-TLS entry (APIs and IdP), e.g. `https://api.sandbox.example-bank.co.uk`.
    api_url: str
    #: The entry without client certificates (the CA: registration, certificates, OCSP, CRL; the published keys).
    directory_url: str
    #: The credentials directory, a shell expression expanded inside double quotes; `$TPP_ID` is the developer's
    #: organisation id, which the steps require exported (registration is first come: every TPP picks its own).
    tpp_dir: str = "$HOME/ob-sandbox/tpps/$TPP_ID"


@dataclass(frozen=True)
class Step:
    """One numbered step of the script: its number, its title (the first comment's words before a ':' or '(') and
    its text."""

    number: int
    title: str
    text: str


def instructions(*, base_url: str, python: str, settlement_seconds: float, state_dir: Path | None = None,
                 tpp_id: str = "my-tpp", deployed: DeployedEntries | None = None) -> str:
    """The printed steps. Locally (`deployed` None) everything is at `base_url`, the credentials live under
    `state_dir` and the certificate travels in a header; deployed, the entries and the directory are `deployed`'s."""
    q = shlex.quote
    if deployed is None and state_dir is None:
        raise ValueError("state_dir: the local steps keep the credentials under the sandbox's state directory")
    if deployed is not None:
        base_url = deployed.api_url
        directory = deployed.directory_url
        tpp_line = ('TPP_ID="${TPP_ID:?export TPP_ID=<your organisation id> first (registration is first come)}"\n'
                    f'TPP="{deployed.tpp_dir}"')
        tpp_arg = '"$TPP_ID"'
        transport = ("#    The client certificate goes in the TLS handshake of the sandbox's mutual-TLS entry "
                     "(curl --cert/--key);\n#    the CA is reached without one.")
        api_helper = 'api() { curl -sS --fail-with-body --cert "$TPP/client.pem" --key "$TPP/client.key" "$@"; }'
    else:
        assert state_dir is not None
        directory = base_url
        tpp_line = f"TPP={q(str(state_dir / 'tpps' / tpp_id))}"
        tpp_arg = q(tpp_id)
        transport = ("#    There is no TLS locally: the certificate travels URL-encoded in x-amzn-mtls-clientcert, as "
                     "behind an ALB.")
        api_helper = 'api() { curl -sS --fail-with-body -H @"$TPP/mtls-header.txt" "$@"; }'
    initiation = json.dumps(INITIATION, separators=(",", ":"))
    permissions = json.dumps({"Data": {"Permissions": AIS_PERMISSIONS}, "Risk": {}}, separators=(",", ":"))
    subscription = json.dumps({"Data": {"Version": "3.1", "EventTypes": EVENT_TYPES}}, separators=(",", ":"))
    if settlement_seconds > 0:
        settle = f"""# The sandbox settles a payment one step every {settlement_seconds:g} s (Pending ->
#    AcceptedSettlementInProcess -> AcceptedSettlementCompleted -> AcceptedCreditSettlementCompleted), each step a
#    resource-update event: poll it.
#    (To report a status yourself, e.g. a rejection: api -H 'Content-Type: application/json' \\
#      -d '{{"Status":"Rejected"}}' {base_url}/sandbox/domestic-payments/$PAYMENT/status)
for attempt in $(seq 30); do
  STATUS=$(api -H "Authorization: Bearer $TOKEN" {base_url}/open-banking/v3.1/pisp/domestic-payments/$PAYMENT \\
    | field Data.Status)
  echo "payment $PAYMENT: $STATUS"
  if [ "$STATUS" = AcceptedCreditSettlementCompleted ]; then break; fi
  sleep {settlement_seconds:g}
done"""
    else:
        settle = f"""# Automatic settlement is off (OB_SANDBOX_SETTLEMENT_SECONDS=0): report each step as core banking would.
for STATUS in AcceptedSettlementInProcess AcceptedSettlementCompleted AcceptedCreditSettlementCompleted; do
  api -H 'Content-Type: application/json' -d "{{\\"Status\\":\\"$STATUS\\"}}" \\
    {base_url}/sandbox/domestic-payments/$PAYMENT/status; echo
done
api -H "Authorization: Bearer $TOKEN" {base_url}/open-banking/v3.1/pisp/domestic-payments/$PAYMENT; echo"""
    base = base_url
    state = f"State (CA, keys, TPP directory): {state_dir}\n" if deployed is None else ""
    return f"""
Open Banking sandbox on {base}
  AIS    {base}/open-banking/v3.1/aisp/...
  PIS    {base}/open-banking/v3.1/pisp/...
  Events {base}/open-banking/v3.1/event-subscriptions, /events
  IdP    {base}/sandbox/token, /sandbox/authorize, /sandbox/jwks (token keys), /sandbox/aspsp/jwks (response and
         event signing key)
  CA     {directory}/sandbox/ca.pem, /sandbox/tpps (credentials), /sandbox/ocsp, /sandbox/crl
{state}
The steps below run in bash as printed, from any directory (they need curl 7.76 or later).
{BEGIN}
# 0. Helpers: the sandbox's command line, curl with your client certificate, a JSON field, a fresh id.
{transport}
ob_sandbox() {{ {q(python)} -m openbanking.sandbox --url {q(directory)} "$@"; }}
{tpp_line}
{api_helper}
field() {{ {q(python)} -c {q(_FIELD)} "$1"; }}
new_id() {{ {q(python)} -c 'import uuid; print(uuid.uuid4())'; }}

# 1. Credentials: a key pair and a certificate from the sandbox CA, and a request-signing key registered as your
#    directory key. The private keys stay in $TPP (yours only, git-ignored).
ob_sandbox credentials --tpp-id {tpp_arg} --out "$TPP"

# 2. Events: subscribe (a signed POST; without a CallbackUrl events are polled). Every signed request body is a
#    file, signed with `ob_sandbox sign` (a detached PS256 JWS over its exact bytes) and sent as it is.
TOKEN=$(api -d grant_type=client_credentials -d 'scope=accounts payments' {base}/sandbox/token | field access_token)
printf '%s' {q(subscription)} \\
  > "$TPP/subscription.json"
api -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  -H "x-jws-signature: $(ob_sandbox sign --credentials "$TPP" "$TPP/subscription.json")" \\
  --data-binary @"$TPP/subscription.json" {base}/open-banking/v3.1/event-subscriptions; echo

# 3. Account information: a consent, the PSU's authorisation (psu-0001 ... are seeded; the answer is the
#    consent-bound token), then the accounts and an account's balances.
CONSENT=$(api -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  -d {q(permissions)} \\
  {base}/open-banking/v3.1/aisp/account-access-consents | field Data.ConsentId)
ACCESS=$(api -H 'Content-Type: application/json' -d "{{\\"ConsentId\\":\\"$CONSENT\\",\\"PsuId\\":\\"psu-0001\\"}}" \\
  {base}/sandbox/authorize | field access_token)
api -H "Authorization: Bearer $ACCESS" {base}/open-banking/v3.1/aisp/accounts; echo
ACCOUNT=$(api -H "Authorization: Bearer $ACCESS" {base}/open-banking/v3.1/aisp/accounts | field Data.Account.0.AccountId)
api -H "Authorization: Bearer $ACCESS" "{base}/open-banking/v3.1/aisp/accounts/$ACCOUNT/balances"; echo

# 4. A domestic payment: a signed consent (with an x-idempotency-key), the PSU's authorisation naming the account
#    to pay from, funds confirmation, the signed payment, and its settlement.
INITIATION={q(initiation)}
printf '{{"Data":{{"Initiation":%s}},"Risk":{{"PaymentContextCode":"EcommerceGoods"}}}}' "$INITIATION" \\
  > "$TPP/payment-consent.json"
PCONSENT=$(api -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H "x-idempotency-key: $(new_id)" \\
  -H "x-jws-signature: $(ob_sandbox sign --credentials "$TPP" "$TPP/payment-consent.json")" \\
  --data-binary @"$TPP/payment-consent.json" {base}/open-banking/v3.1/pisp/domestic-payment-consents \\
  | field Data.ConsentId)
PACCESS=$(api -H 'Content-Type: application/json' \\
  -d "{{\\"ConsentId\\":\\"$PCONSENT\\",\\"PsuId\\":\\"psu-0001\\",\\"AccountId\\":\\"acc-0001-01\\"}}" \\
  {base}/sandbox/authorize | field access_token)
api -H "Authorization: Bearer $PACCESS" \\
  {base}/open-banking/v3.1/pisp/domestic-payment-consents/$PCONSENT/funds-confirmation; echo
printf '{{"Data":{{"ConsentId":"%s","Initiation":%s}},"Risk":{{"PaymentContextCode":"EcommerceGoods"}}}}' \\
  "$PCONSENT" "$INITIATION" > "$TPP/payment.json"
PAYMENT=$(api -H "Authorization: Bearer $PACCESS" -H 'Content-Type: application/json' -H "x-idempotency-key: $(new_id)" \\
  -H "x-jws-signature: $(ob_sandbox sign --credentials "$TPP" "$TPP/payment.json")" \\
  --data-binary @"$TPP/payment.json" {base}/open-banking/v3.1/pisp/domestic-payments | field Data.DomesticPaymentId)
{settle}

# 5. The events so far (SETs, signed like every response with the key at {base}/sandbox/aspsp/jwks); send
#    their jti back in "ack" to remove them.
api -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{{"maxEvents":10,"returnImmediately":true}}' \\
  {base}/open-banking/v3.1/events; echo

# 6. Revoke the certificate (tokens bound to it are refused within a minute; a new one: step 1 again).
ob_sandbox revoke --credentials "$TPP"
{END}
Requests without valid credentials get 401/403 with an OBIE error body.
"""


def script_of(printed: str) -> str:
    """The runnable part of what `serve` printed (between the markers)."""
    start, end = printed.index(BEGIN), printed.index(END)
    return printed[start:end + len(END)] + "\n"


_STEP = re.compile(r"^# (?P<number>\d+)\. (?P<title>[^\n]*)$", re.MULTILINE)


def steps(printed: str) -> list[Step]:
    """The script's numbered steps, in order, each with its text up to the next one (markers left out)."""
    script = script_of(printed)
    body = script[len(BEGIN):script.rindex(END)]
    found = list(_STEP.finditer(body))
    if not found:
        raise ValueError("the printed steps hold no numbered step ('# 1. ...')")
    return [Step(int(m["number"]), re.split(r"[:(]", m["title"], maxsplit=1)[0].strip(),
                 body[m.start():found[i + 1].start() if i + 1 < len(found) else len(body)].strip() + "\n")
            for i, m in enumerate(found)]
