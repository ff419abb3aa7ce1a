"""The interactive API reference at /api/docs: Swagger UI served from the installed package.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script; Rightful's
Content-Security-Policy allows neither, and a CDN is out of reach offline. The assets come from
the `fastapi-offline` package (docs/decisions/0007) and the page starts them with a script file
of ours, so the policy stays `script-src 'self'`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{root}{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{root}{openapi_url}">
    <noscript>The API reference needs JavaScript; the OpenAPI document is at
      <a href="{root}{openapi_url}">{root}{openapi_url}</a>.</noscript>
  </div>
  <script src="{root}{assets}/swagger-ui-bundle.js"></script>
  <script src="{root}/static/api-docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve the reference page and its assets; call with FastAPI's own docs_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="api-docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI over this app's OpenAPI document."""
        root = escape(str(request.scope.get("root_path", "")))
        return HTMLResponse(
            PAGE.format(
                title=escape(f"{app.title} reference"),
                root=root,
                assets=ASSETS_URL,
                openapi_url=escape(app.openapi_url or ""),
            )
        )
