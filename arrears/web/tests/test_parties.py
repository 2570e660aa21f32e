"""The account page's Parties table: phones as a person reads them, a `tel:` link, and beside
each phone the compliance guard's word on a call right now, in the party's own zone.

Tina Ortiz (Brooklyn NY) is the tenant of A-TINA, Greg Ortiz (Albany NY) her guarantor; "now"
is frozen (ARREARS_NOW) at a moment of March 26, 2026.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arrears.access.tests.people import TODAY, signed_in
from arrears.core.phones import phone_display, phone_e164, phone_href
from arrears.dunning.models import Consent
from arrears.dunning.services import hold_place
from arrears.ledger.models import Party

pytestmark = pytest.mark.django_db


def _parties(people: Any) -> str:
    html = signed_in(people["alice"]).get("/accounts/A-TINA/").content.decode()
    start = html.index('id="parties"')
    return html[start : html.index("</table>", start)]


def test_a_phone_reads_as_a_person_reads_it_and_dials_in_e164() -> None:
    assert phone_display("+13475550113") == "(347) 555-0113"
    assert phone_href("+13475550113") == "tel:+13475550113"
    assert phone_display("+442071838750") == "+442071838750"
    assert phone_href("javascript:alert(1)") == ""
    assert phone_e164("(347) 555-0113") == "+13475550113"
    assert phone_e164("1 347 555 0113") == "+13475550113"


def test_at_ten_in_the_morning_in_new_york_each_party_may_be_called(
    people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 10:00 in New York
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T10:00:00-04:00")
    # when Alice opens Tina's account
    table = _parties(people)
    # then each phone is formatted, dialled by its E.164 link, and OK to call now
    assert '<a href="tel:+12125550101">(212) 555-0101</a>' in table
    assert '<a href="tel:+17185550102">(718) 555-0102</a>' in table
    assert table.count("OK to call now") == 2
    # and no one gave consent to autodialled calls
    assert table.count("no consent for autodialled calls") == 2


def test_before_eight_in_new_york_the_guard_says_when(
    people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T07:15:00-04:00")
    assert _parties(people).count("not before 8:00 AM ET") == 2
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T21:30:00-04:00")
    assert _parties(people).count("not before 8:00 AM ET tomorrow") == 2


def test_a_hold_until_a_date_makes_the_party_quiet_until_then(
    people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cease-communication hold on Greg until April 27
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T10:00:00-04:00")
    hold_place(
        account_id="A-TINA",
        reason="cease",
        on=TODAY,
        actor="alice",
        until=date(2026, 4, 27),
        party_id="P-GREG",
    )
    # and Tina's consent to autodialled calls
    Consent.objects.create(
        party=Party.objects.get(party_id="P-TINA"),
        channel="autodial",
        granted=True,
        at="2026-03-01T12:00:00Z",
        source="written",
    )
    table = _parties(people)
    tina = table[table.index('id="party-P-TINA"') : table.index('id="party-P-GREG"')]
    greg = table[table.index('id="party-P-GREG"') :]
    assert "OK to call now" in tina
    assert "no consent for autodialled calls" not in tina
    assert "quiet until Apr 27" in greg


def test_the_guards_word_costs_the_page_a_fixed_number_of_queries(
    people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T10:00:00-04:00")
    client = signed_in(people["alice"])
    client.get("/accounts/A-TINA/")
    with CaptureQueriesContext(connection) as two:
        client.get("/accounts/A-TINA/")
    # a third party on the account costs no query more
    third = Party.objects.create(party_id="P-ROSA", name="Rosa Ortiz", phone="+12125550109")
    from arrears.ledger.models import Account, AccountParty

    AccountParty.objects.create(
        account=Account.objects.get(account_id="A-TINA"), party=third, role="co_obligor"
    )
    with CaptureQueriesContext(connection) as three:
        client.get("/accounts/A-TINA/")
    assert len(three) == len(two)


def test_a_spanish_reader_reads_the_guards_word_and_the_forms_in_spanish(
    people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T07:15:00-04:00")
    html = signed_in(people["alice"]).get("/accounts/A-TINA/", HTTP_ACCEPT_LANGUAGE="es")
    table = html.content.decode()
    table = table[table.index('id="parties"') :]
    assert "no antes de las 8:00 AM ET" in table
    assert "sin consentimiento para llamadas automáticas" in table
    assert "Editar los datos de contacto de Tina Ortiz" in table
    assert "Agregar un documento al historial" in table
    for english in ("not before", "OK to call", "Edit contact points", "Add a document"):
        assert english not in table
