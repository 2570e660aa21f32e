"""The audit log on the admin's pages: Erin (the admin) reads who did what, through which
interface, from where; filters it; pages through it; exports it as CSV a spreadsheet cannot run.
Everyone else is refused it (and every other admin page: test_admin's sweep)."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.services import audit_write
from arrears.access.tests.people import PASSWORD, signed_in
from arrears.web.tests.test_admin import page

pytestmark = pytest.mark.django_db


def a_morning(people) -> None:
    """Alice signs in and adds a note; someone guesses at a name that is a formula; Bob notes."""
    office = Client(REMOTE_ADDR="192.0.2.10")
    office.post("/signin/", {"username": "alice", "password": PASSWORD})
    office.post("/accounts/A-TINA/notes/", {"text": "Tina called: pays Friday"})
    Client(REMOTE_ADDR="203.0.113.66").post(
        "/signin/", {"username": '=HYPERLINK("http://evil.example/")', "password": "guess"}
    )
    signed_in(people["bob"]).post("/accounts/A-TINA/notes/", {"text": "the super says hi"})


def test_an_admin_reads_the_audit_log_newest_first_and_filters_it(people):
    # given a morning's sign-ins and notes
    a_morning(people)
    erin = signed_in(people["erin"])
    # when erin opens the audit log
    html = page(erin, "/admin/audit/")
    # then the newest comes first: bob's note, the guess, alice's note, her sign-in
    order = [html.index(t) for t in ("the super says hi", "HYPERLINK", "pays Friday", "signin.ok")]
    assert order == sorted(order)
    assert "192.0.2.10" in html
    # and filtered by verb (its start), user, interface, account and days
    signins = page(erin, "/admin/audit/?verb=signin")
    assert "signin.ok" in signins
    assert "signin.failed" in signins
    assert "note.add" not in signins
    alices = page(erin, "/admin/audit/?user=alice&via=web&account_id=A-TINA")
    assert "pays Friday" in alices
    assert "the super says hi" not in alices
    assert "Nothing in the audit log matches." in page(erin, "/admin/audit/?since=2099-01-01")
    # and in Spanish
    assert "Registro de auditoría" in page(erin, "/admin/audit/", HTTP_ACCEPT_LANGUAGE="es")


def test_a_bad_filter_is_shown_beside_its_field(people):
    erin = signed_in(people["erin"])
    html = page(erin, "/admin/audit/?since=yesterday", status=422)
    assert "Not a date (YYYY-MM-DD): yesterday" in html
    html = page(erin, "/admin/audit/?since=2026-03-27&until=2026-03-26", status=422)
    assert "before it starts" in html


def test_the_audit_log_is_paged_fifty_at_a_time(people):
    # given 120 notes' rows
    for n in range(120):
        audit_write(
            user=people["alice"],
            verb="note.add",
            via="cli",
            account_id="A-TINA",
            detail={"text": f"note {n:03}"},
        )
    erin = signed_in(people["erin"])
    # when erin reads the first page and the third
    first = page(erin, "/admin/audit/?verb=note.add")
    third = page(erin, "/admin/audit/?verb=note.add&page=3")
    # then the first holds the newest 50, the third the oldest 20
    assert "note 119" in first
    assert "note 070" in first
    assert "note 069" not in first
    assert "Page 1 of 3 (120 entries)" in first
    assert "note 019" in third
    assert "note 020" not in third
    assert 'href="?verb=note.add&amp;page=2" rel="prev"' in third


def test_the_export_holds_every_row_the_filters_keep_and_no_formula(people):
    # given a morning's rows
    a_morning(people)
    erin = signed_in(people["erin"])
    # when erin exports the sign-ins
    response = erin.get("/admin/audit/?verb=signin&export=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    # then every sign-in is there, and the name typed as a formula is text
    assert rows[0] == ["at", "user", "via", "verb", "account_id", "ip", "detail"]
    assert [(r[1], r[3]) for r in rows[1:]] == [
        ('\'=HYPERLINK("http://evil.example/")', "signin.failed"),
        ("alice", "signin.ok"),
    ]
    assert AuditEntry.objects.filter(verb__startswith="signin").count() == 2


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave"])
def test_no_one_but_an_admin_reads_the_audit_log(people, who):
    client = signed_in(people[who])
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit/?export=csv").status_code == 403
    assert Client().get("/admin/audit/").status_code == 302
