"""The sandbox's directory: the TPPs registered with the sandbox CA, the certificates it issued them, which of those
are revoked, and each TPP's public request-signing keys (what the Open Banking Directory holds for production).

A TPP id is registered once, first come: the registration answers a secret, and only its holder may have more
certificates issued for that TPP, add signing keys or revoke its certificates, so in a shared sandbox nobody can
act as another TPP. The secret is kept only as a SHA-256 digest.

Two stores behind one protocol: :class:`FileDirectory` (a directory on disk, the local sandbox's state, so it
survives restarts) and :class:`DynamoDirectory` (the `sandbox_directory` table, in the deployed sandbox, where the
CA and the IdP run as separate services).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError
from joserfc.jwk import RSAKey

from openbanking.common.dynamo_items import expression_values, from_item, is_condition_failure, to_item
from openbanking.common.jws import KeyNotFound

#: A TPP id (and a client id): letters, digits, `-` and `_`, as they appear in certificates, paths and file names.
TPP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_TPP_ID = re.compile(TPP_ID_PATTERN)


def check_tpp_id(tpp_id: str) -> str:
    if not _TPP_ID.match(tpp_id):
        raise ValueError(f"TppId: {tpp_id!r} must be 1-64 letters, digits, '-' or '_', starting with a letter or digit")
    return tpp_id


class TppTaken(Exception):
    """The TPP id is registered already (by whoever holds its secret)."""


@dataclass(frozen=True)
class IssuedCertificate:
    """A client certificate the sandbox CA issued."""

    serial: int
    tpp_id: str
    client_id: str
    not_after: datetime
    revoked_at: datetime | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class SandboxDirectory(Protocol):
    def register(self, tpp_id: str) -> str:
        """Register `tpp_id` and return its secret; :class:`TppTaken` when it is registered already."""
        ...

    def holds_secret(self, tpp_id: str, secret: str) -> bool:
        """Whether `secret` is the registration secret of `tpp_id`."""
        ...

    def record_certificate(self, issued: IssuedCertificate) -> None: ...

    def certificate(self, serial: int) -> IssuedCertificate | None: ...

    def revoke(self, serial: int, at: datetime) -> IssuedCertificate | None:
        """Mark the certificate revoked (once: a second revocation keeps the first time); None if unknown."""
        ...

    def revoked(self) -> dict[int, datetime]:
        """Every revoked serial number and when it was revoked (the CRL)."""
        ...

    def add_signing_key(self, tpp_id: str, jwk: dict[str, Any]) -> None:
        """Add a public JWK to the TPP's JWKS (a key with the same `kid` is replaced)."""
        ...

    def jwks(self, tpp_id: str) -> dict[str, Any] | None:
        """The TPP's public signing keys as a JWKS, or None for an unknown TPP."""
        ...


def _merged(keys: list[dict[str, Any]], jwk: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(k for k in keys if k.get("kid") != jwk.get("kid")), jwk]


