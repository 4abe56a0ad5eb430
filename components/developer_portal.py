"""The developer portal's pages: static HTML made from the material the services themselves use, for a person reading
it (the machine-readable OpenAPI documents stay on the static site).

:func:`portal_pages` is pure: it takes the published specs (the official OBIE documents cut to the implemented
operations), the getting-started steps (the very script the local sandbox prints, in its deployed variant), the
error codes the specs define and the refusals the gateway renders, and returns path -> HTML. The pages carry no
script at all (so none from another CDN), forbid everything else by a Content-Security-Policy, escape every text
they show, and link only to each other and to the sandbox's own entries.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: What a page may load: its own inline style, nothing else (no script, no frame, no form target, no image).
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
#: How deep a schema is unfolded (OBIE schemas nest deeply; a reader wants the shape, not every leaf twice).
MAX_SCHEMA_DEPTH = 8
_METHODS = ("get", "post", "put", "patch", "delete")
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1b1f24}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f4f6f8;padding:.8rem;overflow-x:auto;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d5dbe1;padding:.3rem .5rem;
text-align:left;vertical-align:top}
.method{font-weight:bold;text-transform:uppercase}.op{border-top:1px solid #d5dbe1;margin-top:2rem}
ul.schema{list-style:none;padding-left:1.2rem;border-left:2px solid #e3e7eb}.req{color:#b3261e}
nav a{margin-right:1rem}
""".strip()


@dataclass(frozen=True)
class GuideStep:
    """A step of the getting-started script."""

    #: Its number in the script (0: the helpers).
    number: int
    #: Its title, e.g. "Credentials".
    title: str
    #: Its bash text, comments included, exactly as the script has it.
    text: str


@dataclass(frozen=True)
class ApiReference:
    """One API as the portal documents it."""

    #: Its page name, e.g. "account-info" (the page is `apis/<slug>.html`).
    slug: str
    #: The published document: the official spec with only the implemented operations, `servers` the sandbox's.
    document: Mapping[str, Any]
    #: The getting-started step that makes a first request to it.
    first_request: GuideStep


@dataclass(frozen=True)
class GatewayRefusal:
    """A refusal the API gateway renders itself (before any service sees the request)."""

    #: API Gateway's response type, e.g. `UNAUTHORIZED`.
    type: str
    #: The HTTP status it answers with.
    status: int
    #: The OBIE error code of its body.
    error_code: str
    #: The body's message.
    message: str


@dataclass(frozen=True)
class PortalContent:
    """Everything the portal shows."""

    #: The environment's name, for titles.
    environment: str
    #: The mutual-TLS entry (APIs, IdP), e.g. `https://api.sandbox.example-bank.co.uk`.
    api_url: str
    #: The entry without client certificates (CA, published keys).
    open_url: str
    #: The static site (OpenAPI JSON, the ASPSP's signing JWKS).
    static_url: str
    #: The getting-started script, step by step.
    steps: Sequence[GuideStep]
    #: The APIs, in the order the portal lists them.
    apis: Sequence[ApiReference]
    #: The `OBError1.ErrorCode` values the specs define.
    error_codes: Sequence[str]
    #: The HTTP statuses the specs answer with, and what each means (the specs' shared responses).
    statuses: Mapping[str, str]
    #: What the gateway refuses itself.
    refusals: Sequence[GatewayRefusal]


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _paragraphs(text: Any) -> str:
    return "".join(f"<p>{_e(p)}</p>" for p in str(text or "").split("\n") if p.strip())


def _page(title: str, body: str, *, depth: int) -> str:
    up = "../" * depth
    nav = f'<nav><a href="{up}index.html">Getting started</a><a href="{up}errors.html">Error codes</a></nav>'
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_e(CONTENT_SECURITY_POLICY)}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{nav}<h1>{_e(title)}</h1>{body}</body></html>\n")


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    """A `$ref` followed to its target (chains too); anything else as it is."""
    for _ in range(16):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            return node
        target: Any = document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    raise ValueError("a $ref chain longer than 16 links")


