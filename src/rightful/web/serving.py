"""How `rightful serve` runs uvicorn, in one place the tests' live server uses too."""

from __future__ import annotations

from typing import Any

# uvicorn itself believes X-Forwarded-For from any local peer (FORWARDED_ALLOW_IPS defaults to
# 127.0.0.1) and rewrites the client's address before Rightful sees it, so anything on the
# machine could pose as any client. Rightful reads the header itself, and only from the proxies
# in RIGHTFUL_TRUSTED_PROXIES (web/client.py).
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False}
