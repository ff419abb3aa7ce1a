"""A stand-in for a hosted help desk, answering like Zendesk Support's API the endpoints the
shipped `zendesk` config uses (users/search, a user's requested tickets paged by next_page,
updating and deleting users, deleting tickets), for the demo only."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rightful.demo.vendors.guard import Endpoint, guarded
from rightful.demo.vendors.store import DocStore

ADMIN = "privacy.officer@lumen.example"
# Not a secret: the stand-in serves demo data to the demo on loopback.
TOKEN = "demo-zendesk-token"  # noqa: S105
_EDITABLE = ("name", "email", "phone", "notes")


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "description": description}, status_code=status)


def _not_found() -> JSONResponse:
    return _error(404, "RecordNotFound", "Not found")


def helpdesk_app(store: DocStore) -> Starlette:
    """The help desk's API over its store."""

    expected = "Basic " + base64.b64encode(f"{ADMIN}/token:{TOKEN}".encode()).decode()

    def refusal(request: Request) -> Response | None:
        if request.headers.get("Authorization") != expected:
            return _error(401, "Couldn't authenticate you", "Unauthorized")
        return None

    def guard(handler: Any) -> Endpoint:
        return guarded(refusal, handler)

    def me(request: Request) -> Response:
        return JSONResponse({"user": {"id": 1, "email": ADMIN, "role": "admin"}})

    def search(request: Request) -> Response:
        query = request.query_params.get("query", "")
        found = store.owned_by("user", query.removeprefix("email:").strip().lower())
        return JSONResponse({"users": found, "next_page": None, "count": len(found)})

    def requested(request: Request) -> Response:
        user_id = request.path_params["user_id"]
        if store.get("user", user_id) is None:
            return _not_found()
        mine = store.owned_by("ticket", user_id)
        page = int(request.query_params.get("page", "1"))
        size = min(int(request.query_params.get("per_page", "100")), 100)
        following = None
        if page * size < len(mine):
            following = str(request.url.include_query_params(page=page + 1, per_page=size))
        chunk = mine[(page - 1) * size : page * size]
        return JSONResponse({"tickets": chunk, "next_page": following, "count": len(mine)})

    async def update(request: Request) -> Response:
        user_id = request.path_params["user_id"]
        user = store.get("user", user_id)
        if user is None:
            return _not_found()
        try:
            given = (json.loads(await request.body()) or {}).get("user") or {}
        except ValueError:
            return _error(400, "InvalidJSON", "The body is not JSON")
        user.update({k: v for k, v in given.items() if k in _EDITABLE})
        store.put("user", user_id, user)
        return JSONResponse({"user": user})

    def delete_user(request: Request) -> Response:
        user_id = request.path_params["user_id"]
        user = store.get("user", user_id)
        if user is None or not store.delete("user", user_id):
            return _not_found()
        return JSONResponse({"user": {**user, "active": False}})

    def delete_ticket(request: Request) -> Response:
        if not store.delete("ticket", request.path_params["ticket_id"]):
            return _not_found()
        return Response(status_code=204)

    routes = [
        Route("/api/v2/users/me.json", guard(me)),
        Route("/api/v2/users/search.json", guard(search)),
        Route("/api/v2/users/{user_id:int}/tickets/requested.json", guard(requested)),
        Route("/api/v2/users/{user_id:int}.json", guard(update), methods=["PUT"]),
        Route("/api/v2/users/{user_id:int}.json", guard(delete_user), methods=["DELETE"]),
        Route("/api/v2/tickets/{ticket_id:int}.json", guard(delete_ticket), methods=["DELETE"]),
    ]
    return Starlette(routes=routes)
