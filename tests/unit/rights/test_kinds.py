"""The request-kind registry is the one place each kind is described, and it is complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightful.core.errors import InvalidInputError
from rightful.rights import kinds
from rightful.rights.types import RequestType

TEMPLATES = Path(kinds.__file__).parents[1] / "messaging" / "templates"


def test_every_request_type_has_exactly_one_kind() -> None:
    assert sorted(k.type.value for k in kinds.KINDS) == sorted(t.value for t in RequestType)


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.type.value)
def test_each_kind_names_a_handler_and_templates_that_exist(kind: kinds.Kind) -> None:
    for path in filter(None, (kind.handler, kind.details)):
        assert callable(kinds._resolve(path)), path
    for template in kind.templates:
        for suffix in ("subject", "txt", "html"):
            assert (TEMPLATES / f"{template}.{suffix}").is_file(), (template, suffix)


def test_kinds_carried_out_by_staff_cannot_be_run_by_the_worker() -> None:
    manual = [k for k in kinds.KINDS if not k.automated]
    assert manual and all(k.type.value not in kinds.automated_types() for k in manual)
    with pytest.raises(ValueError, match="carried out by staff"):
        manual[0].run(None, None, None)  # type: ignore[arg-type]


def test_opting_out_and_limiting_never_require_the_consumer_to_confirm_an_agent() -> None:
    never = {k.type for k in kinds.KINDS if not k.direct_confirmation}
    assert never == {RequestType.OPT_OUT_SALE, RequestType.LIMIT_SENSITIVE}


def test_an_unknown_kind_names_the_choices() -> None:
    with pytest.raises(InvalidInputError, match="choose one of: know_categories"):
        kinds.kind_of("sell_my_soul")
