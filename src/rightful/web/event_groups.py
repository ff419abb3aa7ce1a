"""Each app's group commits for the two consent event endpoints (consent/group_commit.py), made
on first use: the banner's `POST /consent/events` and the API's `POST /api/v1/consent/events`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from rightful.consent import event_groups
from rightful.consent.banner import Outcome
from rightful.consent.group_commit import Grouper, run_group
from rightful.consent.models import ConsentEvent, ConsentSubject
from rightful.core.config import Settings
from rightful.core.runtime import Runtime

T = TypeVar("T")
R = TypeVar("R")
BannerGroup = Grouper[event_groups.BannerRequest, list[Outcome]]
ApiGroup = Grouper[event_groups.ApiRecord, tuple[ConsentSubject, list[ConsentEvent]]]


def banner(request: Request, rt: Runtime) -> BannerGroup:
    """The banner requests' group commit."""
    return _grouper(
        request, rt, "consent_banner_group", event_groups.write_banner, lambda r: r.cost
    )


def api(request: Request, rt: Runtime) -> ApiGroup:
    """The API's event requests' group commit."""
    return _grouper(
        request, rt, "consent_api_group", event_groups.write_api, lambda r: len(r.choices)
    )


def _grouper(
    request: Request,
    rt: Runtime,
    name: str,
    write: Callable[[Session, Settings, list[T]], Sequence[R | Exception]],
    weight: Callable[[T], int],
) -> Grouper[T, R]:
    state = request.app.state
    found: Grouper[T, R] | None = getattr(state, name, None)
    if found is None:

        def group(items: list[T]) -> list[R | Exception]:
            return run_group(rt.sessions, items, lambda s, i: write(s, rt.settings, i))

        found = Grouper(group, rt.settings.consent_group_size, weight)
        setattr(state, name, found)
    return found


__all__ = ["api", "banner"]
