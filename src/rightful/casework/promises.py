"""The privacy statement promises that no e-mail from us asks for an ID document or a
password. Every template is checked by a test, and every answer staff write is checked here
before it goes."""

from __future__ import annotations

import re
import unicodedata

# What we never ask for, in English and Spanish.
_ITEMS = (
    r"password|passcode|passport|driver'?s? licen[cs]e|driving licen[cs]e|id card|identity card"
    r"|photo id|picture id|government[- ]issued id|social security( number)?|\bssn\b"
    r"|copy of (your )?id\b|contrasena|clave|pasaporte|licencia de conducir|carne de conducir"
    r"|permiso de conducir|documento de identidad|\bdni\b|\bine\b|cedula|tarjeta de identidad"
    r"|identificacion con foto|numero de seguro social|seguro social"
)
_ITEM = re.compile(_ITEMS)
# Asking for it: sending, giving, showing. "Choose your own password" on our own sign-in
# page asks for nothing to be sent.
_ASK = re.compile(
    r"\b(send|provide|attach|include|upload|submit|reply with|give|share|tell us|need|require"
    r"|copy|photo|picture|scan|show|envi\w*|mand\w*|adjunt\w*|proporcion\w*|facilit\w*"
    r"|indiqu\w*|compart\w*|remit\w*|sub[ai]\w*|necesit\w*|copia|foto\w*|escane\w*"
    r"|muestr\w*|escrib\w*|respond\w*)\b"
)
_NEGATION = re.compile(r"\b(never|not|no|don'?t|won'?t|nunca|jamas|ni)\b")
_SENTENCE = re.compile(r"(?<=[.!?:])\s+|\n")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in folded if not unicodedata.combining(c))


def asks_for_id_or_password(text: str) -> list[str]:
    """The sentences of `text` that ask for a password or an identity document."""
    found = []
    for sentence in _SENTENCE.split(text):
        plain = _plain(sentence)
        item = _ITEM.search(plain)
        # "We never ask for your password" is the promise; "send your passport, no later
        # than Friday" is not: the negation must come before what is named.
        if item and _ASK.search(plain) and not _NEGATION.search(plain[: item.start()]):
            found.append(sentence.strip())
    return found
