"""Messaging: SQS, SNS and EventBridge with customer-managed keys."""

from __future__ import annotations

import pytest
from openbanking_policies import messaging as msg
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"
CASES = [(msg.QUEUE, "kmsMasterKeyId"), (msg.TOPIC, "kmsMasterKeyId"), (msg.EVENT_BUS, "kmsKeyIdentifier")]


@pytest.mark.parametrize("typ,prop", CASES)
def test_cmk_passes(typ, prop):
    assert run_resource_policy(msg.msg_cmk, typ, {prop: KEY}) == []


@pytest.mark.parametrize("typ,prop", CASES)
def test_unknown_key_at_preview_passes(typ, prop):
    assert run_resource_policy(msg.msg_cmk, typ, {prop: UNKNOWN_STRING_VALUE}) == []


@pytest.mark.parametrize("typ,prop", CASES)
def test_missing_key_fails(typ, prop):
    msgs = run_resource_policy(msg.msg_cmk, typ, {"name": "x"})
    assert len(msgs) == 1 and f"`{prop}` is not set" in msgs[0]


@pytest.mark.parametrize("typ,prop,managed", [
    (msg.QUEUE, "kmsMasterKeyId", "alias/aws/sqs"),
    (msg.TOPIC, "kmsMasterKeyId", "arn:aws:kms:eu-west-2:111111111111:alias/aws/sns"),
    (msg.EVENT_BUS, "kmsKeyIdentifier", "alias/aws/events"),
])
def test_aws_managed_key_fails(typ, prop, managed):
    msgs = run_resource_policy(msg.msg_cmk, typ, {prop: managed})
    assert len(msgs) == 1 and managed in msgs[0] and "AWS-managed" in msgs[0]


def test_sqs_managed_sse_is_not_enough():
    msgs = run_resource_policy(msg.msg_cmk, msg.QUEUE, {"sqsManagedSseEnabled": True})
    assert len(msgs) == 1 and "SQS-managed SSE" in msgs[0]


# ob-msk ---------------------------------------------------------------------------------------------

MSK_OK = {
    "clusterName": "core-banking",
    "encryptionInfo": {"encryptionAtRestKmsKeyArn": KEY,
                       "encryptionInTransit": {"clientBroker": "TLS", "inCluster": True}},
    "clientAuthentication": {"sasl": {"iam": True}, "unauthenticated": False},
    "brokerNodeGroupInfo": {"instanceType": "kafka.m7g.large", "clientSubnets": ["subnet-1"],
                            "connectivityInfo": {"publicAccess": {"type": "DISABLED"}}},
    "loggingInfo": {"brokerLogs": {"cloudwatchLogs": {"enabled": True, "logGroup": "/msk/core-banking"}}},
}


def test_msk_cluster_passes():
    assert run_resource_policy(msg.msk, msg.MSK_CLUSTER, MSK_OK) == []
    scram_only = {**MSK_OK, "clientAuthentication": {"sasl": {"scram": True}}}
    assert run_resource_policy(msg.msk, msg.MSK_CLUSTER, scram_only) == []
    mtls = {**MSK_OK, "clientAuthentication": {"tls": {"certificateAuthorityArns": ["arn:aws:acm-pca:r:1:ca/x"]}}}
    assert run_resource_policy(msg.msk, msg.MSK_CLUSTER, mtls) == []


def test_msk_cluster_defaults_fail():
    msgs = run_resource_policy(msg.msk, msg.MSK_CLUSTER, {"clusterName": "c", "kafkaVersion": "3.6.0"})
    joined = "\n".join(msgs)
    assert "`encryptionInfo.encryptionAtRestKmsKeyArn` is not set" in joined
    assert "`clientAuthentication` enables neither" in joined
    assert "`loggingInfo.brokerLogs` enables no destination" in joined
    assert len(msgs) == 3  # TLS in transit, in-cluster TLS and no public access are the AWS defaults


@pytest.mark.parametrize(("change", "fragment"), [
    ({"encryptionInfo": {"encryptionAtRestKmsKeyArn": KEY, "encryptionInTransit": {"clientBroker": "TLS_PLAINTEXT"}}},
     '`encryptionInfo.encryptionInTransit.clientBroker` is "TLS_PLAINTEXT"'),
    ({"encryptionInfo": {"encryptionAtRestKmsKeyArn": KEY, "encryptionInTransit": {"inCluster": False}}},
     "`encryptionInfo.encryptionInTransit.inCluster` is false"),
    ({"clientAuthentication": {"sasl": {"iam": True}, "unauthenticated": True}},
     "`clientAuthentication.unauthenticated` is true"),
    ({"brokerNodeGroupInfo": {"connectivityInfo": {"publicAccess": {"type": "SERVICE_PROVIDED_EIPS"}}}},
     '"SERVICE_PROVIDED_EIPS"'),
    ({"loggingInfo": {"brokerLogs": {"cloudwatchLogs": {"enabled": False}}}}, "enables no destination"),
    ({"encryptionInfo": {"encryptionAtRestKmsKeyArn": "alias/aws/msk"}}, "AWS-managed"),
])
def test_msk_cluster_mistakes_fail(change, fragment):
    msgs = run_resource_policy(msg.msk, msg.MSK_CLUSTER, {**MSK_OK, **change})
    assert len(msgs) == 1 and fragment in msgs[0], msgs


