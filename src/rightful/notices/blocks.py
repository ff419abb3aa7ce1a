"""A notice's source: Markdown with `notice` blocks, fenced code whose info string names the
block (```` ```notice categories ````) and whose body is YAML, or empty for Rightful to fill.

Each block's shape is a pydantic model here; `parse` splits a source into text and blocks and
names every problem at its line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rightful.core.errors import InvalidInputError
from rightful.notices.ccpa import CATEGORIES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Category(_Strict):
    """A category of personal information collected, in the CCPA's terms and the company's."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = ""  # a short name in the company's words (default: the CCPA's)
    ccpa: str
    words: str = Field(min_length=3)
    data_categories: list[str] = Field(min_length=1)

    @field_validator("ccpa")
    @classmethod
    def _enumerated(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"use one of the CCPA's categories: {', '.join(CATEGORIES)}")
        return value


class Source(_Strict):
    """A source, in the notice's words, and the data map's sources it stands for."""

    words: str = Field(min_length=3)
    covers: list[str] = Field(default_factory=list)  # empty: `words` is the data map's own


class Purpose(_Strict):
    """A purpose in the notice's words and the data uses (fideslang) it stands for."""

    words: str = Field(min_length=3)
    data_uses: list[str] = Field(min_length=1)


class Recipient(_Strict):
    """A business partner (or kind of partner) and the notice's categories it receives."""

    partner: str
    words: str = ""
    categories: list[str] = Field(min_length=1)


class SaleShare(_Strict):
    """What is sold and what is shared for cross-context behavioural advertising, to whom."""

    sold: list[Recipient] = Field(default_factory=list)
    shared: list[Recipient] = Field(default_factory=list)
    under_16: bool = False  # whether personal information of consumers under 16 is sold/shared


class Retention(_Strict):
    """How long a category is kept: at most `days`, or until something happens (`until`)."""

    category: str
    days: int | None = Field(default=None, gt=0)
    until: str = ""
    # Kept this long after a deletion request (a legal duty, e.g. tax records).
    after_deletion_days: int | None = Field(default=None, gt=0)
    words: str = ""


class Sensitive(_Strict):
    """Sensitive personal information collected, what it is used for, and whether those uses
    stay within the law's list (§ 7027(m)), so no right to limit is offered."""

    category: str
    uses: list[str] = Field(min_length=1)
    only_permitted_uses: bool = True


class Signals(_Strict):
    """How opt-out preference signals are handled."""

    gpc: str = "honored"  # honored | ignored
    dnt: str = "ignored"  # honored | ignored


class Children(_Strict):
    """Whether the company collects from children, and from what age it does not."""

    collects_from_children: bool = False
    minimum_age: int = Field(default=13, gt=0)


class Rights(_Strict):
    """The rights a jurisdiction's law gives and how to use them."""

    kinds: list[str] = Field(default_factory=list)


class Contact(_Strict):
    """Where to write."""

    email: str = ""
    postal_address: str = ""
    privacy_center: str = ""


class Choices(_Strict):
    """The choices the consent catalogue offers (its purpose keys)."""

    purposes: list[str] = Field(default_factory=list)


LIST_BLOCKS: dict[str, type[BaseModel]] = {
    "categories": Category,
    "sources": Source,
    "purposes": Purpose,
    "recipients": Recipient,
    "retention": Retention,
    "sensitive": Sensitive,
}
ONE_BLOCKS: dict[str, type[BaseModel]] = {
    "sale-share": SaleShare,
    "signals": Signals,
    "children": Children,
    "rights": Rights,
    "contact": Contact,
    "choices": Choices,
}
KINDS = (*LIST_BLOCKS, *ONE_BLOCKS)


@dataclass(frozen=True)
class Block:
    """One `notice` block: its kind, its argument (a jurisdiction for `rights`), where it
    starts, and its YAML body (None: to be filled from the data map)."""

    kind: str
    arg: str
    line: int
    body: Any
    filled: bool = False  # filled by Rightful from what it holds

    @property
    def filled_by_rightful(self) -> bool:
        """Whether the author left the block for Rightful to fill."""
        return self.body is None


Segment = str | Block
_FENCE = re.compile(r"^```notice[ \t]+([a-z\-]+)(?:[ \t]+([A-Za-z0-9\-]+))?[ \t]*$")


def _problem(line: int, message: str) -> dict[str, str]:
    return {"field": f"line {line}", "message": message}


def _body(kind: str, text: str, line: int, problems: list[dict[str, str]]) -> Any:
    import yaml  # when first used: the server's start does not wait for it

    if not text.strip():
        return None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problems.append(_problem(line, f"`{kind}` block is not valid YAML: {exc}"))
        return None
    try:
        if kind in LIST_BLOCKS:
            if not isinstance(raw, list):
                raise TypeError
            return [LIST_BLOCKS[kind].model_validate(item).model_dump() for item in raw]
        return ONE_BLOCKS[kind].model_validate(raw or {}).model_dump()
    except TypeError:
        problems.append(_problem(line, f"`{kind}` block must be a YAML list of entries"))
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(_problem(line, f"`{kind}` block, {where}: {msg}"))
    return None


def parse(source: str) -> list[Segment]:
    """The source as Markdown text and blocks, or InvalidInputError naming each problem."""
    segments: list[Segment] = []
    problems: list[dict[str, str]] = []
    text: list[str] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        found = _FENCE.match(lines[i])
        if not found:
            text.append(lines[i])
            i += 1
            continue
        kind, arg, start = found.group(1), found.group(2) or "", i + 1
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            problems.append(_problem(start, f"`{kind}` block is never closed with ```"))
            break
        if kind not in KINDS:
            problems.append(_problem(start, f"unknown block `{kind}`: use {', '.join(KINDS)}"))
        else:
            segments.append("\n".join(text))
            text = []
            body = _body(kind, "\n".join(lines[i + 1 : end]), start, problems)
            if kind == "rights" and not arg:
                problems.append(
                    _problem(start, "`rights` needs a jurisdiction: notice rights US-CA")
                )
            segments.append(Block(kind, arg, start, body))
        i = end + 1
    segments.append("\n".join(text))
    if problems:
        lines_out = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise InvalidInputError(f"The notice has problems: {lines_out}", errors=problems)
    return segments


def blocks_of(segments: list[Segment]) -> list[Block]:
    """Only the blocks."""
    return [s for s in segments if isinstance(s, Block)]
