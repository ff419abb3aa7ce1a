"""Rule packs are data: every shipped file loads, cites its sections, and a wrong file is
refused with its name and field."""

from pathlib import Path

import pytest

from rightful import laws
from rightful.core.errors import ConfigurationError


def test_every_shipped_pack_cites_each_rule() -> None:
    for pack in laws.all_packs().values():
        assert pack.version and pack.effective
        assert pack.rights.cite and pack.respond.cite and pack.extension.cite
        assert pack.acknowledge.cite and pack.opt_out.cite and pack.free_requests_cite
        assert pack.verification_cite
        assert not pack.appeal.exists or pack.appeal.cite


def test_every_us_law_with_an_appeal_names_its_regulator() -> None:
    for pack in laws.all_packs().values():
        if pack.appeal.exists and not pack.house:
            assert pack.regulator is not None, pack.key


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_a_pack_with_an_unknown_request_kind_is_refused(tmp_path: Path) -> None:
    source = (Path(laws.packs.PACKS_DIR) / "us-tx.yml").read_text(encoding="utf-8")
    _write(tmp_path, "us-tx.yml", source.replace("opt_out_sale]", "opt_out_sale, fly]"))
    with pytest.raises(ConfigurationError, match=r"us-tx.yml: rights.kinds has unknown"):
        laws.read_packs(tmp_path)


def test_two_packs_covering_one_place_are_refused(tmp_path: Path) -> None:
    source = (Path(laws.packs.PACKS_DIR) / "us-tx.yml").read_text(encoding="utf-8")
    _write(tmp_path, "a.yml", source)
    _write(tmp_path, "b.yml", source)
    with pytest.raises(ConfigurationError, match=r"US-TX is already covered by a\.yml"):
        laws.read_packs(tmp_path)


def test_a_pack_without_a_response_period_is_refused(tmp_path: Path) -> None:
    source = (Path(laws.packs.PACKS_DIR) / "us-tx.yml").read_text(encoding="utf-8")
    broken = source.replace("respond:\n  period: {days: 45, count: calendar}\n", "respond:\n")
    _write(tmp_path, "us-tx.yml", broken)
    with pytest.raises(ConfigurationError, match=r"us-tx\.yml: respond"):
        laws.read_packs(tmp_path)
