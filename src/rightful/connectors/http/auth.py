"""Authentication strategies: API key (header or query), bearer, basic, OAuth2 client
credentials and refresh token, renewing tokens before they expire and when refused."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from threading import Lock
from typing import Any

import httpx
from pydantic import ValidationError

from rightful.connectors.http import templates
from rightful.connectors.http.client import Auth, NoAuth, Sender, build
from rightful.connectors.http.config import NameValue, Request, Strategy
from rightful.core.errors import ConnectorError, InvalidInputError


class HeaderAuth:
    """Fixed headers and query parameters (bearer, basic, API key)."""

    def __init__(self, headers: Mapping[str, str], params: Mapping[str, str] | None = None):
        self._headers = dict(headers)
        self._params = dict(params or {})

    def apply(self, request: httpx.Request) -> None:
        """Add the headers and query parameters."""
        request.headers.update(self._headers)
        if self._params:
            request.url = request.url.copy_merge_params(self._params)

    def renew(self) -> bool:
        """Fixed credentials cannot be renewed."""
        return False


# Tokens obtained in this process, by connection: a refresh token the provider rotated stays
# usable by the next connector of the same system.
_TOKENS: dict[str, dict[str, Any]] = {}
_TOKENS_LOCK = Lock()


class OAuth2:
    """A bearer token from a token endpoint, renewed before expiry and when refused."""

    def __init__(
        self,
        sender: Sender,
        *,
        token_request: Request,
        refresh_request: Request | None,
        expires_in: int | None,
        values: Mapping[str, Any],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sender = sender
        self._token_request = token_request
        self._refresh_request = refresh_request
        self._expires_in = expires_in
        self._values = dict(values)
        self._clock = clock
        seed = f"{sender.base_url}|{values.get('client_id')}|{values.get('refresh_token')}"
        self._key = hashlib.sha256(seed.encode()).hexdigest()
        with _TOKENS_LOCK:
            state = _TOKENS.setdefault(self._key, {})
            if not state and values.get("access_token"):
                state["access_token"] = values["access_token"]
            if not state.get("refresh_token") and values.get("refresh_token"):
                state["refresh_token"] = values["refresh_token"]

    def _state(self) -> dict[str, Any]:
        return _TOKENS[self._key]

    def apply(self, request: httpx.Request) -> None:
        """Add a current bearer token, getting one first when none is held or it expires."""
        state = self._state()
        expires = state.get("expires_at")
        if not state.get("access_token") or (expires is not None and expires - 30 < self._clock()):
            self.renew()
        request.headers["Authorization"] = f"Bearer {self._state()['access_token']}"

    def renew(self) -> bool:
        """Ask the token endpoint: by refresh token when one is held, else the token request."""
        state = self._state()
        use_refresh = bool(self._refresh_request and state.get("refresh_token"))
        template = self._refresh_request if use_refresh else self._token_request
        assert template is not None
        values = {**self._values, **state}
        try:
            call = build(template, values)
        except templates.MissingValueError as exc:
            raise ConnectorError(
                f"{self._sender.system}: the OAuth2 token request needs '{exc.name}'."
            ) from exc
        response = self._sender.send(call, authed=False)
        if response.status_code >= 400:
            raise ConnectorError(
                f"{self._sender.system}: the OAuth2 token request answered "
                f"{response.status_code}; check the client credentials or refresh token."
            )
        try:
            body = response.json()
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError(
                f"{self._sender.system}: the OAuth2 token answer holds no access_token."
            ) from exc
        lifetime = body.get("expires_in") or self._expires_in
        with _TOKENS_LOCK:
            state["access_token"] = token
            state["expires_at"] = self._clock() + float(lifetime) if lifetime else None
            if body.get("refresh_token"):
                state["refresh_token"] = str(body["refresh_token"])
        return True


def _pairs(raw: Any, values: Mapping[str, Any]) -> dict[str, str]:
    items = [NameValue.model_validate(x) for x in raw or []]
    return {i.name: templates.raw(str(i.value), values) for i in items}


def _request(raw: Any, what: str) -> Request:
    try:
        return Request.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"The OAuth2 {what} is not a valid request.") from exc


def make_auth(strategy: Strategy | None, values: Mapping[str, Any], sender: Sender) -> Auth:
    """The credentials a config's authentication strategy describes, filled from params."""
    if strategy is None:
        return NoAuth()
    conf = strategy.configuration
    try:
        if strategy.strategy == "bearer":
            return HeaderAuth({"Authorization": f"Bearer {templates.raw(conf['token'], values)}"})
        if strategy.strategy == "basic":
            user = templates.raw(conf["username"], values)
            password = templates.raw(str(conf.get("password") or ""), values)
            basic = httpx.BasicAuth(user, password)
            header = next(basic.auth_flow(httpx.Request("GET", "http://x"))).headers
            return HeaderAuth({"Authorization": header["Authorization"]})
        if strategy.strategy == "api_key":
            if conf.get("body"):
                raise InvalidInputError("Unsupported key 'body' in api_key authentication.")
            return HeaderAuth(
                _pairs(conf.get("headers"), values), _pairs(conf.get("query_params"), values)
            )
        if strategy.strategy == "query_param":
            return HeaderAuth({}, {conf["name"]: templates.raw(conf["value"], values)})
        return OAuth2(
            sender,
            token_request=_request(conf.get("token_request"), "token_request"),
            refresh_request=(
                _request(conf["refresh_request"], "refresh_request")
                if conf.get("refresh_request")
                else None
            ),
            expires_in=conf.get("expires_in"),
            values=values,
        )
    except KeyError as exc:
        raise InvalidInputError(
            f"The {strategy.strategy} authentication needs '{exc.args[0]}'."
        ) from exc
    except templates.MissingValueError as exc:
        raise InvalidInputError(
            f"The {strategy.strategy} authentication needs the connector param '{exc.name}'."
        ) from exc
