"""The sandbox stack's own rules: its entry is regional and trusts its CA alone, its entry without certificates is let
out by the egress proxy, and its sections are the sandbox's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from accounts.service_plane import one_off_tasks
from components.spoke_vpc import SpokeVpcArgs
from environments.config import CONFIG_KEY, SandboxConfig
from environments.sandbox import plane_args
from environments.validation import load_environment
from tests.conftest import ROOT
from tests.test_config import problems, stack_config

ENTRY = "directory.sandbox.openbanking.example-bank.co.uk"


@pytest.fixture
def bundle_dir() -> Iterator[Path]:
    """Bundles the config names relative to the project (removed afterwards)."""
    path = ROOT / ".pytest-sandbox-truststores"
    path.mkdir(exist_ok=True)
    yield path
    shutil.rmtree(path)


def test_the_shipped_sandbox_is_regional_without_shield_and_sized_cheaply() -> None:
    config = load_environment(stack_config("sandbox"))
    assert isinstance(config, SandboxConfig)
    assert config.edge.perimeter_of(config.stage).value == "regional" and not config.edge.shield_of(config.stage)
    assert config.sandbox.ledger.min_capacity == 0 and config.sandbox.ledger.instances == 1
    assert all(s.min_tasks == 1 and s.cpu == 256 for s in config.sandbox.services.sizing().values())
    assert config.open_entry_host() == ENTRY


def test_the_sandbox_entry_cannot_sit_behind_cloudfront_or_shield() -> None:
    raw = stack_config("sandbox")
    raw["edge"] |= {"perimeter": "cloudfront", "shieldAdvanced": True,
                    "originCertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:300000000002:certificate-authority/"
                                                     "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"}
    lines = problems(raw)
    assert f"{CONFIG_KEY}.edge.perimeter: 'cloudfront' is not available to the sandbox: its IdP authenticates TPPs " \
           "by the certificate of API Gateway's own mutual TLS; use regional" in lines
    assert f"{CONFIG_KEY}.edge.shieldAdvanced: true is not for the sandbox (a regional entry; synthetic data)" in lines


def test_the_sandbox_truststore_is_exactly_its_own_ca(bundle_dir: Path) -> None:
    two = bundle_dir / "two.pem"
    two.write_bytes((ROOT / "truststores/sandbox.pem").read_bytes() + (ROOT / "truststores/dev.pem").read_bytes())
    raw = stack_config("sandbox")
    raw["edge"]["truststoreBundle"] = ".pytest-sandbox-truststores/two.pem"
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.edge.truststoreBundle: '.pytest-sandbox-truststores/two.pem' holds ")
    assert line.endswith("certificates; the sandbox's holds exactly one, the sandbox CA's (python -m "
                         "openbanking.sandbox deployment-keys)")


def test_the_entry_without_certificates_must_be_let_out_by_the_egress_proxy() -> None:
    raw = stack_config("sandbox")
    raw["network"]["egressAllowedDomains"] = ["keystore.openbankingtest.org.uk"]
    assert problems(raw) == [
        f"{CONFIG_KEY}.network.egressAllowedDomains: ['keystore.openbankingtest.org.uk'] does not let out {ENTRY}, the "
        "sandbox's entry without client certificates; the authorizer could not check revocation and the services "
        "could not fetch TPPs' keys"]
    raw["network"]["egressAllowedDomains"] = [".openbanking.example-bank.co.uk"]
    assert load_environment(raw).name == "sandbox", "a wildcard that covers it will do"


def test_the_sandbox_sections_are_the_sandboxs() -> None:
    raw = stack_config("sandbox")
    del raw["sandbox"]
    assert problems(raw) == [f"{CONFIG_KEY}.sandbox: is required for a sandbox stack (the sandbox ASPSP's organisation id)"]
    raw = stack_config("dev")
    raw["sandbox"] = {"financialId": "0015800001041RHSBX"}
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.sandbox: ") and "only a sandbox stack runs the sandbox's services" in line
    raw = stack_config("sandbox")
    raw["sandbox"]["services"] = {"ingestion": {}}
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.sandbox.services.ingestion: ")


# --- what the sandbox's plane runs ----------------------------------------------------------------------------------


def test_the_sandbox_runs_both_tasks_and_a_plane_refuses_tasks_it_cannot_run() -> None:
    config = load_environment(stack_config("sandbox"))
    assert isinstance(config, SandboxConfig)
    vpc = SpokeVpcArgs(cidr_block="10.128.4.0/22", az_count=2, zone_ids=["a", "b"], region="eu-west-2",
                       transit_gateway_id="tgw-1", flow_log_bucket_arn="arn:aws:s3:::logs", segment="sandbox",
                       organization_id="o-exampl3bank1")
    args = plane_args(config, vpc, "300000000002", ROOT / "services", "arn:aws:s3:::access", "PEM")
    assert list(one_off_tasks("sbx", args)) == ["ledger_migrate", "sandbox_seed"]
    assert list(one_off_tasks("wl", replace(args, tasks=None))) == ["ledger_migrate"], "a workload's default"
    assert one_off_tasks("wl", replace(args, tasks=None, ledger=None)) == {}
    with pytest.raises(ValueError, match=r"\['ais'\] are not tasks of the registry"):
        one_off_tasks("sbx", replace(args, tasks=("ais",)))
    with pytest.raises(ValueError, match=r"\['sandbox_seed'\] use the ledger, but the account keeps none"):
        one_off_tasks("sbx", replace(args, tasks=("sandbox_seed",), ledger=None))
