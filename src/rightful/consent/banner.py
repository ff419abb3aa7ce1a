"""The cookie banner's side of consent: what consent.js shows per jurisdiction, and turning
what a visitor clicked into ledger choices.

Two modes. Where the law asks for consent first (the EU, the UK and, by default, anywhere
not listed as opt-out), nothing optional runs before the visitor says yes. In US states the law
asks for notice and an opt-out, so each cookie category starts from the catalogue's default and
the banner adds the "sale or sharing" choice. A Global Privacy Control signal always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy.orm import Session

from rightful.consent import banner_writes, catalog, snapshot, subjects, texts
from rightful.consent.catalog import Channel, State
from rightful.consent.ledger import Choice
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.consent.state import decide_from, family_states
from rightful.core.config import Settings
from rightful.core.errors import ConflictError, InvalidInputError

JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")  # ISO 3166-1, optionally -2: US-CA
OPT_OUT_COUNTRIES = frozenset({"US"})
SALE_SHARE_CHOICE = "sale_share"
# California's "share" is cross-context behavioural advertising, so the one switch covers both.
SALE_SHARE_PURPOSES = (catalog.SALE_SHARE, catalog.TARGETED_ADS)
TARGETING = "targeting"
# What a GPC signal locks off in the banner: the visitor is not asked about these.
GPC_LOCKED = frozenset({TARGETING, SALE_SHARE_CHOICE})
ACTIONS = ("accept_all", "reject_all", "save", "gpc")
# The first-party cookie in which consent.js keeps the browser's random id (consent.js's ID).
DEVICE_COOKIE = "rf_consent_id"
GPC_SUPPORTED_SINCE = "2026-12-01"  # when Rightful started answering /.well-known/gpc.json
MAX_BATCH = 50  # answers in one request: a page's pending choices, not a bulk import


class Mode(StrEnum):
    """How the law of a jurisdiction treats optional cookies."""

    OPT_IN = "opt-in"  # ask first; nothing optional before a yes
    OPT_OUT = "opt-out"  # tell, and let people say no (and no to sale/share)


@dataclass(frozen=True)
class Category:
    """One switch in the banner: a cookie category, or the sale/share choice."""

    key: str
    purposes: tuple[str, ...]
    channel: str
    title: str
    description: str
    cookies: tuple[str, ...] = ()
    required: bool = False
    default: bool = False


@dataclass(frozen=True)
class BannerConfig:
    """Everything consent.js needs to ask, for one jurisdiction, in one language."""

    jurisdiction: str
    mode: Mode
    notice_version: str
    categories: list[Category]
    sale_share: Category | None
    texts: dict[str, str]
    language: str  # a BCP 47 tag: what the visitor reads, and what the banner's `lang` says

    def switches(self) -> list[Category]:
        """Every category and, in opt-out mode, the sale/share choice."""
        return self.categories + ([self.sale_share] if self.sale_share else [])


@dataclass(frozen=True)
class Answer:
    """What a visitor sent from the banner."""

    device_id: str
    jurisdiction: str | None
    choices: dict[str, bool]
    gpc_source: str | None = None  # "Sec-GPC" or "navigator.globalPrivacyControl"
    action: str = "save"
    notice_version: str | None = None
    language: str | None = None  # the language the banner was shown in (config's `lang`)
    proof: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What recording an answer did, and where the visitor now stands."""

    config: BannerConfig
    events: list[ConsentEvent]
    allowed: dict[str, bool]
    gpc: bool


def _invalid(message: str, field_name: str) -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": field_name, "message": message}])


def jurisdiction_of(settings: Settings, value: str | None) -> str:
    """A jurisdiction code such as `US-CA`, `FR` or `GB`; the default when none is given."""
    code = (value or settings.default_jurisdiction).strip().upper()
    if not JURISDICTION.match(code):
        raise _invalid(
            "A jurisdiction is an ISO 3166 code such as US-CA, FR or GB.", "jurisdiction"
        )
    return code


def mode_for(jurisdiction: str) -> Mode:
    """Opt-out for US states; opt-in everywhere else, the choice that is safe anywhere."""
    return Mode.OPT_OUT if jurisdiction.split("-")[0] in OPT_OUT_COUNTRIES else Mode.OPT_IN


def _category(purpose: snapshot.Purpose, mode: Mode, words: texts.Wording) -> Category:
    required = purpose.key == catalog.STRICTLY_NECESSARY
    default_given = purpose.default == State.GIVEN
    return Category(
        key=purpose.key.removeprefix("cookies."),
        purposes=(purpose.key,),
        channel=Channel.WEB,
        title=words.title(purpose),
        description=words.description(purpose),
        cookies=purpose.cookie_names,
        required=required,
        default=required or (mode == Mode.OPT_OUT and default_given),
    )


