"""An HTTP system described in YAML: the peer's SaaS config format, its common subset.

A config loads only when every key in it is understood: a key Rightful does not support is
refused with its name and where it is, never silently ignored (docs/http-connectors.md lists
them). A few descriptive keys of the peer's format are accepted and unused (`IGNORED`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rightful.core.errors import InvalidInputError

# Keys the peer's format has that Rightful accepts and does not use: descriptive, or consent
# requests (consent reaches systems through Rightful's consent capability, not these).
IGNORED = frozenset(
    {"replaceable", "user_guide", "display_info", "consent_requests", "version", "type"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConnectorParam(_Strict):
    """A value the staff member connecting the system gives (host, key, page size...)."""

    name: str
    label: str | None = None
    description: str | None = None
    default_value: str | int | list[str] | list[int] | None = None
    options: list[str] | None = None
    multiselect: bool = False
    sensitive: bool = False


class NameValue(_Strict):
    """A header or query parameter; its value may hold <placeholders>."""

    name: str
    value: str | int


class Reference(_Strict):
    """A value found in another collection (`collection.field`) of the system's dataset."""

    dataset: str
    field: str
    direction: Literal["from"] = "from"

    @property
    def collection(self) -> str:
        """The collection the value is found in."""
        return self.field.split(".")[0]

    @property
    def source_field(self) -> str:
        """The field of that collection, dotted when nested."""
        return self.field.split(".", 1)[1] if "." in self.field else self.field


# Rightful's own extension: steps that compute the value a request sends from the value an input
# gives (Mailchimp finds a member by the MD5 of the lower-cased e-mail). Applied in order.
TRANSFORMS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "strip": str.strip,
    "md5": lambda v: hashlib.md5(v.encode(), usedforsecurity=False).hexdigest(),
    "sha256": lambda v: hashlib.sha256(v.encode()).hexdigest(),
}


class ParamValue(_Strict):
    """A named input of a request: a person's identity, a found value, or a connector param."""

    name: str
    identity: str | None = None
    references: list[Reference] | None = None
    connector_param: str | None = None
    unpack: Literal[False] = False
    transform: list[Literal["lower", "strip", "md5", "sha256"]] = Field(default_factory=list)

    def sent(self, value: Any) -> Any:
        """The value the request sends for what the input gave: transformed, if asked."""
        if value is None or not self.transform:
            return value
        text = str(value)
        for step in self.transform:
            text = TRANSFORMS[step](text)
        return text

    @field_validator("references", mode="before")
    @classmethod
    def _no_external(cls, value: Any) -> Any:
        if isinstance(value, list) and any(isinstance(v, str) for v in value):
            raise ValueError("external references (given as a plain name) are not supported")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ParamValue:
        if sum(bool(x) for x in (self.identity, self.references, self.connector_param)) != 1:
            raise ValueError(
                f"param '{self.name}' needs exactly one of identity, references, connector_param"
            )
        return self


class Strategy(_Strict):
    """A named strategy with its configuration (authentication, pagination, postprocessor)."""

    strategy: str
    configuration: dict[str, Any] = Field(default_factory=dict)


class RateLimit(_Strict):
    """At most `rate` requests per `period`."""

    rate: int = Field(gt=0)
    period: Literal["second", "minute", "hour", "day"]


class RateLimitConfig(_Strict):
    """Limits on how often the API is called."""

    enabled: bool = True
    limits: list[RateLimit] = Field(default_factory=list)


