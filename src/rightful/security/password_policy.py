"""Which staff passwords Rightful refuses: short ones and common ones.

The list of common passwords is bundled (`common-passwords.txt.gz`, about 20,000 from public
breaches, lowercased; where it comes from and its licence are in
`common-passwords.LICENSE.txt`). Few of them are 12 characters long, so a password is also
refused when it is a listed one with digits or symbols around it ("sunshine2024!!") or one
repeated ("dragondragondragon").
"""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path

from rightful.core.errors import InvalidInputError

MIN_LENGTH = 12
LIST = Path(__file__).with_name("common-passwords.txt.gz")
_AROUND = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list, read once."""
    with gzip.open(LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _repeats_of(text: str) -> str:
    """The shortest unit `text` repeats ("dragondragon" → "dragon"), else `text`."""
    found = re.fullmatch(r"(.+?)\1+", text)
    return found.group(1) if found else text


def is_common(password: str) -> bool:
    """True when the password is listed, or a listed one repeated or padded."""
    typed = password.strip().lower()
    core = _AROUND.sub(r"\1", typed)
    listed = common_passwords()
    candidates = {typed, core, _repeats_of(typed), _repeats_of(core)}
    return any(len(c) >= 4 and c in listed for c in candidates)


def check_new_password(password: str) -> None:
    """InvalidInputError, with a message for the form, when a new password is refused."""
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(
            f"Passwords need at least {MIN_LENGTH} characters.",
            errors=[{"field": "password", "message": f"Use at least {MIN_LENGTH} characters."}],
        )
    if is_common(password):
        message = (
            "That password is one of the most common ones, which attackers try first. "
            "Choose another, for example four or five unrelated words."
        )
        raise InvalidInputError(message, errors=[{"field": "password", "message": message}])
