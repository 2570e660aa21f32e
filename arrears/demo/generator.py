"""The generator of synthetic books: a seed and sizes in, interchange files (version 1) out.

`synthetic_book` writes properties, parties, accounts, account_parties and transactions CSV files
of `accounts` residential leases with about `transactions` entries over a monthly history ending at
`today`. It is the one generator of the benchmarks (bench/book.py, bench/cycle.py and those built
on them) and writes only raw rows: what the book means (cash application, aging, what the policy
does) is the product's, once the book is imported.

Invariants (arrears/demo/tests/test_generator.py):
- the same seed, sizes, states and `today` give byte-identical files; the only randomness is
  `random.Random(seed)`, and amounts are whole cents (ints), never floats;
- it streams: it holds one small record per account and one month of transaction lines, so a book
  of 10M transactions is written in about 70 MB;
- `states` changes the properties' state, city and postal code only; every other file, and every
  other column, is the same for any `states`.

Pure Python: no Django, no clock.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

GENERATOR_VERSION = 2  # bump when the generated book changes, so cached books are not reused

TRANSACTION_COLUMNS = (
    "txn_id",
    "account_id",
    "posted",
    "type",
    "amount",
    "code",
    "due",
    "applies_to",
    "reverses",
    "reference",
    "memo",
)
PROPERTY_HEADER = "property_id,name,address,city,state,postal_code,country,timezone\n"
PARTY_HEADER = "party_id,name,kind,email,phone,address,city,state,postal_code,country,language\n"
ACCOUNT_HEADER = "account_id,property_id,unit,kind,opened,closed,rent,deposit_held,currency\n"
LINK_HEADER = "account_id,party_id,role,guarantee_limit\n"

State = tuple[str, str, str]  # state, city, the first three digits of its postal codes
STATES: tuple[State, ...] = (
    ("NY", "Albany", "122"),
    ("CA", "Sacramento", "958"),
    ("TX", "Austin", "787"),
    ("IL", "Springfield", "627"),
    ("WA", "Olympia", "985"),
    ("FL", "Tallahassee", "323"),
    ("AZ", "Phoenix", "850"),
    ("MA", "Boston", "021"),
)
# Every property in New York or California, the two states with a residential policy.
NY_CA_STATES: tuple[State, ...] = tuple(s for s in STATES if s[0] in ("NY", "CA"))
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Rd", "Lake View", "Hill St")
FIRST = (
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "June",
    "Kofi",
    "Lea",
)
LAST = (
    "Garcia",
    "Smith",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Haddad",
    "Ito",
    "Silva",
    "Brown",
    "Ruiz",
)

# Payment habits of the generated tenants: (habit, share).
HABITS = (("ontime", 0.70), ("late", 0.08), ("partial", 0.07), ("prepay", 0.07), ("slips", 0.08))
NSF_FEE = 3500  # cents
ACCOUNTS_PER_PROPERTY = 100


class _Lines(Protocol):
    def writelines(self, lines: Iterable[str], /) -> Any: ...


def cents(c: int) -> str:
    """Whole cents as the interchange writes an amount: 1234 is "12.34"."""
    return f"{c // 100}.{c % 100:02d}"


def csv_line(values: Iterable[object]) -> str:
    """One CSV line (RFC 4180 quoting, LF end) of `values`; None is an empty field."""
    out = []
    for v in values:
        s = "" if v is None else str(v)
        if any(c in s for c in ',"\n\r'):
            s = '"' + s.replace('"', '""') + '"'
        out.append(s)
    return ",".join(out) + "\n"


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


class _Account:
    __slots__ = (
        "aid",
        "balance",
        "close_m",
        "closed",
        "habit",
        "late_fee",
        "rent",
        "slip_m",
        "start_m",
    )

    def __init__(self, aid: str) -> None:
        self.aid = aid
        self.balance = 0  # cents: charges - payments - credits + reversals, as the tenant sees it
        self.rent = self.late_fee = self.start_m = 0
        self.habit = ""
        self.slip_m: int | None = None
        self.close_m: int | None = None
        self.closed: dt.date | None = None


class _Writer:
    """Buckets transaction lines by posted date and writes them out in date order."""

    def __init__(self, f: _Lines, today: dt.date) -> None:
        self.f = f
        self.today = today
        self.pending: dict[dt.date, list[str]] = {}
        self.datestr: dict[dt.date, str] = {}
        self.next_id = 0
        self.written = 0

    def new_id(self) -> str:
        self.next_id += 1
        return f"T{self.next_id:09d}"

    def add(self, posted: dt.date, line_after_date: str, aid: str, tid: str) -> None:
        ds = self.datestr.get(posted)
        if ds is None:
            ds = self.datestr[posted] = posted.isoformat()
        bucket = self.pending.get(posted)
        if bucket is None:
            bucket = self.pending[posted] = []
        bucket.append(f"{tid},{aid},{ds},{line_after_date}\n")

    def post(self, a: _Account, m0: dt.date, day: int, rest: str) -> tuple[str, dt.date] | None:
        """Post `rest` on day `day` of the month `m0` unless that is after today."""
        d = m0 + dt.timedelta(days=day - 1)
        if d > self.today:
            return None
        tid = self.new_id()
        self.add(d, rest, a.aid, tid)
        return tid, d

    def flush_before(self, limit: dt.date | None) -> None:
        for d in sorted(k for k in self.pending if limit is None or k < limit):
            lines = self.pending.pop(d)
            self.f.writelines(lines)
            self.written += len(lines)


def _habit_payments(a: _Account, habit: str, rng: random.Random) -> list[tuple[int, int]]:
    """This month's payments of a tenant with `habit`: [(day, cents)], in day order."""
    rnd, rint = rng.random, rng.randint
    pays: list[tuple[int, int]] = []
    bal = a.balance
    if habit == "ontime":
        if bal > 0:
            pays.append((rint(1, 5), bal))
    elif habit == "late":
        if bal > 0:
            pays.append((rint(7, 25), bal + a.late_fee))
    elif habit == "partial":
        if bal > 0:
            part = max(100, int(bal * (0.3 + 0.6 * rnd())))
            pays.append((rint(1, 12), min(part, bal)))
            if rnd() < 0.3:
                pays.append((rint(15, 28), max(100, bal - part + a.late_fee)))
    elif habit == "prepay":
        if bal > 0:  # first month, or after a returned payment
            pays.append((rint(1, 3), bal))
        pays.append((rint(20, 28), a.rent * (2 if rnd() < 0.1 else 1)))
    elif rnd() < 0.25:  # delinquent: now and then a little
        pays.append((rint(1, 28), max(100, int(a.rent * (0.1 + 0.4 * rnd())))))
    if rnd() < 0.02 and pays:  # an overpayment: unapplied credit
        day, amt = pays[-1]
        pays[-1] = (day, amt + rint(1, 20) * 1000)
    pays.sort()
    return pays


