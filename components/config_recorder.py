"""AWS Config recording in one account, delivered to the organization's Config bucket.

Records every supported resource type (global ones too: this is the home region) through the
service-linked role, and delivers snapshots and history to the log archive's Config bucket, encrypted
with the log archive key. The security account's organization aggregator reads what it records.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ConfigDelivery:
    """Where every account's Config recorder delivers: the log archive's Config bucket and key."""

    #: Name (not ARN) of the log archive's Config bucket the delivery channel writes snapshots and history to.
    bucket_name: pulumi.Input[str]
    #: ARN of the log archive key the delivered objects are encrypted with (the channel's `s3_kms_key_arn`).
    kms_key_arn: pulumi.Input[str]


class ConfigRecorder(pulumi.ComponentResource):
    """The account's Config recorder (all resource types), its daily-snapshot delivery channel, and its status."""

    recorder_name: pulumi.Output[str]

    def __init__(self, name: str, delivery: ConfigDelivery, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:security:ConfigRecorder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.ServiceLinkedRole(
            f"{name}-service-role",
            aws_service_name="config.amazonaws.com",
            description="AWS Config records this account's resources",
            opts=child,
        )
        recorder = aws.cfg.Recorder(
            f"{name}-recorder",
            name="default",
            role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True, include_global_resource_types=True),
            opts=child,
        )
        channel = aws.cfg.DeliveryChannel(
            f"{name}-delivery-channel",
            name="default",
            s3_bucket_name=delivery.bucket_name,
            s3_kms_key_arn=delivery.kms_key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[recorder]),
        )
        aws.cfg.RecorderStatus(
            f"{name}-recorder-status",
            name=recorder.name,
            is_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]),
        )
        self.recorder_name = recorder.name
        self.register_outputs({"recorderName": self.recorder_name})
