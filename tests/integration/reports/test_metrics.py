"""The yearly metrics (11 CCR § 7102) of a seeded year equal the figures counted by hand.

The hand count, from seed.py (California; days are calendar days from receipt to the first
answer, local dates in California):

    request  kind    received    first answer          counts as                     days
    K1       know    2025-01-10  completed 2025-01-20  complied in whole             10
    K2       know    2025-02-01  partly    2025-02-15  complied in part              14
    K3       know    2025-03-01  denied    2025-03-04  denied: not verifiable         3
    K4       know    2025-12-20  completed 2026-01-09  complied (answered next year) 20
    K5       know    2025-04-01  withdrawn 2025-04-02  withdrawn                      -
    K6       know    2025-12-31  completed 2026-01-02  complied (03:00 UTC 1 Jan)     2
    A1       know    2025-09-01  completed 2025-09-15  complied (a copy)             14
    D1       delete  2025-05-01  completed 2025-07-20  complied (extended)           80
    D2       delete  2025-05-10  denied    2025-05-30  denied: exempt                20
    D3       delete  2025-06-01  denied    2025-06-05  denied: not by the consumer    4
    D4       delete  2025-06-10  denied    2025-06-16  denied: other (no basis)       6
    D5       delete  2025-11-01  -                     not yet answered               -
    O1       opt_out 2025-02-02  completed 2025-02-03  complied in whole              1
    O2       opt_out 2025-02-05  denied    2025-02-06  denied: not verifiable         1
    L1       limit   2025-08-01  completed 2025-08-11  complied in whole             10
    X1       know    2024-12-31  completed 2025-01-05  (2024: not counted)            -
    V1       delete  2025-03-03  denied    2025-03-10  Virginia: only in scope "all"  7
                                 (appealed 2025-03-12, reversed 2025-04-01, completed 2025-04-05)

know days 2, 3, 10, 14, 14, 20: median (10 + 14) / 2 = 12, mean 63 / 6 = 10.5.
delete days 4, 6, 20, 80: median 13, mean 110 / 4 = 27.5; with V1 4, 6, 7, 20, 80: 7 and 23.4.
"""

from __future__ import annotations

from datetime import date

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.reports.appeal_metrics import appeals_by_state
from rightful.reports.metrics import compile_year
from rightful.rights.denial_basis import DenialBasis
from tests.integration.reports.seed import Seeded

TODAY = date(2026, 6, 1)
# fmt: off
CALIFORNIA_2025 = {
    #          received whole part  n_ver n_cons exempt other withdrawn open  median  mean
    "know":    (7,      4,    1,    1,    0,     0,     0,    1,        0,    12.0,   10.5),
    "delete":  (5,      1,    0,    0,    1,     1,     1,    0,        1,    13.0,   27.5),
    "correct": (0,      0,    0,    0,    0,     0,     0,    0,        0,    None,   None),
    "opt_out": (2,      1,    0,    1,    0,     0,     0,    0,        0,    1.0,    1.0),
    "limit":   (1,      1,    0,    0,    0,     0,     0,    0,        0,    10.0,   10.0),
}
EVERYONE_2025_DELETE = (6,   1,    0,    0,    1,     1,     2,    0,        1,    7.0,    23.4)
# fmt: on


def _table(runtime: Runtime, scope: str) -> dict[str, tuple[object, ...]]:
    with unit_of_work(runtime.sessions) as session:
        m = compile_year(session, year=2025, scope=scope, today=TODAY)
    return {
        r.key: (
            r.received,
            r.complied_in_whole,
            r.complied_in_part,
            r.denied[DenialBasis.NOT_VERIFIABLE],
            r.denied[DenialBasis.NOT_BY_CONSUMER],
            r.denied[DenialBasis.EXEMPT],
            r.denied[DenialBasis.OTHER],
            r.withdrawn,
            r.open,
            r.median_days,
            r.mean_days,
        )
        for r in m.rows
    }


def test_the_california_figures_of_a_year_equal_the_hand_count(
    store: tuple[Runtime, Seeded],
) -> None:
    assert _table(store[0], "US-CA") == CALIFORNIA_2025


def test_everyone_s_figures_add_the_requests_of_other_states(
    store: tuple[Runtime, Seeded],
) -> None:
    table = _table(store[0], "all")
    assert table["delete"] == EVERYONE_2025_DELETE
    assert {k: v for k, v in table.items() if k != "delete"} == {
        k: v for k, v in CALIFORNIA_2025.items() if k != "delete"
    }


def test_appeals_are_counted_per_state_whose_law_grants_them(
    store: tuple[Runtime, Seeded],
) -> None:
    with unit_of_work(store[0].sessions) as session:
        rows = appeals_by_state(session, year=2025)
    assert [(a.jurisdiction, a.received, a.upheld, a.reversed, a.partly, a.open) for a in rows] == [
        ("US-VA", 1, 0, 1, 0, 0)
    ]
    assert rows[0].median_days == 20.0
