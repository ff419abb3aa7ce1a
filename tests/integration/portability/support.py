"""Shared steps of the portability tests: a portable-copy request naming a recipient, taken to
the point where the worker may send it."""

from __future__ import annotations

import re

from sqlalchemy import select

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights import flows, service, transfers
from rightful.rights.execution import run_request
from rightful.rights.schemas import RequestIn
from rightful.rights.transfer_models import PortabilityTransfer
from rightful.rights.transfer_worker import deliver_transfers
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from tests.support.app import AVERY, latest_code


def submit(
    runtime: Runtime,
    to: str,
    name: str = "Northwind Health",
    *,
    person: dict[str, str] | None = None,
) -> str:
    """A verified portability request naming `to`, Avery's or `person`'s; returns its id."""
    who = person or AVERY
    data = RequestIn(
        request_type="portability",  # type: ignore[arg-type]
        declaration_signature=who.get("name", "Avery Quinn"),
        transfer_to=to,
        transfer_recipient=name,
        **who,
    )
    with unit_of_work(runtime.sessions) as session:
        request_id = flows.submit(session, runtime.settings, data, client="test").id
    with unit_of_work(runtime.sessions) as session:
        code = latest_code(runtime, request_id)
        assert (
            flows.verify(session, runtime.settings, request_id=request_id, code=code).error is None
        )
    return request_id


def approve_and_run(runtime: Runtime, request_id: str) -> None:
    """Staff approve; the worker builds the package."""
    with unit_of_work(runtime.sessions) as session:
        service.approve_request(
            session, runtime.settings, request_id=request_id, actor=system_actor("test")
        )
    assert run_request(runtime.sessions, runtime.settings, request_id) == "completed"


def deliver(runtime: Runtime) -> None:
    """One worker pass over transfers."""
    with runtime.sessions() as session:
        deliver_transfers(session, runtime.settings)


def letters(runtime: Runtime, request_id: str, template: str) -> list[str]:
    """The texts of a request's e-mails from one template (read from the outbox)."""
    with runtime.sessions() as session:
        return [
            open_letter(runtime.settings, m).text
            for m in list_outbox(session, request_id=request_id)
            if m.template == template
        ]


def confirm_token(runtime: Runtime, request_id: str) -> str:
    """The token of the confirmation link e-mailed to the person."""
    (text,) = letters(runtime, request_id, "transfer_confirm")
    found = re.search(r"/transfers/confirm/([A-Za-z0-9_.\-]+)", text)
    assert found, "no confirmation link in the e-mail"
    return found.group(1)


def confirm(runtime: Runtime, request_id: str, *, send: bool = True) -> str:
    """The person answers through their link; returns the transfer's status."""
    with unit_of_work(runtime.sessions) as session:
        return transfers.answer(
            session, runtime.settings, token=confirm_token(runtime, request_id), confirm=send
        )


def transfer(runtime: Runtime, request_id: str) -> PortabilityTransfer:
    """The request's transfer row as stored."""
    with runtime.sessions() as session:
        found = session.scalar(
            select(PortabilityTransfer).where(PortabilityTransfer.request_id == request_id)
        )
        assert found is not None
        session.expunge(found)
        return found


def actions(runtime: Runtime, request_id: str) -> list[str]:
    """The transfer's audited steps, in order."""
    with runtime.sessions() as session:
        return [
            e.action
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.subject_id == request_id, AuditEvent.action.like("transfer.%"))
                .order_by(AuditEvent.id)
            )
        ]
