"""The preference center's choices: what a person sees, and what a submitted form changes.

Each choice is one purpose on one channel, named in forms as `purpose:channel`. Opt-outs take
effect at once; turning back on something the person explicitly switched off waits for a
second, confirming step, so a slip of the finger never undoes an opt-out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from rightful.consent import catalog
from rightful.consent.catalog import Channel, Interface, State
from rightful.consent.ledger import Choice, made_at
from rightful.consent.models import ConsentEvent, ConsentPurpose, ConsentSubject
from rightful.consent.state import Current, current
from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_

CHANNEL_LABELS = {  # N_: the preference center shows them in the reader's language
    Channel.EMAIL.value: N_("E-mail"),
    Channel.SMS.value: N_("Text message"),
    Channel.PHONE.value: N_("Phone call"),
    Channel.POST.value: N_("Post"),
    Channel.ALL.value: N_("Everywhere"),
    Channel.WEB.value: N_("Our websites"),
}
CHANNEL_PHRASES = {  # "Offers and sales by e-mail"
    Channel.EMAIL.value: "by e-mail",
    Channel.SMS.value: "by text message",
    Channel.PHONE.value: "by phone",
    Channel.POST.value: "by post",
}


@dataclass(frozen=True)
class Option:
    """One purpose on one channel, as it stands for the person."""

    purpose: str
    channel: str
    title: str  # the purpose's title
    on: bool
    explicit: bool  # False: nobody chose; this is the purpose's default
    origin: str | None = None  # where a choice not made on this page came from, in words

    @property
    def field(self) -> str:
        """The form field that carries this choice."""
        return f"{self.purpose}:{self.channel}"

    @property
    def channel_label(self) -> str:
        """The channel in a word or two."""
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def label(self) -> str:
        """The choice in words: "Offers and sales by e-mail"."""
        phrase = CHANNEL_PHRASES.get(self.channel)
        return f"{self.title} {phrase}" if phrase else self.title


@dataclass(frozen=True)
class Topic:
    """A purpose with its channels."""

    key: str
    title: str
    description: str
    options: list[Option]


@dataclass(frozen=True)
class Grid:
    """Everything the preference center offers a person, with their current state."""

    topics: list[Topic]  # the company's marketing topics
    all_marketing: Topic  # the global switch, one option per channel
    sale_share: Topic  # "Do Not Sell or Share My Personal Information", one option
    targeted_ads: Topic  # one option

    def options(self) -> list[Option]:
        """Every option on the page."""
        topics = [*self.topics, self.all_marketing, self.sale_share, self.targeted_ads]
        return [o for t in topics for o in t.options]

    def by_field(self) -> dict[str, Option]:
        """Options keyed by their form field."""
        return {o.field: o for o in self.options()}

    def paused_channels(self) -> list[str]:
        """Channels on which all marketing is off, so no topic arrives on them."""
        return [o.channel_label for o in self.all_marketing.options if not o.on]


@dataclass(frozen=True)
class Plan:
    """What a submitted form changes: what is recorded now, and what waits for confirmation."""

    now: list[Choice] = field(default_factory=list)
    to_confirm: list[Choice] = field(default_factory=list)


# Where a choice made elsewhere came from, as the person reads it beside the choice.
ORIGINS = {
    Interface.BANNER.value: "Chosen in the cookie banner",
    Interface.GPC.value: "Your browser's Global Privacy Control signal",
    Interface.UNSUBSCRIBE_LINK.value: "An unsubscribe link in our e-mail",
    Interface.LIST_REMOVAL.value: "Your request to be taken off our lists",
    Interface.DOUBLE_OPT_IN.value: "Your confirmed sign-up",
    Interface.SMS_REPLY.value: "Your reply to a text",
    Interface.RIGHTS_REQUEST.value: "Your opt-out request",
    Interface.STAFF.value: "Recorded by our staff from your letter or call",
    Interface.API.value: "Recorded by one of our systems",
}


def origin(c: Current) -> str | None:
    """Where an explicit choice came from and when, in words; None for the default or a choice
    made in the preference center itself."""
    if not c.explicit or c.interface in (None, Interface.PREFERENCE_CENTER.value):
        return None
    proof = c.proof or {}
    when = made_at(dict(proof), c.since) if c.since else None
    if c.interface == Interface.IMPORT.value:
        words = f"From our records in {proof.get('source_name') or proof.get('source')}"
    elif c.interface == Interface.BANNER.value and proof.get("device"):
        words = "Chosen in the cookie banner on a browser you use"
    else:
        words = ORIGINS.get(str(c.interface), "Recorded elsewhere")
    return f"{words}, {when.day} {when:%B %Y}" if when else words


def _topic(
    purpose: ConsentPurpose, states: Mapping[tuple[str, str], tuple[bool, bool, str | None]]
) -> Topic:
    options = [
        Option(purpose.key, channel, purpose.title, *states[(purpose.key, channel)])
        for channel in purpose.channels
    ]
    return Topic(purpose.key, purpose.title, purpose.description, options)


def grid(session: Session, person: ConsentSubject) -> Grid:
    """The person's topics by channel, the global switch, and the two advertising choices."""
    catalog.ensure_built_in(session)
    states = {
        (c.purpose, c.channel): (c.state == State.GIVEN.value, c.explicit, origin(c))
        for c in current(session, person)
    }
    marketing = catalog.purposes(session, kind="marketing")
    topics = [_topic(p, states) for p in marketing if p.key != catalog.ALL_MARKETING]
    everything = next(p for p in marketing if p.key == catalog.ALL_MARKETING)

    def single(key: str) -> Topic:
        purpose = session.get(ConsentPurpose, key)
        assert purpose is not None  # ensure_built_in made it
        return _topic(purpose, states)

    return Grid(
        topics=topics,
        all_marketing=_topic(everything, states),
        sale_share=single(catalog.SALE_SHARE),
        targeted_ads=single(catalog.TARGETED_ADS),
    )


