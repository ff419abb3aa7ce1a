"""The taxonomy starts from fideslang's default one; organisations may add entries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.inventory.models import TaxonomyEntry
from rightful.inventory.revision import bump_revision

KINDS = ("data_category", "data_use", "data_subject")


def load_default(session: Session) -> int:
    """Insert the fideslang default taxonomy entries not yet present; returns how many."""
    # fideslang's models take a server's start about a tenth of its import time: loaded here,
    # when the store is set up or migrated, not by every process that starts.
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    existing = {
        (k, key) for k, key in session.execute(select(TaxonomyEntry.kind, TaxonomyEntry.key))
    }
    added = 0
    for kind in KINDS:
        for item in getattr(DEFAULT_TAXONOMY, kind):
            if (kind, item.fides_key) in existing:
                continue
            session.add(
                TaxonomyEntry(
                    kind=kind,
                    key=item.fides_key,
                    name=item.name or item.fides_key,
                    description=item.description or "",
                    parent_key=getattr(item, "parent_key", None),
                )
            )
            added += 1
    if added:
        bump_revision(session)
    session.flush()
    return added


def keys(session: Session, kind: str) -> set[str]:
    """All keys of one kind."""
    return set(session.scalars(select(TaxonomyEntry.key).where(TaxonomyEntry.kind == kind)))


def names(session: Session, kind: str) -> dict[str, str]:
    """Key → human name for one kind, for pages a consumer reads."""
    rows = session.execute(
        select(TaxonomyEntry.key, TaxonomyEntry.name).where(TaxonomyEntry.kind == kind)
    )
    return {key: name for key, name in rows}
