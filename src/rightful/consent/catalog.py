"""What can be consented to (purposes), over which channels, through which interfaces.

Purposes are the company's own, applied from a YAML file (`rightful consent apply`). Their
`kind` decides where they show: marketing topics in the preference center, cookie categories in
the banner, and the two advertising choices everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rightful.consent import snapshot, texts
from rightful.consent.models import ConsentPurpose
from rightful.consent.snapshot import Purpose
from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_


class Channel(StrEnum):
    """How a purpose reaches the person."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    WEB = "web"  # cookies and similar technologies on the company's sites
    ALL = "all"  # choices that apply whatever the channel (sale/share, targeted advertising)


class Interface(StrEnum):
    """Where a choice was made: kept as proof of how consent was collected."""

    BANNER = "banner"
    PREFERENCE_CENTER = "preference_center"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    LIST_REMOVAL = "list_removal"
    GPC = "gpc"
    API = "api"
    STAFF = "staff"
    RIGHTS_REQUEST = "rights_request"  # an opt-out made as a consumer rights request
    SMS_REPLY = "sms_reply"  # STOP or START in reply to a text (consent/sms.py)
    DOUBLE_OPT_IN = "double_opt_in"  # a sign-up confirmed from its e-mail (subscriptions.py)
    IMPORT = "import"  # what a connected store already held (store_import.py); not the person


class State(StrEnum):
    """A choice."""

    GIVEN = "given"
    WITHDRAWN = "withdrawn"


# Reserved purposes every catalogue has: they are what the law and the statement name.
ALL_MARKETING = "marketing"  # withdrawn on a channel: no marketing topic on that channel
MARKETING_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.POST)
SALE_SHARE = "sale_share"  # "Do Not Sell or Share My Personal Information"
TARGETED_ADS = "targeted_advertising"
STRICTLY_NECESSARY = "cookies.strictly_necessary"  # listed in the banner, never switched off
COOKIE_CATEGORIES = ("performance", "functional", "targeting")
# What a Global Privacy Control signal opts out of, without asking.
GPC_OPT_OUTS = (
    (SALE_SHARE, Channel.ALL),
    (TARGETED_ADS, Channel.ALL),
    ("cookies.targeting", "web"),
)
Kind = Literal["marketing", "cookies", "advertising", "sale_share"]


class PurposeSpec(BaseModel):
    """One purpose in a catalogue file."""

    # A misspelt field (`translation:`) is named, not silently dropped.
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=80)
    kind: Kind
    title: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=1000)
    channels: list[Channel] = Field(min_length=1)
    default: State = State.WITHDRAWN
    data_use: str | None = Field(default=None, max_length=120)
    cookies: list[str] = Field(
        default_factory=list, description="Cookie names (a trailing * matches a prefix)."
    )
    translations: texts.PurposeTranslations = Field(
        default_factory=dict,
        description="Title and description per language code, e.g. {es: {title: ...}}.",
    )


class CatalogFile(BaseModel):
    """A catalogue file: `purposes:`, `banner:` (and, read elsewhere, `destinations:`)."""

    purposes: list[PurposeSpec] = Field(min_length=1)
    banner: texts.BannerSpec | None = Field(
        default=None, description="The banner's texts; left as they are when absent."
    )


BUILT_IN = [
    PurposeSpec(
        key=ALL_MARKETING,
        kind="marketing",
        title=N_("All marketing"),
        description=N_(
            "Every marketing message on a channel. Switching it off overrides each topic."
        ),
        channels=list(MARKETING_CHANNELS),
        default=State.GIVEN,
    ),
    PurposeSpec(
        key=SALE_SHARE,
        kind="sale_share",
        title=N_("Selling or sharing my personal information"),
        description=N_(
            "Sharing information about you with advertising partners, which the law "
            "treats as a sale or share."
        ),
        channels=[Channel.ALL],
        default=State.GIVEN,
        data_use="marketing.advertising.third_party",
    ),
    PurposeSpec(
        key=TARGETED_ADS,
        kind="advertising",
        title=N_("Ads based on my activity"),
        description=N_("Advertising chosen from what you do on our sites and others' sites."),
        channels=[Channel.ALL],
        default=State.GIVEN,
        data_use="marketing.advertising.third_party.targeted",
    ),
    PurposeSpec(
        key=STRICTLY_NECESSARY,
        kind="cookies",
        title="Strictly necessary",
        description="Needed for the site to work: signing in, your basket, security.",
        channels=[Channel.WEB],
        default=State.GIVEN,
    ),
]


def _invalid(message: str, field: str = "purpose") -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": field, "message": message}])


def parse(text: str, *, name: str = "consent.yml") -> CatalogFile:
    """A catalogue file, with every problem named."""
    import yaml  # when first used: the server's start does not wait for it

    try:
        raw: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise _invalid(f"{name} is not valid YAML: {exc}", "file") from exc
    try:
        data = {"purposes": raw.get("purposes", [])}
        if "banner" in raw:  # present but empty: back to the built-in texts
            data["banner"] = raw["banner"] or {}
        return CatalogFile.model_validate(data)
    except (ValidationError, AttributeError) as exc:
        errors = (
            [
                {
                    # A bad mapping key is reported at the key itself (not `es.[key]`).
                    "field": ".".join(str(p) for p in e["loc"] if p != "[key]"),
                    "message": e["msg"].removeprefix("Value error, "),
                }
                for e in exc.errors()
            ]
            if isinstance(exc, ValidationError)
            else [{"field": "file", "message": "The file must be a mapping with `purposes:`."}]
        )
        raise InvalidInputError(f"{name} has problems.", errors=errors) from exc


def apply(session: Session, catalog: CatalogFile) -> list[ConsentPurpose]:
    """Add or update purposes; the built-in ones are always there. Purposes are never deleted:
    the ledger refers to them."""
    specs = {p.key: p for p in BUILT_IN} | {p.key: p for p in catalog.purposes}
    for position, spec in enumerate(specs.values()):
        if spec.kind == "cookies" and spec.channels != [Channel.WEB]:
            raise _invalid(f"Cookie purpose '{spec.key}' must use the channel 'web' only.")
        row = session.get(ConsentPurpose, spec.key) or ConsentPurpose(key=spec.key)
        row.kind, row.title, row.description = spec.kind, spec.title, spec.description
        row.channels = [c.value for c in spec.channels]
        row.default, row.data_use, row.position = spec.default.value, spec.data_use, position
        row.cookie_names = list(spec.cookies)
        row.translations = texts.stored_translations(spec.translations)
        session.add(row)
    if catalog.banner is not None:
        texts.save_banner(session, catalog.banner)
    session.flush()
    return purposes(session)


def ensure_built_in(session: Session) -> None:
    """Make sure the reserved purposes exist (a store with no catalogue applied yet)."""
    if session.get(ConsentPurpose, SALE_SHARE) is None:
        apply(session, CatalogFile(purposes=BUILT_IN))


def purposes(session: Session, *, kind: str | None = None) -> list[ConsentPurpose]:
    """Purposes in display order."""
    stmt = select(ConsentPurpose).order_by(ConsentPurpose.position, ConsentPurpose.key)
    if kind:
        stmt = stmt.where(ConsentPurpose.kind == kind)
    return list(session.scalars(stmt))


def checked(session: Session, purpose: str, channel: str) -> Purpose:
    """The purpose, when `channel` is one of its channels; otherwise a clear error (from the
    process's cached catalogue, confirmed current with one statement: consent/snapshot.py)."""
    return snapshot.current(session).checked(purpose, channel)
