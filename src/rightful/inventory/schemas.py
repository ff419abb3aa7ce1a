"""Shapes of data-map entries as files and the API carry them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Declaration(BaseModel):
    """What a system does with which categories (a fideslang privacy declaration)."""

    model_config = ConfigDict(extra="ignore")

    name: str = ""
    data_use: str
    data_categories: list[str] = Field(default_factory=list)
    data_subjects: list[str] = Field(default_factory=lambda: ["customer"])
    sources: list[str] = Field(default_factory=list, description="Where the data comes from.")


class SystemIn(BaseModel):
    """A system entry in a data-map file."""

    model_config = ConfigDict(extra="ignore")

    fides_key: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str
    description: str = ""
    system_type: str = "Application"
    operated_by: str | None = None
    dataset_references: list[str] = Field(default_factory=list)
    privacy_declarations: list[Declaration] = Field(default_factory=list)
    # A connector kind (sql, http, a plug-in's) or manual; connections are set apart, sealed.
    connection_type: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_\-]*$")
    # The staff member who answers for the system (Rightful's own; fideslang's
    # `administrating_department` names a department, not a person to give tasks to).
    owner: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="The staff e-mail that gets this system's manual tasks.",
    )


class PartnerIn(BaseModel):
    """A business partner entry."""

    model_config = ConfigDict(extra="forbid")

    fides_key: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str
    role: Literal["affiliate", "service_provider", "contractor", "third_party"]
    description: str = ""
    contact_email: str | None = None
    erasure_webhook: str | None = Field(
        default=None, pattern=r"^https?://", description="Where erasure notices are POSTed."
    )


class DisclosureIn(BaseModel):
    """Categories given to a partner for a purpose."""

    model_config = ConfigDict(extra="forbid")

    partner: str
    data_categories: list[str]
    data_use: str
    sale: bool = False
    share: bool = False
    description: str = ""


class ApplySummary(BaseModel):
    """What an apply changed."""

    datasets: list[str] = Field(default_factory=list)
    systems: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)
    disclosures: int = 0
    notes: list[str] = Field(
        default_factory=list, description="What deletions can and cannot do in the data map."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Card and password rules the applied datasets break (refused when strict).",
    )
    notice_warnings: list[str] = Field(
        default_factory=list,
        description="What the change made untrue in the published privacy notice (not refused).",
    )
