"""The suggested type from a message's words, in English and Spanish."""

from __future__ import annotations

import pytest

from rightful.casework.classify import language, suggest
from rightful.casework.types import Kind


@pytest.mark.parametrize(
    ("subject", "body", "kind", "request_type"),
    [
        ("Delete my account", "Please erase everything.", Kind.REQUEST, "delete"),
        ("Solicitud", "Quiero borrar mis datos.", Kind.REQUEST, "delete"),
        ("", "Por favor eliminen mi cuenta.", Kind.REQUEST, "delete"),
        ("Access", "Send me a copy of my data.", Kind.REQUEST, "access"),
        ("", "Quiero una copia de mis datos.", Kind.REQUEST, "access"),
        ("", "Solicito acceso a mi información.", Kind.REQUEST, "access"),
        ("", "Please correct my address.", Kind.REQUEST, "correct"),
        ("", "Quiero rectificar mi nombre.", Kind.REQUEST, "correct"),
        ("", "Please corregir el correo.", Kind.REQUEST, "correct"),
        ("Do not sell my info", "", Kind.REQUEST, "opt_out_sale"),
        ("", "I want to opt out of the sale of my data.", Kind.REQUEST, "opt_out_sale"),
        ("", "Por favor no vendan mis datos.", Kind.REQUEST, "opt_out_sale"),
        ("", "I want to know what data you have.", Kind.REQUEST, "know_categories"),
        ("", "Quiero saber qué datos tienen.", Kind.REQUEST, "know_categories"),
        ("", "Data portability please.", Kind.REQUEST, "portability"),
        ("", "Pido la portabilidad de mis datos.", Kind.REQUEST, "portability"),
        ("Complaint", "You ignored my request.", Kind.COMPLAINT, None),
        ("", "Quiero presentar una queja.", Kind.COMPLAINT, None),
        ("", "Esto es una reclamación formal.", Kind.COMPLAINT, None),
        ("", "I am worried about the camera.", Kind.CONCERN, None),
        ("Hello", "Which partners do you work with?", Kind.QUESTION, None),
    ],
)
def test_words_suggest_a_kind_and_type(
    subject: str, body: str, kind: Kind, request_type: str | None
) -> None:
    suggestion = suggest(subject, body)
    assert (suggestion.kind, suggestion.request_type) == (kind, request_type)


def test_spanish_is_recognised_for_the_acknowledgement() -> None:
    assert language("Solicitud", "Hola, quiero borrar mis datos, por favor.") == "es"
    assert language("Request", "Hello, please delete my data.") == "en"
