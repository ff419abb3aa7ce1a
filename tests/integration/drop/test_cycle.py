"""A DROP cycle end to end against a local server that follows DROP's API: download, match
against a real estate, deletions and opt-outs really done in the stores, a status file equal
to what happened, and a later list matching the same person without anything new kept."""

from __future__ import annotations

import io
import secrets
import string
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from rightful.connectors.sql import dispose_all
from rightful.core.db import unit_of_work
from rightful.core.errors import ConnectorError
from rightful.core.runtime import Runtime
from rightful.demo.estate import SYSTEMS
from rightful.drop import sync
from rightful.drop.client import DropClient
from rightful.drop.hashing import ListType, list_hash
from rightful.drop.models import DropKept, DropWorkItem
from rightful.messaging.service import list_outbox, open_letter
from rightful.rights.execution import run_request
from rightful.rights.models import RightsRequest
from rightful.security import audit
from rightful.security.models import AuditEvent
from rightful.security.permissions import system_actor
from tests.support.app import make_settings, prepare
from tests.support.drop_server import DropServer

KEY = "test-key-" + secrets.token_hex(8)
AVERY, JORDAN, MARIO = (
    "avery.quinn@example.com",
    "jordan.lee@example.com",
    "mario.hernandez.3@example.com",
)
JORDAN_PHONE = "+15105550199"


def item_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))


