"""Settings, read once at the entry point from RIGHTFUL_* environment variables."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rightful.core.errors import ConfigurationError
from rightful.core.secret_strength import weakness

DEMO_SECRET = "demo-secret-do-not-use-in-production-0000000000"  # noqa: S105 - refused outside demo


def default_data_dir() -> Path:
    """The user's own data folder, e.g. ~/.local/share/rightful (XDG), when none is set.

    Not the current folder: a command run from elsewhere would start an empty store there."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = Path(os.environ.get("XDG_DATA_HOME", ""))
        base = xdg if xdg.is_absolute() else Path.home() / ".local" / "share"
    return base / "rightful"


class ExtraDataPoint(BaseModel):
    """A detail the company asks for to match records, beyond phone, name and ZIP code."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    label: str = Field(max_length=80)
    hint: str = Field(default="", max_length=200)
    categories: list[str] = Field(
        min_length=1, description="Data categories it is matched against."
    )


class Settings(BaseSettings):
    """Everything an operator can set; see docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="RIGHTFUL_", env_file=".env", extra="ignore")

    demo_mode: bool = Field(
        default=False, description="Allow placeholder secrets; show demo hints."
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the SQLite store, packages and demo databases live.",
    )
    database_url: str = ""
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Connections each process keeps open to a PostgreSQL store (as many more "
        "may open for a burst); at least the requests one process serves at once.",
    )
    secret_key: str = DEMO_SECRET
    kek_file: Path | None = Field(
        default=None,
        description="File of the key-encryption key(s) that wrap the data keys, newest first.",
    )
    kek: str = Field(default="", description="Or the key-encryption key(s), newest first.")
    kek_provider: str = Field(
        default="", description="Or module:factory giving a KeyWrapper, e.g. for a key service."
    )
    key_cache_seconds: float = Field(
        default=60,
        ge=0,
        description="How long a process encrypts with the newest data key it knows before it "
        "looks for a newer one.",
    )
    base_url: str = "http://127.0.0.1:8000"
    broker_url: str = ""
    redis_url: str = Field(
        default="",
        description="Redis for limits shared by every process (the banner's, appeals'); "
        "default: the broker when it is Redis, else Rightful's own store.",
    )
    banner_events_per_minute: int = Field(
        default=120,
        ge=1,
        description="Banner events (each of a batch counts) one client address may post a "
        "minute, counted for all processes together.",
    )
    smtp_url: str = ""
    mail_from: str = "Lumen Devices Privacy Office <privacy@lumen.example>"
    company_name: str = "Lumen Devices, Inc."
    privacy_email: str = "privacy@lumen.example"
    audit_anchor_dir: Path | None = Field(
        default=None,
        description="Where the integrity logs' signed heads are appended, outside the database "
        "(default: anchors/ in the data directory; put it on other storage).",
    )
    audit_anchor_email: str = Field(
        default="", description="Who is e-mailed each day's anchors ('': no one)."
    )
    postal_address: str = (
        "Lumen Devices, Inc., Attn: Privacy Office, 100 Harbor Way, San Jose, CA 95110"
    )
    max_body_bytes: int = 64_000
    max_bulk_bytes: int = Field(
        default=200_000_000, description="Body limit of the bulk suppression check (2M hashes)."
    )
    allow_http_webhooks: bool = Field(
        default=False,
        description="Let partner and consent webhooks be plain http:// addresses (a partner on "
        "this machine, tests); demo mode always may. Otherwise they must be https://.",
    )
    transfer_ca_file: Path | None = Field(
        default=None,
        description="A PEM bundle of extra certificate authorities trusted, beside the usual "
        "ones, for the HTTPS endpoints people name to receive a portable copy (a private CA). "
        "Certificates are always verified.",
    )
    transfer_allow_private_addresses: bool = Field(
        default=False,
        description="Let a portable copy go to an endpoint on a loopback or private address "
        "(a test bench). Otherwise only public addresses are reached.",
    )
    package_link_days: int = 7
    code_ttl_minutes: int = 10
    code_max_attempts: int = 5
    codes_per_identity_per_hour: int = 5
    codes_per_client_per_hour: int = 20
    codes_per_request: int = Field(
        default=5, ge=1, description="Codes one request may be sent in its life; then it closes."
    )
    code_tries_per_request: int = Field(
        default=15, ge=1, description="Wrong codes one request takes in its life; then it closes."
    )
    requests_per_address_per_hour: int = Field(
        default=5, ge=1, description="Requests filed for one e-mail address an hour."
    )
    requests_per_client_per_hour: int = Field(
        default=20, ge=1, description="Requests one client address may file an hour."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description='Proxies whose X-Forwarded-For is believed: IPs or CIDRs, e.g. ["10.0.0.0/8"].',
    )
    require_approval: bool = True
    parent_evidence: str = Field(
        default="optional",
        pattern=r"^(required|optional)$",
        description="Whether a parent filing for a child must upload evidence of the relation "
        "(a birth certificate, a court order): required or optional.",
    )
    max_upload_bytes: int = Field(
        default=21_000_000,
        ge=64_000,
        description="Body limit of the forms that take documents (request form, console intake).",
    )
    second_approval_types: list[str] = Field(
        default_factory=list, description='Request types two people must approve, e.g. ["delete"].'
    )
    records_retention_days: int = Field(
        default=730,
        ge=1,
        description="Closed requests keep personal data this long (CCPA: 24 months).",
    )
    lease_seconds: int = Field(default=600, ge=1, description="How long a worker owns a request.")
    # Workers (docs/operations.md, "Workers"): claims, heartbeats, lanes, batch sizes.
    claim_seconds: int = Field(
        default=300, ge=1, description="How long a worker owns one send (e-mail, notice)."
    )
    worker_heartbeat_seconds: float = Field(
        default=10, gt=0, description="How often a worker says it is alive."
    )
    worker_silent_seconds: int = Field(
        default=60, ge=1, description="A worker silent this long loses its claims and leases."
    )
    worker_batch_size: int = Field(
        default=50, ge=1, le=10_000, description="Requests or sends one worker takes at a time."
    )
    # Access requests read and finished together (rights/access_batch.py, access_finish.py); on
    # since every suite touching execution passed with it on. Off: each alone, as before.
    access_batches: bool = Field(
        default=True, description="Read approved access requests' rows together, in batches."
    )
    execution_batch_size: int = Field(
        default=100, ge=2, le=1000, description="Access requests read together at most."
    )
    # Deletions erased together are also finished together (rights/erasure_batch.py): their
    # bookkeeping in one transaction. Off: each is finished by its own run, as before.
    erasure_batches: bool = Field(
        default=True, description="Finish the deletions of a batch together."
    )
    # Corrections read, planned and written together (rights/correction_run.py). Off: each
    # request reads and writes alone, as before.
    correction_batches: bool = Field(
        default=True, description="Read and write the corrections of a batch together."
    )
    worker_concurrency: int = Field(
        default=1, ge=1, le=64, description="Threads running requests in the embedded worker."
    )
    sweep_seconds: float = Field(
        default=60, gt=0, description="How often Celery beat queues stranded requests again."
    )
    partner_timeout_seconds: float = Field(
        default=10, gt=0, description="How long a partner's erasure webhook may take to answer."
    )
    # Seconds to wait after each failed try; the message fails once the schedule is used up
    # (default: 1, 5, 15, 30 minutes, then 1, 2, 4 and 8 hours: about 16 hours in all).
    mail_retry_schedule: list[int] = Field(
        default_factory=lambda: [60, 300, 900, 1800, 3600, 7200, 14400, 28800],
        description="Waits between SMTP tries, in seconds (JSON list).",
    )
    # JSON, e.g. [{"key": "device_serial", "label": "A device serial number",
    #              "categories": ["user.device.device_id"]}]
    extra_data_points: list[ExtraDataPoint] = Field(default_factory=list)
    embedded_worker: bool = True
    notice_version: str = Field(
        default="2026-01-01", description="The privacy notice version choices are recorded against."
    )
    # The published privacy notice (docs/notices.md): how long the privacy center shows that it
    # changed, and the consent purpose of the people who asked to be told.
    notice_banner_days: int = Field(
        default=30, ge=0, le=365, description="Days a material change shows a banner."
    )
    notice_updates_purpose: str = Field(
        default="notices.updates",
        description="The consent purpose of those e-mailed a material change to the notice.",
    )
    default_jurisdiction: str = Field(
        default="US-CA", description="Where consent is taken when the page does not say."
    )
    rules_mode: str = Field(
        default="per_jurisdiction",
        pattern=r"^(per_jurisdiction|strictest)$",
        description="Deadlines and rights per the law of each person's jurisdiction, or "
        "'strictest': every request gets the strictest rule of each kind across the US laws "
        "and its own (docs/jurisdictions.md).",
    )
    declaration_practice: str = Field(
        default="keep",
        pattern=r"^(keep|drop)$",
        description="Where a law sets no signed declaration for a copy of specific pieces but "
        "its pack marks it the organisation's practice (the US states other than California, "
        "the house rules): 'keep' asks for it as California's regulations do; 'drop' does not. "
        "The law decides everywhere else (docs/jurisdictions.md).",
    )
    rights_scope: str = Field(
        default="all",
        pattern=r"^(all|per_law)$",
        description="'all': every right honoured for everyone (voluntarily where the law does "
        "not grant it, recorded as such); 'per_law': in per_jurisdiction mode, refuse a "
        "request kind the person's law does not grant.",
    )
    banner_default_language: str = Field(
        default="en",
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        max_length=35,
        description="The cookie banner's language when it has none the visitor's page asks for.",
    )
    preference_jwt_secret: str = Field(
        default="", description="HS256 secret your site signs preference-center assertions with."
    )
    preference_jwt_public_key: str = Field(
        default="", description="Or a PEM public key, for RS256/ES256 assertions."
    )
    preference_jwt_issuer: str = Field(default="", description="The `iss` assertions must carry.")
    consent_alert_email: str = Field(
        default="", description="Who hears of overdue consent propagation (default: privacy_email)."
    )
    consent_cache_seconds: float = Field(
        default=0,
        ge=0,
        le=3600,
        description="Consent checks answered from each process's memory, never from anything "
        "older than this many seconds (PostgreSQL only; 0: every check reads the store).",
    )
    consent_group_size: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Consent events (of as many event requests as they fill; a banner batch "
        "counts each event) one server process writes together in one transaction, of those "
        "that arrived while earlier groups were being written; 1 writes each request alone.",
    )
    # The sequencer's poll is one indexed read when nothing is pending (consent/sequencer.py),
    # so it can be frequent; writers also wake it (consent/sequence_wake.py, PostgreSQL).
    consent_sequencer_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        le=3600,
        description="How often the worker looks for consent events to sequence into the signed "
        "log, besides when writers wake it.",
    )
    due_alert_email: str = Field(
        default="",
        description="Who gets the daily digest of due and overdue requests, reminders and "
        "escalations (default: every active approver and administrator).",
    )
    due_digest_days: int = Field(
        default=7,
        ge=1,
        le=60,
        description="The daily digest lists what is due this many days ahead.",
    )
    due_reminder_business_days: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Staff are reminded this many business days before a due date.",
    )
    appeal_reasonable_days: int = Field(
        default=60,
        ge=1,
        le=365,
        description="How long a person may appeal where the law says only 'a reasonable period'.",
    )
    staff_session_idle_minutes: int = Field(
        default=30, ge=1, description="A console session unused this long ends."
    )
    staff_session_hours: int = Field(
        default=8, ge=1, le=168, description="A console session ends this long after sign-in."
    )
    # An API call's token is looked up in the store at most this often a process
    # (security/api_tokens.py): a revoked or expired token, or a deactivated owner, is refused
    # by every process within this many seconds. 0: every call reads the store.
    api_token_cache_seconds: float = Field(
        default=5, ge=0, le=60, description="A token checked once is trusted this long."
    )
    signin_lockout_failures: int = Field(
        default=10, ge=3, description="Failed sign-ins in a row that lock an account."
    )
    signin_client_lockout_failures: int = Field(
        default=50, ge=25, description="Failed sign-ins in a row that lock out one client."
    )
    signin_lockout_minutes: int = Field(
        default=60, ge=0, description="How long a lockout lasts (0: until staff unlock it)."
    )
    admin_totp_required: bool = Field(
        default=False, description="Administrators must sign in with an authenticator code."
    )
    mailbox_host: str = Field(
        default="", description="The privacy mailbox's IMAP server; empty: no mailbox is read."
    )
    mailbox_port: int = Field(
        default=0, ge=0, le=65535, description="Its port (0: 993 for implicit TLS, 143 STARTTLS)."
    )
    mailbox_tls: str = Field(
        default="implicit",
        pattern=r"^(implicit|starttls)$",
        description="implicit (IMAPS) or starttls; the connection is always encrypted.",
    )
    mailbox_ca_file: Path | None = Field(
        default=None, description="CA certificates to trust instead of the system's (tests)."
    )
    mailbox_user: str = ""
    mailbox_password: str = Field(default="", description="The password or app password.")
    mailbox_oauth2_token: str = Field(
        default="", description="Or an OAuth2 access token (XOAUTH2), e.g. for Microsoft 365."
    )
    mailbox_oauth2_token_file: Path | None = Field(
        default=None, description="Or a file holding the token, read at each connection."
    )
    mailbox_folder: str = "INBOX"
    mailbox_poll_seconds: float = Field(
        default=60, ge=1, description="How often the worker reads the mailbox."
    )
    mailbox_claim_seconds: int = Field(
        default=300, ge=0, description="A message whose worker died is retried after this."
    )
    case_response_business_days: int = Field(
        default=10, ge=1, le=60, description="The response target of a case, in business days."
    )
    drop_registered: bool = Field(
        default=False,
        description="The organisation is registered as a data broker in California (Cal. Civ. "
        "Code § 1798.99.82), so DROP's 45-day clock applies to it (docs/drop.md).",
    )
    drop_api_enabled: bool = Field(
        default=False,
        description="Download DROP lists and upload status files through its API (docs/drop.md).",
    )
    drop_api_url: str = Field(
        default="https://api.drop.privacy.ca.gov",
        description="DROP's API; its sandbox is https://api.drop.privacy.ca.gov/sandbox.",
    )
    drop_api_key: str = Field(default="", description="The X-API-KEY from the Data Broker Portal.")
    celery_schedule: bool = Field(
        default=True,
        description="Celery workers' main processes send the periodic jobs (the sweep, reminders,"
        " the mailbox) themselves, one worker per run by a lease in the store: no `celery beat`."
        " Off to leave them to a beat you run.",
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if not self.demo_mode and self.secret_key == DEMO_SECRET:
            raise ConfigurationError(
                "RIGHTFUL_SECRET_KEY is the demo placeholder; set a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))') "
                "or RIGHTFUL_DEMO_MODE=true."
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ConfigurationError(
                    f"RIGHTFUL_TRUSTED_PROXIES: {proxy!r} is not an IP address or network."
                ) from exc
        if len(self.secret_key) < 32:
            raise ConfigurationError("RIGHTFUL_SECRET_KEY must be at least 32 characters long.")
        if not self.demo_mode and (weak := weakness(self.secret_key)):
            raise ConfigurationError(
                f"RIGHTFUL_SECRET_KEY is too weak: {weak}. Set a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if self.demo_mode and not (self.preference_jwt_secret or self.preference_jwt_public_key):
            # The demo store signs its customer in to the preference center with this.
            self.preference_jwt_secret = DEMO_SECRET
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'rightful.db').resolve()}"

    @property
    def package_dir(self) -> Path:
        """Where encrypted access packages are kept."""
        return self.data_dir / "packages"

    @property
    def http_webhooks_allowed(self) -> bool:
        """Whether webhook addresses may be plain http: in demo mode, or when the operator says."""
        return self.demo_mode or self.allow_http_webhooks

    @property
    def anchor_dir(self) -> Path:
        """Where the integrity logs' heads are anchored outside the store."""
        return self.audit_anchor_dir or self.data_dir / "anchors"
