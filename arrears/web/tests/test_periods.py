"""Closed periods as Dave, the controller, and Erin, the admin, close and reopen them: on the
periods page, by the API and from the command line, one audited service behind all three; and
Alice, the coordinator, refused (issue 13, item 8).

Company A's book (access.tests.people) on March 26, 2026: Oscar's February rent and Tina's
March rent are unpaid. February has ended; March has not.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.cli import main
from arrears.ledger.models import PeriodEvent, Transaction
from arrears.web.tests.test_admin import as_, error_beside, page

pytestmark = pytest.mark.django_db


def call(tokens: dict[str, str], who: str, method: str, path: str, body: Any = None) -> Any:
    """The API, as `who` (by bearer token)."""
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens[who]}"}
    if method == "get":
        return Client().get(path, **bearer)
    return Client().post(path, json.dumps(body), content_type="application/json", **bearer)


def audit(verb: str) -> list[tuple[str, str, dict]]:
    return [(a.username, a.via, a.detail) for a in AuditEntry.objects.filter(verb=verb)]


def test_dave_closes_february_on_the_periods_page_and_it_is_on_the_audit_log(people):
    dave = as_(people["dave"])
    # given: nothing closed; the page offers February, the last month that has ended
    html = page(dave, "/periods/")
    assert "No month is closed." in html
    assert 'name="month" value="2026-02"' in html
    # when
    response = dave.post("/periods/", {"act": "close", "month": "2026-02"})
    # then: done, said, recorded and audited
    assert response.status_code == 302
    html = page(dave, "/periods/")
    assert "2026-02 closed." in html
    assert "The book is closed through 2026-02-28" in html
    (event,) = PeriodEvent.objects.all()
    assert (event.kind, event.actor, str(event.closed_through)) == ("close", "dave", "2026-02-28")
    assert audit("period.close") == [("dave", "web", {"month": "2026-02"})]


def test_a_close_the_rules_refuse_is_shown_beside_the_month_and_changes_nothing(people):
    erin = as_(people["erin"])
    # when: March has not ended on March 26
    response = erin.post("/periods/", {"act": "close", "month": "2026-03"})
    # then
    assert response.status_code == 422
    assert "2026-03 has not ended" in error_beside(response.content.decode(), "month")
    assert not PeriodEvent.objects.exists()
    assert not AuditEntry.objects.filter(verb="period.close").exists()


def test_reopening_on_the_page_needs_a_reason_and_is_audited_with_it(people):
    erin = as_(people["erin"])
    erin.post("/periods/", {"act": "close", "month": "2026-02"})
    # when: no reason
    response = erin.post("/periods/", {"act": "reopen", "month": "2026-02", "reason": ""})
    # then
    assert response.status_code == 422
    assert "say why" in error_beside(response.content.decode(), "reason")
    # when: with one
    reason = "Oscar's February check came back"
    response = erin.post("/periods/", {"act": "reopen", "month": "2026-02", "reason": reason})
    # then
    assert response.status_code == 302
    assert PeriodEvent.objects.latest("id").reason == reason
    assert audit("period.reopen") == [("erin", "web", {"month": "2026-02", "reason": reason})]
    assert "No month is closed." in page(erin, "/periods/")


def test_alice_the_coordinator_may_not_close_a_month_by_the_page_or_the_api(people, tokens):
    alice = as_(people["alice"])
    # when / then: the page is refused and not in her menu; Dave's menu has it
    assert alice.post("/periods/", {"act": "close", "month": "2026-02"}).status_code == 403
    assert 'href="/periods/"' not in page(alice, "/today/")
    assert 'href="/periods/"' in page(as_(people["dave"]), "/today/")
    # and the API says forbidden
    response = call(tokens, "alice", "post", "/api/periods/close", {"month": "2026-02"})
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert call(tokens, "alice", "get", "/api/periods").status_code == 403
    assert not PeriodEvent.objects.exists()


def test_the_api_closes_lists_and_reopens_in_order(people, tokens):
    # when: Dave closes February, then asks for March (not ended) and 2026-13
    closed = call(tokens, "dave", "post", "/api/periods/close", {"month": "2026-02"})
    early = call(tokens, "dave", "post", "/api/periods/close", {"month": "2026-03"})
    bad = call(tokens, "dave", "post", "/api/periods/close", {"month": "2026-13"})
    # then
    assert closed.status_code == 201, closed.content
    assert closed.json()["closed_through"] == "2026-02-28"
    assert (early.status_code, early.json()["code"]) == (409, "period_closed")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    listed = call(tokens, "dave", "get", "/api/periods").json()
    assert (listed["closed_through"], listed["first_open_day"]) == ("2026-02-28", "2026-03-01")
    assert [e["kind"] for e in listed["events"]] == ["close"]
    # when: Erin reopens it, saying why
    body = {"month": "2026-02", "reason": "late return"}
    reopened = call(tokens, "erin", "post", "/api/periods/reopen", body)
    # then
    assert reopened.status_code == 201
    assert reopened.json()["closed_through"] is None
    assert audit("period.close") == [("dave", "api", {"month": "2026-02"})]
    assert audit("period.reopen") == [
        ("erin", "api", {"month": "2026-02", "reason": "late return"})
    ]


def test_the_command_line_closes_reopens_and_lists_audited_under_its_user(
    people, capsys, monkeypatch
):
    # given
    monkeypatch.setenv("ARREARS_USER", "dave")
    # when
    assert main(["period", "close", "2026-02"]) == 0
    assert main(["period", "close", "2026-02"]) == 2
    refused = capsys.readouterr().err
    assert main(["period", "reopen", "2026-02", "--reason", "late return"]) == 0
    assert main(["period", "close", "2026-02"]) == 0
    capsys.readouterr()
    assert main(["period", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    # then
    assert refused.startswith("arrears period: 2026-02 is already closed")
    assert listed["closed_through"] == "2026-02-28"
    kinds = [(e["kind"], e["actor"]) for e in listed["events"]]
    assert kinds == [("close", "dave"), ("reopen", "dave"), ("close", "dave")]
    assert [via for _, via, _ in audit("period.close")] == ["cli", "cli"]
    assert audit("period.reopen") == [
        ("dave", "cli", {"month": "2026-02", "reason": "late return"})
    ]
    # and a month that is not one is refused before anything is asked of the book
    with pytest.raises(SystemExit):
        main(["period", "close", "Feb"])


def test_an_import_by_the_api_into_the_open_period_is_audited_so(people, tokens):
    # given: February closed; Oscar's February check, imported late
    call(tokens, "dave", "post", "/api/periods/close", {"month": "2026-02"})
    payment = (
        "txn_id,account_id,posted,type,amount\nPAY-OSCAR-02,A-OSCAR,2026-02-20,payment,950.00\n"
    )
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("transactions.csv", payment)

    def send(query: str = "") -> Any:
        file = SimpleUploadedFile("late.zip", upload.getvalue(), content_type="application/zip")
        bearer = f"Bearer {tokens['erin']}"
        return Client().post(f"/api/imports{query}", {"file": file}, HTTP_AUTHORIZATION=bearer)

    # when: as it stands
    refused = send()
    # then: refused, naming the line
    assert refused.status_code == 400, refused.content
    (problem,) = refused.json()["extra"]["problems"]
    assert (problem["line"], problem["column"]) == (2, "posted")
    assert "2026-02 is closed" in problem["reason"]
    # when: into the open period
    taken = send("?into_open_period=true")
    # then: posted on March 1, its own date kept, the option on the audit row
    assert taken.status_code == 201, taken.content
    assert "posted on 2026-03-01" in taken.json()["summary"]
    payment_row = Transaction.objects.get(txn_id="PAY-OSCAR-02")
    assert str(payment_row.posted_on) == "2026-03-01"
    assert payment_row.extra == {"x_original_posted": "2026-02-20"}
    (row,) = AuditEntry.objects.filter(verb="import")
    assert row.detail["into_open_period"] is True
