"""Local servers implementing the documented endpoints the shipped configs use, with each
vendor's pagination, error bodies and rate-limit answers."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tests.connectors.apiserver import Answer, APIServer, Asked, page_after

PERSON, OTHER = "ada@example.com", "bob@example.com"
MISSING = {"error": {"type": "invalid_request_error", "code": "resource_missing"}}


class StripeAPI(APIServer):
    """Stripe: bearer secret key, lists {object: list, data, has_more}, form-encoded updates,
    errors {error: {type, message}}, 429 for rate limits."""

    key = "sk_test_123"
    busy = Answer(429, {"error": {"type": "rate_limit_error", "message": "Too many requests"}})
    paged = "/v1/charges"

    def __init__(self) -> None:
        super().__init__()
        self.customers = [
            {"id": "cus_A", "object": "customer", "email": PERSON, "name": "Ada L", "phone": "1"},
            {"id": "cus_B", "object": "customer", "email": OTHER, "name": "Bob M", "phone": "2"},
        ]
        self.charges = [
            {"id": f"ch_{c}{n}", "customer": f"cus_{c}", "amount": 100 * n, "currency": "eur"}
            for c in "AB"
            for n in range(5)
        ]
        self.route("GET", "/v1/customers")(self._authed(self._customers))
        self.route("POST", r"/v1/customers/(\w+)")(self._authed(self._update))
        self.route("DELETE", r"/v1/customers/(\w+)")(self._authed(self._delete))
        self.route("GET", "/v1/charges")(self._authed(self._charges))

    def params(self) -> dict[str, Any]:
        return {"api_key": self.key, "page_size": 2}

    def _authed(self, handler: Any) -> Any:
        def check(asked: Asked) -> Answer:
            if asked.headers.get("Authorization") != f"Bearer {self.key}":
                return Answer(401, {"error": {"type": "invalid_request_error"}})
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _list(self, rows: list[dict[str, Any]], asked: Asked) -> Answer:
        limit = int(asked.query.get("limit", "10"))
        chunk, more = page_after(rows, asked.query.get("starting_after"), limit)
        return Answer(200, {"object": "list", "data": chunk, "has_more": more})

    def _customers(self, asked: Asked) -> Answer:
        wanted = asked.query.get("email")
        return self._list([c for c in self.customers if c["email"] == wanted], asked)

    def _charges(self, asked: Asked) -> Answer:
        mine = [c for c in self.charges if c["customer"] == asked.query.get("customer")]
        return self._list(mine, asked)

    def _find(self, cid: str) -> dict[str, Any] | None:
        return next((c for c in self.customers if c["id"] == cid), None)

    def _update(self, asked: Asked) -> Answer:
        found = self._find(asked.groups[0])
        if found is None:
            return Answer(
                404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
            )
        found.update(asked.body or {})  # form fields
        return Answer(200, found)

    def _delete(self, asked: Asked) -> Answer:
        found = self._find(asked.groups[0])
        if found is None:
            return Answer(
                404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
            )
        self.customers.remove(found)
        return Answer(200, {"id": found["id"], "object": "customer", "deleted": True})


class ZendeskAPI(APIServer):
    """Zendesk: basic {email}/token, users/search, offset pages with next_page links,
    errors {error, description}, 429 with Retry-After."""

    admin, token = "admin@shop.example", "zd-token-9"
    busy = Answer(429, {"error": "APIRateLimitExceeded"}, {"Retry-After": "3"})
    paged = "/api/v2/users/11/tickets"

    def __init__(self) -> None:
        super().__init__()
        self.users = [
            {"id": 11, "email": "Ada@Example.com", "name": "Ada L", "phone": None},
            {"id": 12, "email": OTHER, "name": "Bob M", "phone": None},
        ]
        self.tickets = [
            {"id": 100 * u + n, "requester_id": u, "subject": f"Help {n}", "status": "open"}
            for u in (11, 12)
            for n in range(5)
        ]
        self.route("GET", "/api/v2/users/search.json")(self._authed(self._search))
        self.route("GET", r"/api/v2/users/(\d+)/tickets/requested.json")(
            self._authed(self._requested)
        )
        self.route("PUT", r"/api/v2/users/(\d+).json")(self._authed(self._update))
        self.route("DELETE", r"/api/v2/users/(\d+).json")(self._authed(self._delete))
        self.route("DELETE", r"/api/v2/tickets/(\d+).json")(self._authed(self._delete_ticket))

    def params(self) -> dict[str, Any]:
        return {
            "domain": "x.zendesk.com",
            "username": self.admin,
            "api_key": self.token,
            "page_size": 2,
        }

    def _authed(self, handler: Any) -> Any:
        expected = base64.b64encode(f"{self.admin}/token:{self.token}".encode()).decode()

        def check(asked: Asked) -> Answer:
            if asked.headers.get("Authorization") != f"Basic {expected}":
                return Answer(401, {"error": "Couldn't authenticate you"})
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _search(self, asked: Asked) -> Answer:
        wanted = asked.query.get("query", "").removeprefix("email:").lower()
        return Answer(
            200,
            {
                "users": [u for u in self.users if u["email"].lower() == wanted],
                "next_page": None,
                "count": 1,
            },
        )

    def _requested(self, asked: Asked) -> Answer:
        mine = [t for t in self.tickets if t["requester_id"] == int(asked.groups[0])]
        page, size = int(asked.query.get("page", "1")), int(asked.query.get("per_page", "100"))
        chunk = mine[(page - 1) * size : page * size]
        following = None
        if page * size < len(mine):
            following = f"{self.url}{asked.path}?page={page + 1}&per_page={size}"
        return Answer(200, {"tickets": chunk, "next_page": following, "count": len(mine)})

    def _user(self, uid: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["id"] == int(uid)), None)

    def _update(self, asked: Asked) -> Answer:
        user = self._user(asked.groups[0])
        if user is None:
            return Answer(404, {"error": "RecordNotFound", "description": "Not found"})
        user.update(asked.body["user"])
        return Answer(200, {"user": user})

    def _delete(self, asked: Asked) -> Answer:
        user = self._user(asked.groups[0])
        if user is None:
            return Answer(404, {"error": "RecordNotFound", "description": "Not found"})
        self.users.remove(user)
        return Answer(200, {"user": {**user, "active": False}})

    def _delete_ticket(self, asked: Asked) -> Answer:
        ticket = next((t for t in self.tickets if t["id"] == int(asked.groups[0])), None)
        if ticket is None:
            return Answer(404, {"error": "RecordNotFound", "description": "Not found"})
        self.tickets.remove(ticket)
        return Answer(204)


class ShopifyAPI(APIServer):
    """Shopify: X-Shopify-Access-Token, customers/search, orders paged by Link rel="next"
    page_info, errors {errors}, 429 with Retry-After."""

    token = "shpat_abc"
    busy = Answer(
        429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "2.0"}
    )
    base = "/admin/api/2024-10"
    paged = "/admin/api/2024-10/orders.json"

    def __init__(self) -> None:
        super().__init__()
        self.customers = [
            {"id": 501, "email": PERSON, "first_name": "Ada", "last_name": "L"},
            {"id": 502, "email": OTHER, "first_name": "Bob", "last_name": "M"},
        ]
        self.orders = [
            {"id": 9000 + 10 * c + n, "customer": {"id": c}, "total_price": "10.00"}
            for c in (501, 502)
            for n in range(5)
        ]
        b = self.base
        self.route("GET", f"{b}/customers/search.json")(self._authed(self._search))
        self.route("GET", f"{b}/orders.json")(self._authed(self._orders))
        self.route("PUT", rf"{b}/customers/(\d+).json")(self._authed(self._update))
        self.route("DELETE", rf"{b}/customers/(\d+).json")(self._authed(self._delete))

    def params(self) -> dict[str, Any]:
        return {"domain": "shop.myshopify.com", "access_token": self.token, "page_size": 2}

    def _authed(self, handler: Any) -> Any:
        def check(asked: Asked) -> Answer:
            if asked.headers.get("X-Shopify-Access-Token") != self.token:
                return Answer(401, {"errors": "[API] Invalid API key or access token"})
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _search(self, asked: Asked) -> Answer:
        wanted = asked.query.get("query", "").removeprefix("email:")
        return Answer(200, {"customers": [c for c in self.customers if c["email"] == wanted]})

    def _orders(self, asked: Asked) -> Answer:
        # page_info carries the filter; the first call names the customer.
        info = asked.query.get("page_info")
        customer, start = info.split(":") if info else (asked.query.get("customer_id"), "0")
        mine = [o for o in self.orders if str(o["customer"]["id"]) == customer]
        size, begin = int(asked.query.get("limit", "50")), int(start)
        headers = {}
        if begin + size < len(mine):
            link = f"<{self.url}{self.paged}?limit={size}&page_info={customer}:{begin + size}>"
            headers["Link"] = f'{link}; rel="next"'
        return Answer(200, {"orders": mine[begin : begin + size]}, headers)

    def _customer(self, cid: str) -> dict[str, Any] | None:
        return next((c for c in self.customers if c["id"] == int(cid)), None)

    def _update(self, asked: Asked) -> Answer:
        customer = self._customer(asked.groups[0])
        if customer is None:
            return Answer(404, {"errors": "Not Found"})
        customer.update(asked.body["customer"])
        return Answer(200, {"customer": customer})

    def _delete(self, asked: Asked) -> Answer:
        customer = self._customer(asked.groups[0])
        if customer is None:
            return Answer(404, {"errors": "Not Found"})
        self.customers.remove(customer)
        return Answer(200, {})


class HubSpotAPI(APIServer):
    """HubSpot: bearer token, CRM search by POST, owners paged by paging.next.link, errors
    {status, message, category}, 429 with the policy name and no Retry-After."""

    token = "pat-na1-xyz"
    busy = Answer(
        429,
        {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "SECONDLY",
        },
    )
    paged = "/crm/v3/owners"

    def __init__(self) -> None:
        super().__init__()
        self.contacts = [
            {
                "id": "101",
                "properties": {
                    "email": PERSON,
                    "firstname": "Ada",
                    "city": "London",
                    "phone": None,
                    "hs_object_id": "101",
                },
            },
            {"id": "102", "properties": {"email": OTHER, "firstname": "Bob"}},
        ]
        # One person can own several owner records (one per team), as HubSpot lists them.
        self.owners = [
            {"id": f"{e[0]}{n}", "email": e, "firstName": e[:3].title(), "teams": []}
            for e in (PERSON, OTHER)
            for n in range(5)
        ]
        self.route("POST", "/crm/v3/objects/contacts/search")(self._authed(self._search))
        self.route("POST", "/crm/v3/objects/contacts/gdpr-delete")(self._authed(self._gdpr))
        self.route("PATCH", r"/crm/v3/objects/contacts/(\w+)")(self._authed(self._update))
        self.route("GET", r"/crm/v3/objects/contacts/(\w+)")(self._authed(self._contact))
        self.route("GET", "/crm/v3/owners")(self._authed(self._owners))

    def params(self) -> dict[str, Any]:
        return {"private_app_token": self.token, "page_size": 2}

    def _authed(self, handler: Any) -> Any:
        def check(asked: Asked) -> Answer:
            if asked.headers.get("Authorization") != f"Bearer {self.token}":
                return Answer(401, {"status": "error", "category": "INVALID_AUTHENTICATION"})
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _search(self, asked: Asked) -> Answer:
        wanted = asked.body["filterGroups"][0]["filters"][0]["value"]
        found = [c for c in self.contacts if c["properties"]["email"] == wanted]
        return Answer(200, {"total": len(found), "results": found})

    # Properties a contact can be given (read-only ones such as hs_object_id are refused).
    writable = ("email", "firstname", "lastname", "phone", "company", "city")

    def _contact(self, asked: Asked) -> Answer:
        """GET /crm/v3/objects/contacts/{contactId}?properties=...: the asked properties."""
        found = next((c for c in self.contacts if c["id"] == asked.groups[0]), None)
        if found is None:
            return Answer(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})
        asked_for = (asked.query.get("properties") or "").split(",")
        shown = {k: v for k, v in found["properties"].items() if k in asked_for}
        return Answer(200, {"id": found["id"], "properties": shown})

    def _update(self, asked: Asked) -> Answer:
        """PATCH /crm/v3/objects/contacts/{contactId} with {"properties": {...}}: the given
        properties set (text only; an empty string clears one), the others left alone."""
        found = next((c for c in self.contacts if c["id"] == asked.groups[0]), None)
        if found is None:
            return Answer(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})
        given = (asked.body or {}).get("properties")
        if not isinstance(given, dict) or set(asked.body) != {"properties"}:
            return Answer(400, {"status": "error", "category": "VALIDATION_ERROR"})
        for name, value in given.items():
            if name not in self.writable or not isinstance(value, str):
                return Answer(400, {"status": "error", "category": "VALIDATION_ERROR"})
            if name == "email" and value and "@" not in value:
                return Answer(400, {"status": "error", "category": "VALIDATION_ERROR"})
        found["properties"].update(given)
        return Answer(200, found)

    def _gdpr(self, asked: Asked) -> Answer:
        found = next((c for c in self.contacts if c["id"] == asked.body["objectId"]), None)
        if found is None:
            return Answer(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})
        self.contacts.remove(found)
        return Answer(204)

    def _owners(self, asked: Asked) -> Answer:
        mine = [o for o in self.owners if o["email"] == asked.query.get("email")]
        after, size = int(asked.query.get("after", "0")), int(asked.query.get("limit", "100"))
        paging = {}
        if after + size < len(mine):
            link = f"{self.url}/crm/v3/owners?email={asked.query['email']}&limit={size}"
            paging = {"next": {"after": str(after + size), "link": f"{link}&after={after + size}"}}
        return Answer(200, {"results": mine[after : after + size], "paging": paging})


def subscriber_hash(email: str) -> str:
    """Mailchimp's id for a member: the MD5 of the lower-cased address."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


