"""Writers and reader of the flow-logs bucket agree: every VPC flow log and Network Firewall log of every stack
lands under a key prefix whose object-created notifications feed exactly one ingestion pipeline, and that
pipeline's codec decodes the format the writer writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from components.log_ingestion import LogSource, check_prefixes
from lz.render import Rendering
from tests.conftest import STACKS, of_type

Render = Callable[[str], Rendering]
FLOW_LOGS_BUCKET = "foundation-logarchive-flow-logs-100000000002-eu-west-2"
#: The Data Prepper S3 codec that decodes each written format (Network Firewall writes JSON lines, gzipped).
CODEC_OF_FORMAT = {"parquet": "parquet", "plain-text": "csv", "json-lines": "ndjson"}


@dataclass(frozen=True)
class Writer:
    """Something that writes log objects into a bucket: under which key prefix, in which format."""

    what: str
    bucket: str
    prefix: str
    format: str


def writers(rendering: Rendering) -> list[Writer]:
    found = []
    for flow_log in of_type(rendering, "aws:ec2/flowLog:FlowLog"):
        inputs = flow_log["inputs"]
        bucket, _, prefix = inputs["logDestination"].removeprefix("arn:aws:s3:::").partition("/")
        found.append(Writer(f"{rendering.stack}: {flow_log['name']}", bucket, prefix,
                            inputs.get("destinationOptions", {}).get("fileFormat", "plain-text")))
    for config in of_type(rendering, "aws:networkfirewall/loggingConfiguration:LoggingConfiguration"):
        for destination in config["inputs"]["loggingConfiguration"]["logDestinationConfigs"]:
            found.append(Writer(f"{rendering.stack}: {config['name']} {destination['logType']}",
                                destination["logDestination"]["bucketName"],
                                destination["logDestination"]["prefix"].rstrip("/") + "/", "json-lines"))
    return found


@dataclass(frozen=True)
class Reader:
    """An ingestion pipeline: the objects it is told about (bucket, key prefix) and how it decodes them."""

    pipeline: str
    bucket: str
    prefix: str
    codec: str
    index: str


def readers(rendering: Rendering) -> list[Reader]:
    """Each queue configuration of each bucket notification, joined to the pipeline reading that queue."""
    urls = {q["outputs"]["arn"]: q["outputs"]["url"] for q in of_type(rendering, "aws:sqs/queue:Queue")}
    pipelines = {}
    for pipeline in of_type(rendering, "aws:opensearchingest/pipeline:Pipeline"):
        [body] = [v for k, v in yaml.safe_load(pipeline["inputs"]["pipelineConfigurationBody"]).items() if k != "version"]
        source = body["source"]["s3"]
        [codec] = source["codec"]
        pipelines[source["sqs"]["queue_url"]] = (pipeline["inputs"]["pipelineName"], codec,
                                                 body["sink"][0]["opensearch"]["index"])
    found = []
    for notification in of_type(rendering, "aws:s3/bucketNotification:BucketNotification"):
        for queue in notification["inputs"]["queues"]:
            name, codec, index = pipelines[urls[queue["queueArn"]]]
            found.append(Reader(name, notification["inputs"]["bucket"], queue.get("filterPrefix", ""), codec, index))
    return found


def reader_of(writer: Writer, found: list[Reader]) -> Reader:
    matching = [r for r in found if r.bucket == writer.bucket and writer.prefix.startswith(r.prefix)]
    assert len(matching) == 1, f"{writer.what} ({writer.prefix}) is read by {[r.pipeline for r in matching]}"
    return matching[0]


@pytest.mark.parametrize("stack", STACKS)
def test_every_log_written_to_the_flow_logs_bucket_is_read_in_its_own_format(rendered: Render, stack: str) -> None:
    found = readers(rendered("foundation"))
    written = [w for w in writers(rendered(stack)) if w.bucket == FLOW_LOGS_BUCKET]
    assert written, "every stack writes flow logs to the foundation's flow-logs bucket"
    for writer in written:
        reader = reader_of(writer, found)
        assert reader.codec == CODEC_OF_FORMAT[writer.format], (writer, reader)


@pytest.mark.parametrize("stack", STACKS)
def test_every_vpc_writes_parquet_under_its_own_prefix(rendered: Render, stack: str) -> None:
    """One format per prefix: all VPC flow logs in Parquet (typed columns for Athena and the pipeline) under
    `vpc-flow-logs/<vpc>/`, hourly hive partitions; never at the bucket's root."""
    for flow_log in of_type(rendered(stack), "aws:ec2/flowLog:FlowLog"):
        inputs = flow_log["inputs"]
        assert inputs["destinationOptions"] == {"fileFormat": "parquet", "hiveCompatiblePartitions": True,
                                                "perHourPartition": True}, flow_log["name"]
        assert inputs["logDestination"] == f"arn:aws:s3:::{FLOW_LOGS_BUCKET}/vpc-flow-logs/{flow_log['name'][:-9]}/"


def test_the_flow_logs_bucket_has_one_pipeline_per_prefix_and_format(rendered: Render) -> None:
    found = [r for r in readers(rendered("foundation")) if r.bucket == FLOW_LOGS_BUCKET]
    assert sorted((r.prefix, r.codec, r.index) for r in found) == [
        ("network-firewall/", "ndjson", "network-firewall-%{yyyy.MM.dd}"),
        ("vpc-flow-logs/", "parquet", "vpc-flow-logs-%{yyyy.MM.dd}"),
    ]


def test_each_bucket_has_one_notification_configuration(rendered: Render) -> None:
    """S3 keeps one notification configuration per bucket: a second resource would silently replace the first."""
    notifications = of_type(rendered("foundation"), "aws:s3/bucketNotification:BucketNotification")
    buckets = [n["inputs"]["bucket"] for n in notifications]
    assert len(buckets) == len(set(buckets)) == 5


def test_the_ingestion_role_reads_only_the_prefixes_its_pipelines_read(rendered: Render) -> None:
    rendering = rendered("foundation")
    role = next(r for r in of_type(rendering, "aws:iam/role:Role") if r["name"].endswith("-ingestion-role"))
    [policy] = [p for p in of_type(rendering, "aws:iam/rolePolicy:RolePolicy")
                if p["inputs"]["role"] == role["outputs"]["name"]]
    statements: dict[str, Any] = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    flow = f"arn:aws:s3:::{FLOW_LOGS_BUCKET}"
    read = statements["ReadLogObjects"]["Resource"]
    assert {f"{flow}/vpc-flow-logs/*", f"{flow}/network-firewall/*"} <= set(read)
    assert f"{flow}/*" not in read


def test_sources_of_one_bucket_must_read_disjoint_prefixes() -> None:
    def source(key: str, prefix: str) -> LogSource:
        return LogSource(key=key, bucket_name="b", bucket_arn="arn:aws:s3:::b", codec={"json": {}}, index="i",
                         prefix=prefix, bucket_key="flow-logs")

    check_prefixes([source("vpc", "vpc-flow-logs/"), source("firewall", "network-firewall/")])
    for overlapping in ("", "vpc-flow-logs/abc/"):
        with pytest.raises(ValueError, match="read overlapping prefixes"):
            check_prefixes([source("vpc", "vpc-flow-logs/"), source("other", overlapping)])
