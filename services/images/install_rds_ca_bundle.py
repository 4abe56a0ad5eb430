"""Build step of the images that reach the ledger on Aurora: fetch the Amazon RDS certificate authorities bundle,
check it against the SHA-256 the build was given, and install it where `OB_DATABASE_SSL_ROOT_CERT` points by default.

    python install_rds_ca_bundle.py            # in a Dockerfile RUN, with ARG RDS_CA_BUNDLE_SHA256 set

Standard library only (it runs before the image's packages matter). A missing or different checksum fails the
build: the bundle decides which database servers the services trust.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path

#: Where AWS publishes the bundle of every commercial region's RDS certificate authorities.
DEFAULT_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
#: `openbanking.common.settings.RDS_CA_BUNDLE`.
DEFAULT_DESTINATION = "/etc/ssl/certs/rds-global-bundle.pem"


def main() -> int:
    expected = os.environ.get("RDS_CA_BUNDLE_SHA256", "").strip().lower()
    url = os.environ.get("RDS_CA_BUNDLE_URL", DEFAULT_URL)
    destination = Path(os.environ.get("RDS_CA_BUNDLE_DESTINATION", DEFAULT_DESTINATION))
    if len(expected) != 64:
        print("RDS_CA_BUNDLE_SHA256: build with --build-arg RDS_CA_BUNDLE_SHA256=<sha256 of "
              f"{url}> (services/README.md says how to get it)", file=sys.stderr)
        return 1
    with urllib.request.urlopen(url, timeout=30) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        print(f"RDS_CA_BUNDLE_SHA256: {url} has sha256 {digest}, not {expected}", file=sys.stderr)
        return 1
    if b"-----BEGIN CERTIFICATE-----" not in data:
        print(f"RDS_CA_BUNDLE_URL: {url} is not a PEM certificate bundle", file=sys.stderr)
        return 1
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    destination.chmod(0o444)
    print(f"installed the RDS CA bundle ({data.count(b'BEGIN CERTIFICATE')} certificates) at {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
