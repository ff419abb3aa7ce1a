"""Multi-step journeys: submitting a request and verifying the person behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.identity import service as codes
from rightful.identity.matching import holding, matched_points
from rightful.identity.points import DataPoint, configured_points
from rightful.inventory.revision import DataMap, load_map, revision_column, saw_revision
from rightful.inventory.specs import CollectionSpec
from rightful.inventory.stores import Connectors
from rightful.messaging import limits
from rightful.rights import declaration, service
from rightful.rights.correction_values import CORRECTABLE
from rightful.rights.models import RightsRequest
from rightful.rights.planning import Step, build_plan, traverse
from rightful.rights.schemas import RequestIn
from rightful.rights.types import Status

UNVERIFIED_REASON = (
    "We could not verify your identity to the degree the law requires for this request. "
    "Nothing has been disclosed. You can send a new request with details that match our records."
)


def submit(
    session: Session,
    settings: Settings,
    data: RequestIn,
    *,
    client: str | None,
    actor: str = "consumer",
) -> RightsRequest:
    """Create a request, acknowledge it, and start verification when it needs any.

    Within the mail limits for the address and, for a browser (`client` given), its client
    address: each request e-mails the address typed, with or without a code to check."""
    req = service.create_request(session, settings, data, actor=actor)
    address = service.reply_address(settings, req) or ""  # an agent's or parent's own address
    code = None
    limit = limits.rights_requests(settings)
    asked: list[limits.Asked] = []

    def count_along(along: Insert) -> Any:
        # The mail ask counted in the code's insert's statement; judged after the code's limits.
        found, inserted = limits.ask_along(
            session, settings, limit, address=address, client=client, along=along
        )
        asked.append(found)
        return inserted

    if req.required_level == 0:
        service.move(
            session,
            req,
            Status.VERIFIED,
            actor="system",
            reason="no verification needed for this request type",
        )
        service.route_verified(session, settings, req, actor="system")
    else:
        # Moved first, so the new row is written once, already verifying (rights/service.py).
        service.move(session, req, Status.VERIFYING, actor="system")
        code = codes.issue_code(
            session,
            settings,
            request_id=req.id,
            email=address,
            client=client,
            replaces=False,
            counted=count_along,
        )
    if asked:
        asked[0].check()
    else:
        limits.check(session, settings, limit, address=address, client=client)
    service.acknowledge(session, settings, req, code=code)
    return req


def _close_used_up(
    session: Session, settings: Settings, req: RightsRequest, *, another: bool = False
) -> bool:
    """Close a request whose codes or wrong tries ran out (or, asking for `another` code,
    that has had all its codes); the person files anew."""
    used_up = codes.code_state(session, settings, request_id=req.id) is codes.CodeState.USED_UP
    if another:
        used_up = used_up or not codes.codes_left(session, settings, request_id=req.id)
    if not used_up:
        return False
    service.move(session, req, Status.DENIED, actor="system", reason="verification_used_up")
    req.denial_reason = codes.used_up_message(settings)
    session.flush()
    return True


def resend_code(session: Session, settings: Settings, *, request_id: str, client: str) -> bool:
    """Send a fresh code for a request still waiting for one; a request that has had all the
    codes it may have is closed instead. True when a code was sent."""
    req = service.access_request(session, request_id)
    if req.status != Status.VERIFYING.value or _close_used_up(session, settings, req, another=True):
        return False
    email = service.reply_address(settings, req) or ""
    code = codes.issue_code(session, settings, request_id=req.id, email=email, client=client)
    service.notify_consumer(
        session,
        settings,
        req,
        "code",
        {"code": code, "ttl": settings.code_ttl_minutes},
    )
    return True


def _matching_level(session: Session, settings: Settings, req: RightsRequest) -> int:
    identities = service.identities_of(settings, req)
    # The detail being corrected never vouches for the person (see rights/correction.py).
    corrected = CORRECTABLE.get(identities.get("correction_item", ""))
    skip = {"email", "correction_item", "correction_value", "correction_evidence"}
    skip |= {corrected.identity_point} if corrected and corrected.identity_point else set()
    provided = {k: v for k, v in identities.items() if k not in skip}
    points = configured_points(settings)
    data_map = load_map(session)
    given = [p for p in points if provided.get(p.key)]
    steps, collections = _matching_plan(data_map, given)
    with Connectors(settings, data_map.systems) as connectors:
        records = traverse(steps, {"email": identities["email"]}, connectors)
    return 1 + len(matched_points(provided, records, collections, points))


# (points given, with their categories) -> (the data map, its matching steps, its collections).
# The plan depends only on the data map and the points given, and a data map lives as long as
# its revision is current (inventory/revision.py): building it again on every verification was
# a quarter of verify's Python. The entry holds the map, so `is` checks it is that one.
Collections = dict[str, CollectionSpec]
_PLANS: dict[tuple[tuple[str, tuple[str, ...]], ...], tuple[DataMap, list[Step], Collections]] = {}


def _matching_plan(data_map: DataMap, given: list[DataPoint]) -> tuple[list[Step], Collections]:
    """The steps that read what can match the `given` points (from the e-mail address, one
    level deep), and the data map's collections by address."""
    key = tuple((p.key, p.categories) for p in given)
    known = _PLANS.get(key)
    if known is not None and known[0] is data_map:
        return known[1], known[2]
    collections = data_map.collections
    steps = build_plan(
        data_map.datasets, system_of=data_map.system_of, identity_types=["email"], max_level=1
    )
    # Only collections holding a point the person gave can match it: the rest (and what finds
    # only them) are not read. Most of verify's time was these reads.
    steps = _reaching(steps, holding(given, collections))
    if len(_PLANS) > 1_000:  # many companies' own points, or old maps: let them go
        _PLANS.clear()
    _PLANS[key] = (data_map, steps, collections)
    return steps, collections