def archive(lists: dict[str, list[str]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, lines in lists.items():
            zf.writestr(name, "\n".join(["ID,Hash", *lines]) + "\n")
    return out.getvalue()


def estate(tmp_path: Path, shared: str | None) -> dict[str, str]:
    if shared:
        return {key: shared for key in SYSTEMS}
    (tmp_path / "estate").mkdir(parents=True, exist_ok=True)
    return {key: f"sqlite:///{tmp_path}/estate/{key}.db" for key in SYSTEMS}


def partners_confirm(runtime: Runtime, request_id: str) -> None:
    from rightful.rights import partners
    from rightful.rights.models import PartnerNotice
    from rightful.security.tokens import LinkSigner

    signer = LinkSigner(runtime.settings.secret_key, "partner-ack")
    with unit_of_work(runtime.sessions) as session:
        ids = session.scalars(
            select(PartnerNotice.id).where(PartnerNotice.request_id == request_id)
        )
        for notice_id in list(ids):
            partners.acknowledge(session, runtime.settings, token=signer.sign(str(notice_id)))


def run_all(runtime: Runtime) -> None:
    """The worker's part: run every DROP request; partners confirm the deletion's notices."""
    with runtime.sessions() as session:
        ids = list(session.scalars(select(RightsRequest.id).where(RightsRequest.channel == "drop")))
    for rid in ids:
        if run_request(runtime.sessions, runtime.settings, rid) == "executing":
            partners_confirm(runtime, rid)
            run_request(runtime.sessions, runtime.settings, rid)


def drop_requests(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(RightsRequest.request_type, RightsRequest.status).where(
                RightsRequest.channel == "drop"
            )
        ).all()
    return {f"{t}#{i}": s for i, (t, s) in enumerate(sorted(rows))}


def cycle(tmp_path: Path, shared: str | None) -> None:
    with DropServer(KEY) as server:
        urls = estate(tmp_path, shared)
        settings = make_settings(
            tmp_path, drop_api_enabled=True, drop_api_key=KEY, drop_api_url=server.url
        )
        runtime = prepare(settings, urls, people=40)
        store = create_engine(urls["storefront"])
        with store.begin() as conn:  # Mario shares Jordan's phone number (a household line)
            conn.execute(text("UPDATE customers SET phone = :p WHERE id = 3"), {"p": JORDAN_PHONE})
        avery, nobody, jordan = item_id(), item_id(), item_id()
        server.state.ready.append(
            (
                "20261201_4821_DROP.zip",
                archive(
                    {
                        "20261201_4821_Email.csv": [
                            f"{avery},{list_hash(ListType.EMAIL, {'email': AVERY.upper()})}",
                            f"{nobody},{list_hash(ListType.EMAIL, {'email': 'no@one.example'})}",
                            "not-an-id,not-a-hash",
                        ],
                        "20261201_4821_Phone.csv": [
                            f"{jordan},{list_hash(ListType.PHONE, {'phone': '(510) 555-0199'})}"
                        ],
                        "20261201_4821_NDZ.csv": [],
                    }
                ),
            )
        )
        server.state.preparing, server.state.throttle = 1, 1
        actor = system_actor("drop-test")
        with (
            unit_of_work(runtime.sessions) as session,
            DropClient(settings, sleep=lambda _: None) as client,
        ):
            done = sync.download(session, settings, actor=actor, client=client)
            assert done is not None
            assert (done.lines, done.matched, done.bad_lines) == (3, 2, 1)
            assert done.cycle.problems[0]["line"] == 4
        # A deletion for Avery; an opt-out for each of the two people sharing the phone.
        assert drop_requests(runtime) == {
            "delete#0": "executing",
            "opt_out_sale#1": "executing",
            "opt_out_sale#2": "executing",
        }
        run_all(runtime)
        assert set(drop_requests(runtime).values()) == {"completed"}
        with runtime.sessions() as session:
            rid = session.scalars(
                select(RightsRequest.id).where(RightsRequest.request_type == "delete")
            ).one()
        with store.connect() as conn:  # really gone from the store
            assert conn.execute(text("SELECT id FROM customers WHERE id = 1")).all() == []
            assert conn.execute(text("SELECT count(*) FROM customers")).scalar() == 39
        store.dispose()
        with runtime.sessions() as session:
            sent_to = {open_letter(settings, m).to for m in list_outbox(session, limit=1000)}
            verified_by = set(
                session.scalars(
                    select(AuditEvent.actor).where(AuditEvent.action == "request.verified")
                )
            )
        assert not {AVERY, JORDAN, MARIO} & sent_to  # the consumer is never written to
        assert verified_by == {"drop"}
        with runtime.sessions() as session:  # the requests' events are in the chain, in order
            verdict = audit.verify_chain(session)
            assert verdict.intact, verdict.message
            timeline = [
                e.action
                for e in audit.events_for(session, subject_type="rights_request", subject_id=rid)
            ]
        assert timeline[:3] == ["request.received", "request.verified", "request.executing"]
        with unit_of_work(runtime.sessions) as session, DropClient(settings) as client:
            result = sync.upload(session, settings, actor=actor, client=client)
        assert sorted(result.accepted) == ["20261201_4821_Email.csv", "20261201_4821_Phone.csv"]
        assert server.state.uploads["20261201_4821_Email.csv"].splitlines() == [
            "Id,Status",
            f"{avery},3",
            f"{nobody},5",
        ]
        assert server.state.uploads["20261201_4821_Phone.csv"].splitlines() == [
            "Id,Status",
            f"{jordan},4",
        ]

        # A later list names Avery again: matched through the kept hash, nothing new kept.
        with runtime.sessions() as session:
            kept_before = session.scalar(select(func.count()).select_from(DropKept))
            requests_before = session.scalar(select(func.count()).select_from(RightsRequest))
        again = item_id()
        server.state.ready.append(
            (
                "20261215_4821_DROP.zip",
                archive(
                    {
                        "20261215_4821_Email.csv": [
                            f"{again},{list_hash(ListType.EMAIL, {'email': AVERY})}"
                        ]
                    }
                ),
            )
        )
        with unit_of_work(runtime.sessions) as session, DropClient(settings) as client:
            second = sync.download(session, settings, actor=actor, client=client)
            assert second is not None and second.matched == 0  # nothing of hers left to match
            result = sync.upload(session, settings, actor=actor, client=client)
        assert server.state.uploads["20261215_4821_Email.csv"].splitlines() == [
            "Id,Status",
            f"{again},3",
        ]
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(DropKept)) == kept_before
            assert (
                session.scalar(select(func.count()).select_from(RightsRequest)) == requests_before
            )
            codes = dict(session.execute(select(DropWorkItem.item_id, DropWorkItem.code)).all())
        assert codes == {avery: 3, nobody: 5, jordan: 4, again: 3}
        runtime.engine.dispose()
        dispose_all()


def test_a_drop_cycle_on_sqlite(tmp_path: Path) -> None:
    cycle(tmp_path, None)


@pytest.mark.postgres
def test_a_drop_cycle_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    cycle(tmp_path, postgres_url)


def test_nothing_new_a_wrong_key_and_a_refused_file_are_told_apart(tmp_path: Path) -> None:
    with DropServer(KEY) as server:
        settings = make_settings(
            tmp_path, drop_api_enabled=True, drop_api_key=KEY, drop_api_url=server.url
        )
        with DropClient(settings) as client:
            assert client.download(tmp_path) is None
            bad = tmp_path / "20261201_4821_Email.csv"
            bad.write_text("ID,Hash\nA7kP2xQ9Lm4R,3\n")
            result = client.upload([bad])
            assert result.accepted == [] and "header" in result.rejected[0]["why"]
        wrong = make_settings(
            tmp_path, drop_api_enabled=True, drop_api_key="wrong", drop_api_url=server.url
        )
        with DropClient(wrong) as client, pytest.raises(ConnectorError, match="401"):
            client.download(tmp_path)


def test_the_client_is_off_unless_turned_on(tmp_path: Path) -> None:
    from rightful.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="RIGHTFUL_DROP_API_ENABLED"):
        DropClient(make_settings(tmp_path))