def _sale_share(known: snapshot.Catalogue, words: texts.Wording) -> Category:
    row = known.checked(catalog.SALE_SHARE, Channel.ALL)
    return Category(
        key=SALE_SHARE_CHOICE,
        purposes=SALE_SHARE_PURPOSES,
        channel=Channel.ALL,
        title=words.title(row),
        description=words.description(row),
        default=row.default == State.GIVEN,
    )


def config(
    session: Session, settings: Settings, jurisdiction: str | None, language: str | None = None
) -> BannerConfig:
    """What the banner shows in a jurisdiction, in the best language for `language` (e.g.
    `es-MX`): categories, texts, and the notice version."""
    words = texts.wording(session, settings, language)
    catalog.ensure_built_in(session)
    return _config(snapshot.current(session), settings, jurisdiction, words)


def _known(session: Session) -> snapshot.Catalogue:
    """The catalogue to check answers with: this process's copy, without a statement (the write
    confirms its revision, banner_writes.py); read when none is held or it lacks the built-ins."""
    known = snapshot.last_known(session)
    if catalog.SALE_SHARE not in known.purposes:
        catalog.ensure_built_in(session)
        known = snapshot.current(session)
    return known


def _config(
    known: snapshot.Catalogue, settings: Settings, jurisdiction: str | None, words: texts.Wording
) -> BannerConfig:
    code = jurisdiction_of(settings, jurisdiction)
    mode = mode_for(code)
    cookies = [p for p in known.purposes.values() if p.kind == "cookies"]  # in display order
    return BannerConfig(
        jurisdiction=code,
        mode=mode,
        notice_version=settings.notice_version,
        categories=[_category(p, mode, words) for p in cookies],
        sale_share=_sale_share(known, words) if mode == Mode.OPT_OUT else None,
        texts=words.banner_texts(mode.value),
        language=words.language,
    )


def _choices(cfg: BannerConfig, answers: dict[str, bool], gpc: bool) -> list[Choice]:
    """Ledger choices for the switches a visitor set; GPC wins over a "yes" to targeting."""
    offered = {c.key: c for c in cfg.switches()}
    unknown = sorted(set(answers) - set(offered))
    if unknown:
        raise _invalid(
            f"Unknown choice {', '.join(repr(u) for u in unknown)}; in {cfg.jurisdiction} the "
            f"banner offers {', '.join(offered)}.",
            "choices",
        )
    result = []
    for key, given in answers.items():
        category = offered[key]
        if category.required:
            if not given:
                raise _invalid(f"'{key}' cookies are needed for the site to work.", "choices")
            continue  # always on: nothing to record
        if gpc and given and key in GPC_LOCKED:
            continue
        state = State.GIVEN if given else State.WITHDRAWN
        result += [Choice(p, category.channel, state) for p in category.purposes]
    return result


def _check_notice(settings: Settings, shown: str | None) -> None:
    """A choice counts against the notice the visitor saw; a stale banner must ask again."""
    if shown and shown != settings.notice_version:
        raise ConflictError(
            f"The privacy notice changed (now {settings.notice_version}) after this banner was "
            "shown; show the banner again."
        )


def _language_of(answer: Answer) -> str | None:
    """The language the visitor read the banner in, as a tag; a malformed one is refused."""
    if answer.language is None:
        return None
    try:
        return texts.language_tag(answer.language)
    except ValueError as exc:
        raise _invalid(str(exc), "lang") from exc


def _read_in(answer: Answer) -> dict[str, str]:
    """The proof's other fields: the language the banner was read in, and where it was."""
    language = _language_of(answer)
    return ({"lang": language} if language else {}) | answer.proof


def _person_opt_outs(choices: list[Choice]) -> list[Choice]:
    """A known person's opt-outs of sale/share made on their browser cover them everywhere;
    a yes on one browser does not undo what they refused elsewhere."""
    return [c for c in choices if c.channel == Channel.ALL and c.state == State.WITHDRAWN]


def _checked(
    session: Session,
    settings: Settings,
    answer: Answer,
    configs: dict[str | None, BannerConfig] | None = None,
) -> tuple[BannerConfig, list[Choice]]:
    """The banner configuration and the ledger choices an answer asks for, or a clear error;
    `configs` keeps each jurisdiction's configuration for the rest of a batch."""
    configs = {} if configs is None else configs
    cfg = configs.get(answer.jurisdiction)
    if cfg is None:
        # Recording needs the switches, not the words: built-in English spares a query a choice.
        cfg = _config(_known(session), settings, answer.jurisdiction, texts.BUILT_IN_ENGLISH)
        configs[answer.jurisdiction] = cfg
    if answer.action not in ACTIONS:
        raise _invalid(f"The action is one of {', '.join(ACTIONS)}.", "action")
    _language_of(answer)
    if not answer.choices and answer.gpc_source is None:
        raise _invalid("Send at least one choice, or gpc: true.", "choices")
    _check_notice(settings, answer.notice_version)
    return cfg, _choices(cfg, answer.choices, answer.gpc_source is not None)


