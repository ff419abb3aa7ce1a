"""Bulk intake: many requests at once, from an authorized-agent service or a previous tool.

Each line takes the one path a single request takes (`rights/intake.record`, which validates,
seals the identities, starts the clocks from the day received, queues the acknowledgement and
writes the audit events), inside a savepoint of one transaction: a bad line is rolled back
alone and reported by its line number, field and message. Unless the caller asks for the valid
lines only, one bad line and nothing is imported. Each line carries the sender's own reference
(`external_id`), unique per source, so a batch sent again files nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rightful.core.clock import utcnow
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError, RightfulError
from rightful.rights import intake
from rightful.rights.bulk_schemas import (
    MAX_LINES,
    BatchLine,
    BatchReport,
    DuplicateLine,
    ImportedLine,
    LineError,
    Mode,
    RejectedLine,
)
from rightful.rights.import_models import ImportedRequest
from rightful.rights.models import RightsRequest
from rightful.security import chain
from rightful.security.permissions import Actor, Permission, require

CHUNK = 500  # keys looked up per statement; well under every driver's parameter limit
STEP = 100  # lines filed under one savepoint; a step with a bad line is done again line by line
Progress = Callable[[int], None]
NO_SOURCE = (
    "Say where the request came from (the agent service, the previous tool): a source for "
    "the whole batch, or one for this line."
)


@dataclass(frozen=True)
class Line:
    """One request as sent: its line number (a CSV's row, a list's position) and its fields."""

    number: int
    values: dict[str, Any]
    problems: tuple[str, ...] = ()  # found before its fields are read (a CSV row too long)


@dataclass(frozen=True)
class _Checked:
    number: int
    data: BatchLine
    source: str


class BatchRejectedError(InvalidInputError):
    """Lines of a batch were bad, so nothing of it was imported; the report says which."""

    code = "batch_rejected"

    def __init__(self, report: BatchReport) -> None:
        bad = len(report.rejected)
        super().__init__(
            f"Nothing was imported: {bad} of {report.lines} lines need attention. Correct "
            "them and send the batch again, or import only the valid lines.",
            errors=[
                {"field": f"line {r.line}: {e.field}", "message": e.message}
                for r in report.rejected
                for e in r.errors
            ],
            extensions={"report": report.model_dump(mode="json")},
        )
        self.report = report


def _validation_errors(exc: ValidationError) -> list[LineError]:
    # Worded as the single API words them (web/errors.py), so both read the same.
    return [
        LineError(
            field=".".join(str(p) for p in e["loc"]) or "line",
            message=str(e["msg"]).removeprefix("Value error, "),
        )
        for e in exc.errors()
    ]


def _external_id(values: dict[str, Any]) -> str | None:
    found = values.get("external_id")
    return str(found).strip() or None if found is not None else None


def check_lines(
    lines: Sequence[Line], *, source: str | None
) -> tuple[list[_Checked], list[RejectedLine]]:
    """Each line read as a request on its own; a reference twice in the batch is refused the
    second time. Reads nothing from the store."""
    good: list[_Checked] = []
    bad: list[RejectedLine] = []
    first_seen: dict[tuple[str, str], int] = {}
    today = utcnow().date()
    for line in lines:
        values = {"channel": "api", **line.values}  # as the single API: channel api unless said
        ref = _external_id(values)
        if line.problems:
            bad.append(_rejected(line.number, ref, "line", " ".join(line.problems)))
            continue
        try:
            data = BatchLine.model_validate(values)
        except ValidationError as exc:
            bad.append(
                RejectedLine(line=line.number, external_id=ref, errors=_validation_errors(exc))
            )
            continue
        if not (origin := data.source or source):
            bad.append(_rejected(line.number, ref, "source", NO_SOURCE))
            continue
        key = (origin, data.external_id)
        if key in first_seen:
            bad.append(
                _rejected(
                    line.number,
                    ref,
                    "external_id",
                    f"This external_id is already on line {first_seen[key]} of this batch.",
                )
            )
            continue
        first_seen[key] = line.number
        if data.received_at is None:  # the day it reached us; taking it keeps staff intake's path
            data = data.model_copy(update={"received_at": today})
        good.append(_Checked(line.number, data, origin))
    return good, bad


def _rejected(number: int, ref: str | None, field: str, message: str) -> RejectedLine:
    return RejectedLine(
        line=number, external_id=ref, errors=[LineError(field=field, message=message)]
    )


def _known(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The imports already recorded under these (source, external_id) keys: per source, a chunk
    of references at a time, each read by the unique index."""
    by_source: dict[str, list[str]] = {}
    for source, ref in keys:
        by_source.setdefault(source, []).append(ref)
    found: dict[tuple[str, str], Any] = {}
    cols = (
        ImportedRequest.source,
        ImportedRequest.external_id,
        ImportedRequest.reference,
        ImportedRequest.request_id,
    )
    for source, refs in by_source.items():
        for start in range(0, len(refs), CHUNK):
            chunk = refs[start : start + CHUNK]
            stmt = select(*cols).where(
                ImportedRequest.source == source, ImportedRequest.external_id.in_(chunk)
            )
            found.update({(r.source, r.external_id): r for r in session.execute(stmt)})
    return found


