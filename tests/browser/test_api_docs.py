"""The interactive API reference at /api/docs, in a real Chromium with no network but loopback.

The page must work under Rightful's own Content-Security-Policy (no inline script) and load
nothing from another host: a CDN is neither allowed by that policy nor reachable offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.live import LiveRightful

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser

# Runs before the page's own scripts; Playwright injects it past the page's CSP.
_RECORD_CSP_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));
"""


def test_the_api_reference_lists_the_operations_offline_with_no_csp_violation(
    live_rightful: LiveRightful, page: Page
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(live_rightful.base_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.add_init_script(_RECORD_CSP_VIOLATIONS)
    response = page.goto(live_rightful.url("/api/docs"))
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    path = page.locator('[data-path="/api/v1/rights-requests"]')
    operation = page.locator(".opblock-post", has=path)
    expect(operation).to_be_visible(timeout=15_000)
    expect(operation).to_contain_text("POST")
    operation.locator(".opblock-summary").first.click()  # it opens: the UI is live, not a picture
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()

    assert page.evaluate("window.__csp") == []
    assert errors == []
    assert elsewhere == []
