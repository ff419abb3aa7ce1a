"""A small users-and-orders API (and its config in the peer's format) for the HTTP tests."""

from __future__ import annotations

from typing import Any

from rightful.connectors.contract import ROWS
from tests.connectors.apiserver import Answer, APIServer, Asked, page_after

API_KEY = "k-123-secret"

CONFIG = """
saas_config:
  fides_key: <instance_fides_key>
  name: Users API
  type: users_api
  description: A users and orders API, written in the peer's SaaS config format.
  version: 0.0.1
  connector_params:
    - name: host
    - name: api_key
      sensitive: true
    - name: page_size
      default_value: 2
  client_config:
    protocol: https
    host: <host>
    authentication:
      strategy: api_key
      configuration:
        headers:
          - name: X-Api-Key
            value: <api_key>
  test_request:
    method: GET
    path: /health
  endpoints:
    - name: user
      requests:
        read:
          - method: GET
            path: /users
            query_params:
              - name: email
                value: <email>
              - name: limit
                value: <limit>
            param_values:
              - name: email
                identity: email
              - name: limit
                connector_param: page_size
            data_path: data
            pagination:
              strategy: cursor
              configuration:
                cursor_param: starting_after
                field: id
          - method: GET
            path: /users/<user_id>
            param_values:
              - name: user_id
                references:
                  - dataset: <instance_fides_key>
                    field: user.id
                    direction: from
        update:
          method: PATCH
          path: /users/<user_id>
          body: '{<masked_object_fields>}'
          param_values:
            - name: user_id
              references:
                - dataset: <instance_fides_key>
                  field: user.id
                  direction: from
        delete:
          method: DELETE
          path: /users/<user_id>
          param_values:
            - name: user_id
              references:
                - dataset: <instance_fides_key>
                  field: user.id
                  direction: from
    - name: order
      requests:
        read:
          method: GET
          path: /orders
          query_params:
            - name: user
              value: <user_id>
            - name: limit
              value: <limit>
          param_values:
            - name: user_id
              references:
                - dataset: <instance_fides_key>
                  field: user.id
                  direction: from
            - name: limit
              connector_param: page_size
          data_path: data
          pagination:
            strategy: cursor
            configuration:
              cursor_param: starting_after
              field: id
              has_next: has_more
        delete:
          method: DELETE
          path: /orders/<order_id>
          param_values:
            - name: order_id
              references:
                - dataset: <instance_fides_key>
                  field: order.id
                  direction: from
"""

DATASET = {
    "fides_key": "users_api",
    "name": "Users API",
    "collections": [
        {
            "name": "user",
            "fields": [
                {
                    "name": "id",
                    "data_categories": ["user.unique_id"],
                    "fides_meta": {"primary_key": True, "data_type": "integer"},
                },
                {"name": "email", "data_categories": ["user.contact.email"]},
                {"name": "order", "data_categories": ["system.operations"]},
                {"name": "select", "data_categories": ["system.operations"]},
            ],
        },
        {
            "name": "order",
            "fields": [
                {
                    "name": "id",
                    "data_categories": ["system.operations"],
                    "fides_meta": {"primary_key": True},
                },
                {"name": "user", "data_categories": ["user.unique_id"]},
                {"name": "item", "data_categories": ["user.behavior.purchase_history"]},
            ],
        },
    ],
}


class UsersAPI(APIServer):
    """Users searchable by e-mail, each with orders; answers like a typical REST API."""

    def __init__(self, orders_per_user: int = 5) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = [dict(r) for r in ROWS]
        self.orders: list[dict[str, Any]] = [
            {"id": f"o{u['id']}-{n}", "user": u["id"], "item": f"item {n}"}
            for u in self.users
            for n in range(orders_per_user)
        ]
        self.route("GET", "/health")(self._authed(lambda a: Answer(200, {"ok": True})))
        self.route("GET", "/users")(self._authed(self._search))
        self.route("GET", r"/users/(\d+)")(self._authed(self._one))
        self.route("PATCH", r"/users/(\d+)")(self._authed(self._update))
        self.route("DELETE", r"/users/(\d+)")(self._authed(self._delete))
        self.route("GET", "/orders")(self._authed(self._orders))
        self.route("DELETE", r"/orders/([\w-]+)")(self._authed(self._delete_order))

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Connection settings for this server, with near-zero waits."""
        return {
            "config": CONFIG,
            "params": {"host": "unused.example", "api_key": API_KEY},
            "base_url": self.url,
            "backoff_seconds": 0.001,
            "max_wait_seconds": 0.01,
            **extra,
        }

    @staticmethod
    def _authed(handler: Any) -> Any:
        def check(asked: Asked) -> Answer:
            if asked.headers.get("X-Api-Key") != API_KEY:
                return Answer(401, {"error": {"message": "Invalid API key"}})
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _find(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if str(u["id"]) == user_id), None)

    def _search(self, asked: Asked) -> Answer:
        email = asked.query.get("email")
        found = [u for u in self.users if u["email"] == email]
        limit = int(asked.query.get("limit", "10"))
        chunk, _ = page_after(found, asked.query.get("starting_after"), limit)
        return Answer(200, {"object": "list", "data": chunk})

    def _one(self, asked: Asked) -> Answer:
        user = self._find(asked.groups[0])
        if user is None:
            return Answer(404, {"error": {"message": f"No such user: {asked.groups[0]}"}})
        return Answer(200, user)

    def _update(self, asked: Asked) -> Answer:
        user = self._find(asked.groups[0])
        if user is None:
            return Answer(404, {"error": {"message": "No such user"}})
        user.update(asked.body or {})
        return Answer(200, user)

    def _delete(self, asked: Asked) -> Answer:
        user = self._find(asked.groups[0])
        if user is None:
            return Answer(404, {"error": {"message": "No such user"}})
        self.users.remove(user)
        return Answer(200, {"id": user["id"], "deleted": True})

    def _orders(self, asked: Asked) -> Answer:
        mine = [o for o in self.orders if str(o["user"]) == asked.query.get("user")]
        limit = int(asked.query.get("limit", "10"))
        chunk, more = page_after(mine, asked.query.get("starting_after"), limit)
        return Answer(200, {"object": "list", "data": chunk, "has_more": more})

    def _delete_order(self, asked: Asked) -> Answer:
        order = next((o for o in self.orders if o["id"] == asked.groups[0]), None)
        if order is None:
            return Answer(404, {"error": {"message": "No such order"}})
        self.orders.remove(order)
        return Answer(200, {"deleted": True})