def _post_payments(
    a: _Account,
    m0: dt.date,
    ndays: int,
    pays: list[tuple[int, int]],
    risky: bool,
    rng: random.Random,
    w: _Writer,
) -> None:
    """The month's payments, some of them returned (NSF) a few days later with an NSF fee."""
    rnd, rint = rng.random, rng.randint
    for day, amt in pays:
        kind = "ACH" if rnd() < 0.7 else "CHK"
        pay = w.post(
            a, m0, min(day, ndays), f"payment,{cents(amt)},,,,,{kind}{rint(100000, 999999)},"
        )
        if pay is None:
            continue
        a.balance -= amt
        if rnd() < (0.04 if risky else 0.008):
            back = pay[1] + dt.timedelta(days=rint(2, 10))
            if back <= w.today:
                tid, ds = w.new_id(), back.isoformat()
                w.add(back, f"reversal,{cents(amt)},,,,{pay[0]},,returned NSF", a.aid, tid)
                w.add(back, f"charge,{cents(NSF_FEE)},NSF,{ds},,,,", a.aid, w.new_id())
                a.balance += amt + NSF_FEE


def _account_month(
    a: _Account, mi: int, m0: dt.date, ndays: int, rng: random.Random, w: _Writer
) -> None:
    """One month of one account: rent, payments, the bench's late fee, credits, move-out.

    The late fee is the book's shape, not a rule: a LATE charge on the 6th of the account's
    `late_fee` when the month is not paid by the 5th, as a PM system's export would carry it.
    """
    rnd, rint = rng.random, rng.randint
    if w.post(a, m0, 1, f"charge,{cents(a.rent)},RENT,{m0.isoformat()},,,,") is None:
        return
    a.balance += a.rent
    habit = a.habit
    if a.slip_m is not None and mi >= a.slip_m:
        habit = "delinquent"
    elif rnd() < 0.04:  # anyone has an odd month
        habit = rng.choice(("late", "partial", "ontime"))
    pays = _habit_payments(a, habit, rng)
    paid_by_5 = sum(amt for day, amt in pays if day <= 5)
    fee = None
    if a.balance - paid_by_5 > 0 and ndays >= 6:
        fee = w.post(a, m0, 6, f"charge,{cents(a.late_fee)},LATE,{(m0 + dt.timedelta(5))},,,,")
        if fee is not None:
            a.balance += a.late_fee
    _post_payments(a, m0, ndays, pays, habit in ("partial", "delinquent"), rng, w)
    if fee is not None and rnd() < 0.12:  # a waived late fee (applies_to the fee)
        waive = w.post(a, m0, rint(8, min(20, ndays)), f"credit,{cents(a.late_fee)},,,{fee[0]},,,")
        if waive is not None:
            a.balance -= a.late_fee
    if rnd() < 0.01:  # now and then a concession
        amt = rint(5, 40) * 500
        if w.post(a, m0, rint(2, 28), f"credit,{cents(amt)},,,,,,concession") is not None:
            a.balance -= amt
    if a.close_m == mi and a.slip_m is not None and rnd() < 0.5 and a.closed is not None:
        dmg = cents(rint(20, 150) * 1000)  # damages on the way out of a delinquent account
        w.post(a, m0, a.closed.day, f"charge,{dmg},MAINT,{a.closed},,,,move-out damages")


