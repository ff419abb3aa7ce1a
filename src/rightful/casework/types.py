"""A case's kinds, channels and its small lifecycle."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What the person wants: a rights request (type to confirm), or an answer."""

    REQUEST = "request"
    QUESTION = "question"
    CONCERN = "concern"
    COMPLAINT = "complaint"


class Channel(StrEnum):
    """How the case reached the office."""

    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"
    POST = "post"
    CONSOLE = "console"


class Status(StrEnum):
    """Where a case is."""

    NEW = "new"  # received, nobody has acted yet
    WAITING = "waiting"  # waiting for the person (to confirm a request, to answer us)
    IN_PROGRESS = "in_progress"  # staff are on it
    ANSWERED = "answered"  # staff replied; the person may still write back
    CLOSED = "closed"  # done, with an outcome


S = Status
# Anything the person writes reopens a case (IN_PROGRESS); a closed one too.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.WAITING, S.IN_PROGRESS, S.ANSWERED, S.CLOSED}),
    S.WAITING: frozenset({S.IN_PROGRESS, S.ANSWERED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.WAITING, S.ANSWERED, S.CLOSED}),
    S.ANSWERED: frozenset({S.IN_PROGRESS, S.WAITING, S.CLOSED}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
}
OPEN = frozenset({S.NEW, S.WAITING, S.IN_PROGRESS, S.ANSWERED})

KIND_LABELS = {
    Kind.REQUEST: "Rights request (type to confirm)",
    Kind.QUESTION: "Question",
    Kind.CONCERN: "Concern",
    Kind.COMPLAINT: "Complaint",
}
STATUS_LABELS = {
    S.NEW: "New",
    S.WAITING: "Waiting for the person",
    S.IN_PROGRESS: "In progress",
    S.ANSWERED: "Answered",
    S.CLOSED: "Closed",
}
CHANNEL_LABELS = {
    Channel.EMAIL: "E-mail",
    Channel.WEB: "Privacy center form",
    Channel.PHONE: "Phone call",
    Channel.POST: "Letter",
    Channel.CONSOLE: "Entered by staff",
}
# How a case may end; the outcome is recorded with it.
OUTCOMES = {
    "answered": "Answered",
    "request_opened": "A rights request was opened",
    "no_action": "No action needed",
    "no_reply": "The person did not reply",
    "duplicate": "Duplicate of another case",
}
