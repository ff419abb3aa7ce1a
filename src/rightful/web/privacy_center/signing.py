"""The signed declaration on the privacy center's forms (the request form and the page where
someone who wrote to the privacy office confirms their request): which text the page shows,
and when a name typed under another state's text must be typed again. Whether a request needs
the declaration at all is the law's rule, decided in rights/declaration.py."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from rightful import laws
from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_
from rightful.rights.declaration import (
    declaration_for,
    governing_law,
    governing_laws,
    kinds_by_place,
    needed,
)
from rightful.rights.kinds import labels
from rightful.web.i18n import language_of

DEFAULT_STATE = "US-CA"  # the jurisdiction an empty form starts with


def known(code: object) -> str | None:
    """A jurisdiction code as the declaration table keys it (older pages send "TX" for
    "US-TX"), or None when it is not one we know."""
    try:
        found = laws.parse(str(code or "")).code
    except InvalidInputError:
        return None
    return found if found in governing_laws() else None


def shown_state(values: dict[str, Any]) -> str:
    """The state whose declaration the page shows: the one chosen, if it is one we know."""
    return known(values.get("jurisdiction")) or DEFAULT_STATE


def page_context(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    """What templates/privacy_center/_declaration.html and the place select need."""
    language = language_of(request)
    state = shown_state(values)
    law = governing_law(state, language)
    before, after = declaration_for(state, language).split(law, 1)
    return {
        "laws": governing_laws(language),
        "declaration_state": state,
        "declaration": (before, law, after),
        # Per place, the kinds that need the declaration there: the page shows it only where
        # it is needed (request-form.js; without JavaScript, for the place shown).
        "declaration_kinds": kinds_by_place(request.app.state.runtime.settings),
    }


def sign_again(
    settings: Settings, shown: str, values: dict[str, Any], language: str
) -> dict[str, str]:
    """The error when a signature was typed under another state's declaration than the one
    the request will store (the state changed without JavaScript to update the text), where
    the place chosen needs the declaration for the kind chosen."""
    chosen = known(values.get("jurisdiction"))
    if not values.get("declaration_signature") or chosen is None:
        return {}
    if values.get("request_type") not in labels() or not needed(
        settings, values["request_type"], chosen
    ):
        return {}  # not asked here: the signature is not kept
    if known(shown) == chosen:
        return {}
    values["declaration_signature"] = ""  # a signature is given to a text, not carried over
    return {
        "declaration_signature": N_(
            "The declaration now cites %(law)s, the state you chose. Read it and type your "
            "full name to sign again.",
            law=governing_law(chosen, language),
        )
    }
