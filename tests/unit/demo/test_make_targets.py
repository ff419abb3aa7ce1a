"""What `make demo` and `make test` install, read from `make -n` (which runs nothing).

The demo needs Rightful's runtime only; the test suite, lint and bench add the dev extras
(Playwright, mypy, ruff, ...), also in a .venv that `make demo` made first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A fresh clone's Makefile and pyproject.toml, with no .venv yet."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def planned(checkout: Path, target: str) -> str:
    """The commands `make TARGET` would run."""
    result = subprocess.run(
        ["make", "-n", target],
        cwd=checkout,
        env={**os.environ, "MAKEFLAGS": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def installs(plan: str) -> list[str]:
    return [
        line.split("pip install -q ")[1] for line in plan.splitlines() if "install -q -e" in line
    ]


def after_a_demo(checkout: Path) -> None:
    """Leave what `make demo` leaves: a .venv and the stamps its install steps touch."""
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").touch()
    for line in planned(checkout, "demo").splitlines():
        if line.startswith("touch "):
            for stamp in line.split()[1:]:
                (checkout / stamp).touch()


def test_make_demo_installs_the_runtime_without_the_dev_tools(checkout: Path) -> None:
    assert installs(planned(checkout, "demo")) == ["-e ."]


@pytest.mark.parametrize("target", ["test", "lint", "bench"])
def test_make_test_lint_and_bench_install_the_dev_extras(checkout: Path, target: str) -> None:
    assert installs(planned(checkout, target)) == ["-e '.[dev]'"]


def test_make_test_after_make_demo_adds_the_dev_extras(checkout: Path) -> None:
    after_a_demo(checkout)
    assert installs(planned(checkout, "demo")) == []
    assert installs(planned(checkout, "test")) == ["-e '.[dev]'"]
