"""The organisation a person names to receive their portable copy: read, checked and recorded.

A recipient is an e-mail address (it gets a signed, expiring download link) or an HTTPS
endpoint (it gets the JSON package in a signed POST). An endpoint must be https and, unless the
operator allows it (RIGHTFUL_TRANSFER_ALLOW_PRIVATE_ADDRESSES, a test bench), must not point at
a loopback, private or otherwise non-public address: the address is checked here for what it
says, and again when sending for what its name resolves to (rights/transfer_send.py).
"""

from __future__ import annotations

import ipaddress
import uuid
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from rightful.core.config import Settings
from rightful.core.errors import InvalidInputError
from rightful.core.i18n import N_
from rightful.identity import normalize
from rightful.rights.models import RightsRequest
from rightful.rights.transfer_models import PortabilityTransfer
from rightful.security import audit
from rightful.security.vault import Vault

FIELD = "transfer_to"
NOT_HTTPS = N_("Give an e-mail address, or a web address starting with https://.")
NOT_PUBLIC = N_(
    "This web address is not on the public internet. Give the organisation's own address."
)
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def recipient_vault(settings: Settings) -> Vault:
    """The vault sealing recipients (the identities' purpose: it is the person's data)."""
    return Vault(settings, "identities")


def read_recipient(value: str) -> tuple[str, str]:
    """(channel, address) for what a person typed: `email` and the normal address, or
    `endpoint` and the URL. ValueError with a plain message otherwise."""
    value = value.strip()
    if "://" not in value and "@" in value:
        try:
            return "email", normalize.email(value)
        except InvalidInputError as exc:
            raise ValueError(exc.errors[0]["message"]) from exc
    try:
        parts = urlsplit(value)
        port = parts.port  # a port that is not a number raises here
    except ValueError:
        raise ValueError(NOT_HTTPS) from None
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username or parts.password:
        raise ValueError(NOT_HTTPS)
    del port
    return "endpoint", value


def literal_problem(url: str, *, allow_private: bool) -> str | None:
    """Why an endpoint's host, as written, is not a public one (None when it may be)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if allow_private:
        return None
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return NOT_PUBLIC
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: what it resolves to is checked when sending
    return None if address.is_global else NOT_PUBLIC


def _field_error(message: str) -> InvalidInputError:
    return InvalidInputError(message, errors=[{"field": FIELD, "message": message}])


def open_transfer(
    session: Session,
    settings: Settings,
    req: RightsRequest,
    *,
    to: str | None,
    name: str | None,
    actor: str,
) -> PortabilityTransfer | None:
    """Record the recipient a new request names (sealed), waiting for the person to confirm it
    by e-mail once they are verified; None when it names none."""
    if not to:
        return None
    channel, address = read_recipient(to)
    if req.reply_by != "email":
        raise _field_error(
            N_("We confirm the recipient with you by e-mail: give your e-mail address too.")
        )
    if channel == "endpoint" and (
        why := literal_problem(address, allow_private=settings.transfer_allow_private_addresses)
    ):
        raise _field_error(why)
    transfer = PortabilityTransfer(
        uid=uuid.uuid4().hex,
        request_id=req.id,
        channel=channel,
        recipient=recipient_vault(settings).encrypt_json({"to": address, "name": name or ""}),
    )
    session.add(transfer)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="transfer.requested",
        subject_type="rights_request",
        subject_id=req.id,
        detail={"transfer": transfer.uid, "channel": channel},
    )
    return transfer


def recipient_of(settings: Settings, transfer: PortabilityTransfer) -> dict[str, str]:
    """The recipient's name and address, opened (for the person, staff who read personal
    data, and the sender)."""
    value: dict[str, str] = recipient_vault(settings).decrypt_json(transfer.recipient)
    return value
