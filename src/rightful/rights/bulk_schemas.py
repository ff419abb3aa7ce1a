"""What a batch of requests is made of, and the line-by-line report that answers it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from rightful.rights.schemas import RequestIn

MAX_LINES = 10_000
Mode = Literal["all_or_nothing", "valid_only"]


class BatchLine(RequestIn):
    """One request of a batch: the single API's fields plus the sender's own reference."""

    external_id: str = Field(
        min_length=1,
        max_length=200,
        description="The sender's own reference for this request (the agent service's, the "
        "previous tool's): sent again, the line is reported as already imported, never filed "
        "twice. Unique per `source`; never personal data.",
    )
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Where the request came from (e.g. `Permission Slip`, `OneTrust export`); "
        "the batch's `source` when left out.",
    )

    @field_validator("external_id", mode="before")
    @classmethod
    def _reference_as_text(cls, value: object) -> object:
        """A numeric reference (a previous tool's row id) is the same reference as text."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class BatchIn(BaseModel):
    """A batch for POST /api/v1/rights-requests/batch."""

    requests: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_LINES,
        description="Up to 10,000 requests, each with the fields of POST /rights-requests plus "
        "`external_id` (and `source` where it differs from the batch's). Each is checked on its "
        "own and reported by its line: its position in this list, from 1.",
    )
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Where these requests came from, for every line that does not say.",
    )
    mode: Mode = Field(
        default="all_or_nothing",
        description="`all_or_nothing`: one bad line and nothing is imported (the report lists "
        "every bad line). `valid_only`: the good lines are imported and the bad ones reported.",
    )
    dry_run: bool = Field(default=False, description="Check every line; import nothing.")


class LineError(BaseModel):
    """What is wrong with a line, field by field, in words."""

    field: str
    message: str


class ImportedLine(BaseModel):
    """A line that became a request (or, in a dry run, would)."""

    line: int
    external_id: str
    reference: str = Field(description="Empty in a dry run: nothing was filed.")
    id: str = ""
    status: str = ""


class DuplicateLine(BaseModel):
    """A line imported before (same source and external_id): the request it became."""

    line: int
    external_id: str
    reference: str
    id: str | None = Field(default=None, description="None once the request was purged.")


class RejectedLine(BaseModel):
    """A line that was not imported, and why."""

    line: int
    external_id: str | None = None
    errors: list[LineError]


class BatchReport(BaseModel):
    """What happened to each line of a batch."""

    mode: Mode
    dry_run: bool
    lines: int
    saved: bool = Field(description="Whether anything of this batch was written.")
    imported: list[ImportedLine] = Field(default_factory=list)
    duplicates: list[DuplicateLine] = Field(default_factory=list)
    rejected: list[RejectedLine] = Field(default_factory=list)
