"""YAML the way the Pulumi CLI reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` (Go's yaml.v3), strictly.

What differs from `yaml.safe_load`, and why:
- a key defined twice in one mapping is refused, naming both lines (yaml.v3 refuses it; PyYAML keeps
  the last value, so `region:` twice would silently move a stack to another region);
- aliases (`*name`) are refused: a few lines of aliases expand into gigabytes, and a recursive one
  into a structure no config can be; nothing written by `pulumi config set` uses them;
- a file that is not UTF-8 is refused, naming the line and the byte;
- plain scalars resolve as in YAML 1.2 / yaml.v3: only `true`/`false` (and `True`, `TRUE`, ...) are
  booleans, so `yes`, `on` and `no` stay strings; numbers follow Go's syntax (`0o17`, `0x1f`, `1_000`);
  `1:20` is a string, not a sexagesimal number; dates stay the strings they are written as.
Every error is a `YamlError` whose message starts with `<file>:<line>:`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
#: First characters after which yaml.v3 tries anything but a string.
_HINTS = set("+-0123456789yYnNtTfFoO~.")
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INT64 = (-(2**63), 2**63 - 1)


class YamlError(Exception):
    """The file is not YAML the Pulumi CLI would read the same way; the message says where and why."""


def go_int(text: str) -> int | None:
    """Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint` (yaml.v3 after removing underscores)."""
    sign, digits = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    base = 10
    lowered = digits[:2].lower()
    if lowered in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[lowered], digits[2:]
    elif len(digits) > 1 and digits[0] == "0":
        base, digits = 8, digits[1:]
    if not digits or not all(c in "0123456789abcdefABCDEF"[: base if base <= 10 else 22] for c in digits):
        return None
    value = int(digits, base) * (-1 if sign == "-" else 1)
    if _INT64[0] <= value <= _INT64[1] or (sign != "-" and value < 2**64):
        return value
    return None


def scalar_tag(text: str) -> str:
    """The tag yaml.v3 gives a plain (unquoted) scalar."""
    if text == "" or text in _NULLS:
        return NULL_TAG
    if text == "<<":
        return MERGE_TAG
    if text[0] not in _HINTS:
        return STR_TAG
    if text in _BOOLS:
        return BOOL_TAG
    if text in _SPECIAL_FLOATS:
        return FLOAT_TAG
    if text[0] == ".":
        return FLOAT_TAG if _YAML_STYLE_FLOAT.match(text) else STR_TAG
    if text[0] in "+-0123456789":
        plain = text.replace("_", "")
        if go_int(plain) is not None:
            return INT_TAG
        if _YAML_STYLE_FLOAT.match(plain):
            return FLOAT_TAG
    return STR_TAG


class _Loader(yaml.SafeLoader):
    """SafeLoader with yaml.v3's scalars, and no aliases or duplicate keys."""

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            return scalar_tag(value)
        return super().resolve(kind, value, implicit)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ComposerError(
                None, None,
                f"the alias *{event.anchor} is refused: aliases can expand a few lines into gigabytes (or into "
                "themselves); write the value out", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    line = first_line.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:
                    raise ConstructorError(None, None, f"the key {key!r} is not a string", key_node.start_mark) from None
                if line != key_node.start_mark.line + 1:
                    raise ConstructorError(
                        None, None, f"the key {key!r} is defined twice, on lines {line} and "
                        f"{key_node.start_mark.line + 1} (the Pulumi CLI refuses duplicate keys)", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _construct_bool(loader: _Loader, node: ScalarNode) -> bool:
    return _BOOLS[loader.construct_scalar(node)]  # type: ignore[index]


def _construct_int(loader: _Loader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    value = go_int(text.replace("_", ""))
    if value is None:
        raise ConstructorError(None, None, f"{text!r} is not an integer", node.start_mark)
    return value


def _construct_float(loader: _Loader, node: ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise ConstructorError(None, None, f"{text!r} is not a number", node.start_mark) from None


def _construct_timestamp_as_text(loader: _Loader, node: ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(BOOL_TAG, _construct_bool)
_Loader.add_constructor(INT_TAG, _construct_int)
_Loader.add_constructor(FLOAT_TAG, _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def load(path: Path) -> Any:
    """The document in `path`, read as the Pulumi CLI would read it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlError(f"{path}:{line}: byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise YamlError(f"{path}{line}: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise YamlError(f"{path}: nested too deeply to be a config file") from None
    finally:
        loader.dispose()
