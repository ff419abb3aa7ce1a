"""A CRM-like API in the style of the peer's configs: OAuth2, search by POST body, link and
offset pagination, a filter postprocessor."""

from __future__ import annotations

from itertools import count
from typing import Any

from tests.connectors.apiserver import Answer, APIServer, Asked

CONFIG = """
saas_config:
  fides_key: <instance_fides_key>
  name: CRM
  type: crm
  description: A CRM reached with OAuth2 client credentials.
  user_guide: https://example.com/guide
  version: 0.0.3
  replaceable: false
  connector_params:
    - name: domain
      default_value: api.crm.example
    - name: client_id
    - name: client_secret
      sensitive: true
  client_config:
    protocol: https
    host: <domain>
    authentication:
      strategy: oauth2_client_credentials
      configuration:
        expires_in: 3600
        token_request:
          method: POST
          path: /oauth/token
          headers:
            - name: Content-Type
              value: application/x-www-form-urlencoded
          body: |
            {
              "grant_type": "client_credentials",
              "client_id": "<client_id>",
              "client_secret": "<client_secret>"
            }
  test_request:
    method: GET
    path: /owners
  endpoints:
    - name: contacts
      requests:
        read:
          method: POST
          path: /contacts/search
          body: |
            {"filters": [{"property": "email", "value": "<email>"}]}
          param_values:
            - name: email
              identity: email
          data_path: results
          pagination:
            strategy: link
            configuration:
              source: body
              path: paging.next.link
        update:
          method: PATCH
          path: /contacts/<contact_id>
          body: |
            {"properties": {<masked_object_fields>}}
          param_values:
            - name: contact_id
              references:
                - dataset: <instance_fides_key>
                  field: contacts.id
                  direction: from
    - name: owners
      requests:
        read:
          method: GET
          path: /owners
          param_values:
            - name: placeholder
              identity: email
          data_path: results
          postprocessors:
            - strategy: filter
              configuration:
                field: email
                value:
                  identity: email
                case_sensitive: false
          pagination:
            strategy: link
            configuration:
              source: headers
              rel: next
    - name: notes
      after: [<instance_fides_key>.contacts]
      requests:
        read:
          method: GET
          path: /contacts/<contact_id>/notes
          query_params:
            - name: offset
              value: 0
            - name: count
              value: 2
          param_values:
            - name: contact_id
              references:
                - dataset: <instance_fides_key>
                  field: contacts.id
                  direction: from
          data_path: notes
          postprocessors:
            - strategy: unwrap
              configuration:
                data_path: note
          pagination:
            strategy: offset
            configuration:
              incremental_param: offset
              increment_by: 2
              limit: 100
  consent_requests:
    opt_out:
      - method: POST
        path: /unsubscribe
"""

DATASET: dict[str, Any] = {
    "fides_key": "crm",
    "name": "CRM",
    "collections": [
        {
            "name": "contacts",
            "fields": [
                {
                    "name": "id",
                    "data_categories": ["user.unique_id"],
                    "fides_meta": {"primary_key": True},
                },
                {
                    "name": "properties",
                    "data_categories": ["user"],
                    "fields": [
                        {"name": "email", "data_categories": ["user.contact.email"]},
                        {"name": "firstname", "data_categories": ["user.name"]},
                    ],
                },
            ],
        },
        {
            "name": "owners",
            "fields": [
                {"name": "id", "data_categories": ["system.operations"]},
                {"name": "email", "data_categories": ["user.contact.email"]},
            ],
        },
        {
            "name": "notes",
            "fields": [
                {"name": "id", "data_categories": ["system.operations"]},
                {"name": "text", "data_categories": ["user"]},
            ],
        },
    ],
}

CLIENT_ID, CLIENT_SECRET = "crm-client", "crm-secret-xyz"

# The same API reached with a refresh token obtained once by the authorization-code flow.
REFRESH_AUTH = """    authentication:
      strategy: oauth2_authorization_code
      configuration:
        authorization_request:
          method: GET
          path: /oauth/authorize
          query_params:
            - name: client_id
              value: <client_id>
        token_request:
          method: POST
          path: /oauth/token
          headers:
            - name: Content-Type
              value: application/x-www-form-urlencoded
          body: '{"grant_type": "authorization_code", "code": "<code>"}'
        refresh_request:
          method: POST
          path: /oauth/token
          headers:
            - name: Content-Type
              value: application/x-www-form-urlencoded
          body: |
            {
              "grant_type": "refresh_token",
              "refresh_token": "<refresh_token>",
              "client_id": "<client_id>",
              "client_secret": "<client_secret>"
            }
"""


