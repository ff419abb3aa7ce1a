"""Connector kinds are found through entry points: built-in kinds and a third party's package."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightful.connectors import registry
from rightful.connectors.base import Connector
from rightful.connectors.contract import ROWS, ConnectorContract
from rightful.core.errors import InvalidInputError

PLUGIN = Path(__file__).parent / "plugin_pkg" / "rightful_jsonfile.py"


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """The plug-in installed as its own distribution (module plus dist-info) on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(PLUGIN, site / "rightful_jsonfile.py")
    info = site / "rightful_jsonfile-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rightful-jsonfile\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[rightful.connectors]\njsonfile = rightful_jsonfile:KIND\n"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    registry.rediscover()
    yield tmp_path
    sys.path.remove(str(site))
    sys.modules.pop("rightful_jsonfile", None)
    importlib.invalidate_caches()
    registry.rediscover()


def test_the_built_in_kinds_come_from_entry_points() -> None:
    from importlib.metadata import entry_points

    published = {p.name for p in entry_points(group=registry.GROUP)}
    assert {"sql", "http"} <= published
    assert {"sql", "http"} <= set(registry.kinds())


def test_an_installed_plugin_is_found_and_checks_its_settings(installed_plugin: Path) -> None:
    assert "jsonfile" in registry.kinds()
    with pytest.raises(InvalidInputError, match="needs the setting"):
        registry.check_settings("jsonfile", {})
    with pytest.raises(InvalidInputError, match=r"must end in \.json"):
        registry.check_settings("jsonfile", {"path": "store.txt"})


def test_an_uninstalled_plugin_is_an_unknown_kind() -> None:
    with pytest.raises(InvalidInputError, match="Unknown connector kind 'jsonfile'"):
        registry.check_settings("jsonfile", {"path": "x.json"})


class TestPluginContract(ConnectorContract):
    """The plug-in passes the same contract, reached through its entry point."""

    @pytest.fixture
    def connector(self, installed_plugin: Path) -> Iterator[Connector]:
        store = installed_plugin / "store.json"
        store.write_text(json.dumps({"user": ROWS}))
        made = registry.connector_for("archive", "jsonfile", {"path": str(store)})
        yield made
        made.close()
