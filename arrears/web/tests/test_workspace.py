"""The workspace's pages as each person uses them: sign-in, search, the portfolio's filters,
chart and exports, the account page's parties, ledger pages and actions, and Spanish."""

from __future__ import annotations

import gettext
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from openpyxl import load_workbook

from arrears.access.models import AuditEntry
from arrears.access.tests.people import PASSWORD
from arrears.dunning.models import Consent, Hold
from arrears.ledger.models import Party, TimelineEvent

pytestmark = pytest.mark.django_db


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_page_sends_a_stranger_to_sign_in_and_back_after(people):
    client = Client()
    response = client.get("/accounts/A-TINA/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/accounts/A-TINA/"
    response = client.post(
        "/signin/", {"username": "bob", "password": PASSWORD, "next": "/accounts/A-TINA/"}
    )
    assert response["Location"] == "/accounts/A-TINA/"
    assert "Tina Ortiz" in client.get("/accounts/A-TINA/").content.decode()
    client.post("/signout/")
    assert client.get("/accounts/A-TINA/").status_code == 302


def test_sign_in_does_not_send_anyone_to_another_site(people):
    response = Client().post(
        "/signin/", {"username": "bob", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/today/"


def test_search_finds_an_account_by_name_unit_account_email_phone_and_amount(people):
    alice = as_(people["alice"])
    for q in ("tina", "greg@example.org", "(718) 555-0102", "1,200.00", "$950"):
        html = alice.get("/search/", {"q": q}).content.decode()
        expected = "A-OSCAR" if q == "$950" else "A-TINA"
        assert f'href="/accounts/{expected}/"' in html, q
    for q in ("3B", "A-TINA"):  # named exactly: the account opens
        assert alice.get("/search/", {"q": q})["Location"] == "/accounts/A-TINA/", q
    assert "A-TINA" not in as_(people["carol"]).get("/search/", {"q": "tina"}).content.decode()


def test_search_as_you_type_returns_only_the_results_fragment(people):
    html = as_(people["alice"]).get("/search/", {"q": "oscar"}, HTTP_HX_REQUEST="true")
    body = html.content.decode()
    assert "<html" not in body
    assert 'href="/accounts/A-OSCAR/"' in body


def test_the_portfolio_drills_down_filters_and_exports_what_it_shows(people):
    alice = as_(people["alice"])
    html = alice.get("/", {"as_of": "2026-03-26"}).content.decode()
    assert "property=ELM" in html
    assert "property=OAK" in html
    # Oscar's February rent is 31-60 days late; Tina's March rent 1-30
    html = alice.get("/", {"as_of": "2026-03-26", "bucket": "2", "level": "account"}).content
    assert b"A-OSCAR" in html
    assert b"A-TINA" not in html
    html = alice.get("/", {"as_of": "2026-03-26", "min_balance": "1000", "level": "account"})
    assert b"A-TINA" in html.content
    assert b"A-OSCAR" not in html.content
    csv_text = alice.get("/", {"as_of": "2026-03-26", "export": "csv"}).content.decode()
    assert csv_text.splitlines()[1:] == [
        "2026-03-26,USD,ELM,0.00,1200.00,0.00,0.00,0.00,0.00,1200.00",
        "2026-03-26,USD,OAK,0.00,0.00,950.00,0.00,0.00,0.00,950.00",
        "2026-03-26,USD,TOTAL,0.00,1200.00,950.00,0.00,0.00,0.00,2150.00",
    ]
    response = alice.get("/", {"as_of": "2026-03-26", "property": "OAK", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][:2] == ["A-OSCAR", "OAK"]
    assert rows[0][-1] == 950


def test_the_chart_stacks_the_last_twelve_month_ends(people):
    svg = as_(people["alice"]).get("/portfolio/chart/", {"as_of": "2026-03-26"}).content.decode()
    assert svg.count("<text") >= 12
    for month in ("Apr 25", "Feb 26", "Mar 26"):
        assert f">{month}</text>" in svg
    # February's month end: Oscar's 950.00 current... aged 27 days; March: Tina's and Oscar's
    assert "Feb 26 1-30: 950.00" in svg
    assert "Mar 26 31-60: 950.00" in svg
    assert "Mar 26 1-30: 1,200.00" in svg
    # a manager's chart holds only their building
    bobs = as_(people["bob"]).get("/portfolio/chart/", {"as_of": "2026-03-26"}).content.decode()
    assert "950.00" not in bobs


def test_the_account_page_shows_parties_with_language_and_consent(people):
    tina = Party.objects.get(party_id="P-TINA")
    Consent.objects.create(party=tina, channel="sms", granted=False, at="2026-03-01T12:00Z")
    html = as_(people["bob"]).get("/accounts/A-TINA/").content.decode()
    parties = html[html.index('id="parties"') : html.index("</table>", html.index('id="parties"'))]
    assert "Tina Ortiz" in parties
    assert "<td>es</td>" in parties
    assert "sms ✗" in parties
    assert "guarantor" in parties


def test_a_long_ledger_is_paged_newest_page_first_with_the_running_balance(people, tmp_path):
    from arrears.access.tests.people import write_book
    from arrears.ledger.services import book_import

    rows = [
        {
            "txn_id": f"T-LONG-{i:03d}",
            "account_id": "A-TINA",
            "posted": "2026-03-02",
            "type": "charge",
            "code": "FEE",
            "amount": "1.00",
            "due": "2026-03-02",
        }
        for i in range(60)
    ]
    book_import(write_book(tmp_path / "more", {"transactions": rows}))
    alice = as_(people["alice"])
    html = alice.get("/accounts/A-TINA/").content.decode()
    assert '<strong aria-current="page">2</strong>' in html
    assert "1,260.00" in html  # the last running balance
    first = alice.get(
        "/accounts/A-TINA/", {"page": "1", "part": "ledger"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in first
    assert "T-TINA-03" in first
    assert "T-LONG-059" not in first


def test_a_note_added_through_htmx_returns_the_timeline_with_it(people):
    bob = as_(people["bob"])
    response = bob.post(
        "/accounts/A-TINA/notes/", {"text": "Tina says Friday"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "Tina says Friday" in body
    assert TimelineEvent.objects.get(kind="note.added").actor == "bob"
    assert AuditEntry.objects.get(verb="note.add").via == "web"
    empty = bob.post("/accounts/A-TINA/notes/", {"text": " "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 422
    assert "a note needs some text" in empty.content.decode()


def test_a_hold_placed_and_released_from_the_page(people):
    alice = as_(people["alice"])
    response = alice.post(
        "/accounts/A-TINA/holds/",
        {"reason": "dispute", "until": "2026-04-10", "party_id": "P-GREG", "note": "late fee"},
    )
    assert response.status_code == 302
    hold = Hold.objects.get()
    assert (hold.reason, hold.party.party_id, hold.until) == (
        "dispute",
        "P-GREG",
        date(2026, 4, 10),
    )
    alice.post(f"/accounts/A-TINA/holds/{hold.pk}/release/")
    hold.refresh_from_db()
    assert hold.released_by == "alice"
    verbs = AuditEntry.objects.filter(via="web").order_by("id").values_list("verb", flat=True)
    assert list(verbs) == ["hold.place", "hold.release"]


def test_a_manager_may_add_a_note_but_not_place_a_hold_and_sees_no_hold_form(people):
    bob = as_(people["bob"])
    html = bob.get("/accounts/A-TINA/").content.decode()
    assert "note-form" in html
    assert "hold-form" not in html
    assert bob.post("/accounts/A-TINA/holds/", {"reason": "manual"}).status_code == 403
    assert not Hold.objects.exists()
    assert bob.get("/accounts/A-OSCAR/").status_code == 404


def test_the_interface_speaks_spanish(people):
    client = as_(people["alice"])
    html = client.get("/today/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in html
    assert "Suspensiones que vencen en 7 días" in html
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "Antigüedad de la cartera" in client.get("/").content.decode()


def test_the_compiled_spanish_catalogue_matches_its_source():
    folder = Path(__file__).resolve().parents[1] / "locale" / "es" / "LC_MESSAGES"
    po = (folder / "django.po").read_text(encoding="utf-8")
    with (folder / "django.mo").open("rb") as stream:
        mo = gettext.GNUTranslations(stream)
    pairs = re.findall(r'\n(?:msgctxt "(.+)"\n)?msgid "(.+)"\nmsgstr "(.+)"\n', po)
    assert len(pairs) > 100
    for context, msgid, msgstr in pairs:
        text = msgid.replace('\\"', '"')
        found = mo.pgettext(context, text) if context else mo.gettext(text)
        assert found == msgstr.replace('\\"', '"'), msgid


def test_a_long_timeline_shows_the_latest_hundred_and_all_on_asking(people):
    from arrears.dunning.services import note_add

    for i in range(105):
        note_add(account_id="A-TINA", text=f"note number {i}", actor="alice", on=date(2026, 3, 20))
    alice = as_(people["alice"])
    html = alice.get("/accounts/A-TINA/").content.decode()
    assert "The latest 100 of 105 events." in html
    assert "note number 104" in html
    assert "note number 4<" not in html
    assert "note number 4<" in alice.get("/accounts/A-TINA/", {"all": "1"}).content.decode()


def test_search_by_amount_finds_an_entry_of_the_last_six_months_only(people, tmp_path):
    from arrears.access.tests.people import write_book
    from arrears.ledger.services import book_import

    book_import(
        write_book(
            tmp_path / "pay",
            {
                "transactions": [
                    {
                        "txn_id": "T-OSCAR-OLD",
                        "account_id": "A-OSCAR",
                        "posted": "2025-02-03",
                        "type": "payment",
                        "amount": "123.45",
                    },
                    {
                        "txn_id": "T-TINA-PART",
                        "account_id": "A-TINA",
                        "posted": "2026-03-20",
                        "type": "payment",
                        "amount": "123.45",
                    },
                ]
            },
        )
    )
    html = as_(people["alice"]).get("/search/", {"q": "123.45"}).content.decode()
    assert 'href="/accounts/A-TINA/"' in html
    assert 'href="/accounts/A-OSCAR/"' not in html
