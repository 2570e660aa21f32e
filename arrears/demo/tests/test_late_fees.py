"""The demo's late fees are the product's: the built-in policy's day and amount, when the
product's cash application leaves the month's rent open. No database: the book is read back."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from arrears.core.money import fee_cap
from arrears.demo.book import write_demo_book
from arrears.demo.places import BUILDINGS, RESIDENTIAL
from arrears.demo.replay import Replay, late_fee_on
from arrears.demo.story import Book, Tenancy, month_of
from arrears.dunning.calendar import carry_to_business_day
from arrears.dunning.planning import first_day
from arrears.dunning.policy import built_in_policies
from arrears.ledger.allocation import Entry, apply_cash

TODAY = date(2026, 3, 10)


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_rent_of_810_10_gets_a_fee_of_40_50_not_the_40_51_that_half_up_would_give() -> None:
    # given a Marlowe tenant at 810.10 who stops paying (5% of it is 40.505)
    book = Book(random.Random(1), date(2026, 9, 30))
    tenancy = Tenancy(
        index=0,
        account_id="MAR-15Z-1",
        building=BUILDINGS[0],
        unit="15Z",
        kind=RESIDENTIAL,
        opened=date(2024, 1, 1),
        closed=None,
        rent=Decimal("810.10"),
        deposit=Decimal("810.10"),
        profile="lapsed",
        method="MO",
        bounce_rate=0.0,
        lapse_from=month_of(date(2026, 6, 1)),
    )
    book.tenancies.append(tenancy)
    # when the demo plays the tenancy out
    Replay(book, tenancy).run()
    # then each late fee is the product's cap, rounded down, on the policy's day
    fees = [t for t in book.transaction_rows() if t["code"] == "LATE"]
    assert fees
    assert {t["amount"] for t in fees} == {"40.50"}
    assert fee_cap(Decimal("50.00"), Decimal(5), Decimal("810.10")) == Decimal("40.50")
    # September 2026: the 6th is a Sunday, the 7th Labor Day, so the fee comes on Wed 09-09
    assert late_fee_on("US", "NY", RESIDENTIAL, date(2026, 9, 1), Decimal("810.10")) == (
        date(2026, 9, 9),
        Decimal("40.50"),
    )
    assert "2026-09-09" in {t["posted"] for t in fees}


def test_every_late_fee_of_the_demo_book_is_the_one_the_ny_policy_posts(tmp_path: Path) -> None:
    # given the demo book
    write_demo_book(tmp_path, today=TODAY)
    accounts = {a["account_id"]: a for a in read(tmp_path, "accounts.csv")}
    states = {p["property_id"]: p["state"] for p in read(tmp_path, "properties.csv")}
    policy = built_in_policies()["ny-residential"]
    step = next(s for s in policy.steps if s.action == "fee")
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read(tmp_path, "transactions.csv"):
        rows[row["account_id"]].append(row)
    fees = owed = 0
    # when each account is replayed by the product's cash application up to each fee day
    for account_id, txns in rows.items():
        account = accounts[account_id]
        ny = states[account["property_id"]] == "NY" and account["kind"] == RESIDENTIAL
        rent = Decimal(account["rent"])
        fee_days = {}
        for t in txns:
            if t["code"] == "RENT" and t["posted"].endswith("-01"):
                due = date.fromisoformat(t["posted"])
                day = first_day(step, due, policy.business_day_rule, carry_to_business_day)
                fee_days[day] = t["txn_id"]
        ids = {t["txn_id"]: n for n, t in enumerate(txns)}
        entries: list[Entry] = []
        for n, t in enumerate(txns):
            posted = date.fromisoformat(t["posted"])
            rent_id = fee_days.get(posted)
            if t["code"] == "LATE":
                # then a fee falls on a New York residential lease, on the policy's day, at the
                # policy's amount, for a rent the product still has open before it
                assert ny, t
                assert rent_id is not None, t
                assert Decimal(t["amount"]) == fee_cap(
                    step.fee_fixed, step.fee_percent_of_rent, rent
                )
                open_ids = {o.item for o in apply_cash(entries).open_items if not o.is_credit}
                assert ids[rent_id] in open_ids, t
                fees += 1
            entries.append(
                Entry(
                    id=n,
                    type=t["type"],
                    posted_on=posted,
                    amount=Decimal(t["amount"]),
                    due_on=posted if t["type"] == "charge" else None,
                    code=t["code"],
                    applies_to=ids[t["applies_to"]] if t["applies_to"] else None,
                    reverses=ids[t["reverses"]] if t["reverses"] else None,
                )
            )
        owed += sum(1 for t in txns if t["code"] == "LATE")
    assert fees == owed > 0
