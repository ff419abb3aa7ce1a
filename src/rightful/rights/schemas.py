"""What a consumer or the API submits, and what comes back."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rightful import laws
from rightful.core import i18n
from rightful.core.clock import utcnow
from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_
from rightful.identity import normalize
from rightful.rights.kinds import transfer_types
from rightful.rights.transfer_intake import read_recipient
from rightful.rights.types import RequestType

EARLIEST_RECEIVED = date(2022, 1, 1)
# Channels on which staff take a request down themselves; the person may have no e-mail.
STAFF_CHANNELS = frozenset({"post", "phone", "in_person"})
IdentityMethod = Literal[
    "data_points_phone", "knowledge_questions", "signed_letter", "in_person", "email_code"
]


def _jurisdiction(value: str) -> str:
    """A covered jurisdiction's code; an error naming the choices otherwise."""
    return laws.parse(value).code


class RequestIn(BaseModel):
    """A new rights request, from the form, the API or the CLI."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    request_type: RequestType
    # Before the fields whose rules depend on them (validators see earlier fields only).
    channel: Literal["web", "email", "post", "phone", "in_person", "api"] = "web"
    requester_role: Literal["self", "agent", "parent"] = Field(
        default="self",
        description="Who files it: the person themself, an authorized agent for them, or a "
        "parent or guardian for their child. For an agent or a parent, the identities are the "
        "consumer's (the child's), and `requester_name`/`requester_email` are the filer's own: "
        "the code and every e-mail go there.",
    )
    # Required, except for a request staff took by post, phone or in person.
    email: str | None = Field(default=None, max_length=254, validate_default=True)
    phone_number: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200, validate_default=True)
    postal_code: str | None = Field(default=None, max_length=12)
    jurisdiction: str = Field(
        default="US-CA",
        min_length=2,
        max_length=10,
        description="Where the person lives, as an ISO 3166-2 code (US-CA, US-TX) or an "
        "ISO 3166-1 country (GB, IE, DE): its law sets the request's clocks. US-OTHER or OTHER "
        "when the place is not listed (the organisation's own rules). Two-letter US state "
        "codes are read as before (CA is US-CA), except DE and MT, which are Germany and Malta.",
    )
    date_range: Literal["last_12_months", "all"] = "last_12_months"
    by_agent: bool = False
    agent_name: str | None = Field(
        default=None,
        max_length=200,
        validate_default=True,  # so a missing name is caught when `by_agent` is true
        description="The authorized agent's name (a person or a business); "
        "required when `by_agent` is true.",
    )
    declaration_signature: str | None = Field(
        default=None,
        max_length=200,
        description="The consumer's typed full name, signing the declaration under penalty of "
        "perjury. Needed for a copy (access, portability) where the person's law requires it "
        "(California) or the organisation's practice asks it (RIGHTFUL_DECLARATION_PRACTICE); "
        "never under the GDPR or the UK GDPR, where a name sent is not kept as a signature.",
    )
    requester_name: str | None = Field(
        default=None,
        max_length=200,
        validate_default=True,
        description="The agent's or parent's own name (required for them).",
    )
    requester_email: str | None = Field(
        default=None,
        max_length=254,
        validate_default=True,
        description="The agent's or parent's own e-mail (required for them): it gets the code.",
    )
    relation_attested: bool = Field(
        default=False,
        validate_default=True,
        description="A parent or guardian declares they are the parent or legal guardian of "
        "the child named in `name` (required for parents).",
    )
    postal_address: str | None = Field(
        default=None, max_length=500, description="Where to post letters (staff intake)."
    )
    received_at: date | None = Field(
        default=None,
        description="Staff intake: the day a letter or call came in (the clocks run from it); "
        "today when left out. Not in the future, not before 2022.",
    )
    identity_method: IdentityMethod | None = Field(
        default=None,
        description="Staff intake: how staff checked who the person is. With `email_code` a "
        "code is e-mailed as on the web; with any other method the request counts as verified "
        "by the staff member recorded.",
    )
    identity_note: str | None = Field(default=None, max_length=1000)
    language: str = Field(
        default="en",
        max_length=16,
        description="The language the person asked in (e.g. `es`); e-mails about the request "
        "are written in it. One Rightful has no catalogue for reads as English.",
    )
    correction_item: str | None = Field(default=None, max_length=40)
    correction_value: str | None = Field(default=None, max_length=200)
    correction_evidence: str | None = Field(default=None, max_length=2000)
    other_points: dict[str, str] = Field(
        default_factory=dict,
        max_length=10,
        description="Details the company configured (RIGHTFUL_EXTRA_DATA_POINTS), by key.",
    )
    transfer_to: str | None = Field(
        default=None,
        max_length=500,
        description="Portability only: another organisation to send the copy to, as an e-mail "
        "address (it gets a signed, expiring download link) or an https:// endpoint (it gets "
        "the JSON package in a signed POST). Sent only after the person confirms it by e-mail "
        "(docs/portability.md).",
    )
    transfer_recipient: str | None = Field(
        default=None,
        max_length=200,
        validate_default=True,
        description="The receiving organisation's name (required with `transfer_to`).",
    )

    @field_validator("email", "phone_number", "name", "postal_code", "jurisdiction")
    @classmethod
    def _normalised(cls, value: str | None, info: object) -> str | None:
        """Each identity in its one normal form, so all field errors come back together."""
        field = getattr(info, "field_name", "")
        if value in (None, "") and field == "email":
            if getattr(info, "data", {}).get("channel") in STAFF_CHANNELS:
                return None  # a letter or a call from someone without e-mail
            raise ValueError("Enter your e-mail address.")
        if value in (None, ""):
            return None
        assert isinstance(value, str)
        fn = {
            "email": normalize.email,
            "phone_number": normalize.phone,
            "name": normalize.display_name,
            "postal_code": normalize.postal_code,
            "jurisdiction": _jurisdiction,
        }[field]
        try:
            return fn(value)
        except InvalidInputError as exc:
            raise ValueError(exc.errors[0]["message"]) from exc

    @field_validator("language")
    @classmethod
    def _spoken(cls, value: str) -> str:
        """A language Rightful has a catalogue for (es-MX reads es), else English."""
        return i18n.supported(value) or i18n.DEFAULT

    @field_validator("agent_name")
    @classmethod
    def _agent_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An authorized agent says who they are; the field is named in the error."""
        if info.data.get("by_agent") and not value:
            raise ValueError("Enter the authorized agent's name.")
        return value or None

    @model_validator(mode="before")
    @classmethod
    def _agent_flag(cls, data: object) -> object:
        """`by_agent` (the older field) means an agent: their name is the requester's name."""
        if isinstance(data, dict) and data.get("by_agent") and "requester_role" not in data:
            data = {**data, "requester_role": "agent"}
            if data.get("agent_name") and not data.get("requester_name"):
                data["requester_name"] = data["agent_name"]
        return data

    @field_validator("received_at")
    @classmethod
    def _received_when(cls, value: date | None) -> date | None:
        """The day received is neither in the future nor before the law's records begin."""
        if value is not None and value > utcnow().date():
            raise ValueError("The date received is in the future.")
        if value is not None and value < EARLIEST_RECEIVED:
            raise ValueError("The date received is before January 1, 2022.")
        return value

    @field_validator("name")
    @classmethod
    def _child_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A parent names the child the request is for."""
        if info.data.get("requester_role") == "parent" and not value:
            raise ValueError("Enter your child's full name.")
        return value

    @field_validator("requester_name")
    @classmethod
    def _requester_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An agent or parent says who they are."""
        role = info.data.get("requester_role")
        if role in ("agent", "parent") and not value and info.data.get("by_agent"):
            return None  # the older `by_agent` call: `agent_name` says what is missing
        if role in ("agent", "parent") and not value:
            raise ValueError(
                "Enter the agent's name." if role == "agent" else "Enter your own full name."
            )
        return normalize.display_name(value) if value else None

    @field_validator("requester_email")
    @classmethod
    def _requester_reachable(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An agent or parent gets the code and every e-mail at their own address."""
        if info.data.get("requester_role") not in ("agent", "parent"):
            return None
        if not value and info.data.get("by_agent"):
            return None  # the older `by_agent` call: the consumer's own address is written to
        if not value:
            raise ValueError("Enter your own e-mail address: we send the code there.")
        try:
            return normalize.email(value)
        except InvalidInputError as exc:
            raise ValueError(exc.errors[0]["message"]) from exc

    @field_validator("transfer_to")
    @classmethod
    def _transferable(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A recipient only for a kind that sends copies on, as an address or https URL."""
        if not value:
            return None
        kind = info.data.get("request_type")
        if kind is not None and str(kind) not in transfer_types():
            raise ValueError(N_("Only a portable copy can be sent to another organisation."))
        return read_recipient(value)[1]

    @field_validator("transfer_recipient")
    @classmethod
    def _recipient_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A recipient is named, so the person and staff know whom it went to."""
        if info.data.get("transfer_to") and not value:
            raise ValueError(N_("Enter the name of the organisation."))
        return normalize.display_name(value) if value else None

    @field_validator("relation_attested")
    @classmethod
    def _relation_declared(cls, value: bool, info: ValidationInfo) -> bool:
        """A parent or guardian declares the relation."""
        if info.data.get("requester_role") == "parent" and not value:
            raise ValueError("Confirm that you are the child's parent or legal guardian.")
        return value


class TransferOut(BaseModel):
    """A portable copy sent to another organisation: where it stands (docs/portability.md).
    The recipient's name and address only with the request's identities."""

    channel: Literal["email", "endpoint"]
    status: str = Field(
        description="awaiting_confirmation, confirmed, sending, sent, downloaded, accepted, "
        "failed, cancelled or expired."
    )
    recipient_name: str | None = None
    recipient: str | None = None
    confirmed_at: str | None = None
    attempts: int = 0
    http_status: int | None = Field(default=None, description="The endpoint's last answer.")
    last_error: str | None = None
    sent_at: str | None = None
    downloaded_at: str | None = None


class RequestOut(BaseModel):
    """A request as staff and the API see it (identities only when asked)."""

    id: str
    reference: str
    request_type: str
    status: str
    channel: str
    jurisdiction: str
    received_at: str
    acknowledge_due: str
    respond_due: str
    extended: bool
    verification_level: int
    required_level: int
    denial_reason: str | None = None
    requester_role: str = "self"
    consumer_confirmation: str = "not_asked"
    identity_method: str | None = None
    identity_checked_by: str | None = None
    identities: dict[str, str] | None = None
    transfer: TransferOut | None = None
