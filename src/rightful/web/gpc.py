"""Global Privacy Control as it reaches Rightful's own pages: the `Sec-GPC: 1` header."""

from __future__ import annotations

from fastapi import Request


def gpc_signal(request: Request) -> bool:
    """True when the browser sends a Global Privacy Control opt-out."""
    return request.headers.get("sec-gpc", "").strip() == "1"
