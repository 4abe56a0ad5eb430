"""KMS under moto, signing the way AWS KMS does.

moto 5.2.5 answers `Sign` for `RSASSA_PSS_SHA_256` with the *maximum* PSS salt length and ignores `MessageType`
(its docs: DIGEST "is not yet implemented"), so it hashes a digest a second time. AWS KMS uses a 32-byte salt for
RSASSA_PSS_SHA_256 (PKCS #1 v2.2 with a 256-bit salt, as JOSE's PS256 requires) and signs a DIGEST message as the
digest. :func:`kms_signing_as_aws` makes moto's `Sign` do exactly that for RSA PSS keys, after moto's own checks
(key state, key usage, algorithm); key creation, `GetPublicKey` and every other call stay moto's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from moto import mock_aws
from moto.kms.responses import KmsResponse
from moto.kms.utils import RSAPrivateKey

REGION = "eu-west-2"
_PSS = {"RSASSA_PSS_SHA_256": hashes.SHA256}


def _sign_as_aws(original: Any) -> Any:
    def sign(self: KmsResponse) -> str:
        algorithm = self._get_param("SigningAlgorithm")
        if algorithm not in _PSS:
            return original(self)
        key_id, message = self._get_param("KeyId"), self._get_param("Message")
        message_type = self._get_param("MessageType") or "RAW"
        arn, _, _ = self.kms_backend.sign(key_id=key_id, message=message, signing_algorithm=algorithm)  # checks
        digest = _PSS[algorithm]()
        if message_type == "DIGEST" and len(message) != digest.digest_size:
            raise AssertionError(f"a DIGEST message for {algorithm} is {digest.digest_size} bytes, not {len(message)}")
        key = self.kms_backend.describe_key(key_id).private_key
        assert isinstance(key, RSAPrivateKey), "RSASSA_PSS algorithms are offered by RSA keys only"
        signature = key.private_key.sign(message, padding.PSS(mgf=padding.MGF1(_PSS[algorithm]()),
                                                      salt_length=digest.digest_size),
                                 utils.Prehashed(digest) if message_type == "DIGEST" else digest)
        return json.dumps({"KeyId": arn, "Signature": base64.b64encode(signature).decode(),
                           "SigningAlgorithm": algorithm})
    return sign


@contextmanager
def kms_signing_as_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's AWS with KMS signing as AWS does; yields a KMS client."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setattr(KmsResponse, "sign", _sign_as_aws(KmsResponse.sign))
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def signing_key(kms: Any) -> str:
    """A new asymmetric RSA signing key, as the workload account's `ServiceEvents` creates it: its ARN."""
    return kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY",
                          Description="ASPSP response and event signing (PS256)")["KeyMetadata"]["Arn"]
