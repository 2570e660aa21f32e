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

from arrears.access.acting import By
from arrears.access.acts_subscriptions import subscription_add
from arrears.access.assignments import Target, assignment_set, coverage_add
from arrears.access.models import ApiToken
from arrears.access.services import token_issue
from arrears.access.tests.people import OPERATOR, TODAY
from arrears.correspondence.archive import archive_store
from arrears.correspondence.statements import statement_pdf
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.dunning.services import cycle_run, hold_place
from arrears.legal.models import Referral
from arrears.web.tests.conftest import triage_message

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


def _fill(route: str, ids: dict[str, int]) -> str:
    route = re.sub(r"<(?:str:)?account_id>|\{account_id\}", "A-TINA", route)
    for name in (
        "hold_id",
        "plan_id",
        "dispute_id",
        "document_id",
        "inbound_id",
        "user_id",
        "token_id",
        "coverage_id",
        "case_id",
        "settlement_id",
        "subscription_id",
        "line_id",  # a bank line (none in company A's book: 0)
    ):
        route = re.sub(rf"<int:{name}>|\{{{name}\}}", str(ids.get(name, 0)), route)
    for name, value in (
        ("property_id", "ELM"),
        ("party_id", "P-TINA"),
        ("policy", "ny-residential"),
        ("template", "ny-late-rent-notice"),
        ("language", "es"),
        ("refund_id", "RF-0"),
        ("batch", "RB-20260326-1"),
        ("name", "over-60"),  # a report of the registry (/reports/<name>/, /api/reports/{name})
        ("fmt", "csv"),
    ):
        route = re.sub(rf"<(?:str:)?{name}>|\{{{name}\}}", value, route)
    assert "<" not in route, route
    assert "{" not in route, route
    return "/" + route


@pytest.fixture
def company_a(people, tmp_path):
    """Company A's day: the runs, a hold, a plan, a dispute, a statement and a printed batch in
    the archive, and a message in triage; the ids fill the routes' path parameters."""
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    cycle_run(on=date(2026, 3, 26), actor="cycle")
    hold = hold_place(
        account_id="A-TINA",
        reason="dispute",
        on=date(2026, 3, 20),
        actor="alice",
        until=date(2026, 3, 30),
    )
    plan = plan_create(
        account_id="A-OSCAR", on=TODAY, actor="alice", start=date(2026, 4, 1), installments=2
    )
    dispute = dispute_open(account_id="A-TINA", reason="the rent was paid", on=TODAY, actor="alice")
    statement = statement_pdf(account_id="A-TINA", as_of=TODAY, actor="alice")
    printed = archive_store(
        data=b"%PDF-1.4 company A's print file",
        name="print/2026/03/26/p.pdf",
        kind="print",
        content_type="application/pdf",
    )
    inbound = triage_message()
    assignment_set(username="alice", target=Target("account", "A-TINA"), on=TODAY, actor="erin")
    coverage = coverage_add(
        out="alice", backup="erin", starts_on=TODAY, ends_on=TODAY, note="", on=TODAY, actor="erin"
    )
    token_issue(username="alice", actor=OPERATOR, via="system")
    token = ApiToken.objects.get(user=people["alice"])
    subscription = subscription_add(
        by=By(OPERATOR, "system"),
        report="over-60",
        recipients=["alice"],
        every="daily",
        format="csv",
    )
    return {
        "token_id": token.pk,
        "hold_id": hold.pk,
        "plan_id": plan.pk,
        "dispute_id": dispute.pk,
        "document_id": printed.pk,
        "inbound_id": inbound.pk,
        "user_id": people["alice"].pk,
        "coverage_id": coverage.pk,
        "case_id": Referral.objects.get(account__account_id="A-OSCAR").pk,
        "subscription_id": subscription.pk,
        "statement": statement.document.name,
    }


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
            data = {"text": "x", "reason": "manual"}
            if "documents" in path:  # the statement's name only where it is asked for
                data["name"] = company_a["statement"]
            seen = getattr(mallory, method)(path, data)
            assert _refused_or_empty(seen), (method, path, seen.status_code)
    # and the same pages do show company A's accounts to its coordinator
    alice = Client()
    alice.force_login(people["alice"])
    assert "A-TINA" in alice.get("/today/").content.decode()


def test_every_api_route_refuses_a_stranger_and_shows_mallory_nothing_of_company_a(company_a):
    schema = Client().get("/api/openapi.json").json()
    token = token_issue(username="mallory", actor=OPERATOR, via="system")
    operations = [(path, method) for path, item in schema["paths"].items() for method in item]
    assert len(operations) >= 12, operations
    for path, method in operations:
        url = _fill(path.lstrip("/"), company_a)
        client = Client()
        call = getattr(client, method)
        anonymous = call(url, content_type="application/json") if method == "post" else call(url)
        assert anonymous.status_code == 401, (method, url, anonymous.content)
        assert set(anonymous.json()) == {"code", "message", "extra"}
        body = {
            "text": "x",
            "reason": "manual",
            "firm": "Evil LLP",
            "dry_run": True,
            "party_id": "P-TINA",
            "outcome": "promise",
            "amount": "10.00",
            "promised_on": "2026-04-01",
            "start": "2026-04-01",
            "installments": 2,
            "template": "late-notice",
            "channel": "letter",
        }
        seen = (
            call(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
            if method == "post"
            else call(
                url,
                {"q": "Ortiz", **({"name": company_a["statement"]} if "documents" in url else {})},
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
        )
        assert _refused_or_empty(seen), (method, url, seen.status_code, seen.content[:300])
        if seen.status_code >= 400:
            assert set(seen.json()) == {"code", "message", "extra"}, (method, url)


def test_an_archived_document_is_given_only_to_those_who_may_see_its_account(company_a, people):
    # given a statement of A-TINA (Elm Court) in the archive
    name = company_a["statement"]
    path = f"/accounts/A-TINA/documents/?name={name}"
    # when each asks for it, then only those who see A-TINA get its bytes
    for who, status in (
        ("alice", 200),
        ("bob", 200),
        ("dave", 200),
        ("carol", 404),
        ("mallory", 404),
    ):
        client = Client()
        client.force_login(people[who])
        response = client.get(path)
        assert response.status_code == status, who
        if status == 200:
            assert response.content.startswith(b"%PDF"), who
    # and asked under another account's id (one Bob may see), a document is not found either
    alice = Client()
    alice.force_login(people["alice"])
    assert alice.get(f"/accounts/A-OSCAR/documents/?name={name}").status_code == 404
    assert Client().get(path).status_code == 302
    # Carol (Hale & Co) gets the case documents of A-OSCAR, referred to her firm; Bob does not
    oscar = statement_pdf(account_id="A-OSCAR", as_of=TODAY, actor="alice").document.name
    for who, status in (("carol", 200), ("bob", 404), ("mallory", 404)):
        client = Client()
        client.force_login(people[who])
        assert client.get(f"/accounts/A-OSCAR/documents/?name={oscar}").status_code == status, who
