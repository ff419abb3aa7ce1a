"""A suggested type from the words of a message (English and Spanish); staff or the person
confirm it, so a wrong guess costs a click, never a wrong request."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rightful.casework.types import Kind


@dataclass(frozen=True)
class Suggestion:
    """What a message seems to be: a kind of case and, for a request, its type."""

    kind: Kind
    request_type: str | None = None


# Most specific first: "do not sell" before "know", "copy" before "know".
_RULES: tuple[tuple[str, Kind, str | None], ...] = (
    (r"complain\w*|queja\w*|reclamaci\w*|reclamo\w*", Kind.COMPLAINT, None),
    (
        r"do not sell|don'?t sell|opt(ing)?[ -]?out|stop (selling|sharing)|no vend\w*"
        r"|no compart\w*",
        Kind.REQUEST,
        "opt_out_sale",
    ),
    (r"sensitive|sensibles?", Kind.REQUEST, "limit_sensitive"),
    (r"portab\w*|transfer my data|transferir", Kind.REQUEST, "portability"),
    (
        r"delet\w*|eras\w*|remove my|forget me|borr\w*|elimin\w*|suprim\w*|supresi\w*",
        Kind.REQUEST,
        "delete",
    ),
    (r"correct\w*|rectif\w*|corrig\w*|correg\w*|fix my|update my", Kind.REQUEST, "correct"),
    (r"access|a copy|copy of|acceso|copia", Kind.REQUEST, "access"),
    (
        r"know what|what (personal )?(data|information)|categor\w*|saber|conocer",
        Kind.REQUEST,
        "know_categories",
    ),
    (r"concern\w*|worried|preocup\w*|inquiet\w*", Kind.CONCERN, None),
)
_COMPILED = tuple((re.compile(rf"\b(?:{p})\b"), kind, t) for p, kind, t in _RULES)


def _plain(text: str) -> str:
    # Lower case without accents: "reclamación" and "reclamacion" match alike.
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def suggest(subject: str, body: str) -> Suggestion:
    """The kind and request type the words suggest; a question when nothing matches."""
    text = _plain(f"{subject}\n{body}")
    for pattern, kind, request_type in _COMPILED:
        if pattern.search(text):
            return Suggestion(kind, request_type)
    return Suggestion(Kind.QUESTION)


_SPANISH = re.compile(
    r"\b(hola|quiero|solicito|solicitud|mis datos|por favor|gracias|estimad[oa]s?|saludos"
    r"|borrar|eliminar|acceso|copia|queja|reclamacion|datos personales)\b"
)
_ENGLISH = re.compile(r"\b(the|please|my|data|hello|dear|thanks|request|want)\b")


def language(subject: str, body: str) -> str:
    """ "es" when the words are more Spanish than English, else "en"."""
    text = _plain(f"{subject}\n{body}")
    return "es" if len(_SPANISH.findall(text)) > len(_ENGLISH.findall(text)) else "en"
