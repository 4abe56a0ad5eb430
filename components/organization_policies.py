"""Tag and backup policy documents (AWS Organizations management policies), as pure functions.

The tag policy pins the spelling of the governance tags every provider stamps (`default_tags`), so
cost and data-classification reports group correctly; the backup policy gives every production
account the same daily backup plan without anyone in that account having to create it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Resource types on which a non-compliant governance tag value is refused, not merely reported.
TAG_ENFORCED_FOR = ("s3:bucket", "dynamodb:table")

#: The role AWS Backup assumes in each member account (created by AWS Backup on first use).
BACKUP_ROLE = "arn:aws:iam::$account:role/service-role/AWSBackupDefaultServiceRole"


def tag_policy(tag_keys: Sequence[str], allowed_values: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Each key with its exact capitalisation; listed keys only accept the listed values."""
    tags: dict[str, Any] = {}
    for key in tag_keys:
        rule: dict[str, Any] = {"tag_key": {"@@assign": key}}
        if key in allowed_values:
            rule["tag_value"] = {"@@assign": sorted(allowed_values[key])}
            rule["enforced_for"] = {"@@assign": list(TAG_ENFORCED_FOR)}
        tags[key] = rule
    unknown = set(allowed_values) - set(tag_keys)
    if unknown:
        raise ValueError(f"tag policy: allowed values given for keys that are not governed: {sorted(unknown)}")
    return {"tags": tags}


def backup_policy(plan_name: str, regions: Sequence[str], retention_days: int,
                  selection_tag: str, selection_values: Sequence[str]) -> dict[str, Any]:
    """A daily backup at 03:00 UTC of every resource tagged `selection_tag` in `selection_values`,
    kept `retention_days` in the account's Default vault."""
    if retention_days < 1:
        raise ValueError(f"backup policy {plan_name!r}: retention must be at least one day")
    return {"plans": {plan_name: {
        "regions": {"@@assign": sorted(regions)},
        "rules": {"daily": {
            "schedule_expression": {"@@assign": "cron(0 3 ? * * *)"},
            "start_backup_window_minutes": {"@@assign": "60"},
            "complete_backup_window_minutes": {"@@assign": "720"},
            "target_backup_vault_name": {"@@assign": "Default"},
            "lifecycle": {"delete_after_days": {"@@assign": str(retention_days)}},
        }},
        "selections": {"tags": {f"{plan_name}-selection": {
            "iam_role_arn": {"@@assign": BACKUP_ROLE},
            "tag_key": {"@@assign": selection_tag},
            "tag_value": {"@@assign": sorted(selection_values)},
        }}},
    }}}
