"""Send one templated call: rate-limited, retried on 429 and 5xx honouring Retry-After, and
failing with a readable ConnectorError that names the call's template, never its values."""

from __future__ import annotations

import os
import ssl
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, Protocol

import certifi
import httpx

from rightful.connectors.http import templates
from rightful.connectors.http.config import RateLimit, Request
from rightful.core.errors import ConnectorError

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


@cache
def tls_context() -> ssl.SSLContext:
    """The one TLS context every HTTP connector of this process uses, built once.

    Building a context and loading the CA bundle costs about 20 ms, which `httpx.Client()`
    otherwise pays for each client (each connector, each request). Certificates and host names
    are verified, against the same CAs httpx trusts by default: the bundle named by
    `SSL_CERT_FILE` (or the directory `SSL_CERT_DIR`) when set, else certifi's. A context is
    safe to share between threads once built, and is never changed after this.
    """
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Tuning:
    """How patient a connector is; tests make waits near zero."""

    max_attempts: int = 5
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 60.0
    timeout_seconds: float = 30.0
    max_pages: int = 1000
    rate_limits: bool = True  # off only for test benches that play the API locally

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Tuning:
        """From a connection's settings, defaults for what is not given."""
        given = {k: settings[k] for k in cls.__dataclass_fields__ if settings.get(k) is not None}
        return cls(**{k: type(getattr(cls, k))(v) for k, v in given.items()})


@dataclass(frozen=True)
class Call:
    """A call ready to send (its values filled), with the template it came from for errors."""

    method: str
    path: str
    label: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form_body: list[tuple[str, str]] | None = None
    text_body: str | None = None


def build(
    request: Request, values: Mapping[str, Any], fields: Mapping[str, Any] | None = None
) -> Call:
    """Fill a request's templates; MissingValueError when its path or body lacks a value.

    A query parameter or header whose value is missing is left out (an optional filter).
    """
    path = templates.path(request.path, values)
    params = []
    for qp in request.query_params:
        try:
            params.append((qp.name, templates.raw(str(qp.value), values)))
        except templates.MissingValueError:
            continue
    headers = {}
    for h in request.headers:
        try:
            headers[h.name] = templates.raw(str(h.value), values)
        except templates.MissingValueError:
            continue
    call = Call(request.method, path, f"{request.method} {request.path}", params, headers)
    if request.body is None:
        return call
    data = templates.body(request.body, values, fields)
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "x-www-form-urlencoded" in kind:
        return Call(**{**call.__dict__, "form_body": templates.form(data)})
    if isinstance(data, str):
        return Call(**{**call.__dict__, "text_body": data})
    return Call(**{**call.__dict__, "json_body": data})


class Auth(Protocol):
    """Adds credentials to a request; may renew them once when the API refuses them."""

    def apply(self, request: httpx.Request) -> None:
        """Add credentials."""

    def renew(self) -> bool:
        """Get fresh credentials; False when there is no way to."""


class NoAuth:
    """No credentials."""

    def apply(self, request: httpx.Request) -> None:
        """Nothing to add."""

    def renew(self) -> bool:
        """Nothing to renew."""
        return False


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class Sender:
    """One system's HTTP client: its base URL, credentials, limits and patience."""

    def __init__(
        self,
        *,
        system: str,
        base_url: str,
        tuning: Tuning,
        limits: list[RateLimit],
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.tuning = tuning
        self.auth: Auth = NoAuth()
        self.attempts = 0  # every request sent, retries included (for tests and benchmarks)
        self._sleep = sleep
        self._clock = clock
        kept = limits if tuning.rate_limits else []
        self._windows = [(limit, deque[float]()) for limit in kept]
        self._client = httpx.Client(
            verify=tls_context(), timeout=tuning.timeout_seconds, follow_redirects=False
        )

    def _same_origin(self, url: str) -> bool:
        return httpx.URL(url).copy_with(path="/", query=None) == httpx.URL(self.base_url).copy_with(
            path="/", query=None
        )

    def _pace(self) -> None:
        for limit, window in self._windows:
            period = _PERIODS[limit.period]
            now = self._clock()
            while window and window[0] <= now - period:
                window.popleft()
            if len(window) >= limit.rate:
                self._sleep(max(0.0, window[0] + period - now))
                window.popleft()
            window.append(self._clock())

    def _request(self, call: Call, url: str | None, authed: bool) -> httpx.Request:
        target = url or f"{self.base_url}{call.path}"
        query = httpx.QueryParams(tuple(call.params)) if call.params and url is None else None
        request = self._client.build_request(
            call.method,
            target,
            params=query,  # a next link carries its own query
            headers=call.headers,
            json=call.json_body,
            data=dict(call.form_body) if call.form_body else None,
            content=call.text_body,
        )
        if authed:  # token requests carry their own credentials in their templates
            self.auth.apply(request)
        return request

    def send(self, call: Call, *, url: str | None = None, authed: bool = True) -> httpx.Response:
        """Send a call (or a next-page `url` of the same origin), retrying 429 and 5xx;
        any other answer is returned for the caller to judge."""
        if url is not None and not self._same_origin(url):
            raise ConnectorError(
                f"{self.system}: {call.label} gave a next page on another host; not followed."
            )
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            request = self._request(call, url, authed)
            self.attempts += 1
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                if attempt >= self.tuning.max_attempts:
                    raise ConnectorError(
                        f"Cannot connect: {self.system} did not answer {call.label} "
                        f"({type(exc).__name__})"
                    ) from exc
                self._sleep(self._backoff(attempt, None))
                continue
            if response.status_code == 401 and authed and not renewed and self.auth.renew():
                renewed = True
                attempt -= 1  # a renewed credential is a fresh start, not a failure
                continue
            if not _retryable(response.status_code):
                return response
            if attempt >= self.tuning.max_attempts:
                raise ConnectorError(
                    f"{self.system}: {call.label} still answered {response.status_code} "
                    f"after {attempt} attempts."
                )
            self._sleep(self._backoff(attempt, _retry_after(response)))

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.tuning.max_wait_seconds)
        wait = self.tuning.backoff_seconds * (2 ** (attempt - 1))
        return float(min(wait, self.tuning.max_wait_seconds))

    def fail(self, call: Call, response: httpx.Response) -> ConnectorError:
        """A readable error for an answer that is not a success (no values, no body)."""
        reason = response.reason_phrase or "error"
        return ConnectorError(
            f"{self.system}: {call.label} answered {response.status_code} {reason}."
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()