def refresh_config() -> str:
    """CONFIG with the refresh-token authentication instead of client credentials."""
    start = CONFIG.index("    authentication:")
    end = CONFIG.index("  test_request:")
    return CONFIG[:start] + REFRESH_AUTH + CONFIG[end:]


class CRMAPI(APIServer):
    """Tokens expire when `expire_tokens()` is called; old ones are then refused with 401."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.issued = count(1)
        self.token_requests: list[dict[str, Any]] = []
        self.refresh_tokens = {"r0"}
        self.contacts = [
            {"id": str(n), "properties": {"email": f"p{n % 3}@example.com", "firstname": f"P{n}"}}
            for n in range(1, 8)
        ]
        self.owners = [{"id": f"w{n}", "email": f"Owner{n}@Example.com"} for n in range(5)]
        self.notes = {
            c["id"]: [{"note": {"id": f"{c['id']}-{k}", "text": f"note {k}"}} for k in range(5)]
            for c in self.contacts
        }
        self.route("POST", "/oauth/token")(self._token)
        self.route("POST", "/contacts/search")(self._authed(self._search))
        self.route("PATCH", r"/contacts/(\w+)")(self._authed(self._update))
        self.route("GET", "/owners")(self._authed(self._owners))
        self.route("GET", r"/contacts/(\w+)/notes")(self._authed(self._notes))

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Connection settings for this server."""
        return {
            "config": CONFIG,
            "params": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            "base_url": self.url,
            "backoff_seconds": 0,
            **extra,
        }

    def expire_tokens(self) -> None:
        """Every token issued so far stops working."""
        self.tokens.clear()

    def _token(self, asked: Asked) -> Answer:
        self.token_requests.append(asked.body)
        body = asked.body or {}
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return Answer(401, {"error": "invalid_client"})
        n = next(self.issued)
        token = f"t{n}"
        answer = {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        if body.get("grant_type") == "refresh_token":
            # Refresh tokens rotate: each works once.
            if body.get("refresh_token") not in self.refresh_tokens:
                return Answer(400, {"error": "invalid_grant"})
            self.refresh_tokens.remove(body["refresh_token"])
            answer["refresh_token"] = f"r{n}"
            self.refresh_tokens.add(f"r{n}")
        self.tokens.add(token)
        return Answer(200, answer)

    def _authed(self, handler: Any) -> Any:
        def check(asked: Asked) -> Answer:
            given = asked.headers.get("Authorization", "").removeprefix("Bearer ")
            if given not in self.tokens:
                return Answer(401, {"message": "expired token"})
            return handler(asked)  # type: ignore[no-any-return]

        return check

    def _search(self, asked: Asked) -> Answer:
        wanted = asked.body["filters"][0]["value"]
        found = [c for c in self.contacts if c["properties"]["email"] == wanted]
        after = int(asked.query.get("after", "0"))
        chunk = found[after : after + 2]
        paging = {}
        if after + 2 < len(found):
            paging = {"next": {"link": f"{self.url}/contacts/search?after={after + 2}"}}
        return Answer(200, {"results": chunk, "paging": paging})

    def _update(self, asked: Asked) -> Answer:
        contact = next((c for c in self.contacts if c["id"] == asked.groups[0]), None)
        if contact is None:
            return Answer(404, {"message": "not found"})
        contact["properties"].update(asked.body["properties"])
        return Answer(200, contact)

    def _owners(self, asked: Asked) -> Answer:
        page = int(asked.query.get("page", "0"))
        chunk = self.owners[page * 2 : page * 2 + 2]
        headers = {}
        if page * 2 + 2 < len(self.owners):
            headers["Link"] = f'</owners?page={page + 1}>; rel="next"'
        return Answer(200, {"results": chunk}, headers)

    def _notes(self, asked: Asked) -> Answer:
        notes = self.notes.get(asked.groups[0], [])
        offset, size = int(asked.query["offset"]), int(asked.query["count"])
        return Answer(200, {"notes": notes[offset : offset + size]})
