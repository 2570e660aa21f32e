"""The assignment routes and the worklist's scopes: Erin (the admin) gives Elm Court to Alice,
Alice may take an account but not give one to Bea, Bea covers for Alice, and
`GET /api/worklist?mine=true` is the caller's own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from arrears.access.models import Assignment, AuditEntry
from arrears.access.services import token_issue
from arrears.access.tests.people import OPERATOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(desk: dict[str, Any]) -> dict[str, str]:
    names = ("alice", "bea", "bob", "erin", "mallory")
    return {n: token_issue(username=n, actor=OPERATOR, via="system") for n in names}


def call(keys: dict[str, str], who: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[who]}"}
    if method == "get":
        return Client().get(path, body or {}, **headers)
    return Client().post(path, json.dumps(body or {}), content_type="application/json", **headers)


def worklist(keys: dict[str, str], who: str, **query: str) -> set[str]:
    response = call(keys, who, "get", "/api/worklist", query)
    assert response.status_code == 200, response.content
    return {w["account_id"] for w in response.json()}


def test_an_admin_assigns_and_the_worklist_is_scoped_by_whose_it_is(keys):
    # when Erin gives Elm Court to Alice
    made = call(keys, "erin", "post", "/api/assignments", {"user": "alice", "property_id": "ELM"})
    assert made.status_code == 201, made.content
    assert {k: made.json()[k] for k in ("user", "kind", "target", "assigned_by")} == {
        "user": "alice",
        "kind": "property",
        "target": "ELM",
        "assigned_by": "erin",
    }
    # then Alice's own worklist is Tina's lease; everyone's has Olive's too
    assert worklist(keys, "alice", mine="true") == {"A-TINA"}
    assert worklist(keys, "alice") == {"A-TINA", "A-OLIVE"}
    assert worklist(keys, "erin", user="alice") == {"A-TINA"}
    assert worklist(keys, "erin", unassigned="true") == {"A-OLIVE"}
    # and Bob, Elm Court's manager, sees Alice's within his scope; Mallory nothing
    assert worklist(keys, "bob", user="alice") == {"A-TINA"}
    assert worklist(keys, "mallory", user="alice") == set()
    # and the list says so
    listed = call(keys, "bea", "get", "/api/assignments").json()
    assert [(a["user"], a["target"]) for a in listed] == [("alice", "ELM")]


def test_a_coordinator_takes_an_account_but_gives_none_and_a_refusal_writes_nothing(keys):
    taken = call(
        keys, "alice", "post", "/api/assignments", {"user": "alice", "account_id": "A-OLIVE"}
    )
    assert taken.status_code == 201
    given = call(keys, "alice", "post", "/api/assignments", {"user": "bea", "property_id": "ELM"})
    assert given.status_code == 403
    assert given.json()["code"] == "assignment_others"
    neither = call(keys, "erin", "post", "/api/assignments", {"user": "bea"})
    assert (neither.status_code, neither.json()["code"]) == (422, "assignment_target")
    assert Assignment.objects.count() == 1
    assert AuditEntry.objects.filter(verb="assignment.add").count() == 1
    # and she gives it up
    back = call(keys, "alice", "post", "/api/assignments/remove", {"account_id": "A-OLIVE"})
    assert back.status_code == 200
    assert back.json()["ended_on"] == "2026-03-05"
    assert worklist(keys, "alice", mine="true") == set()


def test_a_backup_covers_through_the_api_and_the_coverage_ends(keys):
    call(keys, "erin", "post", "/api/assignments", {"user": "alice", "portfolio": "NYC"})
    body = {"out": "alice", "backup": "bea", "starts_on": "2026-03-05", "ends_on": "2026-03-09"}
    made = call(keys, "alice", "post", "/api/coverage", {**body, "note": "out of office"})
    assert made.status_code == 201, made.content
    assert worklist(keys, "bea", mine="true") == {"A-TINA"}
    listed = call(keys, "erin", "get", "/api/coverage").json()
    assert [(c["out"], c["backup"], c["ends_on"]) for c in listed] == [
        ("alice", "bea", "2026-03-09")
    ]
    refused = call(keys, "bea", "post", f"/api/coverage/{made.json()['id']}/end")
    assert refused.status_code == 403
    ended = call(keys, "alice", "post", f"/api/coverage/{made.json()['id']}/end")
    assert ended.status_code == 200
    assert worklist(keys, "bea", mine="true") == set()
