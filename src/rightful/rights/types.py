"""Request types, statuses and the transition table of the lifecycle (what each type means
and how it is answered: rights/kinds.py)."""

from __future__ import annotations

from enum import StrEnum


class RequestType(StrEnum):
    """What the consumer asks for."""

    KNOW_CATEGORIES = "know_categories"
    ACCESS = "access"
    PORTABILITY = "portability"
    DELETE = "delete"
    CORRECT = "correct"
    OPT_OUT_SALE = "opt_out_sale"
    LIMIT_SENSITIVE = "limit_sensitive"


class Status(StrEnum):
    """Where a request is in its lifecycle."""

    RECEIVED = "received"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    AWAITING_APPROVAL = "awaiting_approval"
    EXECUTING = "executing"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    Status.RECEIVED: "Received",
    Status.VERIFYING: "Waiting for identity check",
    Status.VERIFIED: "Identity checked",
    Status.AWAITING_APPROVAL: "Under review by our privacy team",
    Status.EXECUTING: "In progress",
    Status.COMPLETED: "Completed",
    Status.PARTIALLY_COMPLETED: "Partly completed",
    Status.DENIED: "Closed without action",
    Status.WITHDRAWN: "Withdrawn",
}

# The console speaks the privacy office's language; consumers see STATUS_LABELS.
STAFF_STATUS_LABELS = {
    **STATUS_LABELS,
    Status.VERIFYING: "Verifying identity",
    Status.VERIFIED: "Verified",
    Status.AWAITING_APPROVAL: "Awaiting approval",
    Status.EXECUTING: "Executing",
    Status.DENIED: "Denied",
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset(
        {Status.VERIFYING, Status.VERIFIED, Status.DENIED, Status.WITHDRAWN}
    ),
    Status.VERIFYING: frozenset({Status.VERIFIED, Status.DENIED, Status.WITHDRAWN}),
    Status.VERIFIED: frozenset({Status.AWAITING_APPROVAL, Status.EXECUTING, Status.DENIED}),
    Status.AWAITING_APPROVAL: frozenset({Status.EXECUTING, Status.DENIED, Status.WITHDRAWN}),
    Status.EXECUTING: frozenset({Status.COMPLETED, Status.PARTIALLY_COMPLETED, Status.DENIED}),
    Status.COMPLETED: frozenset(),
    Status.PARTIALLY_COMPLETED: frozenset(),
    Status.DENIED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}
OPEN = frozenset(s for s, nxt in TRANSITIONS.items() if nxt)
