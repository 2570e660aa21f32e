"""One act, one service, for the monthly collection goals (arrears.access.acts_goals): Alice (a
coordinator) sets Elm Court's March goal and imports a CSV of goals through the command line,
the goals page and the API, each on the same book and undone before the next (its own
savepoint); each writes the same goals and the same audit rows, apart from who and how. The
proposals applied (`goal propose --apply`, `POST /api/goals/proposals`) likewise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from arrears.access.acts_goals import goal_json, goal_list
from arrears.access.services import SystemActor, token_issue
from arrears.access.tests.people import cli, signed_in
from arrears.access.tests.test_goals import CSV_GOOD, MARCH, OPERATOR
from arrears.access.tests.test_goals import book as book
from arrears.reports.models import CollectionGoal
from arrears.web.tests.parity import OFFERED, audit_generic, audit_last, audit_since

pytestmark = pytest.mark.django_db

# The goals' acts and the interfaces their cases run them through (test_parity_table.py).
CASES = {
    "goal.set": ("cli", "web", "api"),
    "goal.import": ("cli", "web", "api"),
    "goal.propose": ("cli", "api"),
}


def _api(people: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    token = token_issue(username="alice", actor=SystemActor("pytest"), via="system")
    return signed_in(people["alice"]), {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _through(interface: str, people: dict[str, Any], capsys: Any, path: Path) -> Any:
    """Set ELM's March goal, then import the CSV, through one interface; the JSON of the goals."""
    if interface == "cli":
        assert (
            cli(
                capsys,
                "--as",
                "alice",
                "goal",
                "set",
                "2026-03",
                "property",
                "ELM",
                "--amount",
                "2000.00",
            )[0]
            == 0
        )
        assert cli(capsys, "--as", "alice", "goal", "import", str(path))[0] == 0
        code, out, _err = cli(
            capsys, "--as", "alice", "goal", "list", "2026-03", "--format", "json"
        )
        assert code == 0
        return json.loads(out)
    if interface == "web":
        client = signed_in(people["alice"])
        answer = client.post(
            "/reports/goals/",
            {
                "act": "set",
                "month": "2026-03",
                "scope": "property",
                "key": "ELM",
                "amount": "2000.00",
            },
        )
        assert answer.status_code == 302
        upload = SimpleUploadedFile("march.csv", path.read_bytes(), content_type="text/csv")
        answer = client.post("/reports/goals/", {"act": "import", "file": upload})
        assert answer.status_code == 302
        page = client.get("/reports/goals/?month=2026-03&scope=property")
        # ELM's 2,100.00 (imported) as of the 26th: 800.00 collected, pace 2100 × 26/31 = 1761.29
        text = page.content.decode()
        assert "800.00" in text
        assert "1761.29" in text
        return [goal_json(g) for g in goal_list(by=OPERATOR, month=MARCH)]
    client, auth = _api(people)
    answer = client.post(
        "/api/goals",
        json.dumps({"month": "2026-03", "scope": "property", "key": "ELM", "amount": "2000.00"}),
        content_type="application/json",
        **auth,
    )
    assert answer.status_code == 200, answer.content
    upload = SimpleUploadedFile("march.csv", path.read_bytes(), content_type="text/csv")
    answer = client.post("/api/goals/import", {"file": upload}, **auth)
    assert answer.status_code == 200, answer.content
    return client.get("/api/goals?month=2026-03", **auth).json()


def test_the_command_the_page_and_the_api_set_the_same_goals(
    people: dict[str, Any], capsys: Any, tmp_path: Path
) -> None:
    assert set(OFFERED["goal.set"]) == set(CASES["goal.set"]) == set(OFFERED["goal.import"])
    path = tmp_path / "march.csv"
    path.write_text(CSV_GOOD, encoding="utf-8")
    seen = {}
    for interface in ("cli", "web", "api"):
        last = audit_last()
        with transaction.atomic():
            goals = seen[interface] = [
                {k: v for k, v in g.items() if k not in ("set_at", "set_by")}
                for g in _through(interface, people, capsys, path)
            ]
            rows = audit_since(last, "goal.set") + audit_since(last, "goal.import")
            seen[interface] = (goals, audit_generic(rows, "", set()))
            transaction.set_rollback(True)
    assert seen["cli"] == seen["web"] == seen["api"]
    goals, rows = seen["cli"]
    # by scope, then key: the portfolio's, then the property's
    assert [(g["key"], g["amount"], g["source"]) for g in goals] == [
        ("WEST", "900.00", "imported"),
        ("ELM", "2100.00", "imported"),
    ]
    assert [r["verb"] for r in rows] == ["goal.set", "goal.import"]


