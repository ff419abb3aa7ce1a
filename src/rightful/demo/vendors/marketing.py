"""A stand-in for a hosted e-mail marketing service, answering like Mailchimp's Marketing API v3
the endpoints the shipped `mailchimp` config uses (a member by subscriber hash, updating it,
delete-permanent, its notes paged by count and offset, deleting a note), for the demo only."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rightful.demo.vendors.guard import Endpoint, guarded
from rightful.demo.vendors.store import DocStore

API_KEY = "demo0000000000000000000000000000-us21"  # not a secret: demo data on loopback
AUDIENCE = "lumen00001"
_EDITABLE = ("email_address", "full_name", "status", "language", "location", "ip_signup", "ip_opt")


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """Mailchimp's error answer: problem details (RFC 7807)."""
    body = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "",
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _missing() -> JSONResponse:
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


def _key_of(request: Request) -> str:
    given = request.headers.get("Authorization", "").removeprefix("Basic ")
    try:
        return base64.b64decode(given, validate=True).decode().split(":", 1)[1]
    except (binascii.Error, UnicodeDecodeError, IndexError):
        return ""


def marketing_app(store: DocStore) -> Starlette:
    """The marketing service's API over its store."""

    def refusal(request: Request) -> Response | None:
        if _key_of(request) != API_KEY:
            return problem(401, "API Key Invalid", "Your API key may be invalid, or deactivated.")
        if request.path_params.get("list_id", AUDIENCE) != AUDIENCE:
            return _missing()
        return None

    def guard(handler: Any) -> Endpoint:
        return guarded(refusal, handler)

    def audience(request: Request) -> Response:
        return JSONResponse({"id": AUDIENCE, "name": "Lumen customers"})

    def member(request: Request) -> Response:
        found = store.get("member", request.path_params["hash"])
        return JSONResponse(found) if found else _missing()

    async def update(request: Request) -> Response:
        subscriber = request.path_params["hash"]
        found = store.get("member", subscriber)
        if found is None:
            return _missing()
        try:
            given = json.loads(await request.body() or b"{}")
        except ValueError:
            return problem(
                400, "Invalid Resource", "The resource submitted could not be validated."
            )
        merge = given.pop("merge_fields", None)
        found.update({k: v for k, v in given.items() if k in _EDITABLE})
        if isinstance(merge, dict):
            found["merge_fields"] = {**found.get("merge_fields", {}), **merge}
        store.put("member", subscriber, found)
        return JSONResponse(found)

    def delete_permanent(request: Request) -> Response:
        subscriber = request.path_params["hash"]
        if not store.delete("member", subscriber):
            return _missing()
        store.delete_owned("note", subscriber)
        return Response(status_code=204)

    def notes(request: Request) -> Response:
        subscriber = request.path_params["hash"]
        if store.get("member", subscriber) is None:
            return _missing()
        mine = store.owned_by("note", subscriber)
        count = min(int(request.query_params.get("count", "10")), 1000)
        offset = int(request.query_params.get("offset", "0"))
        body = {
            "notes": mine[offset : offset + count],
            "list_id": AUDIENCE,
            "email_id": subscriber,
            "total_items": len(mine),
        }
        return JSONResponse(body)

    def delete_note(request: Request) -> Response:
        note = store.get("note", request.path_params["note_id"])
        if note is None or note.get("email_id") != request.path_params["hash"]:
            return _missing()
        store.delete("note", request.path_params["note_id"])
        return Response(status_code=204)

    member_path = "/3.0/lists/{list_id}/members/{hash}"
    routes = [
        Route("/3.0/lists/{list_id}", guard(audience)),
        Route(member_path, guard(member)),
        Route(member_path, guard(update), methods=["PATCH"]),
        Route(member_path + "/actions/delete-permanent", guard(delete_permanent), methods=["POST"]),
        Route(member_path + "/notes", guard(notes)),
        Route(member_path + "/notes/{note_id:int}", guard(delete_note), methods=["DELETE"]),
    ]
    return Starlette(routes=routes)