def problem(status: int, title: str, detail: str) -> Answer:
    """Mailchimp's error body (RFC 7807 problem details)."""
    body = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "0f3e5c1a-8d2b-4c7e-9f1a-2b3c4d5e6f70",
    }
    return Answer(status, body, {"Content-Type": "application/problem+json"})


class MailchimpAPI(APIServer):
    """Mailchimp Marketing v3: basic auth (any user, the key as password), members by
    subscriber hash, notes paged by count/offset with total_items, delete-permanent,
    problem+json errors, 429 without Retry-After."""

    key = "0123456789abcdef0123456789abcdef-us21"
    audience = "a1b2c3d4e5"
    busy = problem(
        429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections."
    )
    not_found = problem(404, "Resource Not Found", "The requested resource could not be found.")

    def __init__(self) -> None:
        super().__init__()
        self.members = {
            subscriber_hash(e): {
                "id": subscriber_hash(e),
                "email_address": e,
                "full_name": name,
                "merge_fields": {"FNAME": name.split()[0], "LNAME": name.split()[1]},
                "status": "subscribed",
                "list_id": self.audience,
            }
            for e, name in (("Ada@Example.com", "Ada L"), (OTHER, "Bob M"))
        }
        self.notes = [
            {
                "id": 100 * n + i,
                "email_id": h,
                "note": f"Called about plan {i}",
                "list_id": self.audience,
            }
            for n, h in enumerate(self.members, start=1)
            for i in range(5)
        ]
        self.paged = f"/3.0/lists/{self.audience}/members/{subscriber_hash(PERSON)}/notes"
        member = r"/3.0/lists/(\w+)/members/(\w+)"
        self.route("GET", r"/3.0/lists/(\w+)")(self._authed(self._list))
        self.route("GET", member)(self._authed(self._member))
        self.route("PATCH", member)(self._authed(self._update))
        self.route("POST", member + "/actions/delete-permanent")(self._authed(self._delete))
        self.route("GET", member + "/notes")(self._authed(self._notes))
        self.route("DELETE", member + r"/notes/(\d+)")(self._authed(self._delete_note))

    def params(self) -> dict[str, Any]:
        return {
            "domain": "us21.api.mailchimp.com",
            "api_key": self.key,
            "list_id": self.audience,
            "page_size": 2,
        }

    def _authed(self, handler: Any) -> Any:
        def check(asked: Asked) -> Answer:
            given = asked.headers.get("Authorization", "").removeprefix("Basic ")
            try:
                _, key = base64.b64decode(given).decode().split(":", 1)
            except ValueError:
                key = ""
            if key != self.key:
                return problem(401, "API Key Invalid", "Your API key may be invalid.")
            if asked.groups and asked.groups[0] != self.audience:
                return self.not_found
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _list(self, asked: Asked) -> Answer:
        return Answer(200, {"id": self.audience, "name": "Customers"})

    def _member(self, asked: Asked) -> Answer:
        found = self.members.get(asked.groups[1])
        return Answer(200, found) if found else self.not_found

    def _update(self, asked: Asked) -> Answer:
        found = self.members.get(asked.groups[1])
        if found is None:
            return self.not_found
        for name, value in asked.body.items():
            if isinstance(value, dict):
                found.setdefault(name, {}).update(value)
            else:
                found[name] = value
        return Answer(200, found)

    def _delete(self, asked: Asked) -> Answer:
        if self.members.pop(asked.groups[1], None) is None:
            return self.not_found
        self.notes = [n for n in self.notes if n["email_id"] != asked.groups[1]]
        return Answer(204)

    def _notes(self, asked: Asked) -> Answer:
        if asked.groups[1] not in self.members:
            return self.not_found
        mine = [n for n in self.notes if n["email_id"] == asked.groups[1]]
        count, offset = int(asked.query.get("count", "10")), int(asked.query.get("offset", "0"))
        page = mine[offset : offset + count]
        return Answer(200, {"notes": page, "email_id": asked.groups[1], "total_items": len(mine)})

    def _delete_note(self, asked: Asked) -> Answer:
        found = next((n for n in self.notes if n["id"] == int(asked.groups[2])), None)
        if found is None or found["email_id"] != asked.groups[1]:
            return self.not_found
        self.notes.remove(found)
        return Answer(204)
