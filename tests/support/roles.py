"""Staff of every role, each with an API token, for the role-by-action matrices."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from rightful.core.db import unit_of_work
from rightful.core.runtime import Runtime
from rightful.rights import service
from rightful.rights.schemas import RequestIn
from rightful.rights.types import Status
from rightful.security.models import AuditEvent
from rightful.security.permissions import ROLE_PERMISSIONS, Permission, Role, system_actor
from rightful.security.service import create_api_token, create_staff

ROLES = (Role.VIEWER, Role.ANALYST, Role.APPROVER, Role.ADMIN)  # least first


@dataclass(frozen=True)
class Member:
    """A staff member of one role: sign-in details and an API token with all the role allows."""

    role: Role
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """Bearer header for the API."""
        return {"Authorization": f"Bearer {self.token}"}


def add_staff(runtime: Runtime) -> dict[Role, Member]:
    """One staff member per role."""
    members = {}
    with unit_of_work(runtime.sessions) as session:
        for role in ROLES:
            email, password = f"{role.value}@lumen.example", secrets.token_urlsafe(18)
            staff = create_staff(
                session,
                email=email,
                name=role.value.title(),
                password=password,
                role=role,
                actor=system_actor("test"),
            )
            token = create_api_token(session, staff=staff, name=role, actor=system_actor("test"))
            members[role] = Member(role, email, password, token)
    return members


def allowed(role: Role, needs: tuple[Permission, ...]) -> bool:
    """Whether the role holds every permission an action needs."""
    return set(needs) <= ROLE_PERMISSIONS[role]


def audit_count(runtime: Runtime) -> int:
    """How many audit events there are: a refused action adds none."""
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def awaiting(runtime: Runtime, request_type: str = "access") -> str:
    """A verified request waiting for approval, made directly (no e-mail, no mail limits)."""
    data = RequestIn.model_validate(
        {
            "request_type": request_type,
            "email": "avery.quinn@example.com",
            "name": "Avery Quinn",
            "phone_number": "415-555-0134",
            "declaration_signature": "Avery Quinn",
            "correction_item": "name" if request_type == "correct" else None,
            "correction_value": "Avery Q. Quinn" if request_type == "correct" else None,
        }
    )
    with unit_of_work(runtime.sessions) as session:
        req = service.create_request(session, runtime.settings, data, actor="test")
        for status in (Status.VERIFYING, Status.VERIFIED, Status.AWAITING_APPROVAL):
            service.move(session, req, status, actor="test")
        req.verification_level = req.required_level
        return req.id


def status_of(runtime: Runtime, request_id: str) -> str:
    """A request's status now."""
    with runtime.sessions() as session:
        return service.access_request(session, request_id).status
