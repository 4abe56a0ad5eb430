"""The developer portal's pages, a pure function of what the services use: every implemented operation documented
from its spec, the getting-started steps as the sandbox prints them, the error codes of the specs; nothing loaded
from elsewhere, nothing unescaped; and the HTTP API entry's refusals."""

from __future__ import annotations

import html
import re
from typing import Any

import pulumi
import pytest

from components.developer_portal import (
    CONTENT_SECURITY_POLICY,
    ApiReference,
    GatewayRefusal,
    GuideStep,
    PortalContent,
    portal_pages,
)
from components.open_http_api import OpenBackend, OpenHttpApi, OpenHttpApiArgs, OpenRoute
from environments.config import SandboxConfig
from environments.edge import load_specs
from environments.sandbox import FIRST_REQUEST, error_codes, portal_content, statuses
from environments.validation import load_environment
from openbanking.operations import OPERATIONS, SPECS
from tests.conftest import ROOT
from tests.test_config import stack_config

STEP = GuideStep(3, "Account information", "api -H \"Authorization: Bearer $ACCESS\" https://api.x/accounts\n")
HOSTILE = {
    "openapi": "3.0.1",
    "info": {"title": "Hostile <script>alert(1)</script> API", "version": "1"},
    "servers": [{"url": "https://api.x/base"}],
    "paths": {"/things/{Id}": {"post": {
        "summary": "Make a <b>thing</b>", "description": "line one\nline <img src=x onerror=alert(1)> two",
        "parameters": [{"$ref": "#/components/parameters/Id"}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
        "responses": {"201": {"description": "made", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}}}}, "400": {"$ref": "#/components/responses/400Error"}},
    }}},
    "components": {
        "parameters": {"Id": {"name": "Id", "in": "path", "required": True, "description": "the <id>"}},
        "responses": {"400Error": {"description": "Bad request"}},
        "schemas": {"Thing": {"type": "object", "required": ["Name"], "properties": {
            "Name": {"type": "string", "maxLength": 40, "description": "its \"name\" & more"},
            "Kind": {"type": "string", "enum": ["None", "<Other>"]},
            "Parent": {"$ref": "#/components/schemas/Thing"},  # a cycle: rendered once, then named
            "Tags": {"type": "array", "items": {"type": "object", "properties": {"Tag": {"type": "string"}}}},
        }}},
    },
}


def content(**change: Any) -> PortalContent:
    base: dict[str, Any] = {
        "environment": "sandbox", "api_url": "https://api.x", "open_url": "https://directory.x",
        "static_url": "https://static.x", "steps": [GuideStep(0, "Helpers", "api() { curl ...; }\n"), STEP],
        "apis": [ApiReference(slug="hostile", document=HOSTILE, first_request=STEP)],
        "error_codes": ["UK.OBIE.Field.Missing"], "statuses": {"400": "Bad request"},
        "refusals": [GatewayRefusal("UNAUTHORIZED", 401, "UK.OBIE.Header.Missing", "no <token>")]}
    return PortalContent(**(base | change))


def test_every_text_is_escaped_and_no_page_loads_anything() -> None:
    pages = portal_pages(content())
    assert set(pages) == {"index.html", "errors.html", "apis/hostile.html"}
    for page in pages.values():
        assert "<script" not in page and "<img" not in page and "<b>" not in page.split("</style>", 1)[1]
        assert "onerror=" not in page.replace("onerror=alert(1)&gt;", "")  # only as escaped text
        assert f'content="{html.escape(CONTENT_SECURITY_POLICY)}"' in page
        assert not re.search(r'(href|src)="(https?:)?//', page)
    api = pages["apis/hostile.html"]
    assert "Hostile &lt;script&gt;alert(1)&lt;/script&gt; API" in api and "its &quot;name&quot; &amp; more" in api
    assert "no &lt;token&gt;" in pages["errors.html"]


