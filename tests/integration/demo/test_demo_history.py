"""The demo's year of past requests (2025): set up as `make demo` does, its yearly metrics page
and CSV equal a count made by hand from the history's list, and a second setup adds nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rightful.connectors.sql import dispose_all
from rightful.core.clock import as_utc
from rightful.core.runtime import Runtime, build_runtime
from rightful.messaging.models import OutboxMessage
from rightful.rights.models import RightsRequest
from rightful.rights.types import OPEN
from rightful.web.app import create_app
from tests.support.cli import run

# Worked out by hand from the 35 requests listed in src/rightful/demo/request_history.py.
# Days to respond (receipt to first answer; withdrawn ones not counted), California:
#   know     12, 5, 62, 20, 9, 15, 2, 30    -> median (12+15)/2 = 13.5, mean 155/8 = 19.4
#   delete   10, 21, 7, 14, 58, 16          -> median (14+16)/2 = 15.0, mean 126/6 = 21.0
#   correct  8, 25, 11                      -> median 11.0, mean 44/3 = 14.7
#   opt_out  1, 0, 2, 1, 3, 1               -> median 1.0, mean 8/6 = 1.3
#   limit    4, 6                           -> median 5.0, mean 5.0
# Everyone adds Texas (know 14, delete 9, opt_out 1), Virginia (know 11, delete 18: the
# denial appealed and reversed, still counted as denied) and Ireland (know 48, delete 6,
# correct 6):
#   know     median of 11 days 14.0, mean 228/11 = 20.7
#   delete   median of 9 days 14.0, mean 159/9 = 17.7
#   correct  median (6+11)/2... of 6, 8, 11, 25 = 9.5, mean 50/4 = 12.5
#   opt_out  median 1.0, mean 9/7 = 1.3
# Columns: received; complied with in whole, in part; denied: in all, not verifiable, not
# made by the consumer, exempt, other grounds; withdrawn; not yet answered; median and mean days.
HAND_COUNT = """
scope  kind     received whole part denied nv nbc exempt other withdrawn open median mean
US-CA  know     9        4     1    3      1  1   1      0     1         0    13.5   19.4
US-CA  delete   7        4     1    1      1  0   0      0     1         0    15.0   21.0
US-CA  correct  3        2     0    1      0  0   0      1     0         0    11.0   14.7
US-CA  opt_out  6        6     0    0      0  0   0      0     0         0    1.0    1.3
US-CA  limit    2        2     0    0      0  0   0      0     0         0    5.0    5.0
all    know     12       7     1    3      1  1   1      0     1         0    14.0   20.7
all    delete   10       6     1    2      1  0   1      0     1         0    14.0   17.7
all    correct  4        3     0    1      0  0   0      1     0         0    9.5    12.5
all    opt_out  7        7     0    0      0  0   0      0     0         0    1.0    1.3
all    limit    2        2     0    0      0  0   0      0     0         0    5.0    5.0
"""
LABELS = {
    "know": "Requests to know",
    "delete": "Requests to delete",
    "correct": "Requests to correct",
    "opt_out": "Requests to opt out of sale or sharing",
    "limit": "Requests to limit the use of sensitive personal information",
}


def hand_count(scope: str) -> list[dict[str, str]]:
    header, *lines = [line.split() for line in HAND_COUNT.strip().splitlines()]
    return [dict(zip(header, line, strict=True)) for line in lines if line[0] == scope]


@dataclass
class Demo:
    runtime: Runtime
    client: TestClient


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`make demo`'s setup (RIGHTFUL_DEMO_MODE=true rightful demo setup), run twice, then the
    app on its store. A mail server is named (nothing listens there and nothing is sent during
    setup), so mail from the past would be queued to go unless the history keeps it back."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RIGHTFUL_DATA_DIR", str(tmp_path_factory.mktemp("demo")))
        env.setenv("RIGHTFUL_DEMO_MODE", "true")
        env.setenv("RIGHTFUL_SMTP_URL", "smtp://127.0.0.1:9")
        for name in ("RIGHTFUL_SECRET_KEY", "RIGHTFUL_DATABASE_URL"):
            env.delenv(name, raising=False)
        run("demo", "setup", "--people", "30")
        run("demo", "setup", "--people", "30")  # again: the history is not written twice
        runtime = build_runtime()
        try:
            with TestClient(create_app(runtime, start_worker=False)) as client:
                yield Demo(runtime, client)
        finally:
            runtime.engine.dispose()
            dispose_all()


def cells(page: str, label: str) -> list[list[str]]:
    """The cells of each table row headed `label` (the answers table, then the denials)."""
    rows = re.findall(rf"<th scope=\"row\"[^>]*>{re.escape(label)}</th>(.*?)</tr>", page, re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", "", c).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


@pytest.mark.parametrize("scope", ["US-CA", "all"])
def test_the_metrics_page_for_2025_matches_the_hand_count(demo: Demo, scope: str) -> None:
    query = "" if scope == "US-CA" else "?scope=all"
    page = demo.client.get(f"/privacy/metrics/2025{query}")
    assert page.status_code == 200
    for row in hand_count(scope):
        answers, denials = cells(page.text, LABELS[row["kind"]])
        complied = int(row["whole"]) + int(row["part"])
        in_part = f" ({row['part']} in part)" if row["part"] != "0" else ""
        assert answers == [
            row["received"],
            f"{complied}{in_part}",
            row["denied"],
            row["withdrawn"],
            row["open"],
            row["median"],
            row["mean"],
        ], row["kind"]
        # not verifiable, not by the consumer, exempt, other grounds
        assert denials == [row["nv"], row["nbc"], row["exempt"], row["other"]], row["kind"]


@pytest.mark.parametrize("scope", ["US-CA", "all"])
def test_the_metrics_csv_for_2025_matches_the_hand_count(demo: Demo, scope: str) -> None:
    query = "" if scope == "US-CA" else "?scope=all"
    answer = demo.client.get(f"/privacy/metrics/2025.csv{query}")
    got = {r["request_kind"]: r for r in csv.DictReader(io.StringIO(answer.text))}
    for row in hand_count(scope):
        line = got[row["kind"]]
        assert (line["year"], line["scope"]) == ("2025", scope)
        assert {
            "received": line["received"],
            "whole": line["complied_in_whole"],
            "part": line["complied_in_part"],
            "denied": line["denied"],
            "nv": line["denied_not_verifiable"],
            "nbc": line["denied_not_by_consumer"],
            "exempt": line["denied_exempt"],
            "other": line["denied_other"],
            "withdrawn": line["withdrawn"],
            "open": line["not_yet_answered"],
            "median": line["median_days_to_respond"],
            "mean": line["mean_days_to_respond"],
        } == {k: v for k, v in row.items() if k not in ("scope", "kind")}, row["kind"]


def test_the_virginia_appeal_is_counted_reversed(demo: Demo) -> None:
    page = demo.client.get("/privacy/metrics/2025").text
    # received, upheld, reversed, partly, not yet decided, median days to decide
    assert cells(page, "Virginia") == [["1", "0", "1", "0", "0", "21.0"]]


def test_the_history_leaves_nothing_open_and_its_mail_recorded_then(demo: Demo) -> None:
    in_2025 = RightsRequest.received_at < datetime(2026, 1, 1, tzinfo=UTC)
    with demo.runtime.sessions() as session:
        count = select(func.count()).select_from(RightsRequest).where(in_2025)
        assert session.scalar(count) == 35
        assert session.scalar(count.where(RightsRequest.status.in_([s.value for s in OPEN]))) == 0
        history = select(RightsRequest.id).where(in_2025)
        mail = session.execute(
            select(OutboxMessage.status, OutboxMessage.created_at).where(
                OutboxMessage.request_id.in_(history)
            )
        ).all()
    assert len(mail) > 35 and {status for status, _ in mail} == {"recorded"}  # none to send
    # Dated when it was written: the last answer went out on 1 January 2026.
    assert max(as_utc(at) for _, at in mail) == datetime(2026, 1, 1, 19, tzinfo=UTC)
