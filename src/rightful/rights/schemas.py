"""What a consumer or the API submits, and what comes back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from rightful import laws
from rightful.core import i18n
from rightful.core.errors import InvalidInputError
from rightful.identity import normalize
from rightful.rights.types import RequestType

# Every covered jurisdiction, US states first, the explicit "not listed" choices last.
JURISDICTIONS = laws.choices()
US_STATES = JURISDICTIONS  # the forms' older name for the same list


def _jurisdiction(value: str) -> str:
    """A covered jurisdiction's code; an error naming the choices otherwise."""
    return laws.parse(value).code


class RequestIn(BaseModel):
    """A new rights request, from the form, the API or the CLI."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    request_type: RequestType
    email: str = Field(max_length=254)  # required; normalised below
    phone_number: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
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
        description="The consumer's typed full name, signing the declaration "
        "under penalty of perjury.",
    )
    channel: Literal["web", "email", "post", "phone", "api"] = "web"
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

    @field_validator("email", "phone_number", "name", "postal_code", "jurisdiction")
    @classmethod
    def _normalised(cls, value: str | None, info: object) -> str | None:
        """Each identity in its one normal form, so all field errors come back together."""
        field = getattr(info, "field_name", "")
        if value in (None, "") and field != "email":  # the e-mail is required: "" is refused
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
    identities: dict[str, str] | None = None
