"""Request types, statuses and the transition table of the lifecycle (what each type means
and how it is answered: rights/kinds.py)."""

from __future__ import annotations

from enum import StrEnum

from rightful.core.i18n import N_


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


# Consumers read these in their language: N_ marks them for the catalogue (core/i18n.py).
STATUS_LABELS = {
    Status.RECEIVED: N_("Received"),
    Status.VERIFYING: N_("Waiting for identity check"),
    Status.VERIFIED: N_("Identity checked"),
    Status.AWAITING_APPROVAL: N_("Under review by our privacy team"),
    Status.EXECUTING: N_("In progress"),
    Status.COMPLETED: N_("Completed"),
    Status.PARTIALLY_COMPLETED: N_("Partly completed"),
    Status.DENIED: N_("Closed without action"),
    Status.WITHDRAWN: N_("Withdrawn"),
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
# A reversed appeal (rights/appeals.py) takes a denied or partly completed request back to
# approval. Added after OPEN: a closed request does not count as open because an appeal could
# reopen it, and nothing but an appeal's decision makes this move.
REOPENED_BY_APPEAL = frozenset({Status.DENIED, Status.PARTIALLY_COMPLETED})
for _closed in REOPENED_BY_APPEAL:
    TRANSITIONS[_closed] = TRANSITIONS[_closed] | {Status.AWAITING_APPROVAL}
