"""Where the sandbox's keys and certificates come from: the PEM text itself (what ECS `secrets` injects from Secrets
Manager into a variable), a file (the local sandbox's state directory, or a mounted secret), a Secrets Manager
secret (`arn:aws:secretsmanager:...`) or an S3 object (`s3://bucket/key`, e.g. the API Gateway truststore holding
the CA certificate)."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def read_material(location: str, *, region: str, setting: str) -> bytes:
    """The bytes at (or of) `location`; `setting` names the variable it came from, for the error message."""
    if location.lstrip().startswith("-----BEGIN"):
        return location.encode()
    try:
        if location.startswith("arn:aws:secretsmanager:"):
            import boto3

            secret = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=location)
            text = secret.get("SecretString")
            return text.encode() if text is not None else bytes(secret["SecretBinary"])
        if location.startswith("s3://"):
            import boto3

            bucket, _, key = location.removeprefix("s3://").partition("/")
            return boto3.client("s3", region_name=region).get_object(Bucket=bucket, Key=key)["Body"].read()
        return Path(location).read_bytes()
    except Exception as exc:  # any failure is the operator's to fix, named by its setting
        raise ValueError(f"{setting}: {location!r} cannot be read ({type(exc).__name__}: {exc})") from exc


def load_private_key(data: bytes, setting: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """An unencrypted PEM private key, EC or RSA."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{setting}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"{setting}: the key must be EC or RSA, not {type(key).__name__}")
    return key


def load_certificate(data: bytes, setting: str) -> x509.Certificate:
    """The first certificate of a PEM bundle."""
    try:
        return x509.load_pem_x509_certificates(data)[0]
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{setting}: not a PEM certificate ({exc})") from exc
