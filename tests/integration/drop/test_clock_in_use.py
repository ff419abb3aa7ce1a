"""DROP's 45-day clock applies only to a registered data broker: an organisation that is not one
(the default) is told DROP is not in use, never that a download is due; a registered one that has
not downloaded a list yet is told the first is due now, on the DROP page and on Today."""

from __future__ import annotations

from pathlib import Path

from rightful.connectors.sql import dispose_all
from rightful.drop.status import Summary, summary
from rightful.reports.panels import Panel, drop_panel
from tests.support.app import make_settings, prepare


def _clock_and_panel(tmp_path: Path, **settings: object) -> tuple[Summary, Panel]:
    config = make_settings(tmp_path, **settings)
    runtime = prepare(config, people=3)
    with runtime.sessions() as session:
        found, panel = summary(session, config), drop_panel(session, config)
    runtime.engine.dispose()
    dispose_all()
    return found, panel


def test_an_organisation_that_is_not_a_broker_owes_no_download(tmp_path: Path) -> None:
    found, panel = _clock_and_panel(tmp_path)
    assert (found.in_use, found.overdue) == (False, False)
    assert panel.state == "off"
    assert "Not in use" in panel.headline


def test_a_registered_broker_without_a_list_is_told_the_first_is_due(tmp_path: Path) -> None:
    found, panel = _clock_and_panel(tmp_path, drop_registered=True)
    assert (found.in_use, found.overdue) == (True, True)
    assert panel.state == "attention"
    assert "the first is due now" in panel.headline
