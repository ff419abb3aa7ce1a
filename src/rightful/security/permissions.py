"""Who may do what: one table of permissions per role, checked by the service functions.

The console, the API and the CLI each turn their caller into an `Actor` and hand it to the
capability's service function, which calls `require` itself; no shell decides a permission.

Four kinds of actor:
- **staff**: a person signed in to the console; their role's permissions.
- **token**: an API call; the token owner's role's permissions ∩ the token's scopes.
- **operator**: the CLI, run by whoever holds the machine and its secret key: admin's permissions
  (roles cannot bind someone who can read the store and the key). `rightful --as EMAIL` acts as
  that staff member instead, with their role, and is recorded under their name.
- **system**: Rightful itself (the worker, demo setup, tests): every permission. Only code builds
  one; no shell turns a caller's input into a system actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rightful.core.errors import ForbiddenError


class Permission(StrEnum):
    """One kind of action; API token scopes are these values."""

    REQUESTS_VIEW = "requests.view"  # queues, counts, statuses, timelines: no personal data
    REQUESTS_SUBMIT = "requests.submit"  # record a request for someone, pass on their code
    REQUESTS_READ_PERSONAL = "requests.read_personal"  # identities, packages, current values
    REQUESTS_PREPARE = "requests.prepare"  # erasure and retention previews
    REQUESTS_DECIDE = "requests.decide"  # approve, deny, extend, complete, waive a partner
    ERASURE_APPROVE = "erasure.approve"  # approve a deletion or correction; run retention
    OUTBOX_READ = "outbox.read"  # the e-mails sent, with their recipients
    OUTBOX_RESEND = "outbox.resend"  # send a failed or waiting e-mail again
    CONSENT_VIEW = "consent.view"  # purposes, counts, ledger integrity, deliveries
    CONSENT_READ_PERSONAL = "consent.read_personal"  # one person's choices and history
    CONSENT_CHECK = "consent.check"  # may we market to this address or number; suppressions
    CONSENT_RECORD = "consent.record"  # record choices, replies, links, sign-ups
    MARKETING_SEND = "marketing.send"  # send a marketing e-mail, unsubscribe headers
    CONSENT_MANAGE = "consent.manage"  # catalogue, destinations, deliveries, imports
    INVENTORY_VIEW = "inventory.view"  # the data map (never secrets)
    INVENTORY_MANAGE = "inventory.manage"  # apply the data map, connections, partner secrets
    POLICIES_MANAGE = "policies.manage"  # erasure and retention policies
    STAFF_MANAGE = "staff.manage"  # staff accounts and roles
    TOKENS_MANAGE = "tokens.manage"  # every API token: issue, list, revoke
    AUDIT_VERIFY = "audit.verify"  # whether the audit log's chain holds (no personal data)


class Role(StrEnum):
    """A staff member's role; each includes the one before it."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    APPROVER = "approver"
    ADMIN = "admin"


P = Permission
_VIEWER = frozenset({P.REQUESTS_VIEW, P.CONSENT_VIEW, P.INVENTORY_VIEW, P.AUDIT_VERIFY})
_ANALYST = _VIEWER | {
    P.REQUESTS_SUBMIT,
    P.REQUESTS_READ_PERSONAL,
    P.REQUESTS_PREPARE,
    P.OUTBOX_READ,
    P.OUTBOX_RESEND,
    P.CONSENT_READ_PERSONAL,
    P.CONSENT_CHECK,
    P.CONSENT_RECORD,
    P.MARKETING_SEND,
}
_APPROVER = _ANALYST | {P.REQUESTS_DECIDE, P.ERASURE_APPROVE}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.ANALYST: _ANALYST,
    Role.APPROVER: _APPROVER,
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a name for the audit trail and what they may do."""

    name: str
    permissions: frozenset[Permission]
    kind: str = "staff"  # staff | token | operator | system
    staff_id: int | None = None
    role: Role | None = None
    token_id: int | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this actor holds `permission`."""
        return permission in self.permissions


def role_permissions(role: str) -> frozenset[Permission]:
    """A role's permissions; an unknown role has none."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def parse_scopes(scopes: Iterable[str]) -> frozenset[Permission]:
    """Scope names as permissions, ignoring any this Rightful does not know."""
    known = {p.value for p in Permission}
    return frozenset(Permission(s) for s in scopes if s in known)


def staff_actor(
    *,
    name: str,
    staff_id: int,
    role: str,
    scopes: Iterable[str] | None = None,
    token_id: int | None = None,
) -> Actor:
    """A staff member, or (with `scopes`) one of their API tokens: the role ∩ the scopes."""
    granted = role_permissions(role)
    if scopes is not None:
        granted &= parse_scopes(scopes)
    return Actor(
        name=name,
        permissions=granted,
        kind="staff" if token_id is None else "token",
        staff_id=staff_id,
        role=Role(role) if role in {r.value for r in Role} else None,
        token_id=token_id,
    )


def operator_actor(name: str = "cli") -> Actor:
    """The machine's operator running the CLI: admin's permissions."""
    return Actor(name=name, permissions=ROLE_PERMISSIONS[Role.ADMIN], kind="operator")


def system_actor(name: str) -> Actor:
    """Rightful itself (worker, demo setup): every permission, named in the audit trail."""
    return Actor(name=name, permissions=frozenset(Permission), kind="system")


def require(actor: Actor, permission: Permission) -> None:
    """Refuse with ForbiddenError unless `actor` holds `permission`."""
    if permission not in actor.permissions:
        raise ForbiddenError(
            f"Your role does not allow this ({permission.value}). Ask an administrator."
        )
