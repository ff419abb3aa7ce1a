"""DROP cycles: the lists downloaded, their work items, what each became, and what is kept.

No table holds a consumer's identifier in clear: DROP sends hashes, and the index holds the
hashes of the company's own records beside where the row is (system, collection, key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rightful.core.clock import utcnow
from rightful.core.db import Base, UTCDateTime


class DropCycle(Base):
    """One download from DROP (a ZIP of lists, or one list file) and what became of it."""

    __tablename__ = "drop_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The archive's or file's name (<YYYYMMDD>_<DataBrokerId>_DROP.zip): one import each.
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # file | api
    broker_id: Mapped[str] = mapped_column(String(20), default="")
    downloaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(200))
    lines: Mapped[int] = mapped_column(default=0)
    bad_lines: Mapped[int] = mapped_column(default=0)
    # The first problems, by file and line (never a hash or an id from the line).
    problems: Mapped[list[Any]] = mapped_column(default=list)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status_file_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    upload_result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DropWorkItem(Base):
    """One line of a list: a work item id, the hash to match, and its status once known."""

    __tablename__ = "drop_work_items"
    __table_args__ = (
        Index("ix_drop_items_cycle", "cycle_id", "outcome"),
        Index("ix_drop_items_hash", "list_type", "hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("drop_cycles.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(12))
    list_type: Mapped[str] = mapped_column(String(10))
    hash: Mapped[str] = mapped_column(String(44))
    # The list file it came in (without .csv): the status file takes the same name.
    file_name: Mapped[str] = mapped_column(String(120))
    # pending -> not_found | matched -> done; removed (the consumer withdrew it)
    outcome: Mapped[str] = mapped_column(String(12), default="pending")
    # DROP's status code once what happened is known: 2 exempted, 3 deleted, 4 opted out,
    # 5 not found.
    code: Mapped[int | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The status file (name without .csv) its code went out in; None until written.
    reported_in: Mapped[str | None] = mapped_column(String(120), default=None)


class DropItemRequest(Base):
    """A rights request a matched work item started (or an earlier one that already did it)."""

    __tablename__ = "drop_item_requests"
    __table_args__ = (UniqueConstraint("work_item_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(
        ForeignKey("drop_work_items.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(32), index=True)


class DropIndexEntry(Base):
    """The DROP hash of one of the company's rows, and where the row is (a keyed index)."""

    __tablename__ = "drop_index"
    __table_args__ = (
        Index("ix_drop_index_hash", "list_type", "hash"),
        Index("ix_drop_index_bucket", "address", "bucket"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_type: Mapped[str] = mapped_column(String(10))
    hash: Mapped[str] = mapped_column(String(44))
    system: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(250))  # dataset:collection
    row_key: Mapped[str] = mapped_column(String(200))
    # The share of its collection's entries it belongs to (drop/refresh.py): a refresh
    # rewrites only the buckets whose digest changed.
    bucket: Mapped[int] = mapped_column(default=0)


class DropIndexBucket(Base):
    """One bucket of a collection's index entries: how many, and a digest of them all."""

    __tablename__ = "drop_index_buckets"

    address: Mapped[str] = mapped_column(String(250), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    entries: Mapped[int] = mapped_column(default=0)
    digest: Mapped[int] = mapped_column(BigInteger, default=0)  # sum of entry digests, signed


class DropIndexState(Base):
    """What the index holds of one collection, and when it was built and last refreshed."""

    __tablename__ = "drop_index_state"

    address: Mapped[str] = mapped_column(String(250), primary_key=True)
    system: Mapped[str] = mapped_column(String(100))
    buckets: Mapped[int] = mapped_column(default=1)
    rows: Mapped[int] = mapped_column(default=0)  # rows read at the last refresh
    entries: Mapped[int] = mapped_column(default=0)
    # The data map's revision the collection was built from: another one means a full build.
    revision: Mapped[int] = mapped_column(default=0)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rewritten: Mapped[int] = mapped_column(default=0)  # entries written by the last refresh


class DropKept(Base):
    """A matched person's hash, kept so later lists and re-collected records are deleted too
    (Cal. Civ. Code § 1798.99.86); the hash only, never the identifier."""

    __tablename__ = "drop_kept"
    __table_args__ = (UniqueConstraint("list_type", "hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_type: Mapped[str] = mapped_column(String(10))
    hash: Mapped[str] = mapped_column(String(44))
    first_item_id: Mapped[str] = mapped_column(String(12))
    request_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # delete: one person, deleted again if their records come back; opt_out: an identifier
    # several people share (their opt-outs stay in the consent record; nothing is deleted).
    action: Mapped[str] = mapped_column(String(10), default="delete")
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
