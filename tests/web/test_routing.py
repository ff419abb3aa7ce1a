"""Routes built when first used (web/routing.py; issue 12, cold start).

What is built when is checked in a fresh interpreter: the routers are module-level, so in this
test process another test may have built them already. No timing: the routes left unbuilt are
the outcome that makes `rightful serve` answer its first request sooner.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.exceptions import FastAPIError
from fastapi.testclient import TestClient

from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade
from rightful.web.app import create_app
from rightful.web.routing import DeferredRoute, DeferredRouter, build_all, is_built
from tests.support.app import make_settings

ROOT = Path(__file__).resolve().parents[2]

FIRST_REQUESTS = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from rightful.core.runtime import build_runtime
from rightful.migrations import upgrade
from rightful.web.admin.account_routes import router as console
from rightful.web.app import create_app
from tests.support.app import make_settings

runtime = build_runtime(make_settings(Path(sys.argv[1])))
upgrade(runtime.engine)

def built():  # an APIRoute analyses its endpoint (its `dependant`) when it is built
    return sum("dependant" in route.__dict__ for route in console.routes)

found = {"routes": len(console.routes), "imported": built()}
app = create_app(runtime, start_worker=False)
found["app_built"] = built()
with TestClient(app) as client:
    found["probe"] = client.get("/healthz").status_code
    found["after_probe"] = built()
    found["page"] = client.get("/admin/account", follow_redirects=False).status_code
    found["after_page"] = built()
print(json.dumps(found))
"""


def test_the_console_routes_are_built_by_their_first_request_not_at_start(
    tmp_path: Path,
) -> None:
    """Importing the console's routes, building the app and answering a probe build none of
    them (before: all were built as their module was imported); the first request to one of
    them builds its router's routes and is answered as before."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUESTS, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["routes"] > 0
    assert (found["imported"], found["app_built"], found["after_probe"]) == (0, 0, 0)
    assert found["probe"] == 200
    assert found["page"] == 303  # not signed in: to the sign-in page, as before
    assert found["after_page"] == found["routes"]


def test_every_route_of_the_app_builds(tmp_path: Path) -> None:
    """A route that cannot be built would now fail at its first request instead of at import:
    here every route of the app is built, so such a mistake fails the tests."""
    runtime = build_runtime(make_settings(tmp_path))
    app = create_app(runtime, start_worker=False)
    build_all(list(app.router.routes))
    unbuilt = [
        route.path
        for included in app.router.routes
        for route in getattr(getattr(included, "original_router", None), "routes", [])
        if not is_built(route)
    ]
    assert unbuilt == []
    runtime.engine.dispose()


def test_the_api_reference_lists_deferred_routes(tmp_path: Path) -> None:
    """The OpenAPI document walks every route: deferred ones are built for it and listed."""
    runtime = build_runtime(make_settings(tmp_path))
    upgrade(runtime.engine)
    with TestClient(create_app(runtime, start_worker=False)) as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert any(path.startswith("/api/v1/reports/") for path in paths)
    assert any(p.startswith("/api/v1/tasks") for p in paths)
    runtime.engine.dispose()


def _answer(number: int, word: str = "x") -> dict[str, object]:
    return {"number": number, "word": word}


def test_a_deferred_route_answers_as_an_eager_one() -> None:
    """Same path parameters, query parameters, dependencies and name as an APIRoute."""
    router = DeferredRouter(prefix="/things")
    router.add_api_route("/{number}", _answer, dependencies=[Depends(lambda: None)])
    (route,) = router.routes
    assert isinstance(route, DeferredRoute)
    assert (route.path, route.name, is_built(route)) == ("/things/{number}", "_answer", False)
    app = FastAPI()
    app.include_router(router)
    assert not is_built(route)  # including reads only the path and the name
    with TestClient(app) as client:
        assert client.get("/things/7?word=y").json() == {"number": 7, "word": "y"}
        assert client.get("/things/seven").status_code == 422
        assert app.url_path_for("_answer", number=3) == "/things/3"
    assert is_built(route)


def test_threads_first_asking_a_route_all_see_it_built_once() -> None:
    """Threads that all ask an unbuilt route at once wait for one build and see the same one."""
    router = DeferredRouter()
    router.add_api_route("/{number}", _answer)
    (route,) = router.routes
    assert isinstance(route, DeferredRoute)
    start = threading.Barrier(8)
    seen: list[object] = []

    def ask() -> None:
        start.wait()
        seen.append(route.dependant)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(dependant is seen[0] for dependant in seen)


class _NotAParameter:
    """A type FastAPI cannot read from a request."""


def _broken(thing: _NotAParameter) -> None:
    del thing


def test_a_route_that_cannot_be_built_fails_each_time_it_is_used() -> None:
    """Not half built: the first use raises FastAPI's error, and so does the next."""
    router = DeferredRouter()
    router.add_api_route("/broken", _broken, methods=["PUT"], response_model=None)
    (route,) = router.routes
    assert isinstance(route, DeferredRoute)
    for _ in range(2):
        with pytest.raises(FastAPIError):
            _ = route.dependant
        assert not is_built(route)


def test_an_attribute_a_built_route_lacks_is_an_attribute_error() -> None:
    router = DeferredRouter()
    router.add_api_route("/{number}", _answer)
    (route,) = router.routes
    assert not hasattr(route, "no_such_attribute")
    assert is_built(route)
