"""Posting a portable copy to an HTTPS endpoint: certificates verified, public addresses only,
the body signed.

The endpoint's name is resolved once; every address it resolves to must be public (unless the
operator allows private ones for a test bench), and the connection goes to the address checked
— not to a second look-up — with the certificate verified for the name (SNI and Host carry it),
so a name that changes its answer between check and connection cannot reach an internal
service. Redirects are not followed. Certificates are verified against the usual authorities
plus RIGHTFUL_TRANSFER_CA_FILE, never skipped.

The signature is the one Rightful's webhooks carry (security/signing.py): HMAC-SHA256 over
`timestamp.body`, with a secret derived per endpoint origin (`transfer_secret`), which the
privacy office gives a receiving organisation that asks (`rightful rights transfer-secret URL`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import certifi

from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.security.permissions import Actor, Permission, require
from rightful.security.signing import signature
from rightful.security.vault import keyed_hash

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 20.0
RETRIED_STATUSES = frozenset({408, 425, 429})


def origin(url: str) -> str:
    """`https://host:port` of an endpoint: what its signing secret is bound to."""
    parts = urlsplit(url)
    return f"https://{(parts.hostname or '').lower()}:{parts.port or 443}"


def transfer_secret(settings: Settings, url: str) -> str:
    """The secret an endpoint checks the signature with (the same for every transfer to it)."""
    return keyed_hash(settings.secret_key, "transfer-endpoint", origin(url))


def endpoint_secret(settings: Settings, *, actor: Actor, url: str) -> str:
    """The secret the privacy office gives a receiving organisation that asks for it."""
    require(actor, Permission.INVENTORY_MANAGE)
    if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        raise InvalidInputError(
            "Give the endpoint's https:// address.",
            errors=[{"field": "url", "message": "Give the endpoint's https:// address."}],
        )
    return transfer_secret(settings, url)


def signed_headers(settings: Settings, url: str, body: bytes, *, uid: str) -> dict[str, str]:
    """The headers of a transfer POST: its id (idempotency key), time and signature."""
    stamp = str(int(time.time()))  # wall time: the receiver checks it against its own clock
    return {
        "Content-Type": "application/json",
        "Idempotency-Key": uid,
        "X-Rightful-Event": "portability.transfer",
        "X-Rightful-Timestamp": stamp,
        "X-Rightful-Signature": signature(transfer_secret(settings, url), stamp, body),
    }


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: the HTTP status when there was one, why it failed, and
    whether trying again later may help."""

    http_status: int | None
    error: str | None = None
    retry: bool = False

    @property
    def accepted(self) -> bool:
        """The endpoint answered 2xx."""
        return self.error is None


@cache
def _tls(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


class _NotPublicError(Exception):
    pass


def _resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses of `host` to connect to, every one of them checked."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses or (not allow_private and not all(a.is_global for a in addresses)):
        raise _NotPublicError
    return [str(a) for a in addresses]


def _label(exc: httpx.HTTPError) -> str:
    # The kind of failure only: messages can quote addresses.
    import httpx  # when first used: the server's start does not wait for it

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "certificate not trusted"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return type(exc).__name__


def post_package(settings: Settings, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST a signed package once; never raises for what the endpoint or network does."""
    import httpx

    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    if parts.scheme != "https":
        return Answer(None, "not an https address")
    try:
        addresses = _resolve(host, port, allow_private=settings.transfer_allow_private_addresses)
    except _NotPublicError:
        return Answer(None, "not a public address")
    except (socket.gaierror, UnicodeError):
        return Answer(None, "address not found", retry=True)
    host_header = host if parts.port is None else f"{host}:{port}"
    with httpx.Client(verify=_tls(settings.transfer_ca_file), timeout=TIMEOUT_SECONDS) as client:
        for n, address in enumerate(addresses, start=1):
            pinned = f"[{address}]" if ":" in address else address
            try:
                response = client.post(
                    parts._replace(netloc=f"{pinned}:{port}").geturl(),
                    content=body,
                    headers={**headers, "Host": host_header},
                    extensions={"sni_hostname": host},
                )
                break
            except httpx.ConnectError as exc:
                if n == len(addresses) or _label(exc) == "certificate not trusted":
                    return Answer(None, _label(exc), retry=True)
            except httpx.HTTPError as exc:
                return Answer(None, _label(exc), retry=True)
    status = response.status_code
    if 200 <= status < 300:
        return Answer(status)
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: redirects are not followed")
    return Answer(status, f"HTTP {status}", retry=status >= 500 or status in RETRIED_STATUSES)