def test_the_proposals_applied_by_the_command_and_the_api_are_the_same(
    people: dict[str, Any], capsys: Any
) -> None:
    assert set(OFFERED["goal.propose"]) == set(CASES["goal.propose"])
    seen = {}
    for interface in CASES["goal.propose"]:
        last = audit_last()
        with transaction.atomic():
            if interface == "cli":
                words = ("--as", "alice", "goal", "propose", "2026-03", "--apply")
                code, out, err = cli(capsys, *words, "--format", "json")
                assert code == 0, err
                answer = json.loads(out)
            else:
                client, auth = _api(people)
                body = json.dumps({"month": "2026-03", "scope": "property", "apply": True})
                reply = client.post(
                    "/api/goals/proposals", body, content_type="application/json", **auth
                )
                assert reply.status_code == 200, reply.content
                answer = reply.json()
            goals = [(g.scope_key, f"{g.amount}", g.source) for g in CollectionGoal.objects.all()]
            rows = audit_generic(audit_since(last, "goal.propose"), "", set())
            seen[interface] = (answer, goals, rows)
            transaction.set_rollback(True)
    assert seen["cli"] == seen["api"]
    answer, goals, rows = seen["cli"]
    # ELM: rate 1.0000 × March's 2,000.00 due (test_goals.py works it)
    assert goals == [("ELM", "2000.00", "proposed")]
    assert rows[0]["detail"]["goals"][0]["was"] is None


BAD_CSV = "month,scope,key,amount\n2026-03,property,ELM,2100.00\n2026-03,property,NOPE,5\n"


def test_a_bad_csv_is_refused_whole_by_the_page_and_the_api_naming_its_line(
    people: dict[str, Any],
) -> None:
    # the page: 422, nothing set, the line named beside the upload
    client = signed_in(people["alice"])
    upload = SimpleUploadedFile("bad.csv", BAD_CSV.encode(), content_type="text/csv")
    page = client.post("/reports/goals/", {"act": "import", "file": upload})
    assert page.status_code == 422
    assert "bad.csv, line 3, key: no property &#x27;NOPE&#x27;" in page.content.decode()
    # the API: 400 import_invalid with each problem's file, line, column and reason
    client, auth = _api(people)
    upload = SimpleUploadedFile("bad.csv", BAD_CSV.encode(), content_type="text/csv")
    answer = client.post("/api/goals/import", {"file": upload}, **auth)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "import_invalid"
    assert body["extra"]["problems"] == [
        {"file": "bad.csv", "line": 3, "column": "key", "reason": "no property 'NOPE'"}
    ]
    assert not CollectionGoal.objects.exists()


def test_a_manager_may_not_set_another_propertys_goal_on_the_page_or_by_the_api(
    people: dict[str, Any], tokens: dict[str, str]
) -> None:
    form = {"act": "set", "month": "2026-03", "scope": "property", "key": "OAK", "amount": "5"}
    assert signed_in(people["bob"]).post("/reports/goals/", form).status_code == 403
    body = json.dumps({"month": "2026-03", "scope": "property", "key": "OAK", "amount": "5"})
    answer = signed_in(people["bob"]).post(
        "/api/goals",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}",
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "goal_out_of_scope")
    # mallory lists no goal of A's
    alice = {"act": "set", "month": "2026-03", "scope": "property", "key": "ELM", "amount": "5"}
    assert signed_in(people["alice"]).post("/reports/goals/", alice).status_code == 302
    listed = signed_in(people["mallory"]).get(
        "/api/goals?month=2026-03", HTTP_AUTHORIZATION=f"Bearer {tokens['mallory']}"
    )
    assert listed.json() == []
    assert "ELM" not in signed_in(people["mallory"]).get("/reports/goals/").content.decode()
