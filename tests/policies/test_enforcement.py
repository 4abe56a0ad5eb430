"""Per-stack enforcement levels and policy config from --policy-pack-config JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openbanking_policies import ALL_POLICIES
from openbanking_policies._base import METADATA
from openbanking_policies.enforcement import EnforcementConfigError, load_enforcement, policy_config
from pulumi_policy import EnforcementLevel

CONFIG_DIR = Path(__file__).resolve().parents[2] / "policies" / "config"
M, A = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY


def test_empty_config_makes_everything_mandatory():
    for source in (None, {}):
        levels = load_enforcement(source, production=True)
        assert set(levels) == set(METADATA)
        assert set(levels.values()) == {M}


def test_nonprod_may_lower_downgradable_policies_in_both_forms():
    levels = load_enforcement({"ob-logs": {"enforcementLevel": "advisory", "minRetentionDays": 30},
                               "ob-ddb-deletion-protection": "disabled"}, production=False)
    assert levels["ob-logs"] == A
    assert levels["ob-ddb-deletion-protection"] == EnforcementLevel.DISABLED
    assert levels["ob-s3-pab"] == M


def test_prod_may_not_lower_and_problems_are_collected():
    with pytest.raises(EnforcementConfigError) as err:
        load_enforcement({"ob-logs": "advisory", "ob-ddb-pitr": {"enforcementLevel": "disabled"}},
                         production=True)
    assert len(err.value.problems) == 2
    assert "prod may not lower ob-logs" in str(err.value)
    assert "prod may not lower ob-ddb-pitr" in str(err.value)
    assert "\"disabled\"" in str(err.value)
    assert str(err.value).count("\n") == 1


def test_remediate_counts_as_mandatory():
    levels = load_enforcement({"ob-logs": "remediate", "ob-s3-pab": "remediate"}, production=True)
    assert levels["ob-logs"] == EnforcementLevel.REMEDIATE


def test_fixed_policies_may_not_be_lowered_anywhere():
    with pytest.raises(EnforcementConfigError) as err:
        load_enforcement({"ob-s3-pab": "advisory"}, production=False)
    assert err.value.problems[0].startswith("ob-s3-pab:") and "advisory" in err.value.problems[0]


def test_unknown_policy_and_level_are_errors():
    with pytest.raises(EnforcementConfigError) as err:
        load_enforcement({"ob-nope": "advisory", "ob-logs": "lenient", "ob-ddb-pitr": 3}, production=False)
    text = str(err.value)
    assert len(err.value.problems) == 3
    assert "ob-nope: unknown policy" in text
    assert "ob-logs: unknown enforcement level \"lenient\"" in text
    assert "ob-ddb-pitr:" in text


def test_all_key():
    with pytest.raises(EnforcementConfigError) as err:
        load_enforcement({"all": "advisory"}, production=True)
    assert "all: prod may not lower" in str(err.value)
    # non-prod: "all" may not sweep the fixed (critical) policies down ...
    with pytest.raises(EnforcementConfigError) as err:
        load_enforcement({"all": "advisory"}, production=False)
    assert "ob-s3-pab" in str(err.value)
    # ... unless each of them is pinned back to mandatory
    fixed = {n: "mandatory" for n, m in METADATA.items() if not m.nonprod_may_downgrade}
    levels = load_enforcement({"all": "advisory", **fixed}, production=False)
    assert levels["ob-logs"] == A and levels["ob-s3-pab"] == M


def test_reads_a_path_and_reports_bad_json(tmp_path):
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps({"ob-logs": "advisory"}))
    assert load_enforcement(p, production=False)["ob-logs"] == A
    assert load_enforcement(str(p), production=False)["ob-logs"] == A
    p.write_text("{oops")
    with pytest.raises(EnforcementConfigError, match="not valid JSON"):
        load_enforcement(p, production=False)


@pytest.mark.parametrize("stack,production", [("dev", False), ("sandbox", False), ("prod", True),
                                              ("foundation", True)])
def test_shipped_stack_configs_are_valid(stack, production):
    levels = load_enforcement(CONFIG_DIR / f"{stack}.json", production=production)
    policy_config(CONFIG_DIR / f"{stack}.json")
    if production:
        assert set(levels.values()) == {M}
    else:
        assert A in levels.values()


def test_policy_config_defaults_and_overrides():
    cfg = policy_config(None)
    assert cfg["ob-logs"] == {"minRetentionDays": 365}
    assert cfg["ob-rds-backup"] == {"minRetentionDays": 7}
    assert cfg["ob-s3-pab"] == {}
    assert set(cfg) == {p.name for p in ALL_POLICIES}
    cfg = policy_config({"ob-logs": {"enforcementLevel": "advisory", "minRetentionDays": 30},
                         "ob-rds-backup": "advisory", "all": "mandatory"})
    assert cfg["ob-logs"] == {"minRetentionDays": 30}
    assert cfg["ob-rds-backup"] == {"minRetentionDays": 7}


def test_policy_config_rejects_bad_values():
    with pytest.raises(EnforcementConfigError) as err:
        policy_config({"ob-logs": {"minRetentionDays": "long"}, "ob-rds-backup": {"minRetentionDays": 90},
                       "ob-s3-pab": {"colour": "red"}})
    assert len(err.value.problems) == 3
    assert "ob-logs: minRetentionDays is \"long\"" in str(err.value)
    assert "above the maximum 35" in str(err.value)
    assert "ob-s3-pab: unknown config property 'colour'" in str(err.value)


def test_prod_config_keeps_35_days_of_rds_backups_and_lowers_nothing():
    cfg = policy_config(CONFIG_DIR / "prod.json")
    assert cfg["ob-rds-backup"] == {"minRetentionDays": 35}
    levels = load_enforcement(CONFIG_DIR / "prod.json", production=True)
    assert levels["ob-rds-backup"] == M
    assert set(levels.values()) == {M}
