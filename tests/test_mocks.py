"""The mocks answer like the AWS provider: ids and ARNs carry the provider's account and region."""

from __future__ import annotations

import json
import re

from lz.mocks import Placement, Subject, computed_state

LONDON = Placement("api", "200000000003", "eu-west-2")


def state(type_: str, name: str, inputs: dict | None = None, tags: dict | None = None) -> tuple[str, dict]:
    return computed_state(Subject(type_, name, f"urn:pulumi:dev::p::{type_}::{name}", inputs or {}, LONDON), tags or {})


def test_vpc_ids_look_like_aws_ids_and_arns_carry_account_and_region() -> None:
    id_, out = state("aws:ec2/vpc:Vpc", "spoke")
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", id_)
    assert out["arn"] == f"arn:aws:ec2:eu-west-2:200000000003:vpc/{id_}"
    assert out["defaultSecurityGroupId"].startswith("sg-")


def test_bucket_names_come_from_inputs_and_arns_are_global() -> None:
    id_, out = state("aws:s3/bucket:Bucket", "logs", {"bucket": "dev-logs"})
    assert (id_, out["arn"], out["bucket"]) == ("dev-logs", "arn:aws:s3:::dev-logs", "dev-logs")


def test_unnamed_resources_get_pulumi_style_auto_names() -> None:
    _, out = state("aws:sqs/queue:Queue", "events")
    assert re.fullmatch(r"events-[0-9a-f]{7}", out["name"])
    assert out["url"] == f"https://sqs.eu-west-2.amazonaws.com/200000000003/{out['name']}"


def test_kms_keys_get_uuid_ids_inside_their_arn() -> None:
    id_, out = state("aws:kms/key:Key", "account")
    assert re.fullmatch(r"[0-9a-f-]{36}", id_)
    assert out["arn"] == f"arn:aws:kms:eu-west-2:200000000003:key/{id_}"


def test_unknown_types_still_get_an_account_scoped_arn() -> None:
    id_, out = state("aws:bedrock/agent:Agent", "helper")
    assert out["arn"] == f"arn:aws:bedrock:eu-west-2:200000000003:agent/{id_}"


def test_tags_all_merges_provider_default_tags_under_resource_tags() -> None:
    _, out = state("aws:sns/topic:Topic", "t", {"tags": {"Owner": "team"}}, {"Owner": "platform", "Environment": "dev"})
    assert out["tagsAll"] == {"Owner": "team", "Environment": "dev"}


def test_answers_are_deterministic() -> None:
    assert state("aws:ec2/subnet:Subnet", "a") == state("aws:ec2/subnet:Subnet", "a")
    assert state("aws:ec2/subnet:Subnet", "a")[0] != state("aws:ec2/subnet:Subnet", "b")[0]


def test_an_endpoint_without_a_policy_reports_the_full_access_default_aws_attaches() -> None:
    s3 = {"serviceName": "com.amazonaws.eu-west-2.s3", "vpcEndpointType": "Gateway"}
    _, bare = state("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", s3)
    assert json.loads(bare["policy"])["Statement"] == [
        {"Action": "*", "Effect": "Allow", "Principal": "*", "Resource": "*"}]
    _, given = state("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {**s3, "policy": '{"Statement": []}'})
    assert given["policy"] == '{"Statement": []}'
    _, gwlb = state("aws:ec2/vpcEndpoint:VpcEndpoint", "inspection", {"vpcEndpointType": "GatewayLoadBalancer"})
    assert "policy" not in gwlb  # Gateway Load Balancer endpoints take no policy


def test_http_apis_and_their_domains_answer_like_api_gateway_v2() -> None:
    id_, api = state("aws:apigatewayv2/api:Api", "directory", {"protocolType": "HTTP"})
    assert re.fullmatch(r"[0-9a-f]{10}", id_)
    assert api["apiEndpoint"] == f"https://{id_}.execute-api.eu-west-2.amazonaws.com"
    assert api["executionArn"] == f"arn:aws:execute-api:eu-west-2:200000000003:{id_}"
    configuration = {"certificateArn": "arn:aws:acm:eu-west-2:200000000003:certificate/c", "endpointType": "REGIONAL",
                     "securityPolicy": "TLS_1_2"}
    id_, domain = state("aws:apigatewayv2/domainName:DomainName", "d",
                        {"domainName": "directory.example", "domainNameConfiguration": configuration})
    assert id_ == "directory.example"
    assert domain["domainNameConfiguration"]["targetDomainName"].endswith(".execute-api.eu-west-2.amazonaws.com")
    assert domain["domainNameConfiguration"]["securityPolicy"] == "TLS_1_2", "the inputs stay"
    _, stage = state("aws:apigatewayv2/stage:Stage", "s", {"apiId": "abc", "name": "$default"})
    assert stage["arn"] == "arn:aws:apigateway:eu-west-2::/apis/abc/stages/$default"
