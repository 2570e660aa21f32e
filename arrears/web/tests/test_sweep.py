"""The sweep: every page and every API route, asked by someone not signed in and by Mallory
(a manager of another company's building), is refused or shows nothing of company A's.

The routes are not listed by hand: the pages come from Django's URL resolver and the API's from
its OpenAPI schema, so a route added later is swept too.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from arrears.access.services import token_issue
from arrears.dunning.services import cycle_run, hold_place

pytestmark = pytest.mark.django_db

# Open to anyone by design: the sign-in page, the language switch, the API's schema and docs.
PUBLIC = {"signin/", "signout/", "i18n/setlang/", "api/openapi.json", "api/docs"}
# What must never show to Mallory: company A's accounts, people and amounts.
SECRETS = (
    "A-TINA",
    "A-OSCAR",
    "Tina Ortiz",
    "Oscar Diaz",
    "Elm Court",
    "Oak Terrace",
    "1,200.00",
    "1200.00",
    "950.00",
)


def _web_routes(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            if route.startswith("api/"):
                continue  # swept from the OpenAPI schema below
            yield from _web_routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route.lstrip("^").rstrip("$")


def _fill(route: str, hold_id: int) -> str:
    route = re.sub(r"<(?:str:)?account_id>|\{account_id\}", "A-TINA", route)
    route = re.sub(r"<int:hold_id>|\{hold_id\}", str(hold_id), route)
    assert "<" not in route, route
    assert "{" not in route, route
    return "/" + route


@pytest.fixture
def company_a(people):
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    cycle_run(on=date(2026, 3, 26), actor="cycle")
    return hold_place(
        account_id="A-TINA",
        reason="dispute",
        on=date(2026, 3, 20),
        actor="alice",
        until=date(2026, 3, 30),
    ).pk


def _refused_or_empty(response) -> bool:
    if response.status_code in (302, 401, 403, 404, 405):
        return True
    body = response.content.decode(errors="replace")
    return response.status_code < 500 and not any(s in body for s in SECRETS)


def test_every_page_refuses_a_stranger_and_shows_mallory_nothing_of_company_a(company_a, people):
    routes = [r for r in _web_routes() if r not in PUBLIC and not r.startswith("static")]
    assert len(routes) >= 8, routes
    mallory = Client()
    mallory.force_login(people["mallory"])
    for route in routes:
        path = _fill(route, company_a)
        for method in ("get", "post"):
            anonymous = getattr(Client(), method)(path)
            assert anonymous.status_code in (302, 401, 405), (method, path, anonymous)
            if anonymous.status_code == 302:
                assert anonymous["Location"].startswith("/signin/"), (method, path)
            seen = getattr(mallory, method)(path, {"text": "x", "reason": "manual"})
            assert _refused_or_empty(seen), (method, path, seen.status_code)
    # and the same pages do show company A's accounts to its coordinator
    alice = Client()
    alice.force_login(people["alice"])
    assert "A-TINA" in alice.get("/today/").content.decode()


def test_every_api_route_refuses_a_stranger_and_shows_mallory_nothing_of_company_a(company_a):
    schema = Client().get("/api/openapi.json").json()
    token = token_issue(username="mallory")
    operations = [(path, method) for path, item in schema["paths"].items() for method in item]
    assert len(operations) >= 12, operations
    for path, method in operations:
        url = _fill(path.lstrip("/"), company_a)
        client = Client()
        call = getattr(client, method)
        anonymous = call(url, content_type="application/json") if method == "post" else call(url)
        assert anonymous.status_code == 401, (method, url, anonymous.content)
        assert set(anonymous.json()) == {"code", "message", "extra"}
        body = {"text": "x", "reason": "manual", "firm": "Evil LLP", "dry_run": True}
        seen = (
            call(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
            if method == "post"
            else call(url, {"q": "Ortiz"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        )
        assert _refused_or_empty(seen), (method, url, seen.status_code, seen.content[:300])
        if seen.status_code >= 400:
            assert set(seen.json()) == {"code", "message", "extra"}, (method, url)
