"""The reply templates staff pick and edit in the console (files in casework/replies/).

A case in another language starts from that language's file (replies/<lang>/<name>.txt, e.g.
replies/es/answer.txt), so the person is answered in the language they wrote in; a language
with no file for a template starts from the English one."""

from __future__ import annotations

from pathlib import Path

from rightful.core import i18n

FOLDER = Path(__file__).parent / "replies"
LABELS = {
    "answer": "Answer a question",
    "more_detail": "Ask for more detail",
    "complaint_outcome": "Outcome of a complaint",
    "make_request": "Point to the privacy center",
}


def _file(name: str, language: str) -> Path:
    translated = FOLDER / language / f"{name}.txt"
    return (
        translated if language != i18n.DEFAULT and translated.is_file() else FOLDER / f"{name}.txt"
    )


def reply_templates(base_url: str, language: str = i18n.DEFAULT) -> dict[str, tuple[str, str]]:
    """Name -> (label, text in `language`), the privacy center's address filled in."""
    return {
        name: (
            label,
            _file(name, language).read_text().replace("[Privacy center address]", f"{base_url}/"),
        )
        for name, label in LABELS.items()
    }
