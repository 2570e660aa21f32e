"""The Content-Security-Policy (issue 13, item 4): every response carries it, and no page breaks it.

In Chromium, Erin (the admin, who may open every page) goes through the workspace with a listener
on every `securitypolicyviolation` event and every console message: the sign-in page, Today, the
portfolio with its chart (htmx), an account with its forms (a note added and one refused, both by
htmx; a notice previewed; a plan proposed), search as you type, letters, mail triage, every admin
page, the same pages in Spanish after choosing it in the header's menu, and the API's docs. Not
one violation. The policy itself is asked of every route the URL resolver knows.
"""

from __future__ import annotations

import pytest
from django.test import Client

from arrears.web.tests.test_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    browser,
    day_of_work,
    page,
    shot,
    sign_in,
)
from arrears.web.tests.test_sweep import _fill, _web_routes, company_a  # noqa: F401 - fixture

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# The one page another page frames: a notice's preview, the letter's PDF shown on the account
# page (its own, same origin).
FRAMED = {"/accounts/A-TINA/notices/preview/": {"frame-ancestors": "'self'"}}

# Reports each violation to the test, from every document the tab loads (an init script runs
# before the page's own and is not subject to its policy).
WATCH = """document.addEventListener("securitypolicyviolation", (e) => window.cspViolation(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
    + ` on ${document.location.pathname}`));"""


# The pages besides Today, the portfolio, an account and search ("{erin}": Erin's own user id);
# test_browser_reach.py walks them too.
PAGES = [
    "/letters/",
    "/mail/triage/",
    "/admin/users/",
    "/admin/users/{erin}/",
    "/admin/properties/",
    "/admin/properties/ELM/",
    "/admin/policies/",
    "/admin/policies/ny-residential/",
    "/admin/templates/",
    "/admin/templates/ny-late-rent-notice/es/?account_id=A-TINA",
    "/admin/audit/",
    "/admin/audit/?verb=signin",
]


def _directives(header: str) -> dict[str, str]:
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip())


@pytest.mark.django_db
def test_every_route_answers_with_the_policy(people, company_a):  # noqa: F811
    # given: Erin, the admin, and the routes the URL resolver knows, filled with company A's ids
    client = Client(raise_request_exception=False)
    client.force_login(people["erin"])
    routes = [_fill(route, company_a) for route in _web_routes()]
    assert len(routes) > 30
    for path in [*routes, "/api/docs", "/api/openapi.json", "/no-such-page/"]:
        # when she asks for each
        response = client.get(path)
        # then each answer carries the whole policy, whatever its status or type
        header = response.headers.get("Content-Security-Policy", "")
        assert header, f"{path}: {response.status_code} without a policy"
        directives = _directives(header)
        for name, value in {**POLICY, **FRAMED.get(path.split("?")[0], {})}.items():
            assert directives.get(name) == value, (path, header)


def _violations(tab) -> list[str]:
    seen: list[str] = []
    tab.expose_function("cspViolation", lambda text: seen.append(text))
    tab.add_init_script(WATCH)
    tab.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else 0)
    return seen


def _account_forms(tab, base: str, note: str) -> None:
    """A-TINA's page: its htmx parts loaded, `note` added, an empty one refused, a notice
    previewed, a plan proposed."""
    tab.goto(f"{base}/accounts/A-TINA/")
    tab.locator("#commitments h2").first.wait_for()  # loaded by htmx
    tab.click("details.act-note > summary")
    tab.fill("form.note-form textarea[name=text]", note)
    tab.click("form.note-form button[type=submit]")
    tab.locator("table.timeline").get_by_text(note).wait_for()
    tab.click("details.act-note > summary")
    tab.fill("form.note-form textarea[name=text]", "   ")
    tab.click("form.note-form button[type=submit]")
    tab.locator("#messages [role=alert]").wait_for()  # a refusal (422) in the message region
    tab.click("details.act-notice > summary")
    tab.select_option("form.notice-form select[name=notice]", "ny-rent-reminder|P-TINA")
    tab.click("form.notice-form button[hx-get]")
    tab.locator("#notice-preview section, #notice-preview [role=alert]").first.wait_for()
    tab.click("details.act-plan > summary")
    proposal = tab.locator("form.propose-form")
    proposal.locator("input[name=income]").fill("3500")
    proposal.locator("button").first.click()
    tab.locator("#plan-proposal *").first.wait_for()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
def test_no_page_breaks_the_content_security_policy(live_server, page, day_of_work):  # noqa: F811
    base = live_server.url
    violations = _violations(page)
    erin = day_of_work["erin"]
    # given: Erin signs in
    sign_in(page, base, "erin")
    # when she goes through the workspace: Today, the portfolio with its chart, an account's
    # forms, search as you type, letters, mail triage, every admin page
    page.locator("#worklist").wait_for()
    page.goto(f"{base}/?as_of=2026-03-26")
    page.locator("#chart svg").first.wait_for()
    _account_forms(page, base, "Called Tina")
    page.goto(f"{base}/search/")
    page.fill("form.search input[name=q]", "ortiz")
    page.locator("#results").get_by_role("link", name="A-TINA").wait_for()
    for path in [p.replace("{erin}", str(erin.pk)) for p in PAGES]:
        answer = page.goto(base + path)
        assert answer.status == 200, path
    # and she chooses Spanish in the header's menu and presses its button
    page.goto(f"{base}/today/")
    page.select_option("form.lang select[name=language]", "es")
    page.click("form.lang button[type=submit]")
    page.wait_for_function("document.documentElement.lang === 'es'")
    assert "Hoy" in page.locator("header nav").inner_text()
    for path in ["/today/", "/?as_of=2026-03-26", "/letters/", "/admin/users/"]:
        page.goto(base + path)
    _account_forms(page, base, "Llamé a Tina")
    shot(page, "account-es-csp")
    # and opens the API's docs
    page.goto(f"{base}/api/docs")
    page.locator(".swagger-ui .info").wait_for()
    # then no page broke the policy (a violation's event comes after it, as a task of its own)
    page.evaluate("new Promise((done) => setTimeout(done))")
    assert violations == []
