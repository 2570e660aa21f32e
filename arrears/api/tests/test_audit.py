"""`GET /api/audit`: the audit log for an admin, with the admin page's filters, paged; refused
to every other role."""

from __future__ import annotations

import pytest

from arrears.access.models import AuditEntry
from arrears.access.tests.people import OPERATOR
from arrears.api.tests.test_api import call

pytestmark = pytest.mark.django_db


def test_an_admin_reads_the_audit_log_through_the_api_with_filters_and_pages(people, tokens):
    # given two notes by alice through the API, and one hold
    call(tokens, "alice", "post", "/api/accounts/A-TINA/notes", {"text": "first"})
    call(tokens, "alice", "post", "/api/accounts/A-TINA/notes", {"text": "second"})
    call(tokens, "alice", "post", "/api/accounts/A-TINA/holds", {"reason": "manual"})
    # when erin asks for alice's notes, newest first
    response = call(tokens, "erin", "get", "/api/audit", {"user": "alice", "verb": "note"})
    # then she gets them, with who, how and from where
    assert response.status_code == 200
    notes = response.json()
    assert [(e["username"], e["via"], e["verb"], e["detail"]["text"]) for e in notes] == [
        ("alice", "api", "note.add", "second"),
        ("alice", "api", "note.add", "first"),
    ]
    assert notes[0]["ip"] == "127.0.0.1"
    assert notes[0]["account_id"] == "A-TINA"
    # and pages of one
    page = call(tokens, "erin", "get", "/api/audit", {"verb": "note", "limit": 1, "offset": 1})
    assert [e["detail"]["text"] for e in page.json()] == ["first"]
    # and by interface, account and days
    by_system = call(tokens, "erin", "get", "/api/audit", {"via": "system"}).json()
    assert {e["username"] for e in by_system} == {OPERATOR.username}
    assert {e["verb"] for e in by_system} == {"user.add", "token.issue"}
    held = call(tokens, "erin", "get", "/api/audit", {"account_id": "A-TINA", "verb": "hold"})
    assert [e["verb"] for e in held.json()] == ["hold.place"]
    assert call(tokens, "erin", "get", "/api/audit", {"since": "2099-01-01"}).json() == []


def test_a_bad_filter_is_a_422_in_the_error_shape(people, tokens):
    response = call(tokens, "erin", "get", "/api/audit", {"via": "fax"})
    assert response.status_code == 422
    response = call(
        tokens, "erin", "get", "/api/audit", {"since": "2026-03-27", "until": "2026-03-26"}
    )
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "until"
    response = call(tokens, "erin", "get", "/api/audit", {"user": "al\x00ice"})
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "user"


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave", "mallory"])
def test_no_one_but_an_admin_reads_the_audit_log_through_the_api(people, tokens, who):
    response = call(tokens, who, "get", "/api/audit")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert AuditEntry.objects.exists()
