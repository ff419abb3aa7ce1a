"""Checks answered from each process's memory (RIGHTFUL_CONSENT_CACHE_SECONDS) on PostgreSQL:
under concurrent withdrawals, separate processes each with their own connections and cache
never answer "allowed" once the bound has passed since a withdrawal was acknowledged, and with
the change feed do not wait for the bound; with caching off, never after the acknowledgement;
a listener whose connection is killed serves nothing stale."""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from rightful.consent import catalog, check_cache, ledger, service, subjects
from rightful.consent.catalog import Interface, State
from rightful.core.config import Settings
from rightful.core.db import make_engine, single_reads
from rightful.migrations import upgrade

pytestmark = pytest.mark.postgres

PEOPLE = 40
CHECKERS = 3
WRITERS = 4

# One checking process: waits for its change feed to listen, says "ready", then checks every
# person over and over until told time is up, and prints each answer with when it was asked.
CHECKER = """
import json, os, sys, time
from sqlalchemy.orm import sessionmaker
from rightful.consent import check_cache, service
from rightful.core.config import Settings
from rightful.core.db import make_engine, single_reads

url = os.environ["CACHE_URL"]
settings = Settings(
    database_url=url,
    secret_key=os.environ["CACHE_SECRET"],
    data_dir=sys.argv[1],
    consent_cache_seconds=float(os.environ["CACHE_SECONDS"]),
)
sessions = sessionmaker(make_engine(url))
emails = json.loads(os.environ["CACHE_EMAILS"])
with single_reads(sessions) as session:
    cache = check_cache.for_store(session, settings)
while cache is not None and not cache.live:
    time.sleep(0.01)
print("ready", flush=True)
until = float(sys.stdin.readline())
answers = []
while time.time() < until:
    for i, email in enumerate(emails):
        asked = time.time()
        with single_reads(sessions) as session:
            allowed = service.check(
                session, settings, purpose="sale_share", channel="all", email=email
            ).allowed
        answers.append((i, asked, allowed))
print(json.dumps({"answers": answers, "served": cache.served if cache else 0}), flush=True)
"""


@dataclass
class Store:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]


