"""The ASPSP's private signing key (response `x-jws-signature`, event SETs), PS256 only.

Deployed, the key is an asymmetric RSA key in AWS KMS (`OB_SIGNING_KMS_KEY_ARN`, key spec RSA_2048 or larger,
usage SIGN_VERIFY): the private key never leaves KMS, which signs the SHA-256 digest of each JWS signing input with
`RSASSA_PSS_SHA_256` (= PS256: PSS, MGF1 with SHA-256, 32-byte salt). The sandbox and the tests sign with a PEM key
in memory (`OB_SIGNING_KEY_PATH`: a file, or a Secrets Manager ARN holding the PEM).

Kept apart from the JWS module so that Lambdas load it without the web framework.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry

from .settings import ServiceSettings

log = logging.getLogger(__name__)

ALGORITHM = "PS256"
#: The KMS signing algorithm that is PS256.
KMS_SIGNING_ALGORITHM = "RSASSA_PSS_SHA_256"


class KmsRsaKey:
    """An RSA private key that lives in KMS. `sign` asks KMS to sign the SHA-256 digest of the JWS signing input
    (`MessageType=DIGEST`: no 4 KB message limit, and the body never leaves the service); `public_key` is the key's
    public half from `GetPublicKey`, fetched once."""

    is_private = True

    def __init__(self, client: Any, key_id: str) -> None:
        self.client = client
        self.key_id = key_id
        self._public: RSAKey | None = None
        self._lock = threading.Lock()

    def sign(self, signing_input: bytes) -> bytes:
        digest = hashlib.sha256(signing_input).digest()
        answer = self.client.sign(KeyId=self.key_id, Message=digest, MessageType="DIGEST",
                                  SigningAlgorithm=KMS_SIGNING_ALGORITHM)
        return answer["Signature"]

    def public_key(self) -> RSAKey:
        """The public key, checked to be an RSA signing key that offers PS256."""
        with self._lock:
            if self._public is None:
                answer = self.client.get_public_key(KeyId=self.key_id)
                if answer.get("KeyUsage") != "SIGN_VERIFY" or KMS_SIGNING_ALGORITHM not in answer.get(
                        "SigningAlgorithms", []):
                    raise ValueError(f"OB_SIGNING_KMS_KEY_ARN: {self.key_id} is not an RSA SIGN_VERIFY key offering "
                                     f"{KMS_SIGNING_ALGORITHM} (key spec {answer.get('KeySpec')})")
                self._public = RSAKey.import_key(answer["PublicKey"])
            return self._public


#: A private signing key: in memory (PEM) or in KMS.
SigningKey = RSAKey | KmsRsaKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_compact(key: SigningKey, header: dict[str, Any], payload: bytes) -> str:
    """A compact JWS (`<header>.<payload>.<signature>`) over `payload` with a PS256 `header`, by either kind of key."""
    if header.get("alg") != ALGORITHM:
        raise ValueError(f"only {ALGORITHM} signatures are made, not {header.get('alg')!r}")
    signing_input = f"{_b64url(json.dumps(header, separators=(',', ':')).encode())}.{_b64url(payload)}"
    if isinstance(key, KmsRsaKey):
        signature = key.sign(signing_input.encode("ascii"))
    else:
        signature = JWSRegistry.algorithms[ALGORITHM].sign(signing_input.encode("ascii"), key)
    return f"{signing_input}.{_b64url(signature)}"


def public_jwk(key: SigningKey, kid: str) -> dict[str, Any]:
    """The public JWK a TPP verifies our signatures with (as published in the directory)."""
    public = key.public_key() if isinstance(key, KmsRsaKey) else key
    return {**public.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}


def load_signing_key(settings: ServiceSettings) -> SigningKey:
    """`OB_SIGNING_KMS_KEY_ARN` (a KMS key), else `OB_SIGNING_KEY_PATH` (a PEM file, or the ARN of a Secrets
    Manager secret holding the PEM).

    Only the `local` environment (sandbox, tests) may run without either: it gets an ephemeral key, announced in
    the log, so nobody mistakes its signatures for the bank's.
    """
    if settings.signing_kms_key_arn:
        import boto3

        return KmsRsaKey(boto3.client("kms", region_name=settings.aws_region), settings.signing_kms_key_arn)
    location = settings.signing_key_path
    if location and location.startswith("arn:aws:secretsmanager:"):
        import boto3

        secret = boto3.client("secretsmanager", region_name=settings.aws_region).get_secret_value(SecretId=location)
        return RSAKey.import_key(secret["SecretString"])
    if location:
        return RSAKey.import_key(Path(location).read_bytes())
    if settings.environment == "local":
        log.warning("OB_SIGNING_KEY_PATH is not set: signing with an ephemeral key (local only)")
        return RSAKey.generate_key(2048, private=True)
    raise ValueError(f"OB_SIGNING_KMS_KEY_ARN: not set; environment {settings.environment!r} needs the signing key "
                     "(OB_SIGNING_KEY_PATH is the sandbox's alternative)")