def test_an_operation_shows_its_parameters_body_answer_and_a_first_request() -> None:
    api = portal_pages(content())["apis/hostile.html"]
    assert '<span class="method">post</span> <code>/things/{Id}</code>' in api
    assert "<code>Id</code></td><td>path</td><td>yes</td>" in api
    assert "<code>Name</code> <em>string</em> <span class=\"req\">required</span>" in api and "maxLength 40" in api
    assert '<span class="enum"><code>None</code>, <code>&lt;Other&gt;</code></span>' in api
    assert "(the same structure as above: Thing)" in api, "a recursive schema is unfolded once"
    assert "<code>Tag</code>" in api and "array of object" in api
    assert "<td>201</td><td>made</td>" in api and "<td>400</td><td>Bad request</td>" in api
    assert html.escape(STEP.text.rstrip()) in api and "From step 3" in api


def test_pages_are_a_function_of_their_content_and_api_pages_do_not_repeat() -> None:
    assert portal_pages(content()) == portal_pages(content())
    with pytest.raises(ValueError, match="repeat"):
        portal_pages(content(apis=[ApiReference("a", HOSTILE, STEP), ApiReference("a", HOSTILE, STEP)]))


def test_the_sandbox_portal_is_made_from_the_specs_the_steps_and_the_gateway() -> None:
    config = load_environment(stack_config("sandbox"))
    assert isinstance(config, SandboxConfig)
    specs = load_specs(ROOT / "services")
    made = portal_content(config, specs, OPERATIONS)
    assert [a.slug for a in made.apis] == [spec.removesuffix("-openapi.yaml") for spec in SPECS]
    for api, spec in zip(made.apis, SPECS, strict=True):
        assert api.first_request.title == FIRST_REQUEST[spec]
        published = {(m.upper(), p) for p, item in api.document["paths"].items() for m in item if m != "parameters"}
        assert published == {(op.method, op.spec_path) for op in OPERATIONS if op.spec == spec}
        assert api.document["servers"] == [{"url": f"https://api.{config.domain}{SPECS[spec]}"}]
    assert "UK.OBIE.Unsupported.Scheme" in error_codes(specs) and len(set(made.error_codes)) == len(made.error_codes)
    assert statuses(specs)["409"] == "Conflict" and statuses(specs)["429"] == "Too Many Requests"
    assert all("$context" not in r.message for r in made.refusals)
    assert made.steps[1].title == "Credentials" and "--url https://directory." in made.steps[0].text


# --- the entry without client certificates -----------------------------------------------------------------------------


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


def open_api(**change: Any) -> OpenHttpApiArgs:
    base: dict[str, Any] = {
        "api_name": "sbx-directory", "domain_name": "directory.x", "certificate_arn": "arn:aws:acm:eu-west-2:1:c/1",
        "zone_id": "Z1", "vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/22", "subnet_ids": ["subnet-1"],
        "backends": {"ca": OpenBackend("arn:aws:elasticloadbalancing:eu-west-2:1:listener/net/ca/1/2", "ca.internal.x",
                                       "sg-1")},
        "routes": [OpenRoute("GET", "/sandbox/ca.pem", "ca")], "throttle_rate": 10.0, "throttle_burst": 20,
        "log_kms_key_arn": "arn:aws:kms:eu-west-2:1:key/k", "log_retention_days": 7,
        "access_log_destination_arn": "arn:aws:logs:eu-west-2:2:destination:api-access-logs", "account_id": "1",
        "region": "eu-west-2"}
    return OpenHttpApiArgs(**(base | change))


@pytest.mark.parametrize(("change", "message"), [
    ({"routes": [OpenRoute("GET", "/sandbox/ca.pem", "idp")]}, r"routes to \['idp'\], which are not backends"),
    ({"routes": [OpenRoute("GET", "/a", "ca"), OpenRoute("GET", "/a", "ca")]}, "empty or repeat"),
    ({"routes": []}, "empty or repeat"),
    ({"throttle_rate": 0.0}, "outside API Gateway's account limits"),
])
def test_the_open_entry_refuses_routes_it_cannot_serve(change: dict[str, Any], message: str) -> None:
    pulumi.runtime.set_mocks(Mocks(), preview=False)

    @pulumi.runtime.test
    def run() -> None:
        with pytest.raises(ValueError, match=message):
            OpenHttpApi("directory", open_api(**change))
    run()
