"""The ASPSP's private signing key (response JWS, security event tokens), from a PEM file or from Secrets
Manager. Kept apart from the JWS module so that Lambdas load it without the web framework."""

from __future__ import annotations

import logging
from pathlib import Path

from joserfc.jwk import RSAKey

from .settings import ServiceSettings

log = logging.getLogger(__name__)


def load_signing_key(settings: ServiceSettings) -> RSAKey:
    """`OB_SIGNING_KEY_PATH`: a PEM file, or the ARN of a Secrets Manager secret holding the PEM.

    Only the `local` environment (sandbox, tests) may run without one: it gets an ephemeral key, announced in
    the log, so nobody mistakes its signatures for the bank's.
    """
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
    raise ValueError(f"OB_SIGNING_KEY_PATH must be set in environment {settings.environment!r}")
