"""Failure paths: every queue redrives to a DLQ, every Lambda has the failure path its invocation needs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openbanking_policies import delivery
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import policy_resource, run_stack_policy

ACCOUNT = "111111111111"
REGION = "eu-west-2"


def queue(name: str, **props: Any) -> PolicyResource:
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
    return policy_resource(delivery.QUEUE, {"name": name, "arn": arn("sqs", name), "url": url, **props}, name=name)


def arn(service: str, name: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"


def redrive(dlq_name: str) -> str:
    return json.dumps({"deadLetterTargetArn": arn("sqs", dlq_name), "maxReceiveCount": 5})


def function(name: str, **props: Any) -> PolicyResource:
    return policy_resource(delivery.FUNCTION, {"name": name, "arn": arn("lambda", f"function:{name}"), **props},
                           name=name)


def fn_arn(name: str) -> str:
    return arn("lambda", f"function:{name}")


def messages(policy: Any, *resources: PolicyResource) -> list[tuple[str, str | None]]:
    return run_stack_policy(policy, list(resources))


# ob-sqs-dlq -----------------------------------------------------------------------------------------


def test_queue_redriving_to_its_dlq_passes() -> None:
    assert messages(delivery.sqs_dlq, queue("delivery", redrivePolicy=redrive("delivery-dlq")),
                    queue("delivery-dlq")) == []


def test_redrive_policy_resource_and_redrive_allow_policy_pass() -> None:
    source, dlq = queue("ingest"), queue("ingest-dlq")
    policy = policy_resource(delivery.REDRIVE_POLICY, {"queueUrl": source.props["url"],
                                                       "redrivePolicy": redrive("ingest-dlq")})
    assert messages(delivery.sqs_dlq, source, dlq, policy) == []
    allow = policy_resource(delivery.REDRIVE_ALLOW_POLICY, {"queueUrl": dlq.props["url"],
                                                            "redriveAllowPolicy": "{}"})
    assert messages(delivery.sqs_dlq, dlq, allow) == []


@pytest.mark.parametrize("user", [
    (delivery.FUNCTION, {"deadLetterConfig": {"targetArn": arn("sqs", "dlq")}}),
    (delivery.INVOKE_CONFIG, {"destinationConfig": {"onFailure": {"destination": arn("sqs", "dlq")}}}),
    (delivery.EVENT_SOURCE_MAPPING, {"destinationConfig": {"onFailure": {"destinationArn": arn("sqs", "dlq")}}}),
    (delivery.EVENT_TARGET, {"deadLetterConfig": {"arn": arn("sqs", "dlq")}}),
    (delivery.SCHEDULE, {"target": {"deadLetterConfig": {"arn": arn("sqs", "dlq")}}}),
    (delivery.PIPE, {"sourceParameters": {"dynamodbStreamParameters": {"deadLetterConfig": {"arn": arn("sqs", "dlq")}}}}),
    (delivery.TOPIC_SUBSCRIPTION, {"redrivePolicy": redrive("dlq")}),
])
def test_queue_used_as_a_failure_destination_is_a_dlq(user: tuple[str, dict[str, Any]]) -> None:
    typ, props = user
    assert messages(delivery.sqs_dlq, queue("dlq"), policy_resource(typ, props, name="user")) == []


def test_queue_without_redrive_fails() -> None:
    q = queue("webhooks")
    found = messages(delivery.sqs_dlq, q, queue("other-dlq"))
    assert len(found) == 2  # neither queue is anyone's DLQ, neither redrives
    assert found[0][1] == q.urn and "Queue 'webhooks'" in found[0][0] and "deadLetterTargetArn" in found[0][0]


def test_queue_unknown_at_preview_is_not_judged() -> None:
    assert messages(delivery.sqs_dlq, queue("q", redrivePolicy=UNKNOWN_STRING_VALUE)) == []
    unknown_user = policy_resource(delivery.FUNCTION, {"deadLetterConfig": {"targetArn": UNKNOWN_STRING_VALUE}})
    assert messages(delivery.sqs_dlq, queue("q"), unknown_user) == []


# ob-lambda-failure-path -----------------------------------------------------------------------------


def permission(fn: str, principal: str, **props: Any) -> PolicyResource:
    return policy_resource(delivery.PERMISSION, {"function": fn, "principal": principal, "action":
                                                 "lambda:InvokeFunction", **props}, name=f"{fn}-{principal}")


def test_synchronous_only_authorizer_needs_nothing() -> None:
    authorizer = function("authorizer")
    invoke = permission("authorizer", "apigateway.amazonaws.com", sourceArn="arn:aws:execute-api:x")
    assert messages(delivery.lambda_failure_path, authorizer, invoke) == []


def test_function_url_and_pipe_enrichment_are_synchronous() -> None:
    signer = function("signer")
    pipe = policy_resource(delivery.PIPE, {"source": "arn:s", "target": "arn:t", "enrichment": fn_arn("signer")})
    url = policy_resource(delivery.FUNCTION_URL, {"functionName": "signer", "authorizationType": "AWS_IAM"})
    assert messages(delivery.lambda_failure_path, signer, pipe, url) == []


@pytest.mark.parametrize("failure_path", ["dlq", "invoke-config", "invoke-config-by-arn"])
def test_async_function_with_failure_path_passes(failure_path: str) -> None:
    target = policy_resource(delivery.EVENT_TARGET, {"rule": "expiry", "arn": fn_arn("consent-expiry")})
    extra: list[PolicyResource] = []
    if failure_path == "dlq":
        fn = function("consent-expiry", deadLetterConfig={"targetArn": arn("sqs", "dlq")})
    else:
        fn = function("consent-expiry")
        ref = "consent-expiry" if failure_path == "invoke-config" else fn_arn("consent-expiry")
        extra.append(policy_resource(delivery.INVOKE_CONFIG, {"functionName": ref, "destinationConfig": {
            "onFailure": {"destination": arn("sqs", "dlq")}}}))
    assert messages(delivery.lambda_failure_path, fn, target, *extra) == []


@pytest.mark.parametrize(("invoker", "fragment"), [
    (lambda: policy_resource(delivery.EVENT_TARGET, {"rule": "r", "arn": fn_arn("f")}, name="expiry-target"),
     "invoked asynchronously by EventTarget 'expiry-target'"),
    (lambda: policy_resource(delivery.SCHEDULE, {"target": {"arn": fn_arn("f") + ":live", "roleArn": "arn:r"}},
                             name="nightly"), "invoked asynchronously by Schedule 'nightly'"),
    (lambda: policy_resource(delivery.TOPIC_SUBSCRIPTION, {"protocol": "lambda", "endpoint": fn_arn("f"),
                                                           "topic": "arn:t"}, name="sub"), "TopicSubscription"),
    (lambda: policy_resource(delivery.BUCKET_NOTIFICATION, {"bucket": "b", "lambdaFunctions": [
        {"lambdaFunctionArn": fn_arn("f"), "events": ["s3:ObjectCreated:*"]}]}, name="notify"), "BucketNotification"),
    (lambda: permission("f", "sns.amazonaws.com", sourceArn="arn:t"), "principal 'sns.amazonaws.com'"),
    (lambda: permission("f", "logs.eu-west-2.amazonaws.com"), "principal 'logs.eu-west-2.amazonaws.com'"),
    (lambda: permission("f", "222222222222"), "may invoke it asynchronously"),
    (lambda: None, "no invoker in the stack shows it is only invoked synchronously"),
])
def test_async_function_without_failure_path_fails(invoker: Any, fragment: str) -> None:
    fn = function("f")
    resources = [fn] + [r for r in [invoker()] if r is not None]
    found = messages(delivery.lambda_failure_path, *resources)
    assert len(found) == 1, found
    message, urn = found[0]
    assert urn == fn.urn and fragment in message, message
    assert "deadLetterConfig.targetArn absent" in message


def test_stream_mapping_needs_an_on_failure_destination() -> None:
    fn = function("outbox")
    stream = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payments/stream/2026-01-01T00:00:00.000"
    bare = policy_resource(delivery.EVENT_SOURCE_MAPPING, {"functionName": "outbox", "eventSourceArn": stream},
                           name="outbox-stream")
    found = messages(delivery.lambda_failure_path, fn, bare)
    assert len(found) == 1 and found[0][1] == bare.urn and "onFailure.destinationArn absent" in found[0][0]
    good = policy_resource(delivery.EVENT_SOURCE_MAPPING, {
        "functionName": fn_arn("outbox"), "eventSourceArn": stream,
        "destinationConfig": {"onFailure": {"destinationArn": arn("sqs", "outbox-dlq")}}}, name="outbox-stream")
    assert messages(delivery.lambda_failure_path, fn, good) == []


def test_sqs_mapping_needs_a_redriving_queue() -> None:
    fn = function("event-delivery")
    source = queue("deliveries")
    mapping = policy_resource(delivery.EVENT_SOURCE_MAPPING, {"functionName": "event-delivery",
                                                              "eventSourceArn": source.props["arn"]}, name="esm")
    found = messages(delivery.lambda_failure_path, fn, source, mapping)
    assert len(found) == 1 and found[0][1] == mapping.urn and "Queue 'deliveries'" in found[0][0]
    redriving = queue("deliveries", redrivePolicy=redrive("deliveries-dlq"))
    assert messages(delivery.lambda_failure_path, fn, redriving, queue("deliveries-dlq"), mapping) == []


def test_links_unknown_at_preview_are_not_judged() -> None:
    fn = function("f")
    target = policy_resource(delivery.EVENT_TARGET, {"rule": "r", "arn": UNKNOWN_STRING_VALUE})
    assert messages(delivery.lambda_failure_path, fn, target) == []
    config = policy_resource(delivery.INVOKE_CONFIG, {"functionName": UNKNOWN_STRING_VALUE})
    assert messages(delivery.lambda_failure_path, fn, config) == []
