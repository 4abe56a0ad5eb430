"""Request metrics as embedded-metric lines: one per request, the status as answered, health checks not counted."""

from __future__ import annotations

import json

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from accounts.service_plane import SERVICE_METRICS_NAMESPACE, service_alarms
from openbanking.common.app import create_app
from openbanking.common.metrics import NAMESPACE, RequestMetrics

router = APIRouter()


@router.get("/things")
def things() -> dict[str, str]:
    return {"Data": "ok"}


@router.get("/boom")
def boom() -> dict[str, str]:
    raise RuntimeError("a bug")


def app_writing_to(lines: list[str]) -> FastAPI:
    app = create_app("test", [("/base", router)], request_metrics=None)
    return RequestMetrics(app, environment="dev", service="pis", write=lines.append)  # type: ignore[return-value]


def test_each_request_is_one_line_cloudwatch_turns_into_metrics() -> None:
    lines: list[str] = []
    client = TestClient(app_writing_to(lines), raise_server_exceptions=False)
    headers = {"x-fapi-financial-id": "0015800001041RHAAY", "x-ob-tpp-id": "tpp-1", "x-ob-client-id": "client-1"}
    client.get("/base/things", headers=headers)
    client.get("/base/boom", headers=headers)
    client.get("/health")
    [ok, failed] = [json.loads(line) for line in lines]
    directive = ok["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == NAMESPACE and directive["Dimensions"] == [["Environment", "Service"]]
    assert {m["Name"] for m in directive["Metrics"]} == {"Requests", "ServerErrors", "Latency"}
    assert (ok["Environment"], ok["Service"], ok["Requests"], ok["ServerErrors"], ok["StatusCode"]) == (
        "dev", "pis", 1, 0, 200)
    assert failed["StatusCode"] == 500 and failed["ServerErrors"] == 1 and failed["Latency"] >= 0


def test_the_alarms_watch_the_metrics_the_services_write() -> None:
    assert SERVICE_METRICS_NAMESPACE == NAMESPACE
    from accounts.service_plane import AlarmThresholds
    alarms = service_alarms("dev", "pis", AlarmThresholds(1000, 1.0, 1, 300))
    metrics = {metric for a in alarms for metric in [a.metric_name, *(i[1] for i in a.inputs.values())] if metric}
    assert metrics == {"Latency", "ServerErrors", "Requests"}
    assert all(a.dimensions == {"Environment": "dev", "Service": "pis"} or
               all(i[2] == {"Environment": "dev", "Service": "pis"} for i in a.inputs.values()) for a in alarms)


def test_only_a_service_that_turns_them_on_writes_lines(capsys: object) -> None:
    app = create_app("test", [("/base", router)], request_metrics=("dev", "ais"))
    assert any(m.cls is RequestMetrics for m in app.user_middleware)
    assert not any(m.cls is RequestMetrics for m in create_app("test", [("/base", router)]).user_middleware)
