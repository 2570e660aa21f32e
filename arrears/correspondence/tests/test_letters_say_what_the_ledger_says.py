"""Every built-in template, in both languages, rendered against books built to contradict it: each
figure and claim in the text is checked against the ledger (issue 12, item 4).

The books, all at Elm Court (Brooklyn, NY), letters dated March 10, 2026:
- Nora moved out owing February's rent and a repair bill, and no deposit was applied;
- Dev moved out too, and his 1,000.00 deposit was applied (a `DEP` credit);
- Pia paid 500.00 of March's 1,200.00 rent (her sister Rae guarantees the lease, up to 5,000.00);
- Max owes March's rent and February's late fee (rent and fees mixed);
- Cy paid 300.00 before March's rent was charged, and a 75.00 credit sits unapplied;
- Bo's company owes an invoice due next week and one overdue.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.correspondence.catalog import CATALOG, MONTHS
from arrears.correspondence.context import DEPOSIT_CODE
from arrears.correspondence.rendering import MissingFieldError, render_with, template_load
from arrears.correspondence.selectors import context_for
from arrears.correspondence.tests.conftest import write_csv
from arrears.ledger.models import Account, Transaction
from arrears.ledger.selectors import open_items_as_of
from arrears.ledger.services import book_import

ON = date(2026, 3, 10)
ELM = {
    "property_id": "ELM",
    "name": "Elm Court",
    "address": "12 Elm Street",
    "city": "Brooklyn",
    "state": "NY",
    "postal_code": "11201",
    "country": "US",
}
PEOPLE = ["Nora", "Dev", "Pia", "Rae", "Max", "Cy", "Bo"]
ACCOUNTS = {
    # each account's kind, move-out date and rent
    "A-NORA": ("residential_lease", "2026-02-28", "1200.00"),
    "A-DEV": ("residential_lease", "2026-02-28", "1200.00"),
    "A-PIA": ("residential_lease", "", "1200.00"),
    "A-MAX": ("residential_lease", "", "1200.00"),
    "A-CY": ("residential_lease", "", "1200.00"),
    "A-BO": ("customer", "", ""),
}
TXNS = [
    ("A-NORA", "N-RENT-02", "2026-02-01", "charge", "RENT", "1200.00", "2026-02-01"),
    ("A-NORA", "N-MAINT", "2026-03-02", "charge", "MAINT", "800.00", "2026-03-02"),
    ("A-DEV", "D-RENT-02", "2026-02-01", "charge", "RENT", "1200.00", "2026-02-01"),
    ("A-DEV", "D-MAINT", "2026-03-02", "charge", "MAINT", "800.00", "2026-03-02"),
    ("A-DEV", "D-DEP", "2026-03-05", "credit", DEPOSIT_CODE, "1000.00", ""),
    ("A-PIA", "P-RENT-03", "2026-03-01", "charge", "RENT", "1200.00", "2026-03-01"),
    ("A-PIA", "P-PAY", "2026-03-03", "payment", "", "500.00", ""),
    ("A-MAX", "M-RENT-02", "2026-02-01", "charge", "RENT", "1200.00", "2026-02-01"),
    ("A-MAX", "M-PAY-02", "2026-02-02", "payment", "", "1200.00", ""),
    ("A-MAX", "M-LATE-02", "2026-02-07", "charge", "LATE", "50.00", "2026-02-07"),
    ("A-MAX", "M-RENT-03", "2026-03-01", "charge", "RENT", "1200.00", "2026-03-01"),
    ("A-CY", "C-PAY", "2026-02-25", "payment", "", "300.00", ""),
    ("A-CY", "C-RENT-03", "2026-03-01", "charge", "RENT", "1200.00", "2026-03-01"),
    ("A-CY", "C-ADJ", "2026-03-04", "credit", "ADJ", "75.00", ""),
    ("A-BO", "B-INV-1", "2026-02-01", "charge", "INV", "900.00", "2026-03-03"),
    ("A-BO", "B-INV-2", "2026-03-01", "charge", "INV", "450.00", "2026-03-17"),
]


@pytest.fixture
def books(db: None, tmp_path: Path) -> None:
    folder = tmp_path / "contradicting"
    folder.mkdir()
    write_csv(folder / "properties.csv", [{**ELM, "owner_name": "Elm Court Owners LLC"}])
    write_csv(
        folder / "parties.csv",
        [
            {
                "party_id": f"P-{n.upper()}",
                "name": f"{n} Example",
                "address": f"{i} Oak Road",
                "city": "Albany",
                "state": "NY",
                "postal_code": "12207",
                "country": "US",
                "email": f"{n.lower()}@example.org",
            }
            for i, n in enumerate(PEOPLE, start=1)
        ],
    )
    write_csv(
        folder / "accounts.csv",
        [
            {
                "account_id": a,
                "property_id": "" if kind == "customer" else "ELM",
                "unit": "" if kind == "customer" else str(i),
                "kind": kind,
                "opened": "2025-01-01",
                "closed": closed,
                "rent": rent,
            }
            for i, (a, (kind, closed, rent)) in enumerate(ACCOUNTS.items(), start=1)
        ],
    )
    links = [
        {"account_id": a, "party_id": f"P-{a[2:]}", "role": "primary", "guarantee_limit": ""}
        for a in ACCOUNTS
    ]
    links.append(
        {
            "account_id": "A-PIA",
            "party_id": "P-RAE",
            "role": "guarantor",
            "guarantee_limit": "5000.00",
        }
    )
    write_csv(folder / "account_parties.csv", links)
    write_csv(
        folder / "transactions.csv",
        [
            {
                "txn_id": t,
                "account_id": a,
                "posted": posted,
                "type": kind,
                "code": code,
                "amount": amount,
                "due": due,
            }
            for a, t, posted, kind, code, amount, due in TXNS
        ],
    )
    book_import(folder)


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def longdate(day: date, language: str) -> str:
    month = MONTHS[language][day.month - 1]
    return (
        f"{month} {day.day}, {day.year}"
        if language == "en"
        else f"{day.day} de {month} de {day.year}"
    )


class Ledger:
    """What the book says of one account on ON, read straight from the open items and entries."""

    def __init__(self, account_id: str) -> None:
        account = Account.objects.get(account_id=account_id)
        rows = open_items_as_of(as_of=ON, account_pks=[account.pk])
        self.charges = [r for r in rows if not r.is_credit]
        self.due = [r for r in self.charges if r.due_on <= ON]
        self.credits = sum((r.amount for r in rows if r.is_credit), Decimal(0))
        self.rent = [r for r in self.due if r.code == "RENT"]
        deposits = Transaction.objects.filter(account=account, type="credit", code=DEPOSIT_CODE)
        self.deposit = sum((t.amount for t in deposits), Decimal(0))
        self.limit = Decimal("5000.00") if account_id == "A-PIA" else None

    def figures(self) -> set[Decimal]:
        """Every amount a letter may print: an open charge, a sum of them (all, rent, by code),
        the credits, the net due, the deposit applied, a guarantor's limit."""
        due = sum((r.amount for r in self.due), Decimal(0))
        by_code: dict[str, Decimal] = {}
        for r in self.due:
            by_code[r.code] = by_code.get(r.code, Decimal(0)) + r.amount
        out = {r.amount for r in self.charges} | set(by_code.values())
        out |= {due, max(due - self.credits, Decimal(0)), self.credits, self.deposit}
        out |= {sum((r.amount for r in self.rent), Decimal(0))}
        return out | ({self.limit} if self.limit else set())


