"""The privacy statement promises no e-mail from us ever asks for an ID document or a
password: every e-mail template under src/rightful is read, in every language catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import rightful
from rightful.casework.promises import asks_for_id_or_password

ROOT = Path(rightful.__file__).parent


def _email_templates() -> list[Path]:
    """Every file an e-mail is written from: .subject/.txt/.html beside a .subject (the
    messaging templates and any other such folder), the reply templates staff pick from,
    and the translation catalogues."""
    found = set()
    for subject in ROOT.rglob("*.subject"):
        found |= {p for p in subject.parent.iterdir() if p.suffix in {".subject", ".txt", ".html"}}
    found |= set((ROOT / "casework" / "replies").glob("*.txt"))
    return sorted(found)


def _translations() -> list[tuple[str, str]]:
    """(where, translated text) of every catalogue entry used by an e-mail template."""
    found = []
    for po in sorted((ROOT / "locale").rglob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            used_in = [str(path) for path, _ in message.locations]
            if (
                message.id
                and message.string
                and any(".subject" in u or "messaging/templates" in u for u in used_in)
            ):
                found.append((f"{po.parent.parent.name}:{used_in[0]}", str(message.string)))
    return found


def test_there_are_templates_to_check() -> None:
    names = {p.name for p in _email_templates()}
    assert {"acknowledgement.txt", "case_received.txt", "answer.txt"} <= names


@pytest.mark.parametrize(("where", "text"), _translations(), ids=lambda v: str(v)[:60])
def test_no_translated_email_asks_for_an_id_document_or_a_password(where: str, text: str) -> None:
    assert asks_for_id_or_password(text) == [], where


@pytest.mark.parametrize("path", _email_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_email_asks_for_an_id_document_or_a_password(path: Path) -> None:
    assert asks_for_id_or_password(path.read_text()) == []


@pytest.mark.parametrize(
    "bad",
    [
        "Please reply with a copy of your passport.",
        "To verify you, send us your password.",
        "Attach a photo of your driver's licence.",
        "Include your social security number.",
        "Upload a photo ID.",
        "Envíenos una copia de su pasaporte.",
        "Adjunte una foto de su documento de identidad.",
        "Indique su contraseña para continuar.",
        "Mande su número de seguro social.",
        "Please send your ID card, no later than Friday.",
    ],
)
def test_the_check_flags_a_bad_sample(bad: str, tmp_path: Path) -> None:
    sample = tmp_path / "bad.txt"
    sample.write_text(f"Hello,\n\n{bad}\n\nWe will never ask for your password by e-mail.\n")
    assert asks_for_id_or_password(sample.read_text()) == [bad]


def test_the_promise_itself_is_not_flagged() -> None:
    assert asks_for_id_or_password("We will never ask for your password by e-mail.") == []
    assert asks_for_id_or_password("Nunca le pediremos su contraseña.") == []