class FileDirectory:
    """The directory as JSON files under `root` (private to the user running the sandbox)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _path(self, folder: str, name: str) -> Path:
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{name!r} is not a directory entry name")
        return self.root / folder / name

    def _read(self, path: Path) -> Any:
        return json.loads(path.read_text()) if path.exists() else None

    def _write(self, path: Path, value: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(value, handle, indent=2, sort_keys=True)
        scratch.replace(path)

    def register(self, tpp_id: str) -> str:
        with self._lock:
            path = self._path("tpps", f"{check_tpp_id(tpp_id)}.json")
            if path.exists():
                raise TppTaken(tpp_id)
            secret = new_secret()
            self._write(path, {"TppId": tpp_id, "SecretDigest": digest(secret),
                               "RegisteredAt": datetime.now(UTC).isoformat(), "Keys": []})
            return secret

    def holds_secret(self, tpp_id: str, secret: str) -> bool:
        record = self._read(self._path("tpps", f"{tpp_id}.json"))
        return record is not None and hmac.compare_digest(record["SecretDigest"], digest(secret))

    def record_certificate(self, issued: IssuedCertificate) -> None:
        with self._lock:
            self._write(self._path("certificates", f"{issued.serial:x}.json"), _certificate_document(issued))

    def certificate(self, serial: int) -> IssuedCertificate | None:
        record = self._read(self._path("certificates", f"{serial:x}.json"))
        return _certificate_of(record) if record else None

    def revoke(self, serial: int, at: datetime) -> IssuedCertificate | None:
        with self._lock:
            path = self._path("certificates", f"{serial:x}.json")
            record = self._read(path)
            if record is None:
                return None
            record.setdefault("RevokedAt", at.isoformat())
            self._write(path, record)
            return _certificate_of(record)

    def revoked(self) -> dict[int, datetime]:
        folder = self.root / "certificates"
        found: dict[int, datetime] = {}
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            record = json.loads(path.read_text())
            if record.get("RevokedAt"):
                found[int(record["SerialNumber"], 16)] = datetime.fromisoformat(record["RevokedAt"])
        return found

    def add_signing_key(self, tpp_id: str, jwk: dict[str, Any]) -> None:
        with self._lock:
            path = self._path("tpps", f"{tpp_id}.json")
            record = self._read(path)
            if record is None:
                raise KeyError(tpp_id)
            record["Keys"] = _merged(record["Keys"], jwk)
            self._write(path, record)

    def jwks(self, tpp_id: str) -> dict[str, Any] | None:
        record = self._read(self._path("tpps", f"{tpp_id}.json"))
        return {"keys": record["Keys"]} if record is not None else None


def _certificate_document(issued: IssuedCertificate) -> dict[str, Any]:
    document = {"SerialNumber": f"{issued.serial:x}", "TppId": issued.tpp_id, "ClientId": issued.client_id,
                "NotAfter": issued.not_after.isoformat()}
    if issued.revoked_at is not None:
        document["RevokedAt"] = issued.revoked_at.isoformat()
    return document


def _certificate_of(record: dict[str, Any]) -> IssuedCertificate:
    revoked = record.get("RevokedAt")
    return IssuedCertificate(int(record["SerialNumber"], 16), record["TppId"], record["ClientId"],
                             datetime.fromisoformat(record["NotAfter"]),
                             datetime.fromisoformat(revoked) if revoked else None)


class DynamoDirectory:
    """The directory in the `sandbox_directory` table: one item per TPP (`Key` = `tpp#<id>`) and per certificate
    (`Key` = `cert#<serial, hex>`)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _get(self, key: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=to_item({"Key": key}), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def register(self, tpp_id: str) -> str:
        secret = new_secret()
        try:
            self.client.put_item(TableName=self.table, Item=to_item({
                "Key": f"tpp#{tpp_id}", "TppId": tpp_id, "SecretDigest": digest(secret),
                "RegisteredAt": datetime.now(UTC).isoformat(), "Keys": "[]"}),
                ConditionExpression="attribute_not_exists(#key)", ExpressionAttributeNames={"#key": "Key"})
        except ClientError as exc:
            if is_condition_failure(exc):
                raise TppTaken(tpp_id) from None
            raise
        return secret

    def holds_secret(self, tpp_id: str, secret: str) -> bool:
        record = self._get(f"tpp#{tpp_id}")
        return record is not None and hmac.compare_digest(str(record["SecretDigest"]), digest(secret))

    def record_certificate(self, issued: IssuedCertificate) -> None:
        self.client.put_item(TableName=self.table, Item=to_item({"Key": f"cert#{issued.serial:x}",
                                                                 **_certificate_document(issued)}))

    def certificate(self, serial: int) -> IssuedCertificate | None:
        record = self._get(f"cert#{serial:x}")
        return _certificate_of(record) if record else None

    def revoke(self, serial: int, at: datetime) -> IssuedCertificate | None:
        try:
            self.client.update_item(
                TableName=self.table, Key=to_item({"Key": f"cert#{serial:x}"}),
                UpdateExpression="SET RevokedAt = if_not_exists(RevokedAt, :at)",
                ConditionExpression="attribute_exists(#key)", ExpressionAttributeNames={"#key": "Key"},
                ExpressionAttributeValues=expression_values(at=at.isoformat()))
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return self.certificate(serial)

    def revoked(self) -> dict[int, datetime]:
        found: dict[int, datetime] = {}
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table, FilterExpression="attribute_exists(RevokedAt)", ConsistentRead=True)
        for page in pages:
            for item in page.get("Items", []):
                record = from_item(item)
                found[int(record["SerialNumber"], 16)] = datetime.fromisoformat(record["RevokedAt"])
        return found

    def add_signing_key(self, tpp_id: str, jwk: dict[str, Any]) -> None:
        for _ in range(5):  # optimistic: the key list is replaced only if nobody changed it meanwhile
            record = self._get(f"tpp#{tpp_id}")
            if record is None:
                raise KeyError(tpp_id)
            current = str(record["Keys"])
            try:
                self.client.update_item(
                    TableName=self.table, Key=to_item({"Key": f"tpp#{tpp_id}"}), UpdateExpression="SET #keys = :new",
                    ConditionExpression="#keys = :current", ExpressionAttributeNames={"#keys": "Keys"},
                    ExpressionAttributeValues=expression_values(
                        new=json.dumps(_merged(json.loads(current), jwk)), current=current))
                return
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
        raise RuntimeError(f"the signing keys of TPP {tpp_id} kept changing; try again")

    def jwks(self, tpp_id: str) -> dict[str, Any] | None:
        record = self._get(f"tpp#{tpp_id}")
        return {"keys": json.loads(str(record["Keys"]))} if record is not None else None


class DirectoryKeyResolver:
    """:class:`openbanking.common.jws.KeyResolver` over the directory's TPP signing keys, read per call (a key a TPP
    adds is known at once). The local sandbox's services use it; deployed, they fetch the CA service's
    `/sandbox/tpps/{tpp_id}/jwks` like any directory JWKS (`OB_TPP_JWKS_URL_TEMPLATE`)."""

    def __init__(self, directory: SandboxDirectory) -> None:
        self.directory = directory

    def resolve(self, tpp_id: str, kid: str) -> RSAKey:
        document = self.directory.jwks(tpp_id) if _TPP_ID.match(tpp_id) else None
        for entry in (document or {}).get("keys", []):
            if entry.get("kid") == kid and entry.get("kty") == "RSA":
                return RSAKey.import_key(entry)
        raise KeyNotFound(kid)