def dispute_fields(ledger: Ledger) -> dict[str, Any]:
    """A dispute of the oldest open charge, credited half (amounts as the answers carry them)."""
    charge = ledger.charges[0]
    half = (charge.amount / 2).quantize(Decimal("0.01"))
    return {
        "dispute": {
            "dispute_id": 1,
            "outcome": "partial",
            "reason": "wrong amount",
            "opened_on": ON,
            "amount": charge.amount,
            "credited": half,
            "remaining": charge.amount - half,
            "note": "",
            "charges": [
                {
                    "txn_id": charge.txn_id,
                    "label": charge.code,
                    "amount": charge.amount,
                    "credited": half,
                }
            ],
        }
    }


def render(name: str, language: str, account_id: str, ledger: Ledger) -> Any:
    context = context_for(
        account_id=account_id,
        template=name,
        on=ON,
        language=language,
        deadline=ON + timedelta(days=14),
    )
    if name.startswith("dispute-"):
        context |= dispute_fields(ledger)
    return render_with(template_load(name, context["language"]), context, letter=True)


AMOUNT = re.compile(r"-?\$[\d,]+\.\d\d")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_template_says_only_what_the_ledger_says_or_is_refused(books, name, language):
    for account_id in ACCOUNTS:
        # given: a book built to contradict the template
        ledger = Ledger(account_id)

        # when: the template is rendered for the account's primary party
        try:
            message = render(name, language, account_id, ledger)
        except MissingFieldError as exc:
            refused = exc
        else:
            refused = None
        if refused is not None:
            # then (refused): only for a field the book truly leaves empty
            assert refused.code == "merge_field_missing"
            assert refused.extra["template"] == name
            assert refused.extra["field"] in CATALOG[name].requires
            if refused.extra["field"] == "charge":
                assert not (
                    ledger.rent
                    if CATALOG[name].charge_of == "rent"
                    else [r for r in ledger.charges if r.due_on > ON]
                )
            continue
        text = " ".join(message.text.split())
        where = f"{name} ({language}) for {account_id}"

        # then: every amount printed is one the ledger holds
        allowed = ledger.figures()
        if name.startswith("dispute-"):
            d = dispute_fields(ledger)["dispute"]
            allowed |= {d["amount"], d["credited"], d["remaining"]}
        for printed in AMOUNT.findall(text):
            value = Decimal(printed.replace("$", "").replace(",", "")).copy_abs()
            assert value in allowed, f"{where} prints {printed}, which the ledger does not hold"

        # a security deposit is named only when the ledger applied one, and at its amount
        said = re.findall(
            r"(?:security deposit|depósito de garantía) of (\$[\d,.]+\d)|"
            r"depósito de garantía de (\$[\d,.]+\d)",
            text,
        )
        mentions = "security deposit" in text or "depósito de garantía" in text
        assert ledger.deposit or not mentions, f"{where}: a deposit claim without one"
        if name.startswith("post-move-out"):
            assert mentions == bool(ledger.deposit), f"{where}: the deposit applied unsaid"
        for groups in said:
            assert money(ledger.deposit) in groups, f"{where}: deposit amount {groups}"

        # a statutory notice never asks to be disregarded
        if CATALOG[name].law:
            assert "disregard" not in text, where
            assert "ignore esta carta" not in text, where

        # a letter about a month's rent names what is open of it, and its own due date
        if CATALOG[name].charge_of == "rent":
            latest = max(ledger.rent, key=lambda r: r.due_on)
            assert money(latest.amount) in text, where
            assert longdate(latest.due_on, language) in text, where


