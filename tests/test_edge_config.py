"""The `edge` section and the edge components' refusals: a bad truststore, a perimeter without what it needs, or
contradictory inputs stop the program with one line each, before anything is built."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from components.private_integration import PrivateServiceLink, PrivateServiceLinkArgs, pinned_address
from components.signing_key import rsa_jwk
from components.web_acl import WebAcl, WebAclArgs
from environments.config import PROJECT_DIR, Perimeter, Stage, WorkloadConfig
from environments.edge import truststore_pem
from environments.validation import load_environment
from tests.test_config import problems, stack_config

K = "landingzone:environment"
ORIGIN_CA = "arn:aws:acm-pca:us-east-1:400000000001:certificate-authority/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"


def certificate(*, ca: bool, expires_in_days: int = 365) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA" if ca else "test leaf")])
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=2 * 365))
               .not_valid_after(now + timedelta(days=expires_in_days)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def bundle_dir() -> Iterator[Path]:
    """A directory inside the project for test bundles (the config names files relative to the project)."""
    directory = PROJECT_DIR / ".pytest-truststores"
    directory.mkdir(exist_ok=True)
    yield directory
    for file in directory.iterdir():
        file.unlink()
    directory.rmdir()


def test_the_perimeter_defaults_by_stage_and_shield_follows_cloudfront() -> None:
    dev = load_environment(stack_config("dev"))
    prod = load_environment(stack_config("prod"))
    assert isinstance(dev, WorkloadConfig) and isinstance(prod, WorkloadConfig)
    raw = stack_config("prod")
    del raw["edge"]["perimeter"], raw["edge"]["shieldAdvanced"]
    defaulted = load_environment(raw)
    assert isinstance(defaulted, WorkloadConfig)
    assert defaulted.edge.perimeter_of(Stage.PROD) is Perimeter.CLOUDFRONT and defaulted.edge.shield_of(Stage.PROD)
    raw = stack_config("dev")
    del raw["edge"]["perimeter"]
    defaulted = load_environment(raw)
    assert isinstance(defaulted, WorkloadConfig)
    assert defaulted.edge.perimeter_of(Stage.NONPROD) is Perimeter.REGIONAL
    assert not defaulted.edge.shield_of(Stage.NONPROD)


def test_the_edge_is_required_with_its_truststore() -> None:
    raw = stack_config("dev")
    del raw["edge"]
    assert problems(raw) == [f"{K}.edge: is required for a workload stack (the TPPs' CA bundle (the API's truststore))"]
    raw = stack_config("dev")
    del raw["edge"]["truststoreBundle"]
    assert problems(raw) == [f"{K}.edge.truststoreBundle: is required"]


def test_each_perimeter_gets_what_it_needs_and_nothing_meant_for_the_other() -> None:
    raw = stack_config("prod")
    del raw["edge"]["originCertificateAuthorityArn"]
    [line] = problems(raw)
    assert line.startswith(f"{K}.edge.originCertificateAuthorityArn: is missing; the cloudfront perimeter needs")
    raw = stack_config("dev")
    raw["edge"] |= {"originCertificateAuthorityArn": ORIGIN_CA, "shieldAdvanced": True}
    lines = problems(raw)
    assert lines == [
        f"{K}.edge.originCertificateAuthorityArn: '{ORIGIN_CA}' is only used by the cloudfront perimeter; this "
        "stack's perimeter is regional",
        f"{K}.edge.shieldAdvanced: true needs the cloudfront perimeter: Shield Advanced cannot protect a regional "
        "API Gateway",
    ]
    raw = stack_config("prod")
    raw["edge"]["originCertificateAuthorityArn"] = ORIGIN_CA.replace("us-east-1", "eu-west-2")
    [line] = problems(raw)
    assert line.startswith(f"{K}.edge.originCertificateAuthorityArn: ") and "us-east-1" in line


@pytest.mark.parametrize(("field", "value"), [
    ("throttleRate", 0), ("throttleBurst", 5001), ("rateLimitPerIp", 9), ("maxRequestBodyKib", 17),
    ("perimeter", "edge"), ("shieldAdvanced", "yes"), ("throttleBurst", "100"),
])
def test_edge_limits_are_checked(field: str, value: object) -> None:
    raw = stack_config("dev")
    raw["edge"][field] = value
    [line] = problems(raw)
    assert line.startswith(f"{K}.edge.{field}: ")


def test_a_truststore_that_is_no_ca_bundle_is_refused_with_what_is_wrong(bundle_dir: Path) -> None:
    cases = {
        "missing.pem": (None, "is not a file"),
        "garbage.pem": (b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "does not parse"),
        "empty.pem": (b"# nothing here\n", "holds no PEM certificate"),
        "leaf.pem": (certificate(ca=False), "is not a CA certificate"),
        "expired.pem": (certificate(ca=True) + certificate(ca=True, expires_in_days=-1), "certificate 1 "),
        "huge.pem": (certificate(ca=True) * 3000, "at most 1048576"),
    }
    for name, (content, expected) in cases.items():
        if content is not None:
            (bundle_dir / name).write_bytes(content)
        raw = stack_config("dev")
        raw["edge"]["truststoreBundle"] = f".pytest-truststores/{name}"
        [line] = problems(raw)
        assert line.startswith(f"{K}.edge.truststoreBundle: '.pytest-truststores/{name}' ") and expected in line, line


def test_the_uploaded_truststore_is_the_bundles_certificates_and_nothing_else(bundle_dir: Path) -> None:
    first, second = certificate(ca=True), certificate(ca=True)
    (bundle_dir / "commented.pem").write_bytes(b"# the directory's CAs\n" + first + b"\nstray text\n" + second)
    pem = truststore_pem(".pytest-truststores/commented.pem")
    assert pem == (first + second).decode()
    assert len(x509.load_pem_x509_certificates(pem.encode())) == 2


def test_a_kms_public_key_becomes_a_ps256_jwk() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk = rsa_jwk(base64.b64encode(der).decode(), "1234abcd-12ab-34cd-56ef-1234567890ab")
    numbers = key.public_key().public_numbers()
    assert jwk["kid"] == "1234abcd-12ab-34cd-56ef-1234567890ab" and jwk["alg"] == "PS256" and jwk["e"] == "AQAB"
    assert int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=="), "big") == numbers.n
    ec_der = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError, match="is not an RSA key"):
        rsa_jwk(base64.b64encode(ec_der).decode(), "ec")


# --- the components' own refusals ----------------------------------------------------------------------------

def test_pinned_addresses_are_fixed_per_slot_and_stay_inside_the_subnet() -> None:
    assert pinned_address("10.64.9.0/26", 0) == "10.64.9.10"
    assert pinned_address("10.64.9.0/26", 2) == "10.64.9.12"
    with pytest.raises(ValueError, match="no address for endpoint slot 60"):
        pinned_address("10.64.9.0/26", 60)


@pulumi.runtime.test
def test_a_web_acl_refuses_a_body_limit_waf_cannot_inspect() -> None:
    base = dict(acl_name="t", scope="REGIONAL", rate_limit_per_ip=100, log_bucket_arn="arn:aws:s3:::aws-waf-logs-t")
    with pytest.raises(ValueError, match="outside 1-16384"):
        WebAcl("too-large", WebAclArgs(max_body_bytes=16 * 1024 + 1, **base))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate_limit_per_ip 5 is outside"):
        WebAcl("too-low", WebAclArgs(max_body_bytes=1024, **{**base, "rate_limit_per_ip": 5}))  # type: ignore[arg-type]


@pulumi.runtime.test
def test_a_private_link_refuses_subnets_and_cidrs_that_do_not_pair() -> None:
    with pytest.raises(ValueError, match="2 data subnets but 1 CIDRs"):
        PrivateServiceLink("mismatch", PrivateServiceLinkArgs(
            service="ais", slot=0, endpoint_service_name="com.amazonaws.vpce.eu-west-2.vpce-svc-1", vpc_id="vpc-1",
            data_subnet_ids=["subnet-1", "subnet-2"], data_subnet_cidrs=["10.0.0.0/26"],
            private_subnet_ids=["subnet-3"], private_subnet_cidrs=["10.0.1.0/26"], name_prefix="t",
            access_logs_bucket="logs"))