class Request(_Strict):
    """One call: method, path, headers, query and body templates, and how to read its answer."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    headers: list[NameValue] = Field(default_factory=list)
    query_params: list[NameValue] = Field(default_factory=list)
    body: str | None = None
    param_values: list[ParamValue] = Field(default_factory=list)
    data_path: str | None = None
    postprocessors: list[Strategy] = Field(default_factory=list)
    pagination: Strategy | None = None
    ignore_errors: bool | list[int] = False
    rate_limit_config: RateLimitConfig | None = None
    skip_missing_param_values: bool = False

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def ignores(self, status: int) -> bool:
        """Whether an error answer with this status is taken as nothing to do."""
        if isinstance(self.ignore_errors, bool):
            return self.ignore_errors
        return status in self.ignore_errors


class RequestMap(_Strict):
    """The reads, update and delete of one collection."""

    read: Request | list[Request] = Field(default_factory=list)
    update: Request | None = None
    delete: Request | None = None

    @property
    def reads(self) -> list[Request]:
        """The read requests, always as a list."""
        return self.read if isinstance(self.read, list) else [self.read]


class Endpoint(_Strict):
    """A collection of the system's dataset and the requests that reach it."""

    name: str
    requests: RequestMap
    skip_processing: bool = False
    after: list[str] = Field(default_factory=list)
    erase_after: list[str] = Field(default_factory=list)


class ClientConfig(_Strict):
    """Where the API is and how Rightful authenticates to it."""

    protocol: Literal["https", "http"] = "https"
    host: str
    authentication: Strategy | None = None


class HTTPConfig(_Strict):
    """A whole system: its params, client, test request and endpoints."""

    fides_key: str
    name: str
    description: str = ""
    connector_params: list[ConnectorParam] = Field(default_factory=list)
    client_config: ClientConfig
    test_request: Request
    endpoints: list[Endpoint]
    rate_limit_config: RateLimitConfig | None = None

    def endpoint(self, collection: str) -> Endpoint | None:
        """The endpoint serving a collection, if any."""
        return next((e for e in self.endpoints if e.name == collection), None)


_AUTH = {
    "bearer",
    "basic",
    "api_key",
    "query_param",
    "oauth2_client_credentials",
    "oauth2_authorization_code",
}
_PAGINATION = {"cursor", "link", "offset"}
_POSTPROCESSORS = {"filter", "unwrap"}


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = tuple(p for p in first["loc"] if p not in ("Request", "list[Request]"))
    if first["type"] == "extra_forbidden":
        key, parent = loc[-1], _where(loc[:-1])
        return f"Unsupported key '{key}' at {parent} (see docs/http-connectors.md)."
    return f"{_where(loc)}: {first['msg']}"


def _check_strategies(config: HTTPConfig) -> None:
    auth = config.client_config.authentication
    if auth and auth.strategy not in _AUTH:
        raise InvalidInputError(f"Unsupported authentication strategy '{auth.strategy}'.")
    for endpoint in config.endpoints:
        requests = [*endpoint.requests.reads, endpoint.requests.update, endpoint.requests.delete]
        for request in filter(None, requests):
            if request.pagination and request.pagination.strategy not in _PAGINATION:
                raise InvalidInputError(
                    f"Unsupported pagination strategy '{request.pagination.strategy}' "
                    f"in endpoint '{endpoint.name}'."
                )
            for post in request.postprocessors:
                if post.strategy not in _POSTPROCESSORS:
                    raise InvalidInputError(
                        f"Unsupported postprocessor '{post.strategy}' in endpoint "
                        f"'{endpoint.name}'."
                    )


def load_config(text: str) -> HTTPConfig:
    """Parse a config (with or without the peer's `saas_config:` wrapper); InvalidInputError
    naming the first unsupported key or wrong value."""
    import yaml  # when first used: the server's start does not wait for it

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError("The HTTP connector config is not valid YAML.") from exc
    if isinstance(raw, dict) and set(raw) == {"saas_config"}:
        raw = raw["saas_config"]
    if not isinstance(raw, dict):
        raise InvalidInputError("The HTTP connector config must be a mapping of keys.")
    raw = {k: v for k, v in raw.items() if k not in IGNORED}
    try:
        config = HTTPConfig.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"HTTP connector config: {_explain(exc)}") from exc
    _check_strategies(config)
    return config
