"""Reading the privacy mailbox over IMAP (stdlib imaplib, docs/decisions/0013-imaplib.md).

Each new message (by UID, under the folder's UIDVALIDITY) is claimed in the database, fetched
without setting \\Seen, turned into casework and marked done in one transaction; only then is
it flagged \\Seen on the server. A worker that dies anywhere leaves either a claim that runs out
and is retried, or a done claim whose \\Seen is set by the next pass: nothing lost or doubled.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from rightful.casework import claims, inbox
from rightful.casework.models import MailboxClaim
from rightful.casework.parse import parse
from rightful.core.config import Settings
from rightful.core.db import unit_of_work
from rightful.core.errors import ConfigurationError, InvalidInputError

log = logging.getLogger(__name__)
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_last_poll: dict[str, float] = {}


@dataclass
class PollResult:
    """What one pass over the mailbox did (counts only)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    def count(self, outcome: str) -> None:
        """Count one message's outcome."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def xoauth2(user: str, token: str) -> bytes:
    """The XOAUTH2 SASL initial response (imaplib base64-encodes it)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _token(settings: Settings) -> str:
    if settings.mailbox_oauth2_token_file is not None:
        return settings.mailbox_oauth2_token_file.read_text().strip()
    return settings.mailbox_oauth2_token


def connect(settings: Settings) -> imaplib.IMAP4:
    """Connect over TLS (implicit or STARTTLS) and sign in with the password or the token."""
    if not settings.mailbox_host:
        raise ConfigurationError("RIGHTFUL_MAILBOX_HOST is not set: there is no mailbox to read.")
    context = ssl.create_default_context(
        cafile=str(settings.mailbox_ca_file) if settings.mailbox_ca_file else None
    )
    imap: imaplib.IMAP4
    if settings.mailbox_tls == "implicit":
        port = settings.mailbox_port or 993
        imap = imaplib.IMAP4_SSL(settings.mailbox_host, port, ssl_context=context, timeout=30)
    else:
        imap = imaplib.IMAP4(settings.mailbox_host, settings.mailbox_port or 143, timeout=30)
        imap.starttls(ssl_context=context)
    token = _token(settings)
    try:
        if token:
            imap.authenticate("XOAUTH2", lambda _: xoauth2(settings.mailbox_user, token))
        else:
            imap.login(settings.mailbox_user, settings.mailbox_password)
    except BaseException:
        imap.shutdown()  # a refused sign-in leaves no open connection behind
        raise
    return imap


def _select(imap: imaplib.IMAP4, folder: str) -> int:
    kind, _ = imap.select(f'"{folder}"')
    if kind != "OK":
        raise ConfigurationError(f"The mailbox folder {folder!r} cannot be opened.")
    _, data = imap.response("UIDVALIDITY")
    found = _UIDVALIDITY.search(b"UIDVALIDITY " + (data[0] or b"0"))
    return int(found.group(1)) if found else 0


def _new_uids(imap: imaplib.IMAP4, last: int) -> list[int]:
    _, data = imap.uid("SEARCH", f"UID {last + 1}:*")
    # "n:*" always includes the newest message, even when it is older than n.
    return sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)


def _fetch(imap: imaplib.IMAP4, uid: int) -> bytes | None:
    _, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")  # PEEK: \Seen waits for the commit
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None  # deleted meanwhile


def _process(
    sessions: sessionmaker[Session],
    settings: Settings,
    claim_id: int,
    until: object,
    raw: bytes | None,
) -> tuple[str, str | None] | None:
    """Process one claimed message and mark it done, in one transaction."""
    with unit_of_work(sessions) as session:
        row = claims.still_mine(session, claim_id, until)
        if row is None:
            return None  # our claim ran out and another worker took it
        try:
            outcome, case_id = inbox.take(session, settings, parse(raw)) if raw else ("gone", None)
        except InvalidInputError:
            outcome, case_id = "unreadable", None
        claims.finish(row, outcome=outcome, case_id=case_id)
        return outcome, case_id


def _set_aside(sessions: sessionmaker[Session], claim_id: int) -> bool:
    with unit_of_work(sessions) as session:
        row = session.get(MailboxClaim, claim_id)
        if row is None or row.attempts < claims.MAX_ATTEMPTS:
            return False
        claims.finish(row, outcome="failed", case_id=None, failed=True)
        return True


def _mark_seen(
    imap: imaplib.IMAP4, sessions: sessionmaker[Session], key: str, validity: int
) -> None:
    with unit_of_work(sessions) as session:
        uids = claims.done_unseen(session, key, validity)
    for uid in uids:
        imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        with unit_of_work(sessions) as session:
            claims.mark_seen(session, key, validity, uid)


def poll(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    limit: int = 200,
    after_claim: Callable[[int], None] | None = None,
) -> PollResult:
    """Read the new messages once. `after_claim` runs between a claim and its processing
    (tests use it to kill the worker there)."""
    result = PollResult()
    key = claims.mailbox_key(settings)
    imap = connect(settings)
    try:
        validity = _select(imap, settings.mailbox_folder)
        with unit_of_work(sessions) as session:
            last = claims.start(session, key, validity)
        for uid in _new_uids(imap, last)[:limit]:
            with unit_of_work(sessions) as session:
                row = claims.claim(session, settings, key, validity, uid)
                claim_id, until = (row.id, row.claimed_until) if row else (0, None)
            if not claim_id:
                continue
            try:
                raw = _fetch(imap, uid)
                if after_claim is not None:
                    after_claim(uid)
                done = _process(sessions, settings, claim_id, until, raw)
            except Exception as exc:  # one bad message must not stop the others
                log.warning("mailbox message uid %s failed (%s)", uid, type(exc).__name__)
                result.failed += 1
                if _set_aside(sessions, claim_id):
                    result.count("failed")
                continue
            if done is not None:
                result.count(done[0])
        _mark_seen(imap, sessions, key, validity)
        with unit_of_work(sessions) as session:
            claims.advance(session, key, validity)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    return result


def poll_if_due(sessions: sessionmaker[Session], settings: Settings) -> PollResult | None:
    """Poll when a mailbox is configured and its interval has passed (the embedded worker)."""
    if not settings.mailbox_host:
        return None
    key = claims.mailbox_key(settings)
    if time.monotonic() - _last_poll.get(key, float("-inf")) < settings.mailbox_poll_seconds:
        return None
    _last_poll[key] = time.monotonic()
    return poll(sessions, settings)