def test_a_person_deleted_through_drop_whose_records_come_back_is_deleted_again(
    tmp_path: Path,
) -> None:
    from rightful.drop import service

    urls = estate(tmp_path, None)
    settings = make_settings(tmp_path)
    runtime = prepare(settings, urls, people=40)
    store = create_engine(urls["storefront"])
    with store.begin() as conn:  # Mario shares Jordan's phone: both only opted out
        conn.execute(text("UPDATE customers SET phone = :p WHERE id = 3"), {"p": JORDAN_PHONE})
    first = tmp_path / "20261201_4821_Email.csv"
    first.write_text(f"ID,Hash\n{item_id()},{list_hash(ListType.EMAIL, {'email': AVERY})}\n")
    phones = tmp_path / "20261201_4821_Phone.csv"
    phones.write_text(
        f"ID,Hash\n{item_id()},{list_hash(ListType.PHONE, {'phone': JORDAN_PHONE})}\n"
    )
    actor = system_actor("drop-test")
    for listed in (first, phones):
        with unit_of_work(runtime.sessions) as session:
            service.import_list(session, settings, path=listed, actor=actor)
    run_all(runtime)
    with store.begin() as conn:  # Avery signs up again: her record is collected anew
        conn.execute(
            text(
                "INSERT INTO customers (id, email, first_name, last_name, password_hash,"
                " created_at) VALUES (900, :e, 'Avery', 'Quinn', 'x', '2026-12-05 10:00:00')"
            ),
            {"e": AVERY},
        )
    empty = tmp_path / "20261215_4821_Email.csv"
    empty.write_text("ID,Hash\n")
    with unit_of_work(runtime.sessions) as session:
        done = service.import_list(session, settings, path=empty, actor=actor)
    assert done.deleted_again == 1  # Avery; the people sharing a phone are not deleted
    run_all(runtime)
    with store.connect() as conn:
        assert conn.execute(text("SELECT id FROM customers WHERE id = 900")).all() == []
        assert len(conn.execute(text("SELECT id FROM customers WHERE id IN (2, 3)")).all()) == 2
    store.dispose()
    runtime.engine.dispose()
    dispose_all()