def _simulate(
    accounts: list[_Account], months: list[dt.date], rng: random.Random, w: _Writer
) -> None:
    """Post each month of history for every account, month by month, into the writer."""
    for mi, m0 in enumerate(months):
        next_m = _add_months(m0, 1)
        ndays = (next_m - m0).days
        for a in accounts:
            if mi < a.start_m or (a.close_m is not None and mi > a.close_m):
                continue
            _account_month(a, mi, m0, ndays, rng, w)
        w.flush_before(next_m)
    w.flush_before(None)


def _make_accounts(
    n: int, months: list[dt.date], today: dt.date, rng: random.Random
) -> list[_Account]:
    h = len(months)
    habits = [name for name, _ in HABITS]
    weights = [share for _, share in HABITS]
    accounts = []
    for i in range(n):
        a = _Account(f"A{i + 1:07d}")
        a.rent = rng.randint(80, 350) * 1000 + (rng.choice((0, 0, 0, 5000, 2500)))
        a.late_fee = 5000 if rng.random() < 0.6 else a.rent // 20
        a.habit = rng.choices(habits, weights)[0]
        a.start_m = 0 if rng.random() < 0.75 else rng.randint(0, max(0, int(h * 0.6)))
        if a.habit == "slips":
            a.habit = "ontime"
            a.slip_m = rng.randint(a.start_m, h - 1)
            out = a.slip_m + rng.randint(2, 7)
            if out < h - 1:
                a.close_m = out
        elif rng.random() < 0.03 and a.start_m < h - 2:
            a.close_m = rng.randint(a.start_m + 1, h - 2)
        if a.close_m is not None:
            a.closed = min(months[a.close_m] + dt.timedelta(days=rng.randint(10, 27)), today)
        accounts.append(a)
    return accounts


class _Discard:
    def writelines(self, lines: Iterable[str], /) -> None:
        pass


def history_months(accounts_n: int, txns: int, today: dt.date, seed: int) -> int:
    """How many months of history give ~txns transactions: measured on a pilot book."""
    pilot_n, pilot_h = min(accounts_n, 2000), 48
    months = [_add_months(today.replace(day=1), k - pilot_h + 1) for k in range(pilot_h)]
    rng = random.Random(seed ^ 0x5EED)  # noqa: S311 - synthetic data, not a secret
    accounts = _make_accounts(pilot_n, months, today, rng)
    w = _Writer(_Discard(), today)
    _simulate(accounts, months, rng, w)
    per_account_month = w.written / pilot_n / pilot_h
    return max(1, round(txns / accounts_n / per_account_month))


def _plan(
    accounts_n: int, txns: int, seed: int, today: dt.date
) -> tuple[list[dt.date], random.Random, list[_Account]]:
    h = history_months(accounts_n, txns, today, seed)
    months = [_add_months(today.replace(day=1), k - h + 1) for k in range(h)]
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    return months, rng, _make_accounts(accounts_n, months, today, rng)


