"""The ASPSP's signing key: an asymmetric KMS key whose private half never leaves KMS.

The services sign response `x-jws-signature`s and event SETs with `kms:Sign` (`RSASSA_PSS_SHA_256`, JWS
PS256) and publish the public half (`kms:GetPublicKey`) in the ASPSP's JWKS. KMS cannot rotate asymmetric
keys: a new key (and `kid`) is published beside the old one, then the old one is retired; nothing here
pretends otherwise. KMS keys live in FIPS 140-3 level 3 HSMs; a CloudHSM custom key store cannot hold
asymmetric keys, so HSM-dedicated signing would mean CloudHSM's own PKCS#11 interface (docs/workloads.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

#: Key specs that can sign PS256 (RSASSA-PSS with SHA-256).
RSA_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")


@dataclass(frozen=True)
class SigningKeyArgs:
    """One account's signing key."""

    #: A description naming whose signatures these are.
    description: str
    #: The account that owns and administers the key (its root delegates use to IAM policies).
    account_id: str
    #: Alias without the `alias/` prefix, e.g. "prod-workload-pis/signing".
    alias: str
    #: RSA key size; PS256 needs an RSA key (2048 bits at least, FAPI 1 Advanced).
    key_spec: str = "RSA_3072"
    #: Protect and retain the key (prod): losing it invalidates every published signature's key.
    protect: bool = True


class SigningKey(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: SigningKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:security:SigningKey", name, None, opts)
        if args.key_spec not in RSA_SPECS:
            raise ValueError(f"{name}: key_spec {args.key_spec!r} cannot sign PS256 (use one of {', '.join(RSA_SPECS)})")
        # The account administers the key; which roles may sign is said by their own IAM policies (on this
        # key's ARN, PS256 only), so the key does not depend on the roles that depend on it.
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{args.account_id}:root"},
             "Action": "kms:*", "Resource": "*"}]})
        self.key = aws.kms.Key(
            name,
            description=args.description,
            customer_master_key_spec=args.key_spec,
            key_usage="SIGN_VERIFY",
            # KMS rotates symmetric keys only; signing keys are rotated by publishing a new kid (see module doc).
            enable_key_rotation=False,
            deletion_window_in_days=30,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.kms.Alias(f"{name}-alias", name=f"alias/{args.alias}", target_key_id=self.key.key_id,
                      opts=pulumi.ResourceOptions(parent=self))
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.register_outputs({"arn": self.arn})


def rsa_jwk(public_key_der_b64: str, kid: str) -> dict[str, str]:
    """A KMS RSA public key (`GetPublicKey`: base64 DER SubjectPublicKeyInfo) as a PS256 signing JWK."""
    key = serialization.load_der_public_key(base64.b64decode(public_key_der_b64))
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"signing key {kid} is not an RSA key")
    numbers = key.public_numbers()

    def b64url(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return {"kty": "RSA", "use": "sig", "alg": "PS256", "kid": kid, "n": b64url(numbers.n), "e": b64url(numbers.e)}


def jwks_document(keys: Sequence[Mapping[str, str]]) -> str:
    """The ASPSP's public signing JWKS (keys sorted by `kid`, so the object changes only with a key)."""
    return json.dumps({"keys": sorted(keys, key=lambda k: k["kid"])}, indent=2, sort_keys=True) + "\n"
