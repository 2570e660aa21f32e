"""The portfolio's truths on the demo's book: its totals count the accounts in credit (unless a
filter says otherwise) and reconcile with `arrears aging` for the same day."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR
from arrears.cli import main
from arrears.demo.book import write_demo_book
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

DEMO_DAY = date(2026, 11, 20)


@pytest.fixture
def demo_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("ARREARS_TODAY", DEMO_DAY.isoformat())
    write_demo_book(tmp_path / "demo", today=DEMO_DAY)
    book_import(tmp_path / "demo")
    coordinator = user_add(
        username="cora",
        password="a-long-demo-password",
        role="coordinator",
        properties=[],
        firm="",
        actor=OPERATOR,
        via="system",
    )
    client = Client()
    client.force_login(coordinator)
    return client


def _page_totals(client: Client, **query: str) -> dict[str, Any]:
    response = client.get("/", query)
    assert response.status_code == 200
    (report,) = response.context["reports"]
    return report.totals


@pytest.mark.parametrize("as_of", ["2026-11-20", "2026-06-30"])
def test_the_portfolios_total_is_the_aging_commands(demo_book, capsys, as_of):
    # given the demo's book, some of whose accounts are in credit
    capsys.readouterr()
    assert main(["aging", "--as-of", as_of, "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)["totals"]
    # when the coordinator opens the portfolio for the same day, by property and by account
    for level in ("property", "account"):
        totals = _page_totals(demo_book, as_of=as_of, level=level)
        # then its figures are the command's, to the cent, credit included
        assert f"{totals.balance:.2f}" == cli["balance"], level
        assert f"{totals.credit:.2f}" == cli["credit"], level
    assert Decimal(cli["credit"]) > 0  # the book has accounts in credit: the test can fail


def test_a_balance_floor_leaves_out_the_accounts_in_credit(demo_book):
    every = _page_totals(demo_book, as_of="2026-11-20")
    owing = _page_totals(demo_book, as_of="2026-11-20", min_balance="0.01")
    assert owing.credit < every.credit
    assert owing.balance > every.balance
