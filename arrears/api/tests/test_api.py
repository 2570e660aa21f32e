"""The REST API: tokens, scoping, money as strings, one error shape, audited changes."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.dunning.models import Hold
from arrears.ledger.models import TimelineEvent, Transaction

pytestmark = pytest.mark.django_db


def call(tokens, who, method, path, body=None, **extra):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[who]}"} if who else {}
    if method == "get":
        return client.get(path, body or {}, **headers)
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def test_the_schema_is_served_at_api_openapi_json():
    schema = Client().get("/api/openapi.json").json()
    assert "/api/accounts/{account_id}/ledger" in schema["paths"]
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_without_a_token_the_answer_is_401_in_the_error_shape(people):
    response = Client().get("/api/accounts")
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "a valid bearer token is needed",
        "extra": {},
    }
    bad = Client().get("/api/accounts", HTTP_AUTHORIZATION="Bearer arr_forged")
    assert bad.status_code == 401


def test_an_account_shows_its_parties_and_balance_by_bucket_with_money_as_strings(tokens):
    body = call(tokens, "alice", "get", "/api/accounts/A-TINA").json()
    assert body["balance"] == "1200.00"
    assert body["buckets"]["1-30"] == "1200.00"
    assert body["rent"] == "1200.00"
    tina = body["parties"][0]
    assert (tina["name"], tina["role"], tina["language"]) == ("Tina Ortiz", "primary", "es")


def test_a_manager_gets_404_for_another_buildings_account_and_only_theirs_in_lists(tokens):
    response = call(tokens, "bob", "get", "/api/accounts/A-OSCAR/ledger")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    listed = call(tokens, "bob", "get", "/api/accounts").json()
    assert [a["account_id"] for a in listed] == ["A-TINA"]
    aging = call(tokens, "bob", "get", "/api/aging", {"by": "account"}).json()
    assert [a["account_id"] for a in aging["accounts"]] == ["A-TINA"]
    assert call(tokens, "mallory", "get", "/api/aging").json()["properties"] == []


def test_the_ledger_carries_the_running_balance(tokens):
    body = call(tokens, "carol", "get", "/api/accounts/A-OSCAR/ledger").json()
    assert body["lines"][0]["balance"] == "950.00"
    assert body["count"] == 1


def test_a_note_through_the_api_lands_on_the_timeline_and_in_the_audit(tokens):
    response = call(
        tokens, "bob", "post", "/api/accounts/A-TINA/notes", {"text": "Spoke to Tina: pays Friday"}
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "note.added"
    timeline = call(tokens, "bob", "get", "/api/accounts/A-TINA/timeline").json()
    assert timeline[-1]["summary"] == "Spoke to Tina: pays Friday"
    assert timeline[-1]["actor"] == "bob"
    assert AuditEntry.objects.filter(verb="note.add", via="api", username="bob").count() == 1


def test_a_controller_may_not_write_403_in_the_error_shape(tokens):
    response = call(tokens, "dave", "post", "/api/accounts/A-TINA/notes", {"text": "x"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not TimelineEvent.objects.filter(kind="note.added").exists()


def test_holds_are_placed_and_released_and_a_bad_reason_is_a_422(tokens):
    placed = call(
        tokens,
        "alice",
        "post",
        "/api/accounts/A-TINA/holds",
        {"reason": "dispute", "until": "2026-04-30", "note": "says March was paid"},
    )
    assert placed.status_code == 201, placed.content
    hold_id = placed.json()["id"]
    released = call(tokens, "alice", "post", f"/api/accounts/A-TINA/holds/{hold_id}/release")
    assert released.json()["released_by"] == "alice"
    assert Hold.objects.get(pk=hold_id).released_on is not None
    bad = call(tokens, "alice", "post", "/api/accounts/A-TINA/holds", {"reason": "whim"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid"
    again = call(tokens, "alice", "post", f"/api/accounts/A-TINA/holds/{hold_id}/release")
    assert again.status_code == 422
    assert "already released" in again.json()["message"]


def test_a_malformed_request_is_a_422_in_the_error_shape(tokens):
    response = call(tokens, "alice", "get", "/api/accounts/A-TINA", {"as_of": "yesterday"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert "as_of" in body["message"]


def test_the_run_dry_changes_nothing_and_real_writes_the_actions(tokens):
    before = TimelineEvent.objects.count()
    dry = call(tokens, "alice", "post", "/api/runs", {"date": "2026-03-11", "dry_run": True})
    assert dry.status_code == 200
    assert dry.json()["actions"]
    assert TimelineEvent.objects.count() == before
    real = call(tokens, "alice", "post", "/api/runs", {"date": "2026-03-11", "dry_run": False})
    assert real.json()["actions"] == dry.json()["actions"]
    assert TimelineEvent.objects.count() > before
    assert call(tokens, "bob", "post", "/api/runs", {"dry_run": True}).status_code == 403


def test_the_worklist_and_search_are_scoped(tokens):
    call(tokens, "alice", "post", "/api/runs", {"date": "2026-03-11", "dry_run": False})
    call(tokens, "alice", "post", "/api/letters/batch", {"on": "2026-03-11"})
    call(tokens, "alice", "post", "/api/runs", {"date": "2026-03-26", "dry_run": False})
    work = call(tokens, "alice", "get", "/api/worklist", {"date": "2026-03-26"}).json()
    assert "A-TINA" in {w["account_id"] for w in work}
    assert all(isinstance(w["balance"], str) for w in work)
    assert call(tokens, "mallory", "get", "/api/worklist", {"date": "2026-03-26"}).json() == []
    hits = call(tokens, "alice", "get", "/api/search", {"q": "ortiz"}).json()
    assert [h["account_id"] for h in hits] == ["A-TINA"]
    # with where the account stands: March's rent and its late fee open, at the runs' last step
    assert (hits[0]["balance"], hits[0]["currency"]) == ("1250.00", "USD")
    assert hits[0]["stage"] not in ("", "current")
    assert call(tokens, "carol", "get", "/api/search", {"q": "ortiz"}).json() == []


def test_an_admin_imports_a_zipped_book_and_a_coordinator_may_not(tokens, fixtures_dir, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in (fixtures_dir / "spec_example").glob("*.csv"):
            archive.write(path, path.name)

    def upload(who):
        buffer.seek(0)
        return Client().post(
            "/api/imports",
            {"file": io.BytesIO(buffer.getvalue())},
            HTTP_AUTHORIZATION=f"Bearer {tokens[who]}",
        )

    assert upload("alice").status_code == 403
    response = Client().post(
        "/api/imports",
        {"file": _named(buffer.getvalue(), "book.zip")},
        HTTP_AUTHORIZATION=f"Bearer {tokens['erin']}",
    )
    assert response.status_code == 201, response.content
    assert response.json()["changed"] is True
    assert Transaction.objects.filter(account__account_id="A1").count() == 7
    garbage = Client().post(
        "/api/imports",
        {"file": _named(b"not a zip", "book.zip")},
        HTTP_AUTHORIZATION=f"Bearer {tokens['erin']}",
    )
    assert garbage.status_code in (400, 422)
    assert set(garbage.json()) == {"code", "message", "extra"}


def test_an_admin_imports_a_buildium_aging_by_its_builtin_mapping(tokens):
    export = Path(__file__).resolve().parents[3] / "docs" / "mappings" / "buildium-aging.csv"

    def upload(mapping, name="balances.csv"):
        return Client().post(
            f"/api/imports?mapping={mapping}&as_of=2026-03-10",
            {"file": _named(export.read_bytes(), name)},
            HTTP_AUTHORIZATION=f"Bearer {tokens['erin']}",
        )

    unknown = upload("../../etc/passwd")
    assert unknown.status_code in (400, 422)
    assert unknown.json()["code"] == "import_mapping"
    assert upload("buildium-aging", "balances.zip").json()["code"] == "import_file_kind"
    response = upload("buildium-aging")
    assert response.status_code == 201, response.content
    opening = Transaction.objects.get(txn_id="BD-L50211:OPEN:2026-03-10:31")
    assert (opening.amount, opening.due_on.isoformat()) == (Decimal("1150.00"), "2026-02-07")


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
