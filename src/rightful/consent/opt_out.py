"""An opt-out of sale and sharing made as a rights request, recorded as any other choice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rightful.consent import catalog, ledger, subjects
from rightful.consent.catalog import Channel, Interface, State
from rightful.core.config import Settings

OPTED_OUT = (catalog.SALE_SHARE, catalog.TARGETED_ADS)


def record_opt_out(
    session: Session, settings: Settings, *, email: str, jurisdiction: str, reference: str
) -> list[str]:
    """Withdraw sale/share and targeted advertising for the person; returns the purposes now
    withdrawn (all of them, also when some already were)."""
    catalog.ensure_built_in(session)
    person = subjects.person(session, settings, email)
    ledger.record(
        session,
        settings,
        person,
        [ledger.Choice(p, Channel.ALL, State.WITHDRAWN) for p in OPTED_OUT],
        ledger.Collected(
            interface=Interface.RIGHTS_REQUEST,
            jurisdiction=jurisdiction,
            proof={"request": reference},
        ),
    )
    return list(OPTED_OUT)