def _type_of(document: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "array":
        items = _resolve(document, schema.get("items") or {})
        return f"array of {_type_of(document, items)}"
    if kind is None and "properties" in schema:
        kind = "object"
    shown = str(kind or "any")
    if schema.get("format"):
        shown += f" ({schema['format']})"
    return shown


def _constraints(schema: Mapping[str, Any]) -> str:
    """A property's limits as HTML; the values an enum allows in a `span.enum` (they are the spec's words)."""
    parts = [_e(f"{key} {schema[key]}") for key in ("minLength", "maxLength", "minimum", "maximum", "minItems",
                                                     "maxItems") if key in schema]
    if "pattern" in schema:
        parts.append(f"pattern <code>{_e(schema['pattern'])}</code>")
    values = schema.get("enum") or schema.get("x-namespaced-enum")
    if values:
        parts.append('one of <span class="enum">' + ", ".join(f"<code>{_e(v)}</code>" for v in values) + "</span>")
    return "; ".join(parts)


def _schema(document: Mapping[str, Any], schema: Any, depth: int, seen: frozenset[str]) -> str:
    """An object's properties as a nested list (name, type, required, description, constraints)."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str):
        if ref in seen:
            return f"<p>(the same structure as above: {_e(ref.rsplit('/', 1)[-1])})</p>"
        seen = seen | {ref}
    schema = _resolve(document, schema)
    if not isinstance(schema, Mapping) or depth > MAX_SCHEMA_DEPTH:
        return ""
    for combiner in ("oneOf", "anyOf"):
        if combiner in schema:
            alternatives = "".join(
                f"<li>{_schema(document, option, depth + 1, seen) or _e(_type_of(document, _resolve(document, option)))}"
                "</li>" for option in schema[combiner])
            return f'<p>one of:</p><ul class="schema">{alternatives}</ul>'
    if "allOf" in schema:
        return "".join(_schema(document, part, depth, seen) for part in schema["allOf"])
    if schema.get("type") == "array":
        return _schema(document, schema.get("items") or {}, depth + 1, seen)
    properties = schema.get("properties") or {}
    if not properties:
        return ""
    required = set(schema.get("required") or ())
    items = []
    for name, raw in properties.items():
        prop = _resolve(document, raw)
        if not isinstance(prop, Mapping):
            continue
        mark = ' <span class="req">required</span>' if name in required else ""
        constraints = _constraints(prop)
        detail = f"<br><small>{constraints}</small>" if constraints else ""
        nested = _schema(document, raw, depth + 1, seen)
        items.append(f"<li><code>{_e(name)}</code> <em>{_e(_type_of(document, prop))}</em>{mark}{detail}"
                     f"{_paragraphs(prop.get('description'))}{nested}</li>")
    return f'<ul class="schema">{"".join(items)}</ul>'


def _operation(document: Mapping[str, Any], path: str, method: str, operation: Mapping[str, Any],
               path_item: Mapping[str, Any]) -> str:
    parts = [f'<section class="op" id="{_e(operation.get("operationId", method + path))}">'
             f'<h2><span class="method">{_e(method)}</span> <code>{_e(path)}</code></h2>',
             f"<p><strong>{_e(operation.get('summary', ''))}</strong></p>", _paragraphs(operation.get("description"))]
    parameters = [_resolve(document, p) for p in [*path_item.get("parameters", []), *operation.get("parameters", [])]]
    if parameters:
        rows = "".join(f"<tr><td><code>{_e(p.get('name'))}</code></td><td>{_e(p.get('in'))}</td>"
                       f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_paragraphs(p.get('description'))}</td></tr>"
                       for p in parameters if isinstance(p, Mapping))
        parts.append("<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>required</th><th>what it is</th></tr>"
                     f"{rows}</table>")
    body = _resolve(document, operation.get("requestBody"))
    if isinstance(body, Mapping):
        content = body.get("content") or {}
        media = next((m for m in ("application/json", *content) if m in content), None)
        if media is not None:
            parts.append(f"<h3>Request body</h3><p><code>{_e(media)}</code></p>"
                         f"{_schema(document, content[media].get('schema') or {}, 0, frozenset())}")
    responses = operation.get("responses") or {}
    if responses:
        rows = "".join(f"<tr><td>{_e(status)}</td>"
                       f"<td>{_e((_resolve(document, answer) or {}).get('description', ''))}</td></tr>"
                       for status, answer in responses.items())
        parts.append(f"<h3>Responses</h3><table><tr><th>status</th><th>meaning</th></tr>{rows}</table>")
        success = next((s for s in responses if str(s).startswith("2")), None)
        answer = _resolve(document, responses[success]) if success is not None else None
        content = (answer or {}).get("content") or {}
        media = next((m for m in ("application/json", *content) if m in content), None)
        if success is not None and media is not None:
            parts.append(f"<h3>The {_e(success)} answer</h3>"
                         f"{_schema(document, content[media].get('schema') or {}, 0, frozenset())}")
    parts.append("</section>")
    return "".join(parts)


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    for path, item in sorted((document.get("paths") or {}).items()):
        for method in _METHODS:
            if isinstance(item.get(method), Mapping):
                yield path, method, item[method], item


def _code(text: str) -> str:
    return f"<pre><code>{_e(text.rstrip())}</code></pre>"


def api_page(content: PortalContent, api: ApiReference) -> str:
    """One API's reference: its base URL, a first request, then every operation it offers."""
    document = api.document
    info = document.get("info") or {}
    servers = [s.get("url") for s in document.get("servers") or [] if isinstance(s, Mapping)]
    toc = "".join(f'<li><a href="#{_e(op.get("operationId", method + path))}"><span class="method">{_e(method)}</span> '
                  f"<code>{_e(path)}</code></a> {_e(op.get('summary', ''))}</li>"
                  for path, method, op, _ in _operations(document))
    body = (f"<p>Version {_e(info.get('version', ''))}, served at <code>{_e(', '.join(map(str, servers)))}</code> "
            "through the sandbox's mutual-TLS entry: every request presents your sandbox client certificate and an "
            "access token bound to it.</p>"
            f"<h2>A first request</h2><p>From step {api.first_request.number} of "
            f'<a href="../index.html">getting started</a> ({_e(api.first_request.title)}):</p>'
            f"{_code(api.first_request.text)}"
            f"<h2>Operations</h2><ul>{toc}</ul>"
            + "".join(_operation(document, path, method, op, item) for path, method, op, item in _operations(document)))
    return _page(f"{info.get('title', api.slug)} ({content.environment})", body, depth=1)


def index_page(content: PortalContent) -> str:
    """Getting started: the entries, then the steps in order; links to every API and to the error codes."""
    apis = "".join(f'<li><a href="apis/{_e(a.slug)}.html">{_e((a.document.get("info") or {}).get("title", a.slug))}'
                   "</a></li>" for a in content.apis)
    steps = "".join(f'<h3 id="step-{s.number}">{s.number}. {_e(s.title)}</h3>{_code(s.text)}' for s in content.steps)
    body = (
        "<p>The sandbox is the bank's Open Banking APIs with synthetic data: the same software as production, in "
        "sandbox mode. A third party gets a client certificate from the sandbox CA and tokens from the sandbox IdP, "
        "then calls the APIs exactly as it will call production's.</p>"
        "<table><tr><th>entry</th><th>what is there</th></tr>"
        f"<tr><td><code>{_e(content.api_url)}</code></td><td>the APIs (<code>/open-banking/v3.1/...</code>) and the "
        "IdP (<code>/sandbox/token</code>, <code>/sandbox/authorize</code>, ...): mutual TLS with a sandbox "
        "certificate</td></tr>"
        f"<tr><td><code>{_e(content.open_url)}</code></td><td>no client certificate: the CA (registration, "
        "certificates from CSRs, <code>ca.pem</code>, OCSP, CRL), the TPPs' directory keys, the IdP's and the "
        "ASPSP's public keys</td></tr>"
        f"<tr><td><code>{_e(content.static_url)}</code></td><td>the OpenAPI documents as JSON and the ASPSP's "
        "signing keys</td></tr></table>"
        f"<h2>The APIs</h2><ul>{apis}</ul>"
        "<h2>Getting started</h2><p>The steps run in bash as they stand (curl 7.76 or later). They use the sandbox's "
        "command line, <code>python3 -m openbanking.sandbox</code>, from this project's <code>services/</code> "
        "directory (its requirements installed, <code>services/</code> on <code>PYTHONPATH</code>): it makes your "
        "key pair and has the CA certify it, registers your request-signing key, and signs request bodies.</p>"
        f"{steps}")
    return _page(f"Open Banking sandbox ({content.environment})", body, depth=0)


def errors_page(content: PortalContent) -> str:
    """The error codes of the specs, the HTTP statuses, and what the gateway refuses by itself."""
    codes = "".join(f"<li><code>{_e(code)}</code></li>" for code in content.error_codes)
    statuses = "".join(f"<tr><td>{_e(status)}</td><td>{_e(meaning)}</td></tr>"
                       for status, meaning in sorted(content.statuses.items()))
    refusals = "".join(f"<tr><td>{r.status}</td><td><code>{_e(r.error_code)}</code></td><td>{_e(r.message)}</td>"
                       f"<td><code>{_e(r.type)}</code></td></tr>" for r in content.refusals)
    body = (
        "<p>Every error is an <code>OBErrorResponse1</code> body: <code>Code</code> (the HTTP status), <code>Id</code>, "
        "<code>Message</code> and <code>Errors</code>, each with an <code>ErrorCode</code> below, a <code>Message</code> "
        "and, where it helps, the <code>Path</code> of the field or header at fault. Every answer carries "
        "<code>x-fapi-interaction-id</code>. The IdP's token endpoint answers OAuth errors "
        "(<code>invalid_client</code>, <code>invalid_scope</code>, ...) as RFC 6749 says.</p>"
        f"<h2>Error codes</h2><ul>{codes}</ul>"
        f"<h2>HTTP statuses</h2><table><tr><th>status</th><th>meaning</th></tr>{statuses}</table>"
        "<h2>Refused before any service sees the request</h2><table><tr><th>status</th><th>error code</th>"
        f"<th>message</th><th>gateway response</th></tr>{refusals}</table>")
    return _page(f"Error codes ({content.environment})", body, depth=0)


def portal_pages(content: PortalContent) -> dict[str, str]:
    """Path -> HTML of every page of the portal."""
    slugs = [a.slug for a in content.apis]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"API pages {slugs} repeat")
    pages = {"index.html": index_page(content), "errors.html": errors_page(content)}
    pages |= {f"apis/{api.slug}.html": api_page(content, api) for api in content.apis}
    return pages
