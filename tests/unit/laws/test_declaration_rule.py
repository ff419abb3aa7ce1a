"""The signed declaration for a copy is a rule of each law's pack, decided in one place:
required in California, not asked under the GDPR or the UK GDPR, the organisation's practice
elsewhere; strictest mode requires it wherever a law does."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightful import laws
from rightful.core.errors import ConfigurationError
from rightful.rights.declaration import kinds_needing, needed
from tests.support.app import make_settings

NEED = laws.DeclarationNeed


def test_each_pack_states_its_declaration_rule_with_its_source() -> None:
    packs = laws.all_packs()
    assert packs["us-ca"].declaration.need is NEED.REQUIRED
    assert packs["us-ca"].declaration.cite == "Cal. Code Regs. tit. 11, § 7062(c)"
    assert packs["gdpr"].declaration.need is NEED.NONE
    assert "Art. 12(2)" in packs["gdpr"].declaration.cite
    assert "EDPB Guidelines 01/2022" in packs["gdpr"].declaration.cite
    assert packs["uk-gdpr"].declaration.need is NEED.NONE
    others = [p for k, p in packs.items() if k not in ("us-ca", "gdpr", "uk-gdpr")]
    assert others and all(p.declaration.need is NEED.PRACTICE for p in others)
    assert all(not p.declaration.statutory for p in others)
    assert all(p.declaration.cite for p in packs.values())


def test_strictest_mode_takes_california_s_requirement_for_everyone() -> None:
    for place in ("IE", "GB", "US-TX", "US-OTHER", "OTHER"):
        rule = laws.declaration_rule(place, laws.RulesMode.STRICTEST)
        assert rule.need is NEED.REQUIRED, place
        assert rule.cite == "CCPA: Cal. Code Regs. tit. 11, § 7062(c)"
    assert laws.declaration_rule("IE").need is NEED.NONE


@pytest.mark.parametrize(
    ("mode", "practice", "place", "asked"),
    [
        ("per_jurisdiction", "keep", "US-CA", True),
        ("per_jurisdiction", "keep", "IE", False),
        ("per_jurisdiction", "keep", "GB", False),
        ("per_jurisdiction", "keep", "US-TX", True),  # the organisation's practice, kept
        ("per_jurisdiction", "keep", "US-NY", True),  # the house rules
        ("per_jurisdiction", "drop", "US-TX", False),
        ("per_jurisdiction", "drop", "OTHER", False),
        ("per_jurisdiction", "drop", "US-CA", True),  # the law: not the organisation's to drop
        ("strictest", "keep", "IE", True),
        ("strictest", "drop", "DE", True),
    ],
)
def test_one_answer_per_kind_place_and_mode(
    tmp_path: Path, mode: str, practice: str, place: str, asked: bool
) -> None:
    settings = make_settings(tmp_path, rules_mode=mode, declaration_practice=practice)
    assert needed(settings, "access", place) is asked
    assert needed(settings, "portability", place) is asked
    # Never for anything but a copy of specific pieces.
    assert not any(needed(settings, k, place) for k in ("know_categories", "delete", "correct"))
    assert kinds_needing(settings, place) == (["access", "portability"] if asked else [])


def _write_texas(folder: Path, old: str, new: str) -> None:
    source = (Path(laws.packs.PACKS_DIR) / "us-tx.yml").read_text(encoding="utf-8")
    assert old in source
    (folder / "us-tx.yml").write_text(source.replace(old, new), encoding="utf-8")


def test_a_pack_without_a_declaration_rule_is_refused(tmp_path: Path) -> None:
    _write_texas(
        tmp_path, "  declaration:\n    need: practice\n", "  declared:\n    need: practice\n"
    )
    with pytest.raises(ConfigurationError, match=r"us-tx\.yml: verification\.declaration"):
        laws.read_packs(tmp_path)


def test_a_pack_with_an_unknown_declaration_rule_is_refused(tmp_path: Path) -> None:
    _write_texas(tmp_path, "    need: practice\n", "    need: sometimes\n")
    with pytest.raises(ConfigurationError, match="required, practice or none"):
        laws.read_packs(tmp_path)


@pytest.mark.parametrize(
    "calendar", ["{country: XX, subdivision: TX}", "{country: US, subdivision: ZZ}"]
)
def test_a_pack_with_an_unknown_holiday_calendar_is_refused(tmp_path: Path, calendar: str) -> None:
    _write_texas(tmp_path, "{country: US, subdivision: TX}", calendar)
    with pytest.raises(ConfigurationError, match="unknown holiday calendar"):
        laws.read_packs(tmp_path)
