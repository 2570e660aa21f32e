"""The demo's tenancies and parties: who rents which unit, from when to when, paying how.

`Book.plan` draws, from one `random.Random`, the tenancies of every unit of `places.BUILDINGS`
(a unit is let again after a move-out) and their parties; `arrears.demo.replay` then plays each
tenancy's months into transactions. Money is `Decimal`, never computed with floats.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from arrears.core.money import ZERO, fmt, quantize
from arrears.demo.places import (
    BEDROOMS,
    BUILDINGS,
    COMMERCIAL,
    ELSEWHERE,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    HISTORY_MONTHS,
    LAST_NAMES,
    LOCAL_PLACES,
    MONTH_NAMES,
    PROFILES,
    RENTS,
    RESIDENTIAL,
    SHOP_RENTS,
    SPANISH_FIRST_NAMES,
    SPANISH_LAST_NAMES,
    SPANISH_PLACES,
    SPANISH_STREETS,
    STREETS,
    Building,
    Place,
)


def month_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def first_of(month: int) -> date:
    return date(month // 12, month % 12 + 1, 1)


def days_in(month: int) -> int:
    return (first_of(month + 1) - first_of(month)).days


def label(month: int) -> str:
    return f"{MONTH_NAMES[month % 12]} {month // 12}"


def round_down(amount: Decimal, step: int) -> Decimal:
    return quantize(amount // step * step)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def returned_payment_fee(state: str, returns_so_far: int) -> Decimal:
    if state == "NY":
        return Decimal("20.00")  # NY GOL §5-328: at most $20 for a dishonored check
    # CA Civ. Code §1719(a)(1): at most $25 for the first, $35 for each later one.
    return Decimal("25.00") if returns_so_far == 1 else Decimal("35.00")


@dataclass(frozen=True, slots=True)
class Txn:
    key: int  # emission order: the book order of the account's entries
    account: int
    posted: date
    step: int
    type: str
    amount: Decimal
    code: str
    applies_to: int | None
    reverses: int | None
    reference: str
    memo: str


@dataclass(slots=True)
class Tenancy:
    index: int
    account_id: str
    building: Building
    unit: str
    kind: str
    opened: date
    closed: date | None
    rent: Decimal
    deposit: Decimal
    profile: str
    method: str
    bounce_rate: float
    co_tenant: str = ""  # set when co-tenants pay their shares separately
    hap: Decimal = ZERO  # the housing authority's share of the rent
    fraction: Decimal = ZERO  # what a partial payer pays of the rent
    cushion: int = 0  # months of rent a prepaid tenant keeps in credit
    lapse_from: int = 0  # month index
    hardship: tuple[int, int] = (0, 0)  # months without payment, then the assistance month
    deposit_for_last_month: bool = False
    concession: bool = False
    deposit_settled: bool = False


class Book:
    """Plans the buildings, units, tenancies and parties, then replays every tenancy."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.today_month = month_of(today)
        self.start_month = self.today_month - HISTORY_MONTHS + 1
        self.window_start = first_of(self.start_month)
        self.properties: list[dict[str, str]] = []
        self.parties: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.tenancies: list[Tenancy] = []
        self.txns: list[Txn] = []
        self.units = 0
        self.phones: dict[str, int] = {}
        self.emails: set[str] = set()
        self.guarantor_firm = ""
        self.next_key = 0

    def plan(self) -> None:
        for building in BUILDINGS:
            place = building.place
            self.properties.append(
                {
                    "property_id": building.property_id,
                    "name": building.name,
                    "address": building.address,
                    "city": place.city,
                    "state": place.state,
                    "postal_code": place.postal_code,
                    "country": "US",
                    "timezone": place.timezone,
                }
            )
            for floor in building.floors:
                for line_index, line in enumerate(building.lines):
                    rent = self._unit_rent(building, floor, line_index)
                    self._plan_unit(building, f"{floor}{line}", RESIDENTIAL, rent)
            shop_tenants = list(building.shop_tenants)
            for shop in building.shops:
                low, high = SHOP_RENTS[building.market]
                rent = Decimal(low + 50 * self.rng.randint(0, (high - low) // 50))
                self._plan_unit(building, shop, COMMERCIAL, rent, shop_tenants)

    def _unit_rent(self, building: Building, floor: int, line_index: int) -> Decimal:
        low, high = RENTS[building.market][BEDROOMS[line_index % len(BEDROOMS)]]
        steps = (high - low) // 25
        height = (floor - building.floors.start) * (steps * 2 // 5) // (len(building.floors) - 1)
        return Decimal(low + 25 * (self.rng.randint(0, steps * 3 // 5) + height))

    def _plan_unit(
        self,
        building: Building,
        unit: str,
        kind: str,
        rent: Decimal,
        shops: list[str] | None = None,
    ) -> None:
        rng = self.rng
        self.units += 1
        if rng.random() < 0.96:
            opened = first_of(self.start_month - rng.randint(1, 150))
            if rng.random() < 0.15:
                opened = opened.replace(day=15)
        else:  # vacant when the history starts
            opened = first_of(self.start_month + rng.randint(0, 10))
        sequence = 1
        while opened <= self.today:
            leave_rate = 0.05 if kind == COMMERCIAL else 0.13 if sequence == 1 else 0.06
            earliest, latest = max(month_of(opened) + 4, self.start_month), self.today_month - 1
            leaving = rng.random() < leave_rate and earliest <= latest
            table = "shop" if kind == COMMERCIAL else "leaving" if leaving else "staying"
            names, weights = zip(*PROFILES[table], strict=True)
            profile = rng.choices(names, weights)[0]
            closed = None
            if leaving:
                out = rng.randint(earliest, latest)
                if profile in ("partial", "lapsed") and rng.random() < 0.5:  # skipped out
                    closed = first_of(out) + timedelta(days=rng.randint(7, 24))
                else:
                    closed = first_of(out + 1) - timedelta(days=1)
            self._add_tenancy(building, unit, kind, sequence, opened, closed, rent, profile, shops)
            if closed is None:
                return
            opened = first_of(month_of(closed) + 1 + rng.choice((0, 0, 0, 1, 1, 2)))
            if rng.random() < 0.2:
                opened = opened.replace(day=15)
            rent = round_down(rent * rng.randint(102, 107) / 100, 25)
            sequence += 1

    def _add_tenancy(
        self,
        building: Building,
        unit: str,
        kind: str,
        sequence: int,
        opened: date,
        closed: date | None,
        rent: Decimal,
        profile: str,
        shops: list[str] | None,
    ) -> None:
        rng = self.rng
        first_month = max(month_of(opened) + (opened >= self.window_start), self.start_month)
        last_month = month_of(closed) if closed else self.today_month
        if profile == "hardship" and first_month + 1 > self.today_month - 3:
            profile = "prompt"
        methods = {"partial": (20, 35, 45), "lapsed": (20, 35, 45), "hardship": (20, 35, 45)}
        weights = (75, 25, 0) if kind == COMMERCIAL else methods.get(profile, (50, 40, 10))
        deposit = self._deposit(kind, opened, rent)
        t = Tenancy(
            index=len(self.tenancies),
            account_id=f"{building.property_id}-{unit}-{sequence}",
            building=building,
            unit=unit,
            kind=kind,
            opened=opened,
            closed=closed,
            rent=rent,
            deposit=deposit,
            profile=profile,
            method=rng.choices(("ACH", "CHK", "MO"), weights)[0],
            bounce_rate=0.25 if profile == "nsf" else 0.004,
            fraction=Decimal(rng.randint(45, 90)) / 100,
            cushion=rng.randint(1, 3),
            lapse_from=max(last_month - rng.randint(1, 4), first_month + 2),
        )
        if profile == "hardship":
            start = rng.randint(first_month + 1, self.today_month - 3)
            t.hardship = (start, start + rng.randint(2, 5))
        t.deposit_for_last_month = (
            closed is not None
            and closed.day > 27
            and profile in ("prompt", "late", "nsf")
            and rng.random() < 0.3
        )
        if kind == COMMERCIAL:
            self._shop_parties(t, shops or [])
        else:
            self._residential_parties(t)
            subsidized = opened < self.window_start and profile not in ("prepaid", "early")
            if subsidized and rng.random() < 0.08:
                t.hap = Decimal(int(rent) * rng.randint(40, 80) // 100)
            share = {"nyc": 0.3, "ca": 0.2}.get(building.market, 0.0)
            t.concession = opened >= self.window_start and rng.random() < share
        self.tenancies.append(t)

    def _deposit(self, kind: str, opened: date, rent: Decimal) -> Decimal:
        if kind == COMMERCIAL:
            return rent * 2
        if opened >= self.window_start:
            # NY GOL §7-108(1-a)(a); CA Civ. Code §1950.5(c) from 2024-07-01: one month's rent.
            return rent
        return round_down(rent * self.rng.randint(85, 100) / 100, 50)  # taken at a lower rent

    def _residential_parties(self, t: Tenancy) -> None:
        rng, building = self.rng, t.building
        spanish = rng.random() < building.spanish
        home, address = building.place, f"{building.address}, Apt {t.unit}"
        if t.closed and rng.random() < 0.6:  # a forwarding address
            local = rng.random() < 0.7
            home = rng.choice(LOCAL_PLACES[building.market] if local else ELSEWHERE)
            address = self._street(home)
        primary, last = self._person(spanish, home, address)
        self._link(t, primary, "primary")
        if rng.random() < 0.2:
            family = last if rng.random() < 0.5 else None
            co_tenant, _ = self._person(spanish, home, address, last=family, contact=0.85)
            self._link(t, co_tenant, "co_obligor")
            if rng.random() < 0.5:
                t.co_tenant = self._name(co_tenant)
        if rng.random() < 0.24:
            if building.market == "nyc" and rng.random() < 0.2:
                self._link(t, self._guarantor_firm(), "guarantor", t.rent * 12)
                return
            if spanish and rng.random() < 0.5:
                place = rng.choice(SPANISH_PLACES)
            elif rng.random() < 0.25:
                place = rng.choice(LOCAL_PLACES[building.market])
            else:
                place = rng.choice(ELSEWHERE)
            family = last.split()[0] if rng.random() < 0.6 else None
            guarantor, _ = self._person(spanish, place, self._street(place), last=family)
            limit = t.rent * rng.choice((12, 12, 24)) if rng.random() < 0.5 else None
            self._link(t, guarantor, "guarantor", limit)

    def _shop_parties(self, t: Tenancy, names: list[str]) -> None:
        rng, building = self.rng, t.building
        name = names.pop(0) if names else f"{rng.choice(LAST_NAMES)} Holdings LLC"
        slug = _ascii(name.rsplit(" ", 1)[0])[:24]
        email = f"ap.{slug}@{rng.choice(EMAIL_DOMAINS)}"
        address = f"{building.address}, Unit {t.unit}"
        shop = self._party(
            name, "organization", email, self._phone(building.place), address, building.place, "en"
        )
        self._link(t, shop, "primary")
        if rng.random() < 0.8:  # the principal's personal guaranty
            place = rng.choice(LOCAL_PLACES[building.market] + ELSEWHERE[:6])
            principal, _ = self._person(rng.random() < 0.1, place, self._street(place))
            self._link(t, principal, "guarantor", t.rent * rng.choice((6, 12)))

    def _guarantor_firm(self) -> str:
        if not self.guarantor_firm:
            place = ELSEWHERE[0]
            self.guarantor_firm = self._party(
                "Hudson Lease Guaranty Corp.",
                "organization",
                "claims.hudsonlease@example.com",
                self._phone(place),
                "30 Montgomery Street, Suite 1200",
                place,
                "en",
            )
        return self.guarantor_firm

    def _person(
        self,
        spanish: bool,
        place: Place,
        address: str,
        *,
        last: str | None = None,
        contact: float = 0.95,
    ) -> tuple[str, str]:
        rng = self.rng
        first = rng.choice(SPANISH_FIRST_NAMES if spanish else FIRST_NAMES)
        if last is None:
            last = rng.choice(SPANISH_LAST_NAMES if spanish else LAST_NAMES)
            if spanish and rng.random() < 0.3:
                last = f"{last} {rng.choice(SPANISH_LAST_NAMES)}"
        email = self._email(first, last) if rng.random() < contact else ""
        phone = self._phone(place) if rng.random() < contact + 0.03 else ""
        language = "es" if spanish else "en"
        return self._party(
            f"{first} {last}", "person", email, phone, address, place, language
        ), last

    def _party(
        self,
        name: str,
        kind: str,
        email: str,
        phone: str,
        address: str,
        place: Place,
        language: str,
    ) -> str:
        party_id = f"PTY{len(self.parties) + 1:05d}"
        self.parties.append(
            {
                "party_id": party_id,
                "name": name,
                "kind": kind,
                "email": email,
                "phone": phone,
                "address": address,
                "city": place.city,
                "state": place.state,
                "postal_code": place.postal_code,
                "country": place.country,
                "language": language,
                "timezone": place.timezone,
            }
        )
        return party_id

    def _name(self, party_id: str) -> str:
        return self.parties[int(party_id[3:]) - 1]["name"]

    def _link(self, t: Tenancy, party_id: str, role: str, limit: Decimal | None = None) -> None:
        self.links.append(
            {
                "account_id": t.account_id,
                "party_id": party_id,
                "role": role,
                "guarantee_limit": "" if limit is None else fmt(limit),
            }
        )

    def _street(self, place: Place) -> str:
        rng = self.rng
        street = rng.choice(SPANISH_STREETS if place.spanish_streets else STREETS)
        address = f"{rng.randint(10, 4999)} {street}"
        return f"{address}, Apt {rng.randint(1, 30)}" if rng.random() < 0.3 else address

    def _email(self, first: str, last: str) -> str:
        base, domain = f"{_ascii(first)}.{_ascii(last)}", self.rng.choice(EMAIL_DOMAINS)
        email, n = f"{base}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{base}{n}@{domain}"
        self.emails.add(email)
        return email

    def _phone(self, place: Place) -> str:
        dial = self.rng.choice(place.dials)
        if not dial.startswith("+1"):
            return f"{dial}{self.rng.randint(10**7, 10**8 - 1)}"
        # 555-0100 to 555-0199 are set aside for fiction in every North American area code.
        for candidate in (dial, *place.dials):
            used = self.phones.get(candidate, 0)
            if used < 100:
                self.phones[candidate] = used + 1
                return f"{candidate}5550{100 + used}"
        return f"{dial}555{self.rng.randint(2000, 9999)}"

    def account_rows(self) -> list[dict[str, str]]:
        return [
            {
                "account_id": t.account_id,
                "property_id": t.building.property_id,
                "unit": t.unit,
                "kind": t.kind,
                "opened": t.opened.isoformat(),
                "closed": t.closed.isoformat() if t.closed else "",
                "rent": fmt(t.rent),
                "deposit_held": fmt(ZERO if t.deposit_settled else t.deposit),
                "currency": "USD",
            }
            for t in self.tenancies
        ]

    def transaction_rows(self) -> list[dict[str, str]]:
        self.txns.sort(key=lambda x: (x.posted, x.step, x.account, x.key))
        ids = {x.key: f"TX{n:06d}" for n, x in enumerate(self.txns, start=1)}
        accounts = [t.account_id for t in self.tenancies]
        return [
            {
                "txn_id": ids[x.key],
                "account_id": accounts[x.account],
                "posted": x.posted.isoformat(),
                "type": x.type,
                "amount": fmt(x.amount),
                "code": x.code,
                "due": x.posted.isoformat() if x.type == "charge" else "",
                "applies_to": "" if x.applies_to is None else ids[x.applies_to],
                "reverses": "" if x.reverses is None else ids[x.reverses],
                "reference": x.reference,
                "memo": x.memo,
            }
            for x in self.txns
        ]