@pytest.fixture
def store(postgres_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(
        database_url=postgres_url, secret_key=secrets.token_urlsafe(40), data_dir=tmp_path
    )
    engine = make_engine(postgres_url)
    upgrade(engine)
    made = Store(postgres_url, settings, sessionmaker(engine))
    with made.sessions() as session:
        catalog.ensure_built_in(session)
        for i in range(0, PEOPLE, 2):  # half known with an explicit yes, half never seen
            person = subjects.person(session, settings, _email(i))
            given = [ledger.Choice(catalog.SALE_SHARE, "all", State.GIVEN)]
            ledger.record(session, settings, person, given, ledger.Collected(Interface.API))
        session.commit()
    yield made
    engine.dispose()


def _email(i: int) -> str:
    return f"person{i}@example.com"


def _withdraw(store: Store, settings: Settings, email: str) -> float:
    """Withdraw the sale of this person's data; when the commit was acknowledged."""
    with store.sessions() as session:
        person = subjects.person(session, settings, email)
        choice = [ledger.Choice(catalog.SALE_SHARE, "all", State.WITHDRAWN)]
        ledger.record(session, settings, person, choice, ledger.Collected(Interface.API))
        session.commit()
    return time.time()


@dataclass(frozen=True)
class Run:
    acknowledged: dict[int, float]  # person → when their withdrawal was acknowledged
    answers: list[tuple[int, float, bool]]  # (person, when asked, allowed) from every checker
    served: int  # answers the checkers gave from memory


def _run(store: Store, tmp_path: Path, *, check_seconds: float, write_seconds: float) -> Run:
    """CHECKERS processes check everyone while WRITERS threads withdraw everyone, in random
    order, each on its own connection."""
    env = os.environ | {
        "CACHE_URL": store.url,
        "CACHE_SECRET": store.settings.secret_key,
        "CACHE_SECONDS": str(check_seconds),
        "CACHE_EMAILS": json.dumps([_email(i) for i in range(PEOPLE)]),
    }
    checkers = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKER, str(tmp_path)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(CHECKERS)
    ]
    for child in checkers:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    began = time.time()
    for child in checkers:  # every cache fills for a second, then the withdrawals start
        assert child.stdin is not None
        child.stdin.write(f"{began + 7}\n")
        child.stdin.flush()
    time.sleep(1)
    writer = store.settings.model_copy(update={"consent_cache_seconds": write_seconds})
    order = random.Random(14).sample(range(PEOPLE), PEOPLE)
    acknowledged: dict[int, float] = {}

    def withdraw_some(mine: list[int]) -> None:
        for i in mine:
            acknowledged[i] = _withdraw(store, writer, _email(i))
            time.sleep(random.uniform(0, 0.05))

    threads = [
        threading.Thread(target=withdraw_some, args=(order[n::WRITERS],)) for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.time() < began + 4, "the withdrawals took too long for the run to judge them"
    answers: list[tuple[int, float, bool]] = []
    served = 0
    for child in checkers:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        report = json.loads(out.strip().splitlines()[-1])
        answers += [tuple(a) for a in report["answers"]]
        served += report["served"]
    return Run(acknowledged, answers, served)


def _allowed_after(run: Run, delay: float) -> list[tuple[int, float]]:
    """Answers "allowed" asked more than `delay` seconds after the person's withdrawal was
    acknowledged: (person, seconds after)."""
    return [
        (i, round(asked - run.acknowledged[i], 3))
        for i, asked, allowed in run.answers
        if allowed and asked > run.acknowledged[i] + delay
    ]


def test_no_process_answers_allowed_once_the_bound_has_passed_even_without_notifications(
    store: Store, tmp_path: Path
) -> None:
    # Writers that do not announce (their processes have the cache off): only the bound holds.
    bound = 1.0
    run = _run(store, tmp_path, check_seconds=bound, write_seconds=0)
    assert len(run.acknowledged) == PEOPLE
    assert _allowed_after(run, bound) == []
    assert run.served > 0
    assert _allowed_after(run, 0), "no stale answer within the bound: was the cache in use?"


def test_the_change_feed_ends_allowed_answers_long_before_the_bound(
    store: Store, tmp_path: Path
) -> None:
    run = _run(store, tmp_path, check_seconds=600, write_seconds=600)
    assert len(run.acknowledged) == PEOPLE
    # Two seconds for a notification to cross a busy machine; the bound is ten minutes.
    assert _allowed_after(run, 2.0) == []
    assert run.served > 0


def test_with_caching_off_no_process_answers_allowed_after_the_acknowledgement(
    store: Store, tmp_path: Path
) -> None:
    run = _run(store, tmp_path, check_seconds=0, write_seconds=0)
    assert len(run.acknowledged) == PEOPLE
    assert _allowed_after(run, 0) == []
    assert run.served == 0
    assert any(allowed for *_, allowed in run.answers)  # they were allowed before


def _check(store: Store, settings: Settings, email: str) -> bool:
    with single_reads(store.sessions) as session:
        return service.check(
            session, settings, purpose="sale_share", channel="all", email=email
        ).allowed


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_listener_whose_connection_is_killed_serves_nothing_stale(store: Store) -> None:
    settings = store.settings.model_copy(update={"consent_cache_seconds": 600})
    email = _email(0)
    with single_reads(store.sessions) as session:
        cache = check_cache.for_store(session, settings)
    assert cache is not None
    try:
        _wait(lambda: cache.live, "the listener never connected")
        assert _check(store, settings, email) and _check(store, settings, email)
        assert cache.served >= 1  # the second answer came from memory
        with store.sessions() as session:
            kill = text("SELECT pg_terminate_backend(:pid)")
            assert session.scalar(kill, {"pid": cache.listener_pid})
        _wait(lambda: not cache.live, "the listener never noticed")
        # Withdrawn while nobody listens: its notification is lost.
        _withdraw(store, settings, email)
        assert cache.connections == 1, "the listener came back before the withdrawal"
        assert not _check(store, settings, email)
        _wait(lambda: cache.connections == 2 and cache.live, "the listener never reconnected")
        assert not _check(store, settings, email)
    finally:
        cache.stop()


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_a_check_is_one_statement_of_index_reads_and_none_when_held(store: Store) -> None:
    settings = store.settings.model_copy(update={"consent_cache_seconds": 600})
    sent: list[tuple[str, Any]] = []
    engine = store.sessions.kw["bind"]
    listen = lambda *args: sent.append(args[2:4])  # noqa: E731 - statement and parameters
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with single_reads(store.sessions) as session:
            cache = check_cache.for_store(session, settings)
            assert cache is not None
            _wait(lambda: cache.live, "the listener never connected")
            ask = {"purpose": "marketing", "channel": "email", "email": _email(2)}
            service.check(session, settings, **(ask | {"email": _email(4)}))
            sent.clear()  # the process has read the catalogue
            service.check(session, settings, **ask)
            assert len(sent) == 1  # the subject, its person's and its states, both lists
            service.check(session, settings, **ask)
            assert len(sent) == 1  # from memory
            session.execute(text("SET enable_seqscan = off"))  # an index, wherever there is one
            statement, params = sent[0]
            explain = session.connection().exec_driver_sql(
                "EXPLAIN (FORMAT JSON) " + statement, params
            )
            plan = explain.scalar()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
        if cache is not None:
            cache.stop()
    read = {n.get("Relation Name"): n["Node Type"] for n in _plan_nodes(plan[0]["Plan"])}
    assert {table for table, node in read.items() if table and "Seq Scan" in node} == set()
    assert {"consent_subjects", "consent_states", "marketing_suppressions"} <= set(read)
