"""The data map: taxonomy, systems, datasets, business partners and disclosures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime
from rightful.security.vault import sealed


class DataMapRevision(Base):
    """A counter bumped by every change to the data map, so processes know when to re-read it."""

    __tablename__ = "data_map_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=1)


class TaxonomyEntry(Base):
    """A data category, data use (purpose) or data subject."""

    __tablename__ = "taxonomy_entries"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_key: Mapped[str | None] = mapped_column(String(200), default=None)
    is_default: Mapped[bool] = mapped_column(default=True)


class Partner(Base):
    """A business partner: affiliate, service provider, contractor or third party."""

    __tablename__ = "partners"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str | None] = mapped_column(String(254), default=None)
    erasure_webhook: Mapped[str | None] = mapped_column(String(500), default=None)


class System(Base):
    """An application or data store, run by the company or by a partner."""

    __tablename__ = "systems"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    system_type: Mapped[str] = mapped_column(String(60), default="Application")
    operated_by: Mapped[str | None] = mapped_column(ForeignKey("partners.key"), default=None)
    connection_type: Mapped[str | None] = mapped_column(String(20), default=None)
    # The staff member (e-mail) who answers for it: a system handled by hand gets its manual
    # tasks (rights/tasks.py) assigned to them.
    owner: Mapped[str | None] = mapped_column(String(254), default=None)
    # The connection URL, encrypted; never shown back.
    connection_secret: Mapped[str | None] = mapped_column(
        Text, default=None, info=sealed("connections")
    )
    dataset_keys: Mapped[list[Any]] = mapped_column(default=list)
    declarations: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Dataset(Base):
    """A fideslang dataset, stored as written so it exports unchanged."""

    __tablename__ = "datasets"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict[str, Any]] = mapped_column()
    source_file: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Disclosure(Base):
    """Which categories go to which partner, for which purpose; sale or share or neither."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_key: Mapped[str] = mapped_column(ForeignKey("partners.key", ondelete="CASCADE"))
    data_categories: Mapped[list[Any]] = mapped_column(default=list)
    data_use: Mapped[str] = mapped_column(String(200))
    is_sale: Mapped[bool] = mapped_column(default=False)
    is_share: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")
