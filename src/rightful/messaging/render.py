"""E-mail templates, rendered by the mail lane from a draft the request path queued.

A draft is the template's name and the values it needs, kept as data (sealed with the body, as
they hold personal data) so a web request writes one outbox row and renders nothing; the
worker renders the same bytes later. Values must survive the trip through JSON unchanged, so
only plain ones are kept as data (text, numbers, dates, lists and dicts of them); a caller that
passes anything else gets its message rendered where it is queued, as before.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from rightful.core import i18n

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
i18n.install(_TEMPLATES)  # a consumer's e-mail in the language they asked in

# JSON has no dates: a tagged dict stands for one (a key no caller's context uses).
_TAG = "__rightful_date__"


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML of `template` (.subject, .txt, .html) with `context`."""
    subject = _TEMPLATES.get_template(f"{template}.subject").render(context).strip()
    text = _TEMPLATES.get_template(f"{template}.txt").render(context)
    html = _TEMPLATES.get_template(f"{template}.html").render(context)
    return subject, text, html


def _plain(value: Any) -> bool:
    if value is None or type(value) in (str, int, float, bool, date, datetime):
        return True
    if type(value) is list:
        return all(_plain(v) for v in value)
    if type(value) is dict:
        return _TAG not in value and all(type(k) is str and _plain(v) for k, v in value.items())
    return False  # tuples, dataclasses, enums...: they would come back as something else


def _pack(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, list):
        return [_pack(v) for v in value]
    if isinstance(value, dict):
        return {k: _pack(v) for k, v in value.items()}
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if _TAG in value:
            kind = datetime if value[_TAG] == "datetime" else date
            return kind.fromisoformat(value["value"])
        return {k: _unpack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    return value


def as_draft(context: dict[str, Any]) -> dict[str, Any] | None:
    """`context` as JSON-ready data that comes back equal, or None when it cannot."""
    return _pack(context) if _plain(context) else None


def render_draft(template: str, draft: dict[str, Any]) -> tuple[str, str, str]:
    """Render a message kept as a draft (`as_draft`)."""
    return render(template, _unpack(draft))
