"""Addresses Rightful sends personal data to: https, unless the operator allows plain http."""

from __future__ import annotations

from urllib.parse import urlsplit

HTTP_SETTING = "RIGHTFUL_ALLOW_HTTP_WEBHOOKS"


def webhook_problem(url: str, *, allow_http: bool) -> str | None:
    """Why a webhook address cannot be used (no host, not http(s), plain http not allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an https:// address"
    if parts.scheme == "http" and not allow_http:
        return (
            "must be an https:// address: plain http would send personal data unencrypted "
            f"(allowed only in demo mode or with {HTTP_SETTING}=true)"
        )
    return None
