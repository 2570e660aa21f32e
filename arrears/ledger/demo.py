"""A demo receivables book, written in the ledger interchange format (version 1).

`write_demo_book` writes properties, parties, accounts, account_parties and transactions CSV files
for four invented buildings (Manhattan, Brooklyn, Albany, Oakland): about 430 units and 18 months
of rent, fees, payments, returned payments, credits and move-outs ending at `today`.

Invariants (tests/test_demo_book.py):
- the same `seed` and `today` give byte-identical files; the only randomness is
  `random.Random(seed)`, and money is never computed with floats;
- nothing is posted after `today` or before its account opened; every id is unique in its file;
- a reversal comes after the payment it names and has its amount; every `applies_to` names an
  earlier charge of the same account;
- transactions are in posted order; within an account's day, charges (a returned-payment fee
  right after its reversal) come before credits, and credits before payments;
- a late fee is posted only when the month's rent charge is still open after the 5th, decided by
  replaying cash application as the spec states it (`_Ledger`).

Pure Python: no Django, no clock.
"""

from __future__ import annotations

import csv
import heapq
import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from arrears.core.money import ZERO, allocate, fee_cap, fmt, quantize

PROPERTY_COLUMNS = (
    "property_id",
    "name",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "timezone",
)
PARTY_COLUMNS = (
    "party_id",
    "name",
    "kind",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "language",
    "timezone",
)
ACCOUNT_COLUMNS = (
    "account_id",
    "property_id",
    "unit",
    "kind",
    "opened",
    "closed",
    "rent",
    "deposit_held",
    "currency",
)
ACCOUNT_PARTY_COLUMNS = ("account_id", "party_id", "role", "guarantee_limit")
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

HISTORY_MONTHS = 18
RESIDENTIAL, COMMERCIAL = "residential_lease", "commercial_lease"
# The order of an account's entries within a day; the spec replays same-day entries in file order.
CHARGE_STEP, RETURN_STEP, CREDIT_STEP, PAYMENT_STEP = 0, 1, 2, 3

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald
Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Nicholas Angela Eric Shirley Jonathan
Anna Justin Brenda Aaron Samantha Tyrone Keisha Jamal Aaliyah DeShawn Imani Malik Ebony Andre
Tanisha Wei Mei Hiroshi Yuki Raj Priya Arjun Ananya Minh Linh Seo-yeon Ji-ho Olga Dmitri Fatima
Omar Aisha Yusuf Kwame Abena Chidi Ngozi Siobhan Liam Declan Aoife Giuseppe Francesca Marek
Katarzyna Noah Olivia Ethan Sophia Mason Ava Zoe Caleb
"""
)
LAST_NAMES = _words(
    """
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson
Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green
Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins
Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly Howard
Washington Jefferson Brooks Price Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry
Powell Long Patterson Hughes Butler Chen Wang Zhang Liu Nguyen Tran Kim Park Patel Shah Singh
Gupta Tanaka Sato Okafor Mensah Adeyemi Kowalski Nowak Ivanov Petrova O'Brien O'Connor Sullivan
Rossi Esposito Cohen Goldberg Levy Haddad Khan Ali Hassan Schmidt Müller Dubois
"""
)
SPANISH_FIRST_NAMES = _words(
    """
José María Juan Ana Luis Carmen Carlos Rosa Jorge Lucía Miguel Isabel Pedro Elena Rafael Marisol
Francisco Yesenia Alejandro Guadalupe Fernando Daniela Ramón Leticia Héctor Beatriz Manuel
Altagracia Julio Yolanda Ángel Esperanza Raúl Milagros Víctor Socorro Andrés Maribel Ernesto
Dolores Santiago Valentina Mateo Camila Diego Sofía Joel Yajaira Wilfredo Xiomara
"""
)
SPANISH_LAST_NAMES = _words(
    """
