"""The reply templates staff pick and edit in the console (files in casework/replies/)."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent / "replies"
LABELS = {
    "answer": "Answer a question",
    "more_detail": "Ask for more detail",
    "complaint_outcome": "Outcome of a complaint",
    "make_request": "Point to the privacy center",
}


def reply_templates(base_url: str) -> dict[str, tuple[str, str]]:
    """Name -> (label, text), the privacy center's address filled in."""
    return {
        name: (
            label,
            (FOLDER / f"{name}.txt")
            .read_text()
            .replace("[Privacy center address]", f"{base_url}/"),
        )
        for name, label in LABELS.items()
    }