def _property_lines(accounts_n: int, rng: random.Random, states: Sequence[State]) -> Iterator[str]:
    for p in range(max(1, math.ceil(accounts_n / ACCOUNTS_PER_PROPERTY))):
        st, city, zip3 = states[p % len(states)]
        street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
        name = f"{rng.choice(LAST)} {city} Apartments #{p + 1}"
        postal = f"{zip3}{rng.randint(0, 99):02d}"
        yield csv_line((f"P{p + 1:05d}", name, street, city, st, postal, "US", ""))


def property_lines(
    accounts_n: int, txns: int, seed: int, today: dt.date, states: Sequence[State] = STATES
) -> list[str]:
    """The properties.csv that `synthetic_book` writes for these parameters (header included),
    without writing the rest: a variant of a book in other states shares its other files."""
    _, rng, _ = _plan(accounts_n, txns, seed, today)
    return [PROPERTY_HEADER, *_property_lines(accounts_n, rng, states)]


def _write_people(
    folder: Path, accounts: list[_Account], months: list[dt.date], rng: random.Random
) -> int:
    """parties.csv, accounts.csv and account_parties.csv; returns the number of parties."""
    with (
        open(folder / "parties.csv", "w", encoding="utf-8", newline="") as fp,
        open(folder / "accounts.csv", "w", encoding="utf-8", newline="") as fa,
        open(folder / "account_parties.csv", "w", encoding="utf-8", newline="") as fap,
    ):
        fp.write(PARTY_HEADER)
        fa.write(ACCOUNT_HEADER)
        fap.write(LINK_HEADER)
        party_n = 0

        def party(kind: str = "person") -> str:
            nonlocal party_n
            party_n += 1
            pid = f"C{party_n:07d}"
            if kind == "person":
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name, email = f"{first} {last}", f"{first}.{last}{party_n}@example.com".lower()
            else:
                name, email = f"{rng.choice(LAST)} Holdings {party_n} LLC", ""
            phone = f"+1555{rng.randint(0, 9_999_999):07d}"
            lang = "es" if rng.random() < 0.15 else "en"
            fp.write(csv_line((pid, name, kind, email, phone, "", "", "", "", "US", lang)))
            return pid

        for i, a in enumerate(accounts):
            closed = a.closed.isoformat() if a.closed else ""
            unit = f"{(i % 100) // 10 + 1}{i % 10:02d}"
            opened = months[a.start_m].isoformat()
            prop = f"P{i // ACCOUNTS_PER_PROPERTY + 1:05d}"
            rent = cents(a.rent)
            fa.write(
                csv_line(
                    (a.aid, prop, unit, "residential_lease", opened, closed, rent, rent, "USD")
                )
            )
            fap.write(csv_line((a.aid, party(), "primary", "")))
            if rng.random() < 0.25:
                fap.write(csv_line((a.aid, party(), "co_obligor", "")))
            if rng.random() < 0.05:
                limit = cents(a.rent * 12) if rng.random() < 0.7 else ""
                kind = "organization" if rng.random() < 0.3 else "person"
                fap.write(csv_line((a.aid, party(kind), "guarantor", limit)))
    return party_n


def synthetic_book(
    folder: Path,
    accounts_n: int,
    txns: int,
    seed: int,
    today: dt.date,
    states: Sequence[State] = STATES,
) -> dict[str, Any]:
    """Write a synthetic book into `folder` (which must not exist yet); returns its summary.

    `states` are the properties' states, in turn (one property per 100 accounts).
    """
    t0 = time.perf_counter()
    months, rng, accounts = _plan(accounts_n, txns, seed, today)
    folder.mkdir(parents=True)
    with open(folder / "properties.csv", "w", encoding="utf-8", newline="") as f:
        f.write(PROPERTY_HEADER)
        f.writelines(_property_lines(accounts_n, rng, states))
    party_n = _write_people(folder, accounts, months, rng)
    with open(folder / "transactions.csv", "w", encoding="utf-8", newline="") as f:
        f.write(",".join(TRANSACTION_COLUMNS) + "\n")
        w = _Writer(f, today)
        _simulate(accounts, months, rng, w)
    return {
        "accounts": accounts_n,
        "transactions": w.written,
        "transactions_requested": txns,
        "history_months": len(months),
        "first_month": months[0].isoformat(),
        "today": today.isoformat(),
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "parties": party_n,
        "properties": max(1, math.ceil(accounts_n / ACCOUNTS_PER_PROPERTY)),
        "bytes": sum(p.stat().st_size for p in folder.iterdir()),
        "seconds": round(time.perf_counter() - t0, 2),
    }