def _line_errors(exc: RightfulError) -> list[LineError]:
    if exc.errors:
        return [LineError(field=e["field"], message=e["message"]) for e in exc.errors]
    return [LineError(field="line", message=exc.detail)]


def import_lines(
    session: Session,
    settings: Settings,
    lines: Sequence[Line],
    *,
    actor: Actor,
    via: str,
    source: str | None = None,
    mode: Mode = "all_or_nothing",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> BatchReport:
    """Import a batch line by line in the caller's transaction; the report says what became of
    each line. BatchRejectedError (nothing kept) when a line is bad and `mode` is all or nothing;
    in a dry run the caller rolls back (`report.saved` is False)."""
    require(actor, Permission.REQUESTS_SUBMIT)
    if not lines:
        raise InvalidInputError("The batch has no requests in it.")
    if len(lines) > MAX_LINES:
        raise InvalidInputError(
            f"A batch holds at most {MAX_LINES:,} requests; this one has {len(lines):,}. "
            "Split it and send each part."
        )
    good, rejected = check_lines(lines, source=source)
    # The audit chain's lock first: it outlives the savepoints, and a batch sent twice at once
    # waits here for the other to commit, then finds its lines below as imported before.
    chain.tip(session, chain.AUDIT_CHAIN)
    known = _known(session, ((c.source, c.data.external_id) for c in good))
    report = BatchReport(mode=mode, dry_run=dry_run, lines=len(lines), saved=False)
    fresh: list[_Checked] = []
    for item in good:
        if (before := known.get((item.source, item.data.external_id))) is None:
            fresh.append(item)
            continue
        report.duplicates.append(
            DuplicateLine(
                line=item.number,
                external_id=item.data.external_id,
                reference=before.reference,
                id=before.request_id,
            )
        )
    links: list[ImportedRequest] = []
    for outcome in _import_all(session, settings, fresh, actor=actor, via=via, progress=progress):
        if isinstance(outcome, RejectedLine):
            rejected.append(outcome)
        else:
            report.imported.append(outcome[0])
            links.append(outcome[1])
    report.rejected = sorted(rejected, key=lambda r: r.line)
    return _settle(session, report, links)


Outcome = tuple[ImportedLine, ImportedRequest] | RejectedLine


def _import_all(
    session: Session,
    settings: Settings,
    items: list[_Checked],
    *,
    actor: Actor,
    via: str,
    progress: Progress | None,
) -> Iterator[Outcome]:
    """Lines a step at a time in one savepoint; a step with a bad line is taken back and done
    again line by line, each in a savepoint of its own, so only the bad lines are left out."""
    for start in range(0, len(items), STEP):
        step = items[start : start + STEP]
        try:
            with chain.savepoint(session):
                done = [_outcome(_record(session, settings, i, actor, via), i, actor) for i in step]
        except RightfulError:
            done = [_import_one(session, settings, i, actor=actor, via=via) for i in step]
        session.flush()
        # Written and nothing reads them again: a session holding 10,000 requests' rows slows
        # every later flush and garbage collection. The batch's session is its own.
        session.expunge_all()
        yield from done
        if progress is not None:
            progress(start + len(step))


def _record(
    session: Session, settings: Settings, item: _Checked, actor: Actor, via: str
) -> RightsRequest:
    """One line through the single request's path (rights/intake.py)."""
    imported = {"source": item.source, "external_id": item.data.external_id}
    return intake.record(session, settings, item.data, actor=actor, via=via, imported=imported)


def _import_one(
    session: Session, settings: Settings, item: _Checked, *, actor: Actor, via: str
) -> Outcome:
    """One line in a savepoint of its own: the request, or why the line was refused."""
    try:
        with chain.savepoint(session):
            req = _record(session, settings, item, actor, via)
    except RightfulError as exc:  # the line's fault; anything else (the store) ends the batch
        return RejectedLine(
            line=item.number, external_id=item.data.external_id, errors=_line_errors(exc)
        )
    return _outcome(req, item, actor)


def _outcome(req: RightsRequest, item: _Checked, actor: Actor) -> Outcome:
    line = ImportedLine(
        line=item.number,
        external_id=item.data.external_id,
        reference=req.reference,
        id=req.id,
        status=req.status,
    )
    link = ImportedRequest(
        source=item.source,
        external_id=item.data.external_id,
        request_id=req.id,
        reference=req.reference,
        imported_by=actor.name,
    )
    return line, link


def _settle(session: Session, report: BatchReport, links: list[ImportedRequest]) -> BatchReport:
    """Keep the batch, or refuse it whole; the references are written in one statement."""
    if report.dry_run:  # nothing was filed: no reference to give
        for line in report.imported:
            line.reference, line.id, line.status = "", "", ""
    refused = report.mode == "all_or_nothing" or not (report.imported or report.duplicates)
    if report.rejected and refused:
        if not report.dry_run:
            report.imported = []
        raise BatchRejectedError(report)
    if report.dry_run:
        return report
    session.add_all(links)
    try:
        session.flush()
    except IntegrityError:  # another batch filed one of these references meanwhile
        raise ConflictError(
            "Another import of some of these lines finished while this one ran, so nothing "
            "of this one was kept. Send it again: the lines already imported are reported so."
        ) from None
    report.saved = bool(links)
    return report
