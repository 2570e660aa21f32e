"""The demo's tenancies played out month by month into raw interchange rows.

`Replay.run` plays one tenancy: rent on the 1st, the tenant's habits, what the bank returns,
move-out and the deposit. Where a tenant's next step depends on what the book says, it asks the
product, never a copy of it:

- what is still open is the product's cash application (`arrears.ledger.allocation.apply_cash`)
  over the account's entries so far;
- a late fee is what the account's built-in collection policy would post (`arrears.dunning`):
  its fee step's first day (grace days and business days as the policy counts them) and amount
  (`fee_amount`, the product's fee cap, rounded down); an account whose policy has no fee step
  (California, shops) gets none.

Every action runs at a (day, step) and posts only on that day with that step, in order, so the
order of emission is the account's book order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from arrears.core.money import ZERO, allocate, quantize
from arrears.demo.places import (
    ARREARS_SETTLES_WITHIN_DAYS,
    CHARGE_STEP,
    CREDIT_STEP,
    DEPOSIT_SETTLEMENT_DAYS,
    PAYMENT_STEP,
    REPAIRS,
    RESIDENTIAL,
    RETURN_STEP,
    UTILITIES,
)
from arrears.demo.story import (
    Book,
    Tenancy,
    Txn,
    days_in,
    first_of,
    label,
    month_of,
    returned_payment_fee,
    round_down,
)
from arrears.dunning.calendar import carry_to_business_day
from arrears.dunning.planning import fee_amount, first_day
from arrears.dunning.policy import Policy, Step, built_in_policies, choose_policy, jurisdiction_of
from arrears.ledger.allocation import CHARGE, REVERSAL, SIGN, Entry, apply_cash


@cache
def late_fee_step(country: str, state: str, kind: str) -> tuple[Policy, Step] | None:
    """The built-in policy of an active account of `kind` in `state` and its late-fee step on
    rent, if it has one (only New York's residential policy does: RPL §238-a(2))."""
    policy = choose_policy(
        built_in_policies(),
        jurisdiction=jurisdiction_of(country, state),
        account_kind=kind,
        moved_out=False,
    )
    if policy is None:
        return None
    for step in policy.steps:
        if step.action == "fee" and step.fee_code == "LATE" and "RENT" in step.codes:
            return policy, step
    return None


def late_fee_on(
    country: str, state: str, kind: str, due: date, rent: Decimal
) -> tuple[date, Decimal] | None:
    """The day the policy's late fee on rent due on `due` falls due, and its amount."""
    found = late_fee_step(country, state, kind)
    if found is None:
        return None
    policy, step = found
    first = first_day(step, due, policy.business_day_rule, carry_to_business_day)
    amount = fee_amount(step, rent)
    if first is None or not amount:
        return None
    return first, amount


class _Entries:
    """One account's entries so far, read back through the product's cash application."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.balance = ZERO

    def add(self, key: int, txn: Txn) -> None:
        self.balance += SIGN[txn.type] * txn.amount
        self.entries.append(
            Entry(
                id=key,
                type=txn.type,
                posted_on=txn.posted,
                amount=txn.amount,
                due_on=txn.posted if txn.type == CHARGE else None,
                code=txn.code,
                applies_to=txn.applies_to,
                reverses=txn.reverses if txn.type == REVERSAL else None,
            )
        )

    def open_amount(self, key: int) -> Decimal:
        for item in apply_cash(self.entries).open_items:
            if item.item == key and not item.is_credit:
                return Decimal(item.amount)
        return ZERO


class Replay:
    """Replays one tenancy day by day: rent, fees, the tenant's habits and what the bank returns.

    Every action runs at a (day, step) and posts only on that day with that step, in order, so
    the order of emission is the account's book order."""

    def __init__(self, book: Book, t: Tenancy) -> None:
        self.book, self.t, self.rng = book, t, book.rng
        self.ledger = _Entries()
        self.queue: list[tuple[date, int, int, str, Any]] = []
        self.seq = 0
        self.day, self.step = t.opened, CHARGE_STEP
        self.rent_keys: dict[int, int] = {}
        self.check_numbers = [self.rng.randint(101, 4800), self.rng.randint(101, 900)]
        self.method = t.method
        self.returns = 0
        self.first_regular = max(
            month_of(t.opened) + (t.opened >= book.window_start), book.start_month
        )
        self.actions: dict[str, Callable[[Any], None]] = {
            "rent": self.on_rent,
            "late_check": self.on_late_check,
            "pay": self.on_pay,
            "hap": self.on_hap,
            "pay_charge": self.on_pay_charge,
            "returned": self.on_returned,
            "replace": self.on_replace,
            "utility": self.on_utility,
            "repair": self.on_repair,
            "abatement": self.on_abatement,
            "concession": self.on_concession,
            "waive": self.on_waive,
            "move_out_charges": self.on_move_out_charges,
            "apply_deposit": self.on_apply_deposit,
            "collect": self.on_collect,
        }

    def run(self) -> None:
        t = self.t
        if t.opened >= self.book.window_start:
            self.at(t.opened, CHARGE_STEP, "rent", month_of(t.opened))
            self.at(t.opened, PAYMENT_STEP, "pay", ("balance", "Move-in funds"))
            if t.concession:
                self.at(first_of(self.first_regular), CREDIT_STEP, "concession", self.first_regular)
        last = month_of(t.closed) if t.closed else self.book.today_month
        for month in range(self.first_regular, last + 1):
            self.plan_month(month)
        if t.closed and t.closed < self.book.today - timedelta(days=ARREARS_SETTLES_WITHIN_DAYS):
            settle = t.closed + timedelta(days=DEPOSIT_SETTLEMENT_DAYS[t.building.place.state])
            self.at(settle, CHARGE_STEP, "move_out_charges", None, after_move_out=True)
            self.at(settle, CREDIT_STEP, "apply_deposit", None, after_move_out=True)
        while self.queue:
            self.day, self.step, _, action, arg = heapq.heappop(self.queue)
            self.actions[action](arg)

    def at(
        self, day: date, step: int, action: str, arg: Any, *, after_move_out: bool = False
    ) -> None:
        closed = self.t.closed
        if self.t.opened <= day <= self.book.today and (
            after_move_out or not closed or day <= closed
        ):
            self.seq += 1
            heapq.heappush(self.queue, (day, step, self.seq, action, arg))

    def plan_month(self, month: int) -> None:
        t, rng, start = self.t, self.rng, first_of(month)
        self.at(start, CHARGE_STEP, "rent", month)
        fee = late_fee_on(t.building.place.country, t.building.place.state, t.kind, start, t.rent)
        if fee is not None:
            self.at(fee[0], CHARGE_STEP, "late_check", (month, fee[1]))
        if t.hap:  # the housing authority pays on the 1st, before the tenant's share
            self.at(start, PAYMENT_STEP, "hap", month)
        for day, how in self.habit(month):
            self.at(start + timedelta(days=day - 1), PAYMENT_STEP, "pay", how)
        if rng.random() < 0.04:
            self.at(start + timedelta(days=rng.randint(11, 19)), CHARGE_STEP, "utility", None)
        if rng.random() < 0.015:
            self.at(start + timedelta(days=rng.randint(7, 24)), CHARGE_STEP, "repair", None)
        if t.kind == RESIDENTIAL and rng.random() < 0.004:
            self.at(start + timedelta(days=rng.randint(9, 24)), CREDIT_STEP, "abatement", month)

    def habit(self, month: int) -> list[tuple[int, tuple[str, Any]]]:
        """The days of the month the tenant pays, and how much each time."""
        t, rng = self.t, self.rng
        pays: list[tuple[int, tuple[str, Any]]] = []
        last_month = t.closed is not None and month == month_of(t.closed)
        if last_month and t.deposit_for_last_month:
            return []
        profile = t.profile
        if profile == "lapsed" and month >= t.lapse_from:
            return [(rng.randint(5, 25), ("part", Decimal("0.30")))] if rng.random() < 0.2 else []
        if profile == "hardship" and t.hardship[0] <= month < t.hardship[1]:
            return []
        if profile == "hardship" and month == t.hardship[1]:
            return [(rng.randint(8, 20), ("assistance", None))]
        if profile == "partial":
            if rng.random() < 0.12:
                return []
            pays.append((rng.randint(3, 20), ("part", t.fraction)))
            if rng.random() < 0.25:
                pays.append((rng.randint(21, 28), ("part", t.fraction / 3)))
            return pays
        if profile == "late":
            return [(rng.randint(7, 22), ("rent" if rng.random() < 0.15 else "balance", ""))]
        if profile == "nsf":
            return [(rng.randint(1, 12), ("balance", ""))]
        if profile == "prepaid":
            return [(rng.randint(1, 5), ("balance" if last_month else "topup", ""))]
        if profile == "early":
            if month == self.first_regular:
                pays.append((rng.randint(1, 3), ("balance", "")))
            if not last_month:
                pays.append((rng.randint(24, 28), ("ahead", "")))
            return pays
        if rng.random() < 0.05:
            return [(rng.randint(7, 18), ("balance", ""))]
        return [(rng.choices(range(1, 6), (30, 25, 20, 15, 10))[0], ("balance", ""))]

    def emit(
        self,
        kind: str,
        amount: Decimal,
        *,
        code: str = "",
        applies_to: int | None = None,
        reverses: int | None = None,
        reference: str = "",
        memo: str = "",
    ) -> int:
        amount = quantize(amount)
        if amount <= 0:
            raise ValueError(f"demo entry with a non-positive amount: {amount}")
        self.book.next_key += 1
        key = self.book.next_key
        txn = Txn(
            key,
            self.t.index,
            self.day,
            self.step,
            kind,
            amount,
            code,
            applies_to,
            reverses,
            reference,
            memo,
        )
        self.book.txns.append(txn)
        self.ledger.add(key, txn)
        return key

    def payment(
        self,
        amount: Decimal,
        *,
        method: str = "",
        co_tenant: bool = False,
        applies_to: int | None = None,
        reference: str = "",
        memo: str = "",
    ) -> None:
        rng = self.rng
        method = method or self.method
        if not reference:
            if method == "CHK":
                self.check_numbers[co_tenant] += 1
                reference = f"CHK {self.check_numbers[co_tenant]}"
            elif method == "ACH":
                reference = f"ACH {rng.randint(10**14, 10**15 - 1)}"
            else:
                reference = f"MO {rng.randint(10**10, 10**11 - 1)}"
        key = self.emit(
            "payment", amount, code=method, applies_to=applies_to, reference=reference, memo=memo
        )
        if method in ("CHK", "ACH") and rng.random() < self.t.bounce_rate:
            wait = rng.randint(3, 7) if method == "CHK" else rng.randint(2, 4)
            self.at(
                self.day + timedelta(days=wait),
                RETURN_STEP,
                "returned",
                (key, amount, method, reference),
                after_move_out=True,
            )

    def on_rent(self, month: int) -> None:
        rent, days = self.t.rent, days_in(month)
        if self.day.day == 1:
            amount, memo = rent, f"Rent {label(month)}"
        else:  # moved in mid-month
            used = days - self.day.day + 1
            amount, memo = rent * used / days, f"Rent {label(month)}, {used} of {days} days"
        self.rent_keys[month] = self.emit("charge", amount, code="RENT", memo=memo)

    def on_late_check(self, arg: tuple[int, Decimal]) -> None:
        month, fee = arg
        key = self.rent_keys.get(month)
        if key is None or not self.ledger.open_amount(key):
            return
        late = self.emit("charge", fee, code="LATE", memo=f"Late fee, rent {label(month)}")
        if self.rng.random() < 0.04:
            self.at(self.day + timedelta(days=self.rng.randint(2, 14)), CREDIT_STEP, "waive", late)

    def on_pay(self, how: tuple[str, Any]) -> None:
        mode, value = how
        t, balance = self.t, self.ledger.balance
        share = t.rent - t.hap
        if mode == "assistance":
            if balance > 0:
                payer = t.building.assistance
                self.payment(
                    balance,
                    method="ASSIST",
                    memo="Emergency rental assistance",
                    reference=f"{payer} {self.rng.randint(10**7, 10**8 - 1)}",
                )
            return
        memo = value if mode == "balance" else ""
        if mode == "balance":
            amount = balance
        elif mode == "rent":
            amount = min(share, balance)
        elif mode == "ahead":
            amount = balance + share
        elif mode == "topup":
            amount = balance + share * t.cushion
        else:  # part of the rent, in round figures
            amount = min(max(round_down(share * value, 25), Decimal(50)), balance)
        if amount <= 0:
            return
        if t.co_tenant and amount >= 100:
            mine, theirs = allocate(amount, [1, 1])
            self.payment(mine, memo=memo)
            self.payment(theirs, co_tenant=True, memo=f"Share paid by {t.co_tenant}")
        else:
            self.payment(amount, memo=memo)

    def on_hap(self, month: int) -> None:
        key = self.rent_keys.get(month)
        if key is not None:
            reference = f"HAP {self.t.building.housing_authority} {month // 12}{month % 12 + 1:02d}"
            self.payment(
                self.t.hap,
                method="HAP",
                applies_to=key,
                reference=reference,
                memo="Housing assistance payment, Section 8",
            )

    def on_pay_charge(self, key: int) -> None:
        if self.ledger.open_amount(key):
            self.payment(self.ledger.open_amount(key), applies_to=key, memo="Repair charge")

    def on_returned(self, arg: tuple[int, Decimal, str, str]) -> None:
        key, amount, method, reference = arg
        why = "Returned check: NSF" if method == "CHK" else "ACH return R01: insufficient funds"
        self.emit("reversal", amount, reverses=key, reference=f"RET {reference}", memo=why)
        self.returns += 1
        fee = returned_payment_fee(self.t.building.place.state, self.returns)
        self.emit("charge", fee, code="NSF", memo="Returned payment fee")
        if self.returns >= 2:
            self.method = "MO"  # certified funds only, after a second returned payment
        if self.t.profile != "nsf" or self.rng.random() < 0.6:
            again = self.day + timedelta(days=self.rng.randint(2, 8))
            self.at(again, PAYMENT_STEP, "replace", (amount, reference))

    def on_replace(self, arg: tuple[Decimal, str]) -> None:
        amount, reference = arg
        self.payment(amount, method="MO", memo=f"Replaces returned {reference}")

    def on_utility(self, _: None) -> None:
        memo = self.rng.choice(UTILITIES[self.t.building.market])
        self.emit("charge", Decimal(self.rng.randint(3500, 16000)) / 100, code="UTIL", memo=memo)

    def on_repair(self, _: None) -> None:
        memo, amount = self.rng.choice(REPAIRS)
        key = self.emit("charge", Decimal(amount), code="MAINT", memo=memo)
        if self.t.profile in ("prompt", "early", "late", "nsf") and self.rng.random() < 0.6:
            later = self.day + timedelta(days=self.rng.randint(3, 15))
            self.at(later, PAYMENT_STEP, "pay_charge", key)

    def on_abatement(self, month: int) -> None:
        winter = self.t.building.place.state == "NY" and month % 12 in (10, 11, 0, 1, 2)
        memo = "Rent abatement: no heat or hot water" if winter else "Rent abatement: repairs"
        amount = self.t.rent * self.rng.randint(10, 25) / 100
        self.emit("credit", amount, code="CONC", memo=memo)

    def on_concession(self, month: int) -> None:
        key = self.rent_keys.get(month)
        if key is not None:
            self.emit(
                "credit",
                self.t.rent,
                code="CONC",
                applies_to=key,
                memo="Lease concession: one month free",
            )

    def on_waive(self, key: int) -> None:
        if self.ledger.open_amount(key):
            self.emit(
                "credit",
                self.ledger.open_amount(key),
                code="WAIVE",
                applies_to=key,
                memo="Late fee waived",
            )

    def on_move_out_charges(self, _: None) -> None:
        if self.rng.random() < 0.35:
            self.emit(
                "charge",
                Decimal(self.rng.randint(150, 1200)),
                code="MAINT",
                memo="Move-out: cleaning and repairs, itemized",
            )
        if self.ledger.balance < 0:
            self.emit("charge", -self.ledger.balance, code="REFUND", memo="Credit balance refunded")
        self.t.deposit_settled = True

    def on_apply_deposit(self, _: None) -> None:
        balance = self.ledger.balance
        if balance > 0:
            self.emit(
                "credit", min(self.t.deposit, balance), code="DEP", memo="Security deposit applied"
            )
        if self.ledger.balance > 0 and self.rng.random() < 0.35:
            later = self.day + timedelta(days=self.rng.randint(20, 120))
            self.at(later, PAYMENT_STEP, "collect", None, after_move_out=True)

    def on_collect(self, _: None) -> None:
        amount = quantize(self.ledger.balance * self.rng.randint(25, 100) / 100)
        if amount > 0:
            self.payment(amount, method="MO", memo="Payment from former tenant")
