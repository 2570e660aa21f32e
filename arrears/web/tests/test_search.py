"""Search as people search: a name without its accents or in any case, an exact account id or
unit that opens the account, a phone number in any format first, each result's balance and stage.
Runs on SQLite and on PostgreSQL (DATABASE_URL), which must find the same accounts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from arrears.access.selectors import account_search
from arrears.access.tests.people import write_book
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

# Three Garcías, however their names were typed, and a second 3B (at Oak Terrace: Tina's is Elm's).
GARCIAS: dict[str, list[dict[str, str]]] = {
    "parties": [
        {"party_id": "P-JOSE", "name": "José García", "phone": "+13475550113", "country": "US"},
        {"party_id": "P-MARIA", "name": "MARÍA GARCÍA", "phone": "+13475550114", "country": "US"},
        {"party_id": "P-ANA", "name": "Ana Garcia", "country": "US"},
    ],
    "accounts": [
        {
            "account_id": "A-JOSE",
            "property_id": "ELM",
            "unit": "7A",
            "kind": "residential_lease",
            "opened": "2025-06-01",
            "rent": "1500.00",
        },
        {
            "account_id": "A-MARIA",
            "property_id": "OAK",
            "unit": "3B",
            "kind": "residential_lease",
            "opened": "2025-06-01",
            "rent": "1400.00",
        },
        {
            "account_id": "A-ANA",
            "property_id": "OAK",
            "unit": "9",
            "kind": "residential_lease",
            "opened": "2025-06-01",
            "rent": "1300.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-JOSE", "party_id": "P-JOSE", "role": "primary"},
        {"account_id": "A-MARIA", "party_id": "P-MARIA", "role": "primary"},
        {"account_id": "A-ANA", "party_id": "P-ANA", "role": "primary"},
    ],
    "transactions": [
        {
            "txn_id": "T-JOSE-03",
            "account_id": "A-JOSE",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1500.00",
            "due": "2026-03-01",
        },
        {
            "txn_id": "T-ANA-PAY",
            "account_id": "A-ANA",
            "posted": "2026-03-02",
            "type": "payment",
            "amount": "200.00",
        },
    ],
}


@pytest.fixture
def garcias(people: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    book_import(write_book(tmp_path / "garcias", GARCIAS))
    return people


def ids(user: Any, q: str) -> list[str]:
    return [hit.account_id for hit in account_search(user, q=q)]


def test_a_name_is_found_whatever_its_accents_and_case(garcias):
    alice = garcias["alice"]
    for q in ("garcia", "GARCIA", "García", "garcía", "gArCíA"):
        assert sorted(ids(alice, q)) == ["A-ANA", "A-JOSE", "A-MARIA"], q
    assert ids(alice, "jose garcia") == ["A-JOSE"]
    assert ids(alice, "maría") == ["A-MARIA"]


def test_a_name_is_found_only_within_the_searchers_scope(garcias):
    # bob manages Elm Court only: José's lease, not María's or Ana's
    assert ids(garcias["bob"], "garcia") == ["A-JOSE"]
    assert ids(garcias["mallory"], "garcia") == []


def test_an_exact_phone_number_in_any_format_ranks_first(garcias):
    alice = garcias["alice"]
    for q in ("(347) 555-0113", "347-555-0113", "+13475550113", "3475550113", "1 347 555 0113"):
        found = account_search(alice, q=q)
        assert found[0].account_id == "A-JOSE", q
        assert found[0].why == "phone", q
    # the last seven digits still find a number typed without its area code
    assert ids(alice, "555-0114") == ["A-MARIA"]


def as_(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_exact_account_id_or_unit_opens_the_account(garcias):
    alice = as_(garcias["alice"])
    for q in ("A-JOSE", "a-jose", "7A", "7a"):
        response = alice.get("/search/", {"q": q})
        assert response.status_code == 302, q
        assert response["Location"] == "/accounts/A-JOSE/", q
    # while typing (htmx), the results are shown, nothing opens
    typed = alice.get("/search/", {"q": "7A"}, HTTP_HX_REQUEST="true")
    assert typed.status_code == 200
    assert 'href="/accounts/A-JOSE/"' in typed.content.decode()


def test_a_unit_at_several_properties_lists_its_accounts(garcias):
    # given 3B at Elm Court (Tina's) and 3B at Oak Terrace (María's)
    response = as_(garcias["alice"]).get("/search/", {"q": "3B"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/accounts/A-TINA/"' in html
    assert 'href="/accounts/A-MARIA/"' in html
    # bob sees Elm Court only: its one 3B opens
    assert as_(garcias["bob"]).get("/search/", {"q": "3B"})["Location"] == "/accounts/A-TINA/"


def test_each_result_shows_its_balance_and_stage_read_at_once(
    garcias, django_assert_max_num_queries, django_assert_num_queries
):
    from arrears.dunning.models import Action
    from arrears.ledger.models import Account

    # given a late notice taken on José's account after a reminder the guard refused
    jose = Account.objects.get(account_id="A-JOSE")
    for n, (step, status) in enumerate((("late-notice", "queued"), ("rent-demand", "refused"))):
        Action.objects.create(
            key=f"k{n}",
            account=jose,
            policy="ny-residential",
            policy_version=2,
            step=step,
            action="letter",
            status=status,
            run_on="2026-03-10",
            created_at="2026-03-10T12:00Z",
        )
    # when alice searches for the Garcías (the names, the hits, the standing: a few queries)
    with django_assert_max_num_queries(6):
        found = {h.account_id: h for h in account_search(garcias["alice"], q="garcia")}
    # then José owes his March rent at the notice's stage, Ana is in credit and current, María
    # owes nothing
    assert (found["A-JOSE"].balance, found["A-JOSE"].stage) == (Decimal("1500.00"), "late-notice")
    assert (found["A-ANA"].balance, found["A-ANA"].stage) == (Decimal("-200.00"), "current")
    assert (found["A-MARIA"].balance, found["A-MARIA"].stage) == (Decimal("0.00"), "current")
    # and the standing of the whole page of results is one query, however many they are
    from arrears.dunning.standing import accounts_standing

    with django_assert_num_queries(1):
        assert len(accounts_standing(["A-JOSE", "A-ANA", "A-MARIA", "A-TINA", "A-OSCAR"])) == 5
    html = as_(garcias["alice"]).get("/search/", {"q": "garcia"}).content.decode()
    assert "1,500.00 USD" in html
    assert "late notice" in html
    assert "-200.00 USD" in html


def test_the_header_box_suggests_up_to_eight_accounts_as_links(garcias):
    alice = as_(garcias["alice"])
    html = alice.get("/search/suggest/", {"q": "garcia"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    for account in ("A-JOSE", "A-MARIA", "A-ANA"):
        assert f'href="/accounts/{account}/"' in html
    assert 'href="/search/?q=garcia"' in html  # and the full search
    assert alice.get("/search/suggest/", {"q": " "}).content.strip() == b""
    # every page's header box asks for them as it is typed in, and is a plain form without script
    page = alice.get("/today/").content.decode()
    assert 'hx-get="/search/suggest/"' in page
    assert '<form class="quick-search" method="get" action="/search/"' in page
    # the scope holds: bob sees Elm Court's José only
    bob = as_(garcias["bob"]).get("/search/suggest/", {"q": "garcia"}).content.decode()
    assert "A-JOSE" in bob
    assert "A-MARIA" not in bob


def test_the_header_box_suggests_no_more_than_eight(garcias, tmp_path):
    many = {
        "parties": [{"party_id": f"P-G{n}", "name": f"Gárcia {n}"} for n in range(9)],
        "accounts": [
            {
                "account_id": f"A-G{n}",
                "property_id": "OAK",
                "unit": f"G{n}",
                "kind": "residential_lease",
                "opened": "2025-06-01",
            }
            for n in range(9)
        ],
        "account_parties": [
            {"account_id": f"A-G{n}", "party_id": f"P-G{n}", "role": "primary"} for n in range(9)
        ],
    }
    book_import(write_book(tmp_path / "many", many))
    html = as_(garcias["alice"]).get("/search/suggest/", {"q": "garcia"}).content.decode()
    assert html.count('href="/accounts/') == 8


def test_the_results_speak_spanish_to_a_spanish_reader(garcias):
    client = as_(garcias["alice"])
    html = client.get("/search/", {"q": "garcia"}, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    for word in ("Etapa", "al día", "sin paso aún", "nombre, correo o teléfono"):
        assert word in html, word
    suggested = client.get("/search/suggest/", {"q": "garcia"}, HTTP_ACCEPT_LANGUAGE="es")
    assert "Todos los resultados de «garcia»" in suggested.content.decode()