def record(session: Session, settings: Settings, answer: Answer) -> Outcome:
    """Record a visitor's banner answer (and GPC signal) in the ledger; flushes only."""
    return record_all(session, settings, [answer], numbered=False)[0]


def record_all(
    session: Session, settings: Settings, answers: list[Answer], *, numbered: bool = True
) -> list[Outcome]:
    """Record several answers (a batch from consent.js); flushes only. Every answer is checked
    before the first write, and a refusal names the answer (`events.<i>.<field>`; not when
    `numbered` is False: a single answer), so a batch is recorded whole or, with the caller's
    rollback, not at all. The statements sent do not grow with the batch (banner_writes.py)."""
    return record_checked(session, settings, check_all(session, settings, answers, numbered))


def check_all(
    session: Session, settings: Settings, answers: list[Answer], numbered: bool = True
) -> list[banner_writes.Checked]:
    """`record_all`'s checks, before anything is written: what each answer records."""
    if not 1 <= len(answers) <= MAX_BATCH:
        raise _invalid(f"Send 1 to {MAX_BATCH} events in a batch.", "events")
    configs: dict[str | None, BannerConfig] = {}
    checked = [
        _checked_item(session, settings, i, answer, configs, numbered)
        for i, answer in enumerate(answers)
    ]
    return [
        banner_writes.Checked(a, cfg, c, _person_opt_outs(c))
        for a, (cfg, c) in zip(answers, checked, strict=True)
    ]


def record_checked(
    session: Session, settings: Settings, items: list[banner_writes.Checked]
) -> list[Outcome]:
    """Write checked answers (of one request or of several, banner_writes.py); flushes only."""
    answers = [i.answer for i in items]
    written, known = banner_writes.write(session, settings, items, [_read_in(a) for a in answers])
    return [
        Outcome(
            item.config,
            w.events,
            allowed_from(item.config, known, w.own, w.family),
            item.answer.gpc_source is not None,
        )
        for item, w in zip(items, written, strict=True)
    ]


def _checked_item(
    session: Session,
    settings: Settings,
    index: int,
    answer: Answer,
    configs: dict[str | None, BannerConfig],
    numbered: bool = True,
) -> tuple[BannerConfig, list[Choice]]:
    """`_checked` for the batch's answer `index`, with the device id too; errors name it."""
    try:
        if not subjects.DEVICE_ID.match(answer.device_id or ""):
            raise _invalid("A device id is 16 to 64 letters, digits, '-' or '_'.", "device_id")
        return _checked(session, settings, answer, configs)
    except (InvalidInputError, ConflictError) as exc:
        if not numbered:
            raise
        errors = [{**e, "field": f"events.{index}.{e['field']}"} for e in exc.errors] or [
            {"field": f"events.{index}", "message": exc.detail}
        ]
        extensions = {**exc.extensions, "item": index}
        raise type(exc)(
            f"Event {index}: {exc.detail}", errors=errors, extensions=extensions
        ) from exc


def allowed(session: Session, cfg: BannerConfig, subject: ConsentSubject) -> dict[str, bool]:
    """Each switch as it now stands for this browser (and the person it belongs to); two reads:
    the states, and the cached catalogue's revision."""
    chosen, explicit_states = family_states(session, subject)
    return allowed_from(cfg, snapshot.current(session), chosen, explicit_states)


def allowed_from(
    cfg: BannerConfig,
    purposes: snapshot.Catalogue,
    chosen: frozenset[tuple[str, str]],
    explicit_states: dict[tuple[str, str], list[str]],
) -> dict[str, bool]:
    """`allowed` from the browser's own choices and its family's states (state.family_states).

    In opt-in mode only an explicit yes counts; otherwise the stricter of the browser's and the
    person's choices, falling back to the catalogue default."""
    result = {}
    for category in cfg.switches():
        verdicts = []
        for key in category.purposes:
            purpose = purposes.checked(key, category.channel)
            explicit = (key, category.channel) in chosen
            ok = decide_from(explicit_states, purpose, category.channel).allowed
            verdicts.append(ok and (explicit or cfg.mode == Mode.OPT_OUT or category.required))
        result[category.key] = all(verdicts)
    return result


def gpc_last_update(settings: Settings) -> str:
    """The `lastUpdate` of /.well-known/gpc.json: the notice version when it is a date (the
    notice is where the promise to honour GPC is made), else when Rightful began to honour it."""
    try:
        return date.fromisoformat(settings.notice_version).isoformat()
    except ValueError:
        return GPC_SUPPORTED_SINCE
