"""Every request kind in one place: what a person may ask for and how Rightful answers it.

A new kind is one entry here and, when Rightful carries it out itself, its handler (a function
in rights/handlers.py or any module, named "module:function"). The form, the API, the CLI, the
console, verification, approval and the worker all read this table; none branches on a kind.
Which kinds each law grants is the law's rule pack, not this table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_
from rightful.rights.types import RequestType
from rightful.security.permissions import Permission

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from rightful.core.config import Settings
    from rightful.rights.handlers import Outcome
    from rightful.rights.models import RightsRequest
    from rightful.rights.schemas import RequestIn

    Handler = Callable[[Session, Settings, RightsRequest], Outcome | None]


class Route(StrEnum):
    """What happens once the person is verified."""

    AT_ONCE = "at_once"  # honoured without waiting for staff: the law says without delay
    APPROVAL = "approval"  # always waits for staff (it changes the company's data)
    CONFIGURED = "configured"  # waits for staff when RIGHTFUL_REQUIRE_APPROVAL is on


@dataclass(frozen=True)
class Kind:
    """One kind of request."""

    type: RequestType
    label: str  # as the person reads it on the form, the status page and e-mails (N_: translated)
    # How many data points must match (the e-mail code counts as one); the CCPA regulations
    # ask more certainty for specific pieces than for categories (§ 7062, § 7063).
    verification_level: int
    route: Route
    # "module:function" carrying it out, or None: staff do it and record what they did.
    handler: str | None = None
    # It releases specific pieces of information (a copy), for which a law may ask the person's
    # signed declaration under penalty of perjury (CCPA regs § 7062(c)). Whether this request
    # needs one is the law's rule: ask rights.declaration.needed, never this flag alone.
    specific_pieces: bool = False
    # What approving it needs besides requests.decide.
    approve_permission: Permission | None = None
    # Runs in the shared erasure pass: one read and one write per collection for all of them.
    batched: bool = False
    # May staff ask the consumer to confirm an agent's request directly? Not for opting out or
    # limiting: the law forbids requiring it there (CCPA regs § 7026(d), § 7027(f)).
    direct_confirmation: bool = True
    # "module:function" reading the kind's own form fields (RequestIn -> identities to seal).
    details: str | None = None
    # The e-mails its outcome can send the person (for the template checks and the docs).
    templates: tuple[str, ...] = ("done_manually",)
    # The person may name another organisation to receive the copy (rights/transfers.py).
    transfers: bool = False
    # The row of the CCPA's yearly metrics it counts in (11 CCR § 7102(a)(1)): know, delete,
    # correct, opt_out, limit; None for a kind the regulation does not count (reports/).
    reported_as: str | None = None

    @property
    def automated(self) -> bool:
        """Whether Rightful carries it out itself."""
        return self.handler is not None

    def run(self, session: Session, settings: Settings, req: RightsRequest) -> Outcome | None:
        """Carry the request out (automated kinds only)."""
        if self.handler is None:
            raise ValueError(f"{self.type.value} is carried out by staff")
        handler: Handler = _resolve(self.handler)
        return handler(session, settings, req)

    def read_details(self, data: RequestIn) -> dict[str, str]:
        """The kind's own fields from a form or API body, checked (InvalidInputError)."""
        if self.details is None:
            return {}
        reader: Callable[[RequestIn], dict[str, str]] = _resolve(self.details)
        return reader(data)


@cache
def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_HANDLERS = "rightful.rights.handlers"
KINDS: tuple[Kind, ...] = (
    Kind(
        RequestType.KNOW_CATEGORIES,
        N_("Know what kinds of information we collect and share"),
        verification_level=2,
        route=Route.CONFIGURED,
        handler=f"{_HANDLERS}:categories",
        templates=("completed",),
        reported_as="know",
    ),
    Kind(
        RequestType.ACCESS,
        N_("Get a copy of my personal information"),
        verification_level=3,
        route=Route.CONFIGURED,
        handler=f"{_HANDLERS}:package",
        specific_pieces=True,
        templates=("completed",),
        reported_as="know",
    ),
    Kind(
        RequestType.PORTABILITY,
        N_("Get my information in a portable, machine-readable format"),
        verification_level=3,
        route=Route.CONFIGURED,
        handler=f"{_HANDLERS}:package",
        specific_pieces=True,
        templates=("completed",),
        transfers=True,
        reported_as="know",
    ),
    Kind(
        RequestType.DELETE,
        N_("Delete my personal information"),
        verification_level=2,
        route=Route.APPROVAL,
        handler=f"{_HANDLERS}:erase",
        approve_permission=Permission.ERASURE_APPROVE,
        batched=True,
        templates=("erased",),
        reported_as="delete",
    ),
    Kind(
        RequestType.CORRECT,
        N_("Correct my personal information"),
        verification_level=2,
        route=Route.APPROVAL,
        handler=f"{_HANDLERS}:correct",
        approve_permission=Permission.ERASURE_APPROVE,
        details="rightful.rights.correction_values:correction_details",
        templates=("corrected",),
        reported_as="correct",
    ),
    Kind(
        RequestType.OPT_OUT_SALE,
        N_("Do not sell or share my personal information"),
        verification_level=0,
        route=Route.AT_ONCE,
        handler=f"{_HANDLERS}:opt_out",
        direct_confirmation=False,
        templates=("opted_out",),
        reported_as="opt_out",
    ),
    Kind(
        RequestType.LIMIT_SENSITIVE,
        N_("Limit the use of my sensitive personal information"),
        verification_level=0,
        route=Route.CONFIGURED,
        direct_confirmation=False,
        reported_as="limit",
    ),
)
_BY_VALUE = {k.type.value: k for k in KINDS}


def kind_of(value: str) -> Kind:
    """The kind of a request type value (InvalidInputError naming the kinds otherwise)."""
    try:
        return _BY_VALUE[str(value)]
    except KeyError:
        raise InvalidInputError(
            f"Unknown request type {value!r}; choose one of: {', '.join(_BY_VALUE)}."
        ) from None


def labels() -> dict[str, str]:
    """Type value -> label, in the order the form offers them."""
    return {k.type.value: k.label for k in KINDS}


def transfer_types() -> list[str]:
    """The type values whose copy may be sent to another organisation."""
    return [k.type.value for k in KINDS if k.transfers]


def automated_types() -> list[str]:
    """The type values the worker runs."""
    return [k.type.value for k in KINDS if k.automated]


def batched_types() -> list[str]:
    """The type values the worker erases together (rights/erasure_run.py)."""
    return [k.type.value for k in KINDS if k.batched]


def package_types() -> list[str]:
    """The type values answered with a package of the person's rows (rights/access_batch.py)."""
    return [k.type.value for k in KINDS if k.handler == f"{_HANDLERS}:package"]


def correction_types() -> list[str]:
    """The type values corrected together (rights/correction_run.py)."""
    return [k.type.value for k in KINDS if k.handler == f"{_HANDLERS}:correct"]