def _reaching(steps: list[Step], wanted: set[str]) -> list[Step]:
    """The steps that read a `wanted` collection or find rows an earlier kept step needs."""
    needed = set(wanted)
    for step in reversed(steps):  # steps come in dependency order: inputs before their users
        if step.address in needed:
            needed |= {edge.source for edge in step.inputs}
    return [step for step in steps if step.address in needed]


# Built once (building it cost more than the rest of verify's Python): the request by id.
_WITH_CODE = (
    codes.with_codes(select(RightsRequest), RightsRequest.id)
    .add_columns(revision_column())
    .where(RightsRequest.id == bindparam("request_id"))
)


def _with_code(session: Session, request_id: str) -> tuple[RightsRequest, codes.CodeRead | None]:
    """The request, its live code and counts, and the data map's revision (for the data points'
    check), in one statement; by reference or NotFoundError as `access_request`."""
    row = session.execute(_WITH_CODE, {"request_id": request_id}).one_or_none()
    if row is None:
        return service.access_request(session, request_id), None
    req, live, sent, tried, revision = row
    saw_revision(session, revision)
    return req, codes.read_of(live, sent, tried)


@dataclass(frozen=True)
class Verification:
    """The request after a code was tried, and what to tell the person if it was wrong."""

    request: RightsRequest
    error: str | None


def verify(session: Session, settings: Settings, *, request_id: str, code: str) -> Verification:
    """Check the e-mailed code, then the data points; verified requests move on, others close.

    A wrong code is not raised: the caller commits the counted try, then shows `error`.
    """
    req, read = _with_code(session, request_id)
    if req.status != Status.VERIFYING.value:
        return Verification(req, None)
    error = codes.check_code(session, settings, request_id=req.id, code=code, read=read)
    if error and _close_used_up(session, settings, req):
        return Verification(req, None)  # the status page says why it closed
    if error:
        return Verification(req, error)
    level = 1 if req.required_level <= 1 else _matching_level(session, settings, req)
    req.verification_level = level
    # Signed when made, or not needed under the rules in force (rights/declaration.py).
    declared = req.declaration_signed_at is not None or not declaration.needed(
        settings, req.request_type, req.jurisdiction
    )
    if level >= req.required_level and declared:
        service.move(
            session,
            req,
            Status.VERIFIED,
            actor="consumer",
            detail={"level": level, "required": req.required_level},
        )
        service.route_verified(session, settings, req, actor="system")
    else:
        service.move(
            session,
            req,
            Status.DENIED,
            actor="system",
            reason="unable_to_verify",
            detail={"level": level, "required": req.required_level},
        )
        req.denial_reason = UNVERIFIED_REASON
        service.notify_consumer(
            session,
            settings,
            req,
            "denied",
            {"reason": UNVERIFIED_REASON},
        )
    return Verification(req, None)
