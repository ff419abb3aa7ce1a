"""The HTTP connector passes the shared contract against a local API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rightful.connectors.base import Connector
from rightful.connectors.contract import ConnectorContract
from rightful.connectors.registry import connector_for
from tests.connectors.apiserver import serving
from tests.connectors.users_api import UsersAPI


class TestHTTPContract(ConnectorContract):
    """Reached as an `http` system would be: through the registry, from settings."""

    @pytest.fixture
    def connector(self) -> Iterator[Connector]:
        with serving(UsersAPI()) as api:
            made = connector_for("users_api", "http", api.settings())
            yield made
            made.close()
