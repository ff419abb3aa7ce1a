"""`rightful audit verify` and `rightful consent verify` find rows deleted from the end of
their logs, where walking the rows alone saw nothing wrong."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from rightful.cli.main import app
from rightful.consent import sequencer
from rightful.core.runtime import build_runtime
from tests.support.cli import run, runner


def _delete_newest(store: Path, table: str, rows: int = 1) -> int:
    """Delete the newest rows of a chain as someone with the database would; the newest id
    left."""
    engine = create_engine(f"sqlite:///{store / 'rightful.db'}")
    with engine.begin() as conn:
        if table == "consent_events":  # the derived state refers to events
            conn.execute(text("DELETE FROM consent_states"))
        ids = conn.execute(text(f"SELECT id FROM {table} ORDER BY id DESC")).scalars().all()  # noqa: S608 - a fixed name
        conn.execute(text(f"DELETE FROM {table} WHERE id >= :id"), {"id": ids[rows - 1]})  # noqa: S608
    engine.dispose()
    return int(ids[rows])


def test_audit_verify_says_intact_then_finds_the_newest_events_deleted(cli_env: Path) -> None:
    assert "The audit log is intact" in run("audit", "verify")
    newest_left = _delete_newest(cli_env, "audit_events", rows=2)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"2 events missing at the end: the chain ends at event {newest_left}" in result.output
    as_json = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert as_json["problem"] == "missing_at_end" and as_json["broken_at"] == newest_left


def test_consent_verify_finds_the_newest_event_deleted(cli_env: Path) -> None:
    runtime = build_runtime()
    sequenced = sequencer.run_once(runtime.sessions, runtime.settings)
    runtime.engine.dispose()
    assert sequenced and "The consent ledger is intact" in run("consent", "verify")
    newest_left = _delete_newest(cli_env, "consent_events")
    with create_engine(f"sqlite:///{cli_env / 'rightful.db'}").connect() as conn:
        uid = conn.execute(text("SELECT uid FROM consent_events WHERE id = :i"), {"i": newest_left})
        left = uid.scalar_one()
    result = runner.invoke(app, ["consent", "verify"])
    assert result.exit_code == 1
    assert (
        f"1 event missing at the end: the log ends at event {left} (position {sequenced - 2}), "
        f"but we signed it with {sequenced} events." in result.output
    )


def _rewrite_head(store: Path) -> None:
    """Set the audit head to the chain that is left, as someone hiding a deletion would."""
    engine = create_engine(f"sqlite:///{store / 'rightful.db'}")
    with engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        last = conn.execute(text("SELECT hash FROM audit_events ORDER BY id DESC")).first()
        conn.execute(
            text("UPDATE audit_chain_head SET events = :n, last_hash = :h WHERE id = 1"),
            {"n": count, "h": last[0] if last else None},
        )
    engine.dispose()


def test_audit_verify_anchors_the_head_and_then_finds_a_tail_cut_with_its_head_rewritten(
    cli_env: Path,
) -> None:
    run("audit", "verify")
    anchor = cli_env / "anchors" / "audit-anchors.jsonl"
    [line] = anchor.read_text().splitlines()
    held = json.loads(line)["events"]
    newest_left = _delete_newest(cli_env, "audit_events", rows=2)
    _rewrite_head(cli_env)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "The audit log is broken: The log holds fewer events than it did on " in result.output
    assert f": 2 events at the end are missing (it held {held}, anchored on line 1" in (
        result.output.replace("\n", " ")
    )
    as_json = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert (as_json["problem"], as_json["broken_at"]) == ("shorter_than_anchored", newest_left)
    assert anchor.read_text().splitlines() == [line]  # a broken log is not anchored


def test_audit_anchor_anchors_both_logs_on_demand(cli_env: Path) -> None:
    runtime = build_runtime()
    sequencer.run_once(runtime.sessions, runtime.settings)
    runtime.engine.dispose()
    output = run("audit", "anchor")
    assert "The audit log is intact" in output and "The consent log is intact" in output
    for chain in ("audit", "consent"):
        [line] = (cli_env / "anchors" / f"{chain}-anchors.jsonl").read_text().splitlines()
        assert json.loads(line)["chain"] == chain
