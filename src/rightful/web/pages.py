"""Rendering server-side pages with what every template needs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from rightful.rights.kinds import labels
from rightful.rights.types import STAFF_STATUS_LABELS
from rightful.web.deps import csrf_token
from rightful.web.i18n import here, language_of


def render(request: Request, template: str, http_status: int = 200, **ctx: Any) -> Response:
    """A page from `template`, with the form token, settings and labels added."""
    templates: Jinja2Templates = request.app.state.templates
    base = {
        "csrf": csrf_token(request),
        "settings": request.app.state.runtime.settings,
        "staff_name": request.session.get("staff_name"),
        # What the signed-in role may do (web/admin/access.py): pages show only that.
        "can": getattr(request.state, "permissions", frozenset()),
        "types": labels(),
        "statuses": STAFF_STATUS_LABELS,
        "lang": language_of(request),  # consumer pages are translated into it (core/i18n.py)
        "here": here(request),  # where the language switch comes back to
    }
    response = templates.TemplateResponse(
        request, template, {**base, **ctx}, status_code=http_status
    )
    response.headers["Content-Language"] = base["lang"]
    return response