García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores Rivera
Gómez Díaz Reyes Cruz Morales Ortiz Gutiérrez Chávez Ramos Ruiz Jiménez Mendoza Álvarez Castillo
Romero Vargas Herrera Medina Aguilar Vásquez Castro Guzmán Peña Rosario Almonte Santana Féliz
Polanco Núñez Batista Acevedo Espinal Tejada Figueroa Colón Marte Valdez
"""
)
STREETS = (
    "Maple Avenue",
    "Oak Street",
    "Washington Avenue",
    "Park Place",
    "Elm Street",
    "Lincoln Road",
    "Church Street",
    "Highland Avenue",
    "Cedar Lane",
    "Grand Street",
    "Union Avenue",
    "Prospect Street",
    "Main Street",
    "Jefferson Avenue",
    "Ridge Road",
    "Chestnut Street",
)
SPANISH_STREETS = (
    "Calle Sol",
    "Calle Luna",
    "Avenida Ponce de León",
    "Calle Duarte",
    "Avenida Juárez",
    "Calle Mercedes",
    "Avenida Independencia",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # reserved: no mail reaches anyone


@dataclass(frozen=True, slots=True)
class DemoSummary:
    properties: int
    units: int
    accounts: int
    parties: int
    transactions: int
    first_posted: date | None
    last_posted: date | None


@dataclass(frozen=True, slots=True)
class _Place:
    city: str
    state: str
    postal_code: str
    country: str
    timezone: str
    dials: tuple[str, ...]  # E.164 prefixes of the phone numbers people there have

    @property
    def spanish_streets(self) -> bool:
        return self.country in ("MX", "DO") or self.state == "PR"


def _place(
    city: str, state: str, postal: str, zone: str, *dials: str, country: str = "US"
) -> _Place:
    return _Place(city, state, postal, country, zone, dials)


NEW_YORK, CHICAGO, DENVER, PACIFIC = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
NYC_DIALS = ("+1212", "+1646", "+1917", "+1347", "+1718", "+1929")
UPSTATE_DIALS = ("+1518", "+1518", "+1518", "+1838", "+1315", "+1585")
BAY_DIALS = ("+1510", "+1510", "+1341", "+1415", "+1925")
LOCAL_PLACES = {
    "nyc": (
        _place("Bronx", "NY", "10463", NEW_YORK, "+1718", "+1347"),
        _place("Brooklyn", "NY", "11221", NEW_YORK, "+1347", "+1929"),
        _place("Jackson Heights", "NY", "11372", NEW_YORK, "+1917", "+1718"),
        _place("New York", "NY", "10034", NEW_YORK, "+1646", "+1212"),
        _place("Staten Island", "NY", "10304", NEW_YORK, "+1718"),
    ),
    "upstate": (
        _place("Troy", "NY", "12180", NEW_YORK, "+1518"),
        _place("Schenectady", "NY", "12305", NEW_YORK, "+1518", "+1838"),
        _place("Saratoga Springs", "NY", "12866", NEW_YORK, "+1518"),
        _place("Delmar", "NY", "12054", NEW_YORK, "+1518"),
    ),
    "ca": (
        _place("Berkeley", "CA", "94703", PACIFIC, "+1510", "+1341"),
        _place("San Leandro", "CA", "94577", PACIFIC, "+1510"),
        _place("Richmond", "CA", "94804", PACIFIC, "+1510"),
        _place("San Francisco", "CA", "94110", PACIFIC, "+1415", "+1628"),
    ),
}
ELSEWHERE = (
    _place("Jersey City", "NJ", "07306", NEW_YORK, "+1201", "+1551"),
    _place("Paterson", "NJ", "07501", NEW_YORK, "+1973", "+1862"),
    _place("Yonkers", "NY", "10701", NEW_YORK, "+1914"),
    _place("Hempstead", "NY", "11550", NEW_YORK, "+1516"),
    _place("Stamford", "CT", "06902", NEW_YORK, "+1203"),
    _place("Philadelphia", "PA", "19146", NEW_YORK, "+1215", "+1267"),
    _place("Boston", "MA", "02130", NEW_YORK, "+1617", "+1857"),
    _place("Atlanta", "GA", "30306", NEW_YORK, "+1404", "+1678"),
    _place("Buffalo", "NY", "14222", NEW_YORK, "+1716"),
    _place("Rochester", "NY", "14607", NEW_YORK, "+1585"),
    _place("Syracuse", "NY", "13210", NEW_YORK, "+1315"),
    _place("Chicago", "IL", "60614", CHICAGO, "+1312", "+1773"),
    _place("Houston", "TX", "77006", CHICAGO, "+1713", "+1832"),
    _place("Denver", "CO", "80205", DENVER, "+1303", "+1720"),
    _place("Phoenix", "AZ", "85016", "America/Phoenix", "+1602", "+1480"),
    _place("Sacramento", "CA", "95816", PACIFIC, "+1916"),
    _place("San Jose", "CA", "95126", PACIFIC, "+1408", "+1669"),
    _place("Fresno", "CA", "93704", PACIFIC, "+1559"),
    _place("Seattle", "WA", "98103", PACIFIC, "+1206"),
    _place("Portland", "OR", "97214", PACIFIC, "+1503", "+1971"),
    _place("Honolulu", "HI", "96816", "Pacific/Honolulu", "+1808"),
    _place("Anchorage", "AK", "99501", "America/Anchorage", "+1907"),
    _place("Toronto", "ON", "M5V 2T6", "America/Toronto", "+1416", "+1647", country="CA"),
)
SPANISH_PLACES = (
    _place("San Juan", "PR", "00907", "America/Puerto_Rico", "+1787", "+1939"),
    _place("Bayamón", "PR", "00961", "America/Puerto_Rico", "+1787"),
    _place("Santo Domingo", "", "10101", "America/Santo_Domingo", "+1809", country="DO"),
    _place("Guadalajara", "JAL", "44160", "America/Mexico_City", "+5233", country="MX"),
    _place("Lawrence", "MA", "01841", NEW_YORK, "+1978"),
    _place("Miami", "FL", "33135", NEW_YORK, "+1305", "+1786"),
    _place("El Paso", "TX", "79902", DENVER, "+1915"),
    _place("Los Angeles", "CA", "90026", PACIFIC, "+1213", "+1323"),
)


@dataclass(frozen=True, slots=True)
class _Building:
    property_id: str
    name: str
    address: str
    place: _Place
    market: str  # nyc, upstate or ca: picks rents and the places people come from
    floors: range
    lines: str  # the unit letters of a floor: unit "4B" is line B on floor 4
    shops: tuple[str, ...]  # commercial units
    spanish: float  # share of tenants whose language is es
    assistance: str  # the local emergency rental assistance payer
    housing_authority: str  # the Section 8 payer
    shop_tenants: tuple[str, ...] = ()


BUILDINGS = (
    _Building(
        "MAR",
        "The Marlowe",
        "418 West 147th Street",
        _place("New York", "NY", "10031", NEW_YORK, *NYC_DIALS),
        "nyc",
        range(1, 15),
        "ABCDEFGHJKLM",
        (),
        0.22,
        "HRA ONE-SHOT",
        "NYCHA",
    ),
    _Building(
        "FUL",
        "Fulton Commons",
        "1187 Fulton Street",
        _place("Brooklyn", "NY", "11216", NEW_YORK, *NYC_DIALS),
        "nyc",
        range(2, 5),
        "ABCDEF",
        ("S1", "S2", "S3", "S4", "S5"),
        0.12,
        "HRA ONE-SHOT",
        "NYCHA",
        (
            "Fulton Wash & Fold LLC",
            "Bedford Corner Pharmacy Inc.",
            "Kofi's Caribbean Kitchen LLC",
            "Brooklyn Bike Works LLC",
            "Nostrand Family Dental PLLC",
            "Green Leaf Deli Corp.",
            "Stuyvesant Hair Studio LLC",
        ),
    ),
    _Building(
        "PHC",
        "Pine Hills Commons",
        "1010 Madison Avenue",
        _place("Albany", "NY", "12208", NEW_YORK, *UPSTATE_DIALS),
        "upstate",
        range(1, 7),
        "ABCDEFGHJKLMNPQRST",
        (),
        0.06,
        "ALBANY CO DSS",
        "AHA",
    ),
    _Building(
        "LSG",
        "Lakeshore Gardens",
        "3321 Lakeshore Avenue",
        _place("Oakland", "CA", "94610", PACIFIC, *BAY_DIALS),
        "ca",
        range(2, 10),
        "ABCDEFGHJKLMNPQR",
        ("R1", "R2", "R3"),
        0.15,
        "KEEP OAKLAND HOUSED",
        "OHA",
        (
            "Lakeshore Coffee Roasters LLC",
            "Grand Lake Yoga Collective LLC",
            "Bay Cleaners Inc.",
            "Trestle Glen Books LLC",
        ),
    ),
)
BEDROOMS = (0, 1, 2, 1, 3, 1, 2, 0, 1, 2, 1, 3)  # by line letter, repeating
RENTS = {  # monthly rent ranges by bedrooms, whole dollars
    "nyc": ((2200, 2600), (2600, 3250), (3200, 3950), (3800, 4500)),
    "upstate": ((925, 1150), (1125, 1375), (1350, 1625), (1575, 1800)),
    "ca": ((2000, 2400), (2350, 2900), (2850, 3400), (3250, 3800)),
}
SHOP_RENTS = {"nyc": (4200, 8500), "ca": (3500, 6500)}
PROFILES = {
    # prompt: pays by the 5th; early: pays next month on the 24th-28th; late: pays after the
    # 6th; partial: pays part and falls behind; lapsed: stops paying a few months before today;
    # hardship: stops, then an assistance agency pays the arrears; nsf: payments often return;
    # prepaid: keeps a credit of one to three months.
    "staying": (
        ("prompt", 40),
        ("early", 8),
        ("late", 15),
        ("partial", 8),
        ("lapsed", 7),
        ("hardship", 5),
        ("nsf", 4),
        ("prepaid", 7),
    ),
    "leaving": (
        ("prompt", 35),
        ("early", 5),
        ("late", 15),
        ("partial", 22),
        ("lapsed", 15),
        ("nsf", 8),
    ),
    "shop": (("prompt", 55), ("late", 25), ("partial", 10), ("lapsed", 10)),
}
REPAIRS = (
    ("Lockout service", "75.00"),
    ("Replacement key fob", "50.00"),
    ("Lost mailbox key", "35.00"),
    ("Window screen replacement", "90.00"),
    ("Clogged drain, tenant-caused", "145.00"),
    ("Smoke detector replaced, tampered", "65.00"),
    ("Door repair, tenant damage", "285.00"),
)
UTILITIES = {
    "nyc": ("Electric submeter", "Air conditioner sleeve charge"),
    "upstate": ("Water and sewer", "Gas submeter"),
    "ca": ("Water, sewer and trash (RUBS)", "Water submeter"),
}
# NY GOL §7-108(1-a)(e): the deposit and an itemized statement within 14 days of move-out;
# CA Civ. Code §1950.5(g)(1): within 21 days.
DEPOSIT_SETTLEMENT_DAYS = {"NY": 14, "CA": 21}


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _first(month: int) -> date:
    return date(month // 12, month % 12 + 1, 1)


def _late_fee_day(due: date, state: str) -> date:
    """The first day the demo's landlords charge a late fee for rent due on `due`: after five
    days of grace that exclude the due date and end on a business day (in New York, GCL §§20,
    25-a with RPL §238-a(2); the public holidays are the `holidays` package's, which the
    collection policy refines: arrears/dunning/calendar.py), so that no fee in the demo's
    history comes earlier than the law allows."""
    closed = _public_holidays(state, due.year)
    last = due + timedelta(days=5)
    while last.weekday() >= 5 or last in closed:
        last += timedelta(days=1)
    return last + timedelta(days=1)


@cache
def _public_holidays(state: str, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("US", subdiv=state or None, years=year))


def _days_in(month: int) -> int:
    return (_first(month + 1) - _first(month)).days


def _label(month: int) -> str:
    return f"{MONTH_NAMES[month % 12]} {month // 12}"


def _round_down(amount: Decimal, step: int) -> Decimal:
    return quantize(amount // step * step)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _late_fee(building: _Building, kind: str, rent: Decimal) -> Decimal:
    """The late fee on a month's rent still open after the grace days, by the product's own cap."""
    if building.place.state == "NY":
        # NY RPL §238-a(2): only once rent is more than 5 days late, and at most $50 or 5% of the
        # monthly rent, whichever is less. The demo holds its shops to the same cap.
        cap = fee_cap(Decimal("50.00"), Decimal(5), rent)
    elif kind == RESIDENTIAL:
        # CA Civ. Code §1671(d): a residential late fee must be a reasonable estimate of the loss.
        cap = fee_cap(Decimal("75.00"), Decimal(5), rent)
    else:
        cap = fee_cap(None, Decimal(5), rent)
    return cap if cap is not None else ZERO


def _returned_payment_fee(state: str, returns_so_far: int) -> Decimal:
    if state == "NY":
        return Decimal("20.00")  # NY GOL §5-328: at most $20 for a dishonored check
    # CA Civ. Code §1719(a)(1): at most $25 for the first, $35 for each later one.
    return Decimal("25.00") if returns_so_far == 1 else Decimal("35.00")


@dataclass(frozen=True, slots=True)
class _Txn:
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
class _Tenancy:
    index: int
    account_id: str
    building: _Building
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


@dataclass(slots=True)
class _Charge:
    due: date
    open: Decimal


@dataclass(slots=True)
class _Credit:
    source: int
    left: Decimal


class _Ledger:
    """One account's cash application as the spec states it: the demo needs it to know whether
    a month's rent is still open on the 5th."""

    def __init__(self) -> None:
        self.balance = ZERO
        self.charges: dict[int, _Charge] = {}
        self.credits: list[_Credit] = []  # oldest first
        self.paid_by: dict[int, list[tuple[int, Decimal]]] = {}

    def open_amount(self, key: int) -> Decimal:
        return self.charges[key].open

    def charge(self, key: int, amount: Decimal, due: date) -> None:
        self.balance += amount
        self.charges[key] = _Charge(due, amount)
        self._from_credits([key])

    def receive(self, key: int, amount: Decimal, applies_to: int | None) -> None:
        self.balance -= amount
        left = amount
        if applies_to is not None:
            left = self._pay(key, applies_to, left)
        for charge in self._open_keys():
            if not left:
                break
            left = self._pay(key, charge, left)
        if left:
            self.credits.append(_Credit(key, left))

    def reverse(self, source: int, amount: Decimal) -> None:
        self.balance += amount
        reopened = []
        for charge, paid in self.paid_by.pop(source, []):
            self.charges[charge].open += paid
            reopened.append(charge)
        self.credits = [c for c in self.credits if c.source != source]
        self._from_credits(sorted(set(reopened), key=self._order))

    def _order(self, key: int) -> tuple[date, int]:
        return (self.charges[key].due, key)

    def _open_keys(self) -> list[int]:
        return sorted((k for k, c in self.charges.items() if c.open), key=self._order)

    def _pay(self, source: int, charge: int, amount: Decimal) -> Decimal:
        item = self.charges[charge]
        paid = min(item.open, amount)
        if paid:
            item.open -= paid
            self.paid_by.setdefault(source, []).append((charge, paid))
        return amount - paid

    def _from_credits(self, keys: Iterable[int]) -> None:
        for key in keys:
            while self.credits and self.charges[key].open:
                credit = self.credits[0]
                credit.left = self._pay(credit.source, key, credit.left)
                if not credit.left:
                    self.credits.pop(0)


