"""The stand-in vendors' records: JSON documents by kind and id in one SQLite file per vendor,
so what a request erased through a vendor's API stays erased between runs of the demo."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_owner ON docs (kind, owner);
"""


class DocStore:
    """Documents of a few kinds, each with an id and the owner it is looked up by."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    def create(self, docs: Iterable[tuple[str, Any, Any, Doc]]) -> None:
        """A new store holding these (kind, id, owner, document) rows."""
        self.path.unlink(missing_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)
        self.add(docs)

    def add(self, docs: Iterable[tuple[str, Any, Any, Doc]]) -> None:
        """Add (kind, id, owner, document) rows to the store."""
        with self._db() as db:
            db.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?)",
                [(k, str(i), str(o), json.dumps(d)) for k, i, o, d in docs],
            )

    def get(self, kind: str, doc_id: Any) -> Doc | None:
        """One document, or None."""
        with self._db() as db:
            row = db.execute(
                "SELECT doc FROM docs WHERE kind = ? AND id = ?", (kind, str(doc_id))
            ).fetchone()
        return json.loads(row[0]) if row else None

    def owned_by(self, kind: str, owner: Any) -> list[Doc]:
        """Every document of a kind an owner has, in id order."""
        with self._db() as db:
            rows = db.execute(
                "SELECT doc FROM docs WHERE kind = ? AND owner = ? ORDER BY length(id), id",
                (kind, str(owner)),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def put(self, kind: str, doc_id: Any, doc: Doc) -> None:
        """Replace a document's content, keeping its owner."""
        with self._db() as db:
            db.execute(
                "UPDATE docs SET doc = ? WHERE kind = ? AND id = ?",
                (json.dumps(doc), kind, str(doc_id)),
            )

    def delete(self, kind: str, doc_id: Any) -> bool:
        """Remove a document; False when there was none."""
        with self._db() as db:
            gone = db.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, str(doc_id)))
        return gone.rowcount > 0

    def delete_owned(self, kind: str, owner: Any) -> int:
        """Remove every document of a kind an owner has."""
        with self._db() as db:
            gone = db.execute("DELETE FROM docs WHERE kind = ? AND owner = ?", (kind, str(owner)))
        return gone.rowcount
