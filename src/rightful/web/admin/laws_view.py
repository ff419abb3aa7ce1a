"""What the request page shows of the request's law: where it is governed, by which pack
(linked to the Laws page), and the date an extension would give."""

from __future__ import annotations

from typing import Any

from rightful import laws
from rightful.core.config import Settings
from rightful.rights.declaration import needed
from rightful.rights.models import RightsRequest


def request_law_context(settings: Settings, req: RightsRequest) -> dict[str, Any]:
    """The jurisdiction, its rules in the mode in force, the extended due date, and whether
    the request needs the person's signed declaration."""
    place = laws.parse(req.jurisdiction)
    mode = settings.rules_mode
    return {
        "place": place,
        "law": laws.rules_for(place, mode),
        "extended_to": laws.extended_due(req.received_at, place, mode, kind=req.request_type),
        "declaration_needed": needed(settings, req.request_type, place),
    }
