"""Where the time of a request goes, by cProfile over a batch of warm requests."""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path
from typing import Any

from benchmarks.drive import Driver
from benchmarks.store import Person

_OURS = ("/rightful/",)


def _where(func: tuple[str, int, str]) -> str:
    path, line, name = func
    short = path.split("site-packages/")[-1].split("/src/")[-1]
    return f"{short}:{line}({name})" if line else name


def _rows(stats: pstats.Stats, key: int, count: int, ours_only: bool, per: int) -> list[Any]:
    table = stats.stats  # type: ignore[attr-defined]
    chosen = sorted(table.items(), key=lambda kv: kv[1][key], reverse=True)
    if ours_only:
        chosen = [kv for kv in chosen if any(p in kv[0][0] for p in _OURS)]
    return [
        {
            "function": _where(func),
            "calls_per_request": round(nc / per, 1),
            "self_ms_per_request": round(1000 * tt / per, 2),
            "cumulative_ms_per_request": round(1000 * ct / per, 2),
        }
        for func, (_cc, nc, tt, ct, _callers) in chosen[:count]
    ]


# Self time grouped by where the code lives; the first matching fragment of the path wins.
_GROUPS = (
    ("waiting for PostgreSQL (psycopg wait)", "psycopg/connection.py:wait"),
    ("psycopg, other", "psycopg"),
    ("SQLAlchemy", "sqlalchemy"),
    ("encryption (cryptography, hmac, hashlib)", "cryptography"),
    ("encryption (cryptography, hmac, hashlib)", "fernet"),
    ("encryption (cryptography, hmac, hashlib)", "hmac"),
    ("JSON", "json/"),
    ("templates (Jinja)", "jinja2"),
    ("templates (Jinja)", "/templates/"),
    ("zip", "zipfile"),
    ("zip", "zlib"),
    ("Rightful's own code", "/rightful/"),
)


def _group(func: tuple[str, int, str]) -> str:
    where = f"{func[0]}:{func[2]}"
    if func[0] == "~":  # C functions: their name says what they are
        where = func[2]
    for label, fragment in _GROUPS:
        if fragment in where:
            return label
    return "other (Python runtime, builtins)"


def _by_group(stats: pstats.Stats, per: int) -> dict[str, float]:
    totals: dict[str, float] = {}
    for func, (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        label = _group(func)
        totals[label] = totals.get(label, 0.0) + 1000 * tt / per
    return {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def summary(path: Path, per: int) -> dict[str, Any]:
    """The top functions and the self time by group, per request, from a saved profile."""
    stats = pstats.Stats(str(path))
    return {
        "requests": per,
        "self_ms_by_group": _by_group(stats, per),
        "rightful_by_cumulative": _rows(stats, 3, 25, True, per),
        "all_by_self_time": _rows(stats, 2, 20, False, per),
    }


def profile(
    driver: Driver, people: list[Person], out_dir: Path, name: str = "profile"
) -> dict[str, Any]:
    """Profile end-to-end requests; saves `name`.pstats and a readable `name`.txt."""
    profiler = cProfile.Profile()
    profiler.enable()
    driver.run(people)
    profiler.disable()
    out_dir.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out_dir / f"{name}.pstats")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(60)
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(40)
    (out_dir / f"{name}.txt").write_text(text.getvalue())
    return summary(out_dir / f"{name}.pstats", len(people))
