"""A person's consent record after their data is erased: the proof stays, the address goes,
and no marketing reaches them again until they come back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from rightful.connectors.sql import dispose_all
from rightful.consent import catalog, ledger, subjects, suppression
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.erasure import after_erasure
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.consent.state import decide
from rightful.core.db import unit_of_work
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights.execution import run_request
from rightful.rights.models import RightsRequest
from tests.integration.rights.test_erasure import erase_avery, partners_confirm
from tests.support.app import AVERY, make_settings, prepare

EMAIL = AVERY["email"]
PHONE = AVERY["phone_number"]


def test_erasure_keeps_the_proof_forgets_the_address_and_stops_marketing(tmp_path: Path) -> None:
    runtime = prepare(make_settings(tmp_path), people=40)
    settings = runtime.settings
    with unit_of_work(runtime.sessions) as session:
        catalog.ensure_built_in(session)
        person = subjects.person(session, settings, EMAIL)
        ledger.record(
            session,
            settings,
            person,
            [
                ledger.Choice(catalog.ALL_MARKETING, Channel.EMAIL, State.GIVEN),
                ledger.Choice(catalog.SALE_SHARE, Channel.ALL, State.WITHDRAWN),
            ],
            ledger.Collected(interface=Interface.PREFERENCE_CENTER),
        )
        subjects.link_to_person(session, subjects.phone_number(session, settings, PHONE), person.id)
    request_id = erase_avery(runtime)
    assert run_request(runtime.sessions, settings, request_id) == "executing"
    partners_confirm(runtime, request_id)
    assert run_request(runtime.sessions, settings, request_id) == "completed"

    with runtime.sessions() as session:
        reference = session.get(RightsRequest, request_id).reference  # type: ignore[union-attr]
        person = subjects.find_person(session, settings, EMAIL)
        assert person is not None and person.sealed_email is None
        assert subjects.email_of(settings, person) is None
        events = ledger.history(session, person.id)
        by_request = [e for e in events if e.interface == Interface.RIGHTS_REQUEST]
        assert {(e.purpose, e.channel, e.state) for e in by_request} == {
            (catalog.ALL_MARKETING, ch, "withdrawn") for ch in ("email", "sms", "phone", "post")
        }
        assert all(e.proof["request"] == reference for e in by_request)
        # The earlier proof is kept, and the opt-out of sale still holds.
        assert any(e.purpose == catalog.SALE_SHARE for e in events)
        sale = catalog.checked(session, catalog.SALE_SHARE, Channel.ALL)
        assert not decide(session, person, sale, Channel.ALL).allowed
        marketing = catalog.checked(session, catalog.ALL_MARKETING, Channel.EMAIL)
        assert not decide(session, person, marketing, Channel.EMAIL).allowed
        # A sender holding only the SHA-256 (say, from an old list) finds the address suppressed.
        digest = subjects.email_sha256(EMAIL)
        assert suppression.check_hashes(session, [digest]) == {digest}
        # Her linked number: no more texts, and the number itself is dropped.
        number = session.scalars(
            select(ConsentSubject).where(ConsentSubject.person_id == person.id)
        ).one()
        assert number.kind == "phone" and number.sealed_phone is None
        texts = catalog.checked(session, catalog.ALL_MARKETING, Channel.SMS)
        assert not decide(session, number, texts, Channel.SMS).allowed
        assert any(e.interface == "rights_request" for e in ledger.history(session, number.id))
        assert ledger.verify(session).intact
        letter = next(
            open_letter(settings, m)
            for m in list_outbox(session, request_id=request_id)
            if m.template == "erased"
        )
        assert "record of the privacy choices you made" in letter.text
        count = session.scalar(select(func.count()).select_from(ConsentEvent))

    with unit_of_work(runtime.sessions) as session:  # a re-run (a resumed erasure) adds nothing
        again = after_erasure(
            session, settings, email=EMAIL, jurisdiction="US-CA", reference=reference
        )
        assert again == 0
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == count
    with unit_of_work(runtime.sessions) as session:  # they come back: the address is sealed anew
        back = subjects.person(session, settings, EMAIL)
        assert back.id == person.id and subjects.email_of(settings, back) == EMAIL
    runtime.engine.dispose()
    dispose_all()
