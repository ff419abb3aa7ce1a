"""A mismatch between the notice and the truth, and what the checks share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rightful.notices.blocks import Block
from rightful.notices.ccpa import covers

UNDISCLOSED = "held, not in the notice"
ABSENT = "in the notice, not held"
UNTRUE = "not as practised"


@dataclass(frozen=True)
class Mismatch:
    """One disagreement between the notice and the truth, in plain words, with where to fix it."""

    block: str
    direction: str
    message: str
    fix: str


def where_of(places: list[str]) -> str:
    shown = "; ".join(places[:2])
    return shown + (f" and {len(places) - 2} more" if len(places) > 2 else "")


def use_under(prefix: str, key: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


def notice_categories(blocks: dict[str, Block]) -> dict[str, dict[str, Any]]:
    found = blocks.get("categories")
    return {c["key"]: c for c in (found.body if found else [])}


def covered(keys: list[str], cats: dict[str, dict[str, Any]], held: str) -> bool:
    return any(
        covers(k, held) for key in keys for k in cats.get(key, {}).get("data_categories", [])
    )
