"""The real IBM receivables history (2,466 invoices of 100 customers) as an interchange book.

The converter below is test code, not product code: one `customer` account and one organization
per customerID, a charge per invoice (code INV, posted on InvoiceDate, due on DueDate), a payment
per settlement (posted on SettledDate, applying to its invoice). Every expected figure is computed
here from the raw CSV rows with Decimal, independently of the ledger: since each payment pays
exactly its own invoice, an invoice is open as of D exactly when invoiced ≤ D < settled.
"""

import csv
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.ledger.models import Account, Party, Transaction
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

NAME = "WA_Fn-UseC_-Accounts-Receivable.csv"
FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "wa_receivables" / NAME
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "ar" / NAME
LAST_SETTLEMENT = date(2014, 1, 9)
BUCKETS = ("current", "1-30", "31-60", "61-90", "91+")
DEFAULT = (0, 30, 60, 90)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Invoice:
    customer: str
    number: str
    invoiced: date
    due: date
    amount: Decimal
    settled: date
    disputed: str


def us_date(text: str) -> date:
    """`1/2/2013` (month/day/year, no zero padding) as a date."""
    month, day, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


def source_path() -> Path:
    return FIXTURE if FIXTURE.exists() else SHARED


def read_invoices(path: Path) -> list[Invoice]:
    with path.open(newline="", encoding="utf-8") as stream:
        return [
            Invoice(
                customer=row["customerID"],
                number=row["invoiceNumber"],
                invoiced=us_date(row["InvoiceDate"]),
                due=us_date(row["DueDate"]),
                amount=Decimal(row["InvoiceAmount"]),
                settled=us_date(row["SettledDate"]),
                disputed=row["Disputed"],
            )
            for row in csv.DictReader(stream)
        ]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def to_book(source: Path, folder: Path) -> Path:
    """Map the raw receivables CSV to an interchange book in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with source.open(newline="", encoding="utf-8") as stream:
        raw = list(csv.DictReader(stream))
    opened: dict[str, date] = {}
    country: dict[str, str] = {}
    for row in raw:
        customer, day = row["customerID"], us_date(row["InvoiceDate"])
        opened[customer] = min(opened.get(customer, day), day)
        country[customer] = row["countryCode"]
    customers = sorted(opened)
    write_csv(
        folder / "parties.csv",
        ["party_id", "name", "kind", "x_country_code"],
        [[c, f"Customer {c}", "organization", country[c]] for c in customers],
    )
    write_csv(
        folder / "accounts.csv",
        ["account_id", "kind", "opened", "currency"],
        [[c, "customer", opened[c].isoformat(), "USD"] for c in customers],
    )
    write_csv(
        folder / "account_parties.csv",
        ["account_id", "party_id", "role"],
        [[c, c, "primary"] for c in customers],
    )
    charges = [
        [
            row["invoiceNumber"],
            row["customerID"],
            us_date(row["InvoiceDate"]).isoformat(),
            "charge",
            row["InvoiceAmount"],
            "INV",
            us_date(row["DueDate"]).isoformat(),
            "",
            row["invoiceNumber"],
            row["Disputed"],
        ]
        for row in raw
    ]
    # After every charge in the file: a settlement on its invoice's day comes after the invoice.
    payments = [
        [
            f"PAY-{row['invoiceNumber']}",
            row["customerID"],
            us_date(row["SettledDate"]).isoformat(),
            "payment",
            row["InvoiceAmount"],
            "",
            "",
            row["invoiceNumber"],
            row["invoiceNumber"],
            "",
        ]
        for row in raw
    ]
    write_csv(
        folder / "transactions.csv",
        [
            "txn_id",
            "account_id",
            "posted",
            "type",
            "amount",
            "code",
            "due",
            "applies_to",
            "reference",
            "x_disputed",
        ],
        charges + payments,
    )
    return folder


def bucket_of(days_past_due: int, boundaries: tuple[int, ...]) -> int:
    """Index of the bucket: the first boundary the days are at or under, else the last bucket."""
    for index, boundary in enumerate(boundaries):
        if days_past_due <= boundary:
            return index
    return len(boundaries)


def expected_balance(invoices: list[Invoice], as_of: date) -> Decimal:
    """Invoiced by D minus settled by D."""
    invoiced = sum((i.amount for i in invoices if i.invoiced <= as_of), ZERO)
    settled = sum((i.amount for i in invoices if i.settled <= as_of), ZERO)
    return invoiced - settled


def expected_buckets(
    invoices: list[Invoice], as_of: date, boundaries: tuple[int, ...] = DEFAULT
) -> dict[str, tuple[Decimal, ...]]:
    """Per customer, the open amount per bucket: invoices with invoiced ≤ D < settled."""
    out: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * (len(boundaries) + 1))
    for i in invoices:
        if i.invoiced <= as_of < i.settled:
            out[i.customer][bucket_of((as_of - i.due).days, boundaries)] += i.amount
    return {customer: tuple(amounts) for customer, amounts in out.items()}


def column_sums(lines: dict[str, tuple[Decimal, ...]], width: int) -> tuple[Decimal, ...]:
    return tuple(sum((amounts[k] for amounts in lines.values()), ZERO) for k in range(width))


def as_decimals(amounts: dict[str, str]) -> tuple[Decimal, ...]:
    return tuple(Decimal(amounts[label]) for label in BUCKETS)


@pytest.fixture(scope="module")
def invoices() -> list[Invoice]:
    return read_invoices(source_path())


@pytest.fixture
def receivables(tmp_path):
    """The whole history imported; returns the import summary."""
    return book_import(to_book(source_path(), tmp_path / "wa_receivables"))


def test_the_fixture_is_the_published_file_byte_for_byte():
    # then: the sha256 that shared/data/ar/SOURCES.md gives for the original
    digest = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    assert digest == "f5d488eaa4c1cc843b478b6f1068c553c5394aab4b64d587e4b9ad811d845c19"
    assert FIXTURE.read_bytes().count(b"\r\n") == 2467


def test_the_raw_file_is_what_its_sources_note_says(invoices):
    # then: the facts the converter relies on
    assert len(invoices) == 2466
    assert len({i.customer for i in invoices}) == 100
    assert len({i.number for i in invoices}) == 2466
    assert all(i.invoiced <= i.settled for i in invoices)
    assert max(i.settled for i in invoices) == LAST_SETTLEMENT
    assert invoices[0].number == "0000611365"


def test_the_whole_history_imports(receivables, invoices):
    # then
    assert receivables.created == {
        "parties": 100,
        "accounts": 100,
        "account_parties": 100,
        "transactions": 4932,
    }
    assert receivables.accounts_replayed == 100
    assert Party.objects.filter(kind="organization").count() == 100
    assert Account.objects.filter(kind="customer", currency="USD").count() == 100
    first = Account.objects.get(account_id="0379-NEVHP")
    assert first.opened_on == min(i.invoiced for i in invoices if i.customer == "0379-NEVHP")
    # the zero-padded invoice number is kept as text, and its settlement applies to it
    invoice = Transaction.objects.get(txn_id="0000611365")
    assert (invoice.posted_on, invoice.due_on, invoice.amount) == (
        date(2013, 1, 2),
        date(2013, 2, 1),
        Decimal("55.94"),
    )
    assert invoice.extra == {"x_disputed": "No"}
    payment = Transaction.objects.get(txn_id="PAY-0000611365")
    assert (payment.posted_on, payment.applies_to_id) == (date(2013, 1, 15), invoice.pk)


@pytest.mark.parametrize(
    "as_of",
    [
        date(2012, 1, 2),
        date(2012, 6, 30),
        date(2012, 12, 31),
        date(2013, 3, 31),
        date(2013, 12, 31),
        date(2014, 1, 8),
    ],
)
def test_the_aging_balance_is_invoiced_minus_settled_by_that_date(receivables, invoices, as_of):
    # when
    reports = aging_report(as_of=as_of, currency="USD")
    # then
    (report,) = reports
    assert report.totals.balance == expected_balance(invoices, as_of)
    assert report.totals.credit == ZERO
    per_account = {row.key["account_id"]: row.line.balance for row in report.rows}
    for customer in {i.customer for i in invoices}:
        mine = [i for i in invoices if i.customer == customer]
        assert per_account.get(customer, ZERO) == expected_balance(mine, as_of), customer


# 2012-06-17 and 2013-03-03 have invoices 31-60 days late (no invoice is ever more than 45).
@pytest.mark.parametrize(
    "as_of",
    [
        date(2012, 6, 17),
        date(2012, 6, 30),
        date(2013, 3, 3),
        date(2013, 3, 31),
        date(2013, 12, 31),
        LAST_SETTLEMENT - timedelta(days=1),
    ],
)
def test_the_open_invoices_per_bucket_match_the_raw_rows(receivables, invoices, as_of):
    # given
    expected = expected_buckets(invoices, as_of)
    # when
    (report,) = aging_report(as_of=as_of)
    doc = report.as_json()
    # then: every account line and the totals, bucket by bucket, to the cent
    got = {line["account_id"]: as_decimals(line) for line in doc["accounts"]}
    assert got == expected
    assert as_decimals(doc["totals"]) == column_sums(expected, len(BUCKETS))


@pytest.mark.parametrize("as_of", [date(2012, 6, 17), date(2013, 3, 31)])
def test_the_open_invoices_in_ten_day_buckets_match_the_raw_rows(receivables, invoices, as_of):
    # given
    boundaries = (0, 10, 20, 30, 40)
    expected = expected_buckets(invoices, as_of, boundaries)
    # when
    (report,) = aging_report(as_of=as_of, buckets=boundaries)
    # then
    assert report.buckets.labels == ["current", "1-10", "11-20", "21-30", "31-40", "41+"]
    assert {row.key["account_id"]: row.line.buckets for row in report.rows} == expected
    assert report.totals.buckets == column_sums(expected, len(boundaries) + 1)


def test_the_open_invoices_on_2013_03_31_as_the_command_prints_them(receivables, invoices, capsys):
    # given
    as_of = date(2013, 3, 31)
    capsys.readouterr()
    # when
    assert main(["aging", "--as-of", as_of.isoformat(), "--format", "json"]) == 0
    # then
    doc = json.loads(capsys.readouterr().out)
    expected = expected_buckets(invoices, as_of)
    assert {line["account_id"]: as_decimals(line) for line in doc["accounts"]} == expected
    assert Decimal(doc["totals"]["balance"]) == expected_balance(invoices, as_of)
    assert doc["totals"]["credit"] == "0.00"


@pytest.mark.parametrize("as_of", [LAST_SETTLEMENT, date(2014, 6, 30)])
def test_after_the_last_settlement_nothing_is_open(receivables, as_of):
    # when
    everything = aging_report(as_of=as_of)
    (usd,) = aging_report(as_of=as_of, currency="USD")
    # then
    assert everything == []
    assert usd.rows == []
    assert usd.totals.balance == ZERO
    assert set(usd.totals.buckets) == {ZERO}


def test_the_day_before_the_last_settlement_something_is_still_open(receivables, invoices):
    # given
    as_of = date(2014, 1, 8)
    still_open = [i for i in invoices if i.settled > as_of]
    # when
    (report,) = aging_report(as_of=as_of)
    # then
    assert still_open
    assert report.totals.balance == sum((i.amount for i in still_open), ZERO)


def test_importing_the_history_again_changes_nothing(receivables, tmp_path):
    # when
    again = book_import(to_book(source_path(), tmp_path / "again"))
    # then
    assert receivables.changed
    assert not again.changed
    assert again.unchanged["transactions"] == 4932
