"""Whether a secret key is strong enough to key Rightful's signatures and encryption.

Length alone lets `aaaa…` through. A key is refused when it is short, a placeholder, repeats
itself (`abab…`, a word over and over), is mostly a run (`abcd…`), or when its characters,
counted as they occur, carry too little information. A random key of 32 hex digits (128 bits)
passes; 37 times `a` does not.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise

MIN_LENGTH = 32
MIN_BITS = 80.0  # estimated from character frequencies; 32 random hex digits give ~115
PLACEHOLDERS = (
    "changeme",
    "change-me",
    "change_me",
    "placeholder",
    "your-secret",
    "secret-key",
    "secretkey",
    "do-not-use",
    "insecure",
    "notasecret",
    "example",
)


def estimated_bits(secret: str) -> float:
    """A Shannon estimate of the information in a string: its length times its entropy."""
    counts = Counter(secret)
    n = len(secret)
    return -n * sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def _variety(secret: str) -> float:
    """The share of its three-character pieces that are different: low when it repeats."""
    pieces = [secret[i : i + 3] for i in range(len(secret) - 2)]
    return len(set(pieces)) / len(pieces) if pieces else 0.0


def _run_share(secret: str) -> float:
    """The share of neighbouring characters that repeat or count up or down by one."""
    pairs = list(pairwise(secret))
    steps = sum(1 for a, b in pairs if abs(ord(a) - ord(b)) <= 1)
    return steps / len(pairs) if pairs else 1.0


def weakness(secret: str) -> str | None:
    """Why `secret` is too weak to use, or None when it will do."""
    if len(secret) < MIN_LENGTH:
        return f"it must be at least {MIN_LENGTH} characters long"
    lowered = secret.lower()
    if any(word in lowered for word in PLACEHOLDERS):
        return "it looks like a placeholder"
    if _variety(secret) < 0.6:
        return "it repeats itself"
    if _run_share(secret) >= 0.5:
        return "it is mostly runs of the same or consecutive characters"
    if estimated_bits(secret) < MIN_BITS:
        return (
            f"it uses too few different characters ({len(set(secret))}) for its length: "
            f"about {estimated_bits(secret):.0f} bits, {MIN_BITS:.0f} needed"
        )
    return None
