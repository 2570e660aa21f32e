"""The first pages: the portfolio aging by property and an account's ledger."""

import shutil

import pytest

from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def example_book(fixtures_dir, tmp_path):
    folder = tmp_path / "book"
    shutil.copytree(fixtures_dir / "spec_example", folder)
    book_import(folder)


def test_portfolio_page_shows_each_property_and_drills_down_to_its_accounts(client, example_book):
    response = client.get("/", {"as_of": "2026-03-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "property=P1" in html
    assert "4,550.00" in html
    html = client.get("/", {"as_of": "2026-03-10", "property": "P1"}).content.decode()
    assert 'href="/accounts/A1/?as_of=2026-03-10"' in html
    assert "4,550.00" in html


def test_ledger_page_shows_the_running_balance(client, example_book):
    response = client.get("/accounts/A1/", {"as_of": "2026-03-10"})
    assert response.status_code == 200
    html = response.content.decode()
    for balance in ("2,000.00", "500.00", "2,500.00", "2,550.00", "-50.00", "4,550.00"):
        assert balance in html
    assert "returned 2026-02-20" in html


def test_an_unknown_account_is_not_found(client, example_book):
    assert client.get("/accounts/NOPE/").status_code == 404
