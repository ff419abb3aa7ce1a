"""Schemathesis hooks for tests/web/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import schemathesis

PROBLEM = "application/problem+json"


@schemathesis.check
def errors_are_problems(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """An answer of 400 or more says what went wrong as an RFC 9457 problem document."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith(PROBLEM):
        raise AssertionError(
            f"{response.status_code} answered as {content_type or 'no content type'}, not {PROBLEM}"
        )
    return True