def test_msk_serverless_needs_iam():
    ok = {"clusterName": "c", "clientAuthentication": {"sasl": {"iam": {"enabled": True}}}}
    assert run_resource_policy(msg.msk, msg.MSK_SERVERLESS, ok) == []
    msgs = run_resource_policy(msg.msk, msg.MSK_SERVERLESS,
                               {"clusterName": "c", "clientAuthentication": {"sasl": {"iam": {"enabled": False}}}})
    assert len(msgs) == 1 and "`clientAuthentication.sasl.iam.enabled` is false" in msgs[0]


# ob-mq ----------------------------------------------------------------------------------------------

RABBIT_OK = {"engineType": "RabbitMQ", "publiclyAccessible": False, "autoMinorVersionUpgrade": True,
             "logs": {"general": True}, "deploymentMode": "CLUSTER_MULTI_AZ"}
ACTIVEMQ_OK = {**RABBIT_OK, "engineType": "ActiveMQ", "logs": {"general": True, "audit": True},
               "encryptionOptions": {"useAwsOwnedKey": False, "kmsKeyId": KEY}}


@pytest.mark.parametrize("props", [RABBIT_OK, ACTIVEMQ_OK], ids=["rabbitmq", "activemq"])
def test_mq_broker_passes(props):
    assert run_resource_policy(msg.mq, msg.MQ_BROKER, props) == []


def test_mq_rabbitmq_defaults_fail_but_need_no_cmk():
    msgs = run_resource_policy(msg.mq, msg.MQ_BROKER, {"engineType": "RabbitMQ", "publiclyAccessible": True})
    joined = "\n".join(msgs)
    assert "`publiclyAccessible` is true" in joined
    assert "`autoMinorVersionUpgrade` is not set" in joined and "`logs.general` is not set" in joined
    assert len(msgs) == 3


@pytest.mark.parametrize(("change", "fragment"), [
    ({"logs": {"general": True}}, "`logs.audit` is not set"),
    ({"encryptionOptions": {"useAwsOwnedKey": True}}, "`encryptionOptions.useAwsOwnedKey` is true"),
    ({"encryptionOptions": None}, "AWS default: true"),
    ({"encryptionOptions": {"useAwsOwnedKey": False}}, "`encryptionOptions.kmsKeyId` is not set"),
])
def test_mq_activemq_mistakes_fail(change, fragment):
    msgs = run_resource_policy(msg.mq, msg.MQ_BROKER, {**ACTIVEMQ_OK, **change})
    assert len(msgs) == 1 and fragment in msgs[0], msgs


# ob-eventbridge-dlq ---------------------------------------------------------------------------------

DLQ = "arn:aws:sqs:eu-west-2:111111111111:events-dlq"
STREAM = "arn:aws:dynamodb:eu-west-2:111111111111:table/payments/stream/2026-01-01T00:00:00.000"


@pytest.mark.parametrize(("typ", "props"), [
    (msg.EVENT_TARGET, {"rule": "r", "arn": "arn:aws:lambda:eu-west-2:1:function:f", "deadLetterConfig": {"arn": DLQ}}),
    (msg.SCHEDULE, {"scheduleExpression": "rate(1 hour)", "target": {"arn": "arn:f", "roleArn": "arn:r",
                                                                     "deadLetterConfig": {"arn": DLQ}}}),
    (msg.PIPE, {"source": STREAM, "target": "arn:aws:sqs:eu-west-2:1:q",
                "sourceParameters": {"dynamodbStreamParameters": {"startingPosition": "LATEST",
                                                                  "deadLetterConfig": {"arn": DLQ}}}}),
    (msg.PIPE, {"source": "arn:aws:sqs:eu-west-2:1:q", "target": "arn:aws:events:eu-west-2:1:event-bus/b"}),
    (msg.EVENT_TARGET, {"rule": "r", "arn": "arn:t", "deadLetterConfig": {"arn": UNKNOWN_STRING_VALUE}}),
])
def test_eventbridge_dlq_passes(typ, props):
    assert run_resource_policy(msg.eventbridge_dlq, typ, props) == []


@pytest.mark.parametrize(("typ", "props", "fragment"), [
    (msg.EVENT_TARGET, {"rule": "r", "arn": "arn:aws:sns:eu-west-2:1:t"}, "`deadLetterConfig.arn` is not set"),
    (msg.SCHEDULE, {"target": {"arn": "arn:f", "roleArn": "arn:r"}}, "`target.deadLetterConfig.arn` is not set"),
    (msg.PIPE, {"source": STREAM, "target": "arn:t", "sourceParameters": {"dynamodbStreamParameters": {}}},
     "`sourceParameters.dynamodbStreamParameters.deadLetterConfig.arn` is not set"),
    (msg.PIPE, {"source": "arn:aws:kinesis:eu-west-2:1:stream/s", "target": "arn:t"},
     "`sourceParameters.kinesisStreamParameters.deadLetterConfig.arn` is not set"),
])
def test_eventbridge_dlq_missing_fails(typ, props, fragment):
    msgs = run_resource_policy(msg.eventbridge_dlq, typ, props)
    assert len(msgs) == 1 and fragment in msgs[0], msgs
