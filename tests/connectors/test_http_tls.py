"""HTTP connectors verify the API's certificate, with one TLS context for the whole process."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightful.connectors.http import connect
from rightful.connectors.http.client import tls_context
from rightful.core.errors import ConnectorError
from tests.connectors.apiserver import serving
from tests.connectors.users_api import UsersAPI
from tests.support.https_receiver import make_certificates


@pytest.fixture
def tls_api(tmp_path: Path) -> Iterator[tuple[UsersAPI, Path]]:
    """The users API over TLS, its certificate signed by a CA made for the test."""
    ca, cert, key = make_certificates(tmp_path)
    api = UsersAPI()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    api.server.socket = context.wrap_socket(api.server.socket, server_side=True)
    api.url = f"https://localhost:{api.server.server_address[1]}"
    with serving(api):
        yield api, ca


@pytest.fixture
def fresh_context() -> Iterator[None]:
    """The process's context is built again from the environment, and again after the test."""
    tls_context.cache_clear()
    yield
    tls_context.cache_clear()


def test_a_certificate_from_an_unknown_ca_is_refused(
    tls_api: tuple[UsersAPI, Path], fresh_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, _ = tls_api
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    connector = connect(api.settings(max_attempts=1))
    try:
        with pytest.raises(ConnectorError, match="Cannot connect"):
            connector.test_connection()
    finally:
        connector.close()
    assert not api.log  # no request reached the API


def test_connectors_share_one_context_trusting_the_configured_ca_bundle(
    tls_api: tuple[UsersAPI, Path], fresh_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, ca = tls_api
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    first, second = connect(api.settings()), connect(api.settings())
    try:
        first.test_connection()
        second.test_connection()
        # Both clients hold the one context (httpx's pool keeps the context it was given).
        used = [c.sender._client._transport._pool._ssl_context for c in (first, second)]  # type: ignore[attr-defined]
    finally:
        first.close()
        second.close()
    assert len(api.calls("GET", "/health")) == 2
    context = tls_context()
    assert used == [context, context] and used[0] is used[1] is context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
