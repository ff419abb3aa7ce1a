"""A real IMAP server for tests: Debian's Dovecot on a free loopback port, TLS required, with a
self-signed certificate made here; messages are delivered with IMAP APPEND."""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.services import service_unavailable

DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"
USER = "privacy"
PASSWORD = "mailbox-test-password"


@dataclass(frozen=True)
class Dovecot:
    """A running Dovecot: where it listens, its account and the CA that signs its certificate."""

    port: int
    ca_file: Path
    user: str
    password: str

    def imap(self) -> imaplib.IMAP4_SSL:
        """A signed-in connection over TLS, as a mail client would open one."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        conn = imaplib.IMAP4_SSL(HOST, self.port, ssl_context=context, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox (IMAP APPEND), unread."""
        conn = self.imap()
        try:
            kind, _ = conn.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert kind == "OK", "APPEND failed"
        finally:
            conn.logout()

    def seen_flags(self, folder: str = "INBOX") -> dict[int, bool]:
        """UID -> whether the message is flagged \\Seen."""
        conn = self.imap()
        try:
            conn.select(folder, readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
        finally:
            conn.logout()
        flags = {}
        for line in data:
            if not isinstance(line, bytes):
                continue
            text = line.decode()
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            flags[uid] = "\\Seen" in text
        return flags


def _certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (it is its own CA); returns the cert path."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rightful-test-imap")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _accounts() -> tuple[str, str, int, int]:
    """Who Dovecot's processes and mail run as: its own users under root, else ourselves."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        return "dovecot", "dovenull", mail.pw_uid, mail.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


def _oauth2(folder: Path, introspection_url: str | None) -> tuple[str, str]:
    """The XOAUTH2 mechanism and an oauth2 passdb that asks `introspection_url` about tokens."""
    if introspection_url is None:
        return "", ""
    (folder / "oauth2.conf.ext").write_text(
        f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
        "tokeninfo_url = \n"
    )
    passdb = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {folder}/oauth2.conf.ext
}}"""
    return " xoauth2 oauthbearer", passdb


def _config(folder: Path, port: int, introspection_url: str | None = None) -> Path:
    internal, login, uid, gid = _accounts()
    mechanisms, oauth_passdb = _oauth2(folder, introspection_url)
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = folder / "dovecot.conf"
    config.write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = {HOST}
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login{mechanisms}
default_internal_user = {internal}
default_internal_group = {pwd.getpwnam(internal).pw_name if False else internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{folder}/mail/%u{oauth_passdb}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    return config


def _wait_listening(port: int, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    detail = log.read_text()[-2000:] if log.exists() else "(no log)"
    pytest.fail(f"Dovecot did not listen on {HOST}:{port} within {timeout}s:\n{detail}")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Dovecot on a free loopback port with one account, stopped after the test."""
    yield from run_dovecot()


def run_dovecot(introspection_url: str | None = None) -> Iterator[Dovecot]:
    """Start Dovecot (with an OAuth2 passdb asking `introspection_url`, when given)."""
    if not os.access(DOVECOT, os.X_OK):
        service_unavailable(f"Dovecot is not installed ({DOVECOT}): apt-get install dovecot-imapd")
    folder = Path(tempfile.mkdtemp(prefix="rightful-imap-"))
    folder.chmod(0o755)  # Dovecot's own users read the config and write the mail here
    _, _, uid, gid = _accounts()
    for sub in ("mail", "home", "run", "state"):
        (folder / sub).mkdir()
    ca = _certificate(folder)
    port = _free_port()
    config = _config(folder, port, introspection_url)
    if os.geteuid() == 0:
        for sub in ("mail", "home"):
            os.chown(folder / sub, uid, gid)
    # Output to a file: the daemon keeps its inherited descriptors, so a pipe would never close.
    with (folder / "start.log").open("w") as out:
        started = subprocess.run([DOVECOT, "-c", str(config)], stdout=out, stderr=out, check=False)
    if started.returncode != 0:
        pytest.fail(f"Dovecot did not start: {(folder / 'start.log').read_text()}")
    try:
        _wait_listening(port, folder / "dovecot.log")
        yield Dovecot(port=port, ca_file=ca, user=USER, password=PASSWORD)
    finally:
        subprocess.run(
            [DOVECOT, "-c", str(config), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        time.sleep(0.2)
        shutil.rmtree(folder, ignore_errors=True)