class _Book:
    """Plans the buildings, units, tenancies and parties, then replays every tenancy."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.today_month = _month(today)
        self.start_month = self.today_month - HISTORY_MONTHS + 1
        self.window_start = _first(self.start_month)
        self.properties: list[dict[str, str]] = []
        self.parties: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.tenancies: list[_Tenancy] = []
        self.txns: list[_Txn] = []
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

    def _unit_rent(self, building: _Building, floor: int, line_index: int) -> Decimal:
        low, high = RENTS[building.market][BEDROOMS[line_index % len(BEDROOMS)]]
        steps = (high - low) // 25
        height = (floor - building.floors.start) * (steps * 2 // 5) // (len(building.floors) - 1)
        return Decimal(low + 25 * (self.rng.randint(0, steps * 3 // 5) + height))

    def _plan_unit(
        self,
        building: _Building,
        unit: str,
        kind: str,
        rent: Decimal,
        shops: list[str] | None = None,
    ) -> None:
        rng = self.rng
        self.units += 1
        if rng.random() < 0.96:
            opened = _first(self.start_month - rng.randint(1, 150))
            if rng.random() < 0.15:
                opened = opened.replace(day=15)
        else:  # vacant when the history starts
            opened = _first(self.start_month + rng.randint(0, 10))
        sequence = 1
        while opened <= self.today:
            leave_rate = 0.05 if kind == COMMERCIAL else 0.13 if sequence == 1 else 0.06
            earliest, latest = max(_month(opened) + 4, self.start_month), self.today_month - 1
            leaving = rng.random() < leave_rate and earliest <= latest
            table = "shop" if kind == COMMERCIAL else "leaving" if leaving else "staying"
            names, weights = zip(*PROFILES[table], strict=True)
            profile = rng.choices(names, weights)[0]
            closed = None
            if leaving:
                out = rng.randint(earliest, latest)
                if profile in ("partial", "lapsed") and rng.random() < 0.5:  # skipped out
                    closed = _first(out) + timedelta(days=rng.randint(7, 24))
                else:
                    closed = _first(out + 1) - timedelta(days=1)
            self._add_tenancy(building, unit, kind, sequence, opened, closed, rent, profile, shops)
            if closed is None:
                return
            opened = _first(_month(closed) + 1 + rng.choice((0, 0, 0, 1, 1, 2)))
            if rng.random() < 0.2:
                opened = opened.replace(day=15)
            rent = _round_down(rent * rng.randint(102, 107) / 100, 25)
            sequence += 1

    def _add_tenancy(
        self,
        building: _Building,
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
        first_month = max(_month(opened) + (opened >= self.window_start), self.start_month)
        last_month = _month(closed) if closed else self.today_month
        if profile == "hardship" and first_month + 1 > self.today_month - 3:
            profile = "prompt"
        methods = {"partial": (20, 35, 45), "lapsed": (20, 35, 45), "hardship": (20, 35, 45)}
        weights = (75, 25, 0) if kind == COMMERCIAL else methods.get(profile, (50, 40, 10))
        if kind == COMMERCIAL:
            deposit = rent * 2
        elif opened >= self.window_start:
            # NY GOL §7-108(1-a)(a); CA Civ. Code §1950.5(c) from 2024-07-01: one month's rent.
            deposit = rent
        else:  # taken years ago, at a lower rent
            deposit = _round_down(rent * rng.randint(85, 100) / 100, 50)
        t = _Tenancy(
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

    def _residential_parties(self, t: _Tenancy) -> None:
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

    def _shop_parties(self, t: _Tenancy, names: list[str]) -> None:
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
        place: _Place,
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
        place: _Place,
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

    def _link(self, t: _Tenancy, party_id: str, role: str, limit: Decimal | None = None) -> None:
        self.links.append(
            {
                "account_id": t.account_id,
                "party_id": party_id,
                "role": role,
                "guarantee_limit": "" if limit is None else fmt(limit),
            }
        )

    def _street(self, place: _Place) -> str:
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

    def _phone(self, place: _Place) -> str:
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


class _Replay:
    """Replays one tenancy day by day: rent, fees, the tenant's habits and what the bank returns.

    Every action runs at a (day, step) and posts only on that day with that step, in order, so
    the order of emission is the account's book order."""

    def __init__(self, book: _Book, t: _Tenancy) -> None:
        self.book, self.t, self.rng = book, t, book.rng
        self.ledger = _Ledger()
        self.queue: list[tuple[date, int, int, str, Any]] = []
        self.seq = 0
        self.day, self.step = t.opened, CHARGE_STEP
        self.rent_keys: dict[int, int] = {}
        self.check_numbers = [self.rng.randint(101, 4800), self.rng.randint(101, 900)]
        self.method = t.method
        self.returns = 0
        self.first_regular = max(
            _month(t.opened) + (t.opened >= book.window_start), book.start_month
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
            self.at(t.opened, CHARGE_STEP, "rent", _month(t.opened))
            self.at(t.opened, PAYMENT_STEP, "pay", ("balance", "Move-in funds"))
            if t.concession:
                self.at(_first(self.first_regular), CREDIT_STEP, "concession", self.first_regular)
        last = _month(t.closed) if t.closed else self.book.today_month
        for month in range(self.first_regular, last + 1):
            self.plan_month(month)
        if t.closed:
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
        t, rng, start = self.t, self.rng, _first(month)
        self.at(start, CHARGE_STEP, "rent", month)
        self.at(_late_fee_day(start, self.t.building.place.state), CHARGE_STEP, "late_check", month)
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
        last_month = t.closed is not None and month == _month(t.closed)
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
        self.book.txns.append(
            _Txn(
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
        )
        if kind == "charge":
            self.ledger.charge(key, amount, self.day)
        elif kind == "reversal" and reverses is not None:
            self.ledger.reverse(reverses, amount)
        else:
            self.ledger.receive(key, amount, applies_to)
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
        rent, days = self.t.rent, _days_in(month)
        if self.day.day == 1:
            amount, memo = rent, f"Rent {_label(month)}"
        else:  # moved in mid-month
            used = days - self.day.day + 1
            amount, memo = rent * used / days, f"Rent {_label(month)}, {used} of {days} days"
        self.rent_keys[month] = self.emit("charge", amount, code="RENT", memo=memo)

    def on_late_check(self, month: int) -> None:
        key = self.rent_keys.get(month)
        if key is None or not self.ledger.open_amount(key):
            return
        fee = _late_fee(self.t.building, self.t.kind, self.t.rent)
        late = self.emit("charge", fee, code="LATE", memo=f"Late fee, rent {_label(month)}")
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
            amount = min(max(_round_down(share * value, 25), Decimal(50)), balance)
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
        fee = _returned_payment_fee(self.t.building.place.state, self.returns)
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


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)  # RFC 4180: CRLF line ends
        writer.writeheader()
        writer.writerows(rows)


def write_demo_book(folder: Path, *, today: date, seed: int = 2026) -> DemoSummary:
    """Write a demo book of 18 months ending at `today` into `folder` (created if missing).

    Returns the counts of what was written. The same `seed` and `today` give the same bytes.
    """
    book = _Book(random.Random(seed), today)  # noqa: S311 - a demo, not a secret
    book.plan()
    for tenancy in book.tenancies:
        _Replay(book, tenancy).run()
    transactions = book.transaction_rows()
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "properties.csv", PROPERTY_COLUMNS, book.properties)
    _write(folder / "parties.csv", PARTY_COLUMNS, book.parties)
    _write(folder / "accounts.csv", ACCOUNT_COLUMNS, book.account_rows())
    _write(folder / "account_parties.csv", ACCOUNT_PARTY_COLUMNS, book.links)
    _write(folder / "transactions.csv", TRANSACTION_COLUMNS, transactions)
    return DemoSummary(
        properties=len(book.properties),
        units=book.units,
        accounts=len(book.tenancies),
        parties=len(book.parties),
        transactions=len(transactions),
        first_posted=book.txns[0].posted if book.txns else None,
        last_posted=book.txns[-1].posted if book.txns else None,
    )
