"""A connector over an HTTP API described by a config: reads page by page, changes row by row.

Rows are the API's JSON objects as plain values. Each row also carries the value it was found
by under the name of the dataset field that found it (when the API's object lacks that field),
so a batch read for many people can be split per person as for a SQL store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import httpx

from rightful.connectors.base import Changed, FetchRequest, Row, RowChange, nonempty_matches
from rightful.connectors.http import templates
from rightful.connectors.http.auth import make_auth
from rightful.connectors.http.client import Call, Sender, Tuning, build
from rightful.connectors.http.config import (
    Endpoint,
    HTTPConfig,
    ParamValue,
    RateLimit,
    Request,
    Strategy,
)
from rightful.core.errors import ConnectorError

Match = Sequence[tuple[str, Sequence[Any]]]


def _fed_by(param: ParamValue, endpoint: str) -> list[str]:
    """The dataset fields whose values fill a param: its own name, the identity it takes, or
    (a reference to this collection's own field) that field."""
    names = [param.name]
    if param.identity:
        names.append(param.identity)
    for ref in param.references or []:
        if ref.collection == endpoint:
            names.append(ref.source_field)
    return names


def _limits(config: HTTPConfig) -> list[RateLimit]:
    """Every rate limit of the config; a request's own apply to all calls (stricter, never
    looser than the API asks)."""
    found = [config.rate_limit_config]
    for endpoint in config.endpoints:
        requests = [*endpoint.requests.reads, endpoint.requests.update, endpoint.requests.delete]
        found += [r.rate_limit_config for r in requests if r is not None]
    return [limit for conf in found if conf and conf.enabled for limit in conf.limits]


def _rows_at(data: Any, path: str | None) -> list[Row]:
    found = templates.dig(data, path)
    if isinstance(found, dict):
        return [found]
    if isinstance(found, list):
        return [r for r in found if isinstance(r, dict)]
    return []


def _same(a: Any, b: Any) -> bool:
    return a == b or (a is not None and b is not None and str(a) == str(b))


class HTTPConnector:
    """Reads and changes a system's collections through the requests its config describes."""

    # An update body names only the fields (and an object's members) it sets: masking an object
    # such as HubSpot's `properties` sends the members that change, nested (see
    # `connectors.base.sets_members`).
    sets_members = True
    # Each call stands alone (no transaction): erasure records each change as it is made.
    transactional = False

    def __init__(
        self,
        config: HTTPConfig,
        *,
        params: Mapping[str, Any],
        base_url: str | None = None,
        tuning: Tuning | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        defaults = {p.name: p.default_value for p in config.connector_params}
        self.values: dict[str, Any] = {**defaults, **dict(params)}
        client = config.client_config
        try:
            host = templates.raw(client.host, self.values)
        except templates.MissingValueError as exc:
            raise ConnectorError(
                f"{config.name}: the connector param '{exc.name}' is not set."
            ) from exc
        self.sender = Sender(
            system=config.name,
            base_url=base_url or f"{client.protocol}://{host}",
            tuning=tuning or Tuning(),
            limits=_limits(config),
            sleep=sleep,
        )
        self.sender.auth = make_auth(client.authentication, self.values, self.sender)

    # Reading

    def test_connection(self) -> None:
        """Send the config's test request."""
        call = self._build(self.config.test_request, self._constants(self.config.test_request))
        response = self.sender.send(call)
        if response.status_code >= 400:
            raise self.sender.fail(call, response)

    def fetch(self, request: FetchRequest) -> list[Row]:
        """The rows the collection's read requests return for any of the match values."""
        endpoint = self._endpoint(request.collection)
        if request.older_than is not None and not nonempty_matches(request):
            raise ConnectorError(
                f"{self.config.name}: '{request.collection}' cannot be listed by age over "
                "its API; retention schedules need a store that can."
            )
        rows, _ = self._read(endpoint, nonempty_matches(request))
        if request.older_than is not None:
            rows = [r for r in rows if self._older(r, *request.older_than)]
        return [{f: row.get(f) for f in request.fields} for row in rows]

    @staticmethod
    def _older(row: Row, field: str, moment: datetime) -> bool:
        value = row.get(field)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return False
        if isinstance(value, datetime | date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime):
            return False
        if (value.tzinfo is None) != (moment.tzinfo is None):
            value = value.replace(tzinfo=moment.tzinfo)
        return value < moment

    def _endpoint(self, collection: str) -> Endpoint:
        endpoint = self.config.endpoint(collection)
        if endpoint is None:
            raise ConnectorError(f"{self.config.name} has no endpoint for '{collection}'.")
        return endpoint

    def _calls(
        self, endpoint: Endpoint, request: Request, match: Match
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(param values, the dataset fields and values they came from), one per value."""
        for field, values in match:
            fed = [p for p in request.param_values if field in _fed_by(p, endpoint.name)]
            if not fed:
                continue
            for value in values:
                yield {p.name: p.sent(value) for p in fed}, {field: value}

    def _read(self, endpoint: Endpoint, match: Match) -> tuple[list[Row], bool]:
        """Rows found (each once), and whether any request could be made from the match."""
        rows: list[Row] = []
        seen: set[str] = set()
        tried = False
        for request in endpoint.requests.reads:
            for inputs, origin in self._calls(endpoint, request, match):
                given = next(iter(origin.values()))  # as found, before any transform
                identities = {
                    p.identity: given
                    for p in request.param_values
                    if p.identity and p.name in inputs
                }
                values = {**self._constants(request), **inputs}
                try:
                    call = build(request, values)
                except templates.MissingValueError:
                    continue  # this value cannot make this call (another request may use it)
                tried = True
                for row in self._pages(request, call, values, identities):
                    for name, value in origin.items():
                        if row.get(name) is None and "." not in name:
                            row[name] = value
                    key = json.dumps(row, sort_keys=True, default=str)
                    if key not in seen:
                        seen.add(key)
                        rows.append(row)
        return rows, tried

    def _pages(
        self, request: Request, call: Call, values: Mapping[str, Any], identities: Mapping[str, Any]
    ) -> Iterator[Row]:
        url: str | None = None
        for _ in range(self.sender.tuning.max_pages):
            response = self.sender.send(call, url=url)
            if response.status_code == 404 or (
                response.status_code >= 400 and request.ignores(response.status_code)
            ):
                return  # nothing found by this value
            if response.status_code >= 400:
                raise self.sender.fail(call, response)
            body = self._json(call, response)
            page = _rows_at(body, request.data_path)
            yield from self._postprocess(request.postprocessors, page, values, identities)
            following = self._next(request.pagination, call, response, body, page, values)
            if following is None:
                return
            call, url = following
        raise ConnectorError(
            f"{self.config.name}: {call.label} gave more than "
            f"{self.sender.tuning.max_pages} pages; stopped."
        )

    def _json(self, call: Call, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(f"{self.config.name}: {call.label} did not answer JSON.") from exc

    def _postprocess(
        self,
        steps: list[Strategy],
        rows: list[Row],
        values: Mapping[str, Any],
        identities: Mapping[str, Any],
    ) -> list[Row]:
        for step in steps:
            conf = step.configuration
            if step.strategy == "unwrap":
                rows = [r for row in rows for r in _rows_at(row, conf.get("data_path"))]
                continue
            wanted = conf.get("value")
            if isinstance(wanted, dict) and "identity" in wanted:
                wanted = identities.get(str(wanted["identity"]))
            elif isinstance(wanted, str):
                wanted = templates.raw(wanted, values)
            else:
                raise ConnectorError(
                    f"{self.config.name}: a filter value must be text or an identity."
                )
            rows = [r for r in rows if self._keeps(conf, templates.dig(r, conf["field"]), wanted)]
        return rows

    @staticmethod
    def _keeps(conf: Mapping[str, Any], found: Any, wanted: Any) -> bool:
        if found is None or wanted is None:
            return False
        a, b = str(found), str(wanted)
        if not conf.get("case_sensitive", True):
            a, b = a.casefold(), b.casefold()
        return a == b if conf.get("exact", True) else b in a

    def _next(
        self,
        pagination: Strategy | None,
        call: Call,
        response: httpx.Response,
        body: Any,
        page: list[Row],
        values: Mapping[str, Any],
    ) -> tuple[Call, str | None] | None:
        if pagination is None:
            return None
        conf = pagination.configuration
        has_next = conf.get("has_next")
        if has_next and not templates.dig(body, has_next):
            return None
        if pagination.strategy == "cursor":
            cursor = templates.dig(page[-1], conf["field"]) if page else None
            if cursor is None:
                return None
            params = [(k, v) for k, v in call.params if k != conf["cursor_param"]]
            return replace(call, params=[*params, (conf["cursor_param"], str(cursor))]), None
        if pagination.strategy == "offset":
            if not page:
                return None
            name = conf["incremental_param"]
            current = int(next((v for k, v in call.params if k == name), 0))
            following = current + int(self._setting(conf["increment_by"], values))
            limit = self._setting(conf.get("limit"), values)
            if limit is not None and following > int(limit):
                return None
            total = templates.dig(body, conf.get("total_path"))
            if conf.get("total_path") and isinstance(total, int) and following >= total:
                return None  # the answer says how many there are: no empty page to ask for
            params = [(k, v) for k, v in call.params if k != name]
            return replace(call, params=[*params, (name, str(following))]), None
        if conf.get("source") == "headers":
            link = response.links.get(conf.get("rel") or "next", {}).get("url")
        else:
            link = templates.dig(body, conf.get("path"))
        if not link or not page:
            return None
        return call, str(httpx.URL(self.sender.base_url + "/").join(str(link)))

    @staticmethod
    def _setting(value: Any, values: Mapping[str, Any]) -> Any:
        """A pagination setting: a number, or `{connector_param: name}`."""
        if isinstance(value, dict):
            return values.get(str(value.get("connector_param")))
        return value

    # Changing

    def refuses(self, collection: str, *, masking: bool) -> str | None:
        """Why this API cannot delete (or, `masking`, update) the collection's rows, or None."""
        endpoint = self.config.endpoint(collection)
        if endpoint is None:
            return f"{self.config.name} has no endpoint for '{collection}'."
        if masking and endpoint.requests.update is None:
            return f"{self.config.name} has no update request for '{collection}'."
        if not masking and endpoint.requests.delete is None:
            return f"{self.config.name} has no delete request for '{collection}'."
        return None

    def apply(self, changes: Sequence[RowChange]) -> Changed:
        """Each change by the collection's update or delete request, row by row.

        An HTTP API has no transaction: each change is made on its own, after reading the row
        back where the API can, so a row already gone or already changed is left alone and
        not counted (applying the same changes twice ends in the same state).
        """
        changed: Changed = {(c.collection, c.tag): 0 for c in changes}
        for change in changes:
            endpoint = self._endpoint(change.collection)
            request = (
                endpoint.requests.delete if change.values is None else endpoint.requests.update
            )
            if request is None:
                what = "delete" if change.values is None else "update"
                raise ConnectorError(
                    f"{self.config.name}: '{change.collection}' has no {what} request; it "
                    "cannot be erased through this API."
                )
            for row in self._targets(endpoint, change):
                changed[(change.collection, change.tag)] += self._change(
                    endpoint, request, row, change
                )
        return changed

    def _targets(self, endpoint: Endpoint, change: RowChange) -> list[Row]:
        match = [(f, (v,)) for f, v in change.where if v is not None]
        rows, tried = self._read(endpoint, match)
        if not tried:
            return [dict(change.where)]  # the API cannot read it back: change it as given
        hits = [r for r in rows if all(_same(templates.dig(r, f), v) for f, v in change.where)]
        if change.values is not None:
            hits = [
                r
                for r in hits
                if not all(_same(templates.dig(r, f), v) for f, v in change.values.items())
            ]
        return hits

    def _constants(self, request: Request) -> dict[str, Any]:
        """The connector params, also under the names a request's params give them."""
        values = dict(self.values)
        for param in request.param_values:
            if param.connector_param:
                values[param.name] = param.sent(self.values.get(param.connector_param))
        return values

    def _change(self, endpoint: Endpoint, request: Request, row: Row, change: RowChange) -> int:
        values = self._constants(request)
        for param in request.param_values:
            if param.connector_param:
                continue
            for name in _fed_by(param, endpoint.name):
                found = templates.dig(row, name)
                if found is not None:
                    values[param.name] = param.sent(found)
                    break
        call = self._build(request, values, change.values)
        response = self.sender.send(call)
        if response.status_code == 404:
            return 0  # already gone
        if response.status_code >= 400:
            if request.ignores(response.status_code):
                return 0
            raise self.sender.fail(call, response)
        return 1

    def _build(
        self, request: Request, values: Mapping[str, Any], fields: Mapping[str, Any] | None = None
    ) -> Call:
        try:
            return build(request, values, fields)
        except templates.MissingValueError as exc:
            raise ConnectorError(
                f"{self.config.name}: {request.method} {request.path} needs a value for "
                f"'{exc.name}' that the row does not hold."
            ) from exc

    def close(self) -> None:
        """Close the HTTP connections."""
        self.sender.close()
