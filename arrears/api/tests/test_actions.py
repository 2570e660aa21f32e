"""The API's account actions: calls, promises, plans, disputes, statements, notices, documents,
as Alice (coordinator) on Tina Ortiz's account (A-TINA) on March 26, 2026; Bob (Elm Court's
manager) is refused every change; a contact the guard refuses is a 409 with its rule."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.tests.people import TODAY
from arrears.correspondence.models import Outbound
from arrears.dunning.services import hold_place
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db
TINA = "/api/accounts/A-TINA"


def call(tokens, who, method, path, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[who]}"}
    if method == "get":
        return Client().get(path, body or {}, **headers)
    return Client().post(path, json.dumps(body or {}), content_type="application/json", **headers)


def test_a_call_is_logged_and_one_made_at_night_is_recorded_with_the_guards_warning(tokens):
    ok = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/calls",
        {"party_id": "P-TINA", "outcome": "left-message", "at": "2026-03-26T11:00"},
    )
    assert ok.status_code == 201, ok.content
    assert (ok.json()["kind"], ok.json()["actor"]) == ("call.logged", "alice")
    night = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/calls",
        {"party_id": "P-TINA", "outcome": "no-answer", "at": "2026-03-26T23:00"},
    )
    # made already: recorded, the guard's warning in its detail
    assert night.status_code == 201, night.content
    assert night.json()["detail"]["warning_rule"] == "hours"
    assert TimelineEvent.objects.filter(kind="call.logged").count() == 2
    assert AuditEntry.objects.filter(verb="call.log", via="api").count() == 2


def test_a_call_now_the_guard_refuses_is_409_with_the_rule(tokens):
    hold_place(account_id="A-TINA", reason="cease", on=TODAY, actor="alice")
    refused = call(
        tokens, "alice", "post", f"{TINA}/calls", {"party_id": "P-TINA", "outcome": "no-answer"}
    )
    assert refused.status_code == 409
    body = refused.json()
    assert (body["code"], body["extra"]["rule"]) == ("guard_refused", "hold:cease")
    # the refused try is on the timeline (it was made)
    assert TimelineEvent.objects.filter(kind="call.refused").count() == 1


def test_a_call_with_a_promise_above_the_balance_is_409_until_confirmed(tokens):
    body = {
        "party_id": "P-TINA",
        "outcome": "promise",
        "at": "2026-03-26T11:00",
        "promise_amount": "2000.00",
        "promise_on": "2026-04-03",
    }
    asked = call(tokens, "alice", "post", f"{TINA}/calls", body)
    assert asked.status_code == 409, asked.content
    assert asked.json()["code"] == "promise_needs_confirmation"
    assert [r["code"] for r in asked.json()["extra"]["reasons"]] == ["above_balance"]
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()
    saved = call(tokens, "alice", "post", f"{TINA}/calls", {**body, "confirm": True})
    assert saved.status_code == 201, saved.content
    assert TimelineEvent.objects.filter(kind="promise.made").count() == 1


def test_a_promise_is_recorded_and_listed_with_money_as_strings(tokens):
    made = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/promises",
        {"amount": "450.50", "promised_on": "2026-04-02", "party_id": "P-TINA"},
    )
    assert made.status_code == 201, made.content
    assert (made.json()["amount"], made.json()["status"]) == ("450.50", "open")
    listed = call(tokens, "alice", "get", f"{TINA}/promises").json()
    assert [(p["amount"], p["promised_on"]) for p in listed] == [("450.50", "2026-04-02")]
    bad = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/promises",
        {"amount": "1.005", "promised_on": "2026-04-02"},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")


def test_a_plan_is_proposed_created_shown_and_cancelled(tokens):
    proposal = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/plan-proposals",
        {"income": "6000.00", "obligations": "500.00"},
    ).json()
    assert (proposal["balance"], proposal["feasible"]) == ("1200.00", True)
    made = call(
        tokens, "alice", "post", f"{TINA}/plans", {"start": "2026-04-01", "installments": 3}
    )
    assert made.status_code == 201, made.content
    plan = made.json()
    assert [i["amount"] for i in plan["installments"]] == ["400.00", "400.00", "400.00"]
    assert {i["status"] for i in plan["installments"]} == {"due"}
    shown = call(tokens, "alice", "get", f"{TINA}/plans/{plan['id']}").json()
    assert shown["status"] == "active"
    # a second plan while one is active is refused, in the one error shape
    again = call(
        tokens, "alice", "post", f"{TINA}/plans", {"start": "2026-04-01", "installments": 2}
    )
    assert again.status_code == 422
    assert set(again.json()) == {"code", "message", "extra"}
    cancelled = call(
        tokens, "alice", "post", f"{TINA}/plans/{plan['id']}/cancel", {"reason": "moving out"}
    ).json()
    assert (cancelled["status"], cancelled["end_reason"]) == ("cancelled", "moving out")
    # a plan under another account's id is not found
    other = call(tokens, "alice", "get", f"/api/accounts/A-OSCAR/plans/{plan['id']}")
    assert other.status_code == 404


def test_a_dispute_is_opened_on_a_charge_and_resolved_partly(tokens):
    opened = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/disputes",
        {"reason": "half was paid", "charges": ["T-TINA-03"]},
    )
    assert opened.status_code == 201, opened.content
    dispute = opened.json()
    assert (dispute["whole_balance"], dispute["amount"]) == (False, "1200.00")
    resolved = call(
        tokens,
        "alice",
        "post",
        f"{TINA}/disputes/{dispute['id']}/resolve",
        {"outcome": "partial", "amount": "600.00"},
    )
    assert resolved.status_code == 200, resolved.content
    assert (resolved.json()["outcome"], resolved.json()["status"]) == ("partial", "resolved")
    account = call(tokens, "alice", "get", "/api/accounts/A-TINA").json()
    assert account["balance"] == "600.00"


def test_a_statement_is_archived_and_listed_among_the_documents(tokens):
    made = call(tokens, "alice", "post", f"{TINA}/statement", {})
    assert made.status_code == 201, made.content
    name = made.json()["document"]
    docs = call(tokens, "bob", "get", f"{TINA}/documents").json()  # Bob may read Elm Court's
    assert [d["name"] for d in docs] == [name]
    content = call(tokens, "bob", "get", f"{TINA}/documents/content", {"name": name})
    assert content.content.startswith(b"%PDF")
    assert (
        call(tokens, "mallory", "get", f"{TINA}/documents/content", {"name": name}).status_code
        == 404
    )


def test_a_notice_is_queued_once_and_a_refused_one_is_409_with_the_rule(tokens):
    body = {"template": "ny-late-rent-notice-guarantor", "channel": "letter", "party_id": "P-GREG"}
    first = call(tokens, "alice", "post", f"{TINA}/notices", body)
    assert first.status_code == 201, first.content
    again = call(tokens, "alice", "post", f"{TINA}/notices", body)
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert Outbound.objects.count() == 1
    hold_place(account_id="A-TINA", reason="bankruptcy", on=TODAY, actor="alice")
    refused = call(tokens, "alice", "post", f"{TINA}/notices", {**body, "channel": "email"})
    assert refused.status_code == 409
    assert refused.json()["extra"]["rule"] == "hold:bankruptcy"
    assert Outbound.objects.count() == 1


def test_the_notices_offered_are_the_policys_and_another_is_409_with_the_reason(tokens):
    offered = call(tokens, "alice", "get", f"{TINA}/notices")
    assert offered.status_code == 200, offered.content
    assert offered.json()["policy"] == "ny-residential"
    assert "ca-3-day-notice-pay-or-quit" not in offered.json()["templates"]
    assert "ny-rent-demand" in offered.json()["templates"]
    demand = next(n for n in offered.json()["notices"] if n["template"] == "ny-rent-demand")
    assert demand == {
        "template": "ny-rent-demand",
        "title": "Fourteen-day rent demand",
        "roles": ["primary", "co_obligor"],
        "channel": "letter",
        "statutory": True,
        "law": "NY RPAPL §711(2), §702",
    }
    body = {"template": "ca-3-day-notice-pay-or-quit", "channel": "letter"}
    refused = call(tokens, "alice", "post", f"{TINA}/notices", body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "notice_not_in_policy"
    assert call(tokens, "mallory", "get", f"{TINA}/notices").status_code in (403, 404)
    assert not Outbound.objects.exists()


@pytest.mark.parametrize("who", ["bob", "dave"])  # a manager, a controller (read-only)
def test_a_manager_or_controller_is_refused_every_action_and_nothing_changes(tokens, who):
    for path, body in (
        (f"{TINA}/calls", {"party_id": "P-TINA", "outcome": "no-answer"}),
        (f"{TINA}/promises", {"amount": "1.00", "promised_on": "2026-04-01"}),
        (f"{TINA}/plans", {"start": "2026-04-01", "installments": 2}),
        (f"{TINA}/disputes", {"reason": "x"}),
        (f"{TINA}/statement", {}),
        (f"{TINA}/notices", {"template": "ny-late-rent-notice"}),
    ):
        response = call(tokens, who, "post", path, body)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), path
    assert not AuditEntry.objects.filter(via="api").exists()
    assert not TimelineEvent.objects.filter(actor=who).exists()
    # but both may read what the account's commitments are
    assert call(tokens, who, "get", f"{TINA}/plans").status_code == 200


def test_a_statutory_notice_is_409_until_confirmed(tokens):
    body = {"template": "ny-rent-demand", "channel": "letter", "party_id": "P-TINA"}
    asked = call(tokens, "alice", "post", f"{TINA}/notices", body)
    assert asked.status_code == 409, asked.content
    assert asked.json()["code"] == "notice_needs_confirmation"
    assert asked.json()["extra"]["law"] == "NY RPAPL §711(2), §702"
    assert not Outbound.objects.exists()
    sent = call(tokens, "alice", "post", f"{TINA}/notices", {**body, "confirm": True})
    assert sent.status_code == 201, sent.content
