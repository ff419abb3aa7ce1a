"""Fill `<placeholders>` in paths, queries, headers and bodies, each escaped for where it goes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

PLACEHOLDER = re.compile(r"<([A-Za-z_][A-Za-z0-9_\-]*)>")
OBJECT_FIELDS = ("all_object_fields", "masked_object_fields")


class MissingValueError(Exception):
    """A placeholder has no value in this call (the call is skipped, or its part left out)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def names_in(text: str | None) -> set[str]:
    """The placeholder names a template uses."""
    return set(PLACEHOLDER.findall(text or ""))


def _fill(text: str, values: Mapping[str, Any], escape: Callable[[Any], str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values or values[name] is None:
            raise MissingValueError(name)
        return escape(values[name])

    return PLACEHOLDER.sub(one, text)


def raw(text: str, values: Mapping[str, Any]) -> str:
    """For a host, header or query value: the value as text."""
    return _fill(text, values, str)


def path(text: str, values: Mapping[str, Any]) -> str:
    """For a URL path: each value percent-encoded, so it stays one path segment."""
    return _fill(text, values, lambda v: quote(str(v), safe=""))


def _json_inner(value: Any) -> str:
    # Inside a JSON template a placeholder usually sits between quotes ("<email>"): a string
    # goes in escaped without its own quotes, so a quote in a value cannot break out.
    if isinstance(value, str):
        return json.dumps(value)[1:-1]
    return json.dumps(value)


def nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted field names (`address.city`) as nested objects."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        parts = name.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def body(text: str, values: Mapping[str, Any], fields: Mapping[str, Any] | None) -> Any:
    """A JSON body from its template: `<masked_object_fields>` / `<all_object_fields>` become
    the fields being set; every other placeholder a JSON-escaped value."""
    members = ""
    if fields:
        members = json.dumps(nested(fields))[1:-1]
    text = re.sub(r"<(?:all|masked)_object_fields>", lambda _: members, text)
    filled = _fill(text, values, _json_inner)
    try:
        return json.loads(filled)
    except ValueError:
        # Not JSON after filling: sent as text, as the template says.
        return filled


def form(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A JSON body as form fields, nested keys in brackets (`metadata[plan]`), as form APIs
    such as Stripe's take them."""
    pairs: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            pairs += form(value, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            pairs += form(value, f"{prefix}[{i}]")
    elif data is None:
        pairs.append((prefix, ""))
    elif isinstance(data, bool):
        pairs.append((prefix, "true" if data else "false"))
    else:
        pairs.append((prefix, str(data)))
    return pairs


def dig(data: Any, dotted: str | None) -> Any:
    """The value at a dotted path in a JSON answer (None when absent); the whole answer for
    no path."""
    if not dotted:
        return data
    node = data
    for part in dotted.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