def _unknown(name: str) -> InvalidInputError:
    message = f"There is no choice called '{name}' here. Reload the page and try again."
    return InvalidInputError(message, errors=[{"field": "choices", "message": message}])


def read_form(grid: Grid, shown: Iterable[str], values: Mapping[str, str]) -> dict[str, State]:
    """The state the form asks for, per field it showed. An unchecked box sends nothing, which
    means "off"; anything else unexpected is refused, so nothing is recorded."""
    known = grid.by_field()
    wanted: dict[str, State] = {}
    for name in shown:
        if name not in known:
            raise _unknown(name)
        raw = values.get(name, State.WITHDRAWN.value)
        if raw not in (State.GIVEN.value, State.WITHDRAWN.value):
            raise _unknown(f"{name}={raw}")
        wanted[name] = State(raw)
    if not wanted:
        raise InvalidInputError(
            "The form was empty. Reload the page and try again.",
            errors=[{"field": "choices", "message": "No choices were sent."}],
        )
    return wanted


def plan(grid: Grid, wanted: Mapping[str, State]) -> Plan:
    """Split the asked-for states into changes to record now and re-opt-ins to confirm."""
    known = grid.by_field()
    result = Plan()
    for name, state in wanted.items():
        option = known[name]
        if option.on == (state == State.GIVEN):
            continue  # unchanged; the ledger need not hear of it
        choice = Choice(option.purpose, option.channel, state)
        if state == State.GIVEN and option.explicit:
            result.to_confirm.append(choice)  # the person had switched this off themselves
        else:
            result.now.append(choice)
    return result


def confirmed(grid: Grid, fields: Iterable[str]) -> list[Choice]:
    """The re-opt-ins a person confirmed on the second step (fields from that page)."""
    known = grid.by_field()
    choices = []
    for name in dict.fromkeys(fields):  # keep order, drop repeats
        option = known.get(name)
        if option is None:
            raise _unknown(name)
        if not option.on:
            choices.append(Choice(option.purpose, option.channel, State.GIVEN))
    return choices


def labels(grid: Grid, choices: Iterable[Choice]) -> list[str]:
    """Each choice in words, for the confirmation step."""
    known = grid.by_field()
    return [known[f"{c.purpose}:{c.channel}"].label for c in choices]


def changes(grid: Grid, events: Iterable[ConsentEvent]) -> list[tuple[str, bool]]:
    """What a save changed, in words, with whether each is now on."""
    known = grid.by_field()
    found = []
    for e in events:
        option = known.get(f"{e.purpose}:{e.channel}")
        found.append((option.label if option else e.purpose, e.state == State.GIVEN.value))
    return found