def test_pias_late_notice_names_the_700_still_open_not_the_month_of_1200(books):
    # given: Pia paid 500.00 of March's 1,200.00 rent
    ledger = Ledger("A-PIA")

    # when: her New York late notice is rendered
    message = render("ny-late-rent-notice", "en", "A-PIA", ledger)

    # then: the sentence the statute asks for names the 700.00 the landlord has not received
    text = " ".join(message.text.split())
    assert "has not received $700.00 of your rent for 12 Elm Street, Unit 3" in text
    assert "which was due on March 1, 2026" in text
    assert "$1,200.00" not in text


def test_noras_move_out_letters_say_nothing_of_a_deposit_never_applied(books):
    # given: Nora moved out and no deposit application is on her ledger
    ledger = Ledger("A-NORA")

    for name in ("post-move-out-demand", "post-move-out-final-notice"):
        for language in ("en", "es"):
            # when: her post-move-out letters are rendered
            text = render(name, language, "A-NORA", ledger).text

            # then: no word of a deposit
            assert "deposit" not in text
            assert "depósito" not in text


def test_devs_move_out_letters_name_the_deposit_the_ledger_applied(books):
    # given: Dev's 1,000.00 deposit was applied (a DEP credit)
    ledger = Ledger("A-DEV")

    # when: his post-move-out demand is rendered
    text = " ".join(render("post-move-out-demand", "en", "A-DEV", ledger).text.split())

    # then: it names the deposit and its amount, and the balance left ($1,000.00)
    assert "After applying your security deposit of $1,000.00, a balance of $1,000.00" in text