def test_a_work_item_withdrawn_before_it_was_reported_gets_no_status(tmp_path: Path) -> None:
    from rightful.drop import service

    settings = make_settings(tmp_path)
    runtime = prepare(settings, estate(tmp_path, None), people=40)
    actor = system_actor("drop-test")
    avery, nobody = item_id(), item_id()
    first = tmp_path / "20261201_4821_Email.csv"
    first.write_text(
        f"ID,Hash\n{avery},{list_hash(ListType.EMAIL, {'email': AVERY})}\n"
        f"{nobody},{list_hash(ListType.EMAIL, {'email': 'no@one.example'})}\n"
    )
    later = tmp_path / "20261215_4821_DROP.zip"
    with zipfile.ZipFile(later, "w") as zf:
        zf.writestr("20261215_4821_Email.csv", "ID,Hash\n")
        zf.writestr(
            "20261215_4821_Removed.csv",
            f"ID,Hash,ListType\n{avery},{list_hash(ListType.EMAIL, {'email': AVERY})},Email\n",
        )
    with unit_of_work(runtime.sessions) as session:
        service.import_list(session, settings, path=first, actor=actor)
    with unit_of_work(runtime.sessions) as session:
        done = service.import_list(session, settings, path=later, actor=actor)
        assert done.removed == 1
    with unit_of_work(runtime.sessions) as session:
        cycle = service.access_cycle(session, actor=actor, cycle_id=1)
        files = service.write_status_files(
            session, settings, actor=actor, folder=tmp_path / "out", cycle_id=cycle.id
        )
    assert [f.read_text().splitlines() for f in files] == [["Id,Status", f"{nobody},5"]]
    runtime.engine.dispose()
    dispose_all()


def test_the_45_days_run_from_the_day_a_hand_downloaded_list_carries(tmp_path: Path) -> None:
    from datetime import timedelta

    from rightful.core.clock import utcnow
    from rightful.drop import service
    from rightful.drop.status import summary

    settings = make_settings(tmp_path)
    runtime = prepare(settings, estate(tmp_path, None), people=10)
    ten_days_ago = utcnow() - timedelta(days=10)
    listed = tmp_path / f"{ten_days_ago:%Y%m%d}_4821_Email.csv"
    listed.write_text("ID,Hash\n")
    with unit_of_work(runtime.sessions) as session:
        service.import_list(session, settings, path=listed, actor=system_actor("t"))
    with runtime.sessions() as session:
        clock = summary(session, settings)
    assert clock.next_due == ten_days_ago.date() + timedelta(days=45)
    assert (clock.days_left, clock.overdue) == (35, False)
    runtime.engine.dispose()
    dispose_all()


def test_an_import_cut_short_after_its_list_was_kept_resumes_when_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rightful.drop import service

    settings = make_settings(tmp_path)
    runtime = prepare(settings, estate(tmp_path, None), people=40)
    actor = system_actor("drop-test")
    avery, nobody = item_id(), item_id()
    listed = tmp_path / "20261201_4821_Email.csv"
    listed.write_text(
        f"ID,Hash\n{avery},{list_hash(ListType.EMAIL, {'email': AVERY})}\n"
        f"{nobody},{list_hash(ListType.EMAIL, {'email': 'no@one.example'})}\n"
    )

    def cut_short(*_: object, **__: object) -> int:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as patch:
        patch.setattr(service, "match_cycle", cut_short)
        with pytest.raises(RuntimeError), unit_of_work(runtime.sessions) as session:
            service.import_list(session, settings, path=listed, actor=actor)
    with unit_of_work(runtime.sessions) as session:
        done = service.import_list(session, settings, path=listed, actor=actor)
        assert (done.lines, done.matched) == (2, 1)
    with runtime.sessions() as session:
        items = dict(session.execute(select(DropWorkItem.item_id, DropWorkItem.outcome)).all())
        opened = session.scalar(select(func.count()).select_from(RightsRequest))
    assert items == {avery: "matched", nobody: "not_found"} and opened == 1
    runtime.engine.dispose()
    dispose_all()
