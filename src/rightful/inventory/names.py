"""Field names read as words, for rules that look at what a field is called.

`card_token`, `cardToken` and `card-token` all read as (card, token), so one phrase list serves
every naming style a data map uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def name_words(name: str) -> tuple[str, ...]:
    """A field name as lower-case words: `cardToken2` and `card-token_2` give (card, token, 2)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return tuple(w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w)


def has_phrase(words: tuple[str, ...], phrase: str) -> bool:
    """True when the words hold the phrase's words in a row (`card token` in card_token_v2)."""
    run = tuple(phrase.split())
    return any(words[i : i + len(run)] == run for i in range(len(words) - len(run) + 1))


def has_any(words: tuple[str, ...], phrases: Iterable[str]) -> bool:
    """True when the words hold any of the phrases."""
    return any(has_phrase(words, p) for p in phrases)
