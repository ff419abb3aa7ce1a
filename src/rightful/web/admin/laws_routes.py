"""The console's Laws and deadlines page: each rule pack with its rights, periods and the
sections they cite, and which mode is on (per jurisdiction, or the strictest for everyone)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from rightful import laws
from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights.kinds import labels
from rightful.web.admin.access import console_actor
from rightful.web.deps import runtime
from rightful.web.pages import render
from rightful.web.routing import DeferredRouter

router = DeferredRouter(prefix="/admin/laws")


def _ordered(packs: list[laws.RulePack]) -> list[laws.RulePack]:
    # US laws by state, then the GDPR and UK GDPR, the organisation's own rules last.
    def key(p: laws.RulePack) -> tuple[int, str]:
        return (2 if p.house else 0 if p.places[0].code.startswith("US-") else 1, p.places[0].name)

    return sorted(packs, key=key)


@router.get("")
def laws_page(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Every pack, the mode in force and, in strictest mode, what every request gets."""
    with unit_of_work(rt.sessions) as session:
        console_actor(request, session)  # any signed-in staff member; no personal data here
    mode = laws.RulesMode(rt.settings.rules_mode)
    strictest = {
        "US": laws.rules_for("US-CA", laws.RulesMode.STRICTEST),
        "GDPR": laws.rules_for("IE", laws.RulesMode.STRICTEST),
    }
    return render(
        request,
        "admin/laws.html",
        mode=mode.value,
        scope=rt.settings.rights_scope,
        practice=rt.settings.declaration_practice,
        packs=_ordered(list(laws.all_packs().values())),
        strictest=strictest,
        kind_labels=labels(),
        kinds=laws.KINDS,
    )
