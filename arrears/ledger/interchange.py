"""The ledger interchange format, version 1 (docs/ledger-interchange.md): files, columns, rows.

Pure: reading a book folder, `.zip` or `.xlsx` into rows, and checking each row on its own. What
needs the rest of the book (unknown accounts, references between transactions, duplicates) is
checked by the importer, which names the same file, line and column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import available_timezones

from arrears.core.dates import EARLIEST, LATEST, add_months
from arrears.core.errors import DomainError

csv.field_size_limit(1 << 24)


@dataclass(frozen=True, slots=True)
class FileKind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


PROPERTIES = FileKind(
    "properties",
    ("property_id", "name", "state", "country"),
    ("address", "city", "postal_code", "timezone", "portfolio", "owner_name"),
)
PARTIES = FileKind(
    "parties",
    ("party_id", "name"),
    (
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
    ),
)
ACCOUNTS = FileKind(
    "accounts",
    ("account_id", "kind", "opened"),
    ("property_id", "unit", "closed", "rent", "deposit_held", "currency"),
)
ACCOUNT_PARTIES = FileKind(
    "account_parties", ("account_id", "party_id", "role"), ("guarantee_limit",)
)
TRANSACTIONS = FileKind(
    "transactions",
    ("txn_id", "account_id", "posted", "type", "amount"),
    ("code", "due", "applies_to", "reverses", "reference", "memo"),
)
# In import order: each file may name what the ones before it define.
FILE_KINDS = (PROPERTIES, PARTIES, ACCOUNTS, ACCOUNT_PARTIES, TRANSACTIONS)

# Canonical column order of each file on export, as the spec lists them.
EXPORT_COLUMNS = {
    "properties": (
        "property_id",
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "timezone",
    ),
    "parties": (
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
    ),
    "accounts": (
        "account_id",
        "property_id",
        "unit",
        "kind",
        "opened",
        "closed",
        "rent",
        "deposit_held",
        "currency",
    ),
    "account_parties": ("account_id", "party_id", "role", "guarantee_limit"),
    "transactions": (
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
    ),
}

# The main IANA zone of each US state, for a property whose file gives none.
STATE_TIME_ZONES = {
    "AL": "America/Chicago",
    "AK": "America/Anchorage",
    "AZ": "America/Phoenix",
    "AR": "America/Chicago",
    "CA": "America/Los_Angeles",
    "CO": "America/Denver",
    "CT": "America/New_York",
    "DE": "America/New_York",
    "DC": "America/New_York",
    "FL": "America/New_York",
    "GA": "America/New_York",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",
    "IL": "America/Chicago",
    "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago",
    "KS": "America/Chicago",
    "KY": "America/New_York",
    "LA": "America/Chicago",
    "ME": "America/New_York",
    "MD": "America/New_York",
    "MA": "America/New_York",
    "MI": "America/Detroit",
    "MN": "America/Chicago",
    "MS": "America/Chicago",
    "MO": "America/Chicago",
    "MT": "America/Denver",
    "NE": "America/Chicago",
    "NV": "America/Los_Angeles",
    "NH": "America/New_York",
    "NJ": "America/New_York",
    "NM": "America/Denver",
    "NY": "America/New_York",
    "NC": "America/New_York",
    "ND": "America/Chicago",
    "OH": "America/New_York",
    "OK": "America/Chicago",
    "OR": "America/Los_Angeles",
    "PA": "America/New_York",
    "RI": "America/New_York",
    "SC": "America/New_York",
    "SD": "America/Chicago",
    "TN": "America/Chicago",
    "TX": "America/Chicago",
    "UT": "America/Denver",
    "VT": "America/New_York",
    "VA": "America/New_York",
    "WA": "America/Los_Angeles",
    "WV": "America/New_York",
    "WI": "America/Chicago",
    "WY": "America/Denver",
    "PR": "America/Puerto_Rico",
}

# ISO 3166-1 alpha-2: the officially assigned codes.
COUNTRIES = frozenset(
    """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split()  # noqa: SIM905 - a block of codes reads better than a list of strings
)

# The longest value each column may hold (the database's limits); longer is refused, not cut.
MAX_LENGTHS = {
    "properties": {
        "property_id": 64,
        "name": 200,
        "address": 300,
        "city": 100,
        "state": 50,
        "postal_code": 20,
        "timezone": 64,
        "portfolio": 64,
        "owner_name": 200,
    },
    "parties": {
        "party_id": 64,
        "name": 200,
        "email": 254,
        "phone": 20,
        "address": 300,
        "city": 100,
        "state": 50,
        "postal_code": 20,
        "language": 35,
        "timezone": 64,
    },
    "accounts": {"account_id": 64, "property_id": 64, "unit": 50},
    "account_parties": {"account_id": 64, "party_id": 64},
    "transactions": {
        "txn_id": 64,
        "account_id": 64,
        "code": 20,
        "applies_to": 64,
        "reverses": 64,
        "reference": 200,
    },
}

PARTY_KINDS = ("person", "organization")
ACCOUNT_KINDS = ("residential_lease", "commercial_lease", "customer", "student", "patient")
ROLES = ("primary", "co_obligor", "guarantor")
TXN_TYPES = ("charge", "payment", "credit", "reversal")
MAX_ERRORS = 50

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")
_AMOUNT_LOOSE = re.compile(r"[+-]?\d*\.?\d*")
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_\-]{0,19}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_PHONE = re.compile(r"\+[1-9]\d{1,14}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Spec 1.1: an id is 1 to 64 letters, digits, ".", "_", "-" and ":", starting with a letter or a
# digit. Ids name pages, archive folders and search links: "sub/dir" or "../../x" broke them all.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# C0 and C1 control characters: a CR/LF in a name split the mailing manifest's addressee.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A memo may run over lines and hold tabs; no other control character, never a NUL.
_CONTROL_IN_MEMO = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NUL = "\x00"
# The column that keeps the date a row had in its file when it was posted on the first open day
# because its month was closed (`arrears import --into-open-period`); exported like any x_ column.
ORIGINAL_POSTED = "x_original_posted"

# The dates of a file, by kind: each lies in the book's calendar (core.dates) and no more than a
# year after the book's today (`dates_check`, project notes of docs/ledger-interchange.md).
DATE_FIELDS = {
    "accounts": (("opened", "opened_on"), ("closed", "closed_on")),
    "transactions": (("posted", "posted_on"), ("due", "due_on")),
}
AHEAD_MONTHS = 12

# The columns holding ids (checked against _ID when given) and the text that may hold no control
# character, per kind of file.
ID_COLUMNS = {
    "properties": ("property_id",),
    "parties": ("party_id",),
    "accounts": ("account_id", "property_id"),
    "account_parties": ("account_id", "party_id"),
    "transactions": ("txn_id", "account_id", "applies_to", "reverses"),
}
PLAIN_TEXT_COLUMNS = {
    "properties": (
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "portfolio",
        "timezone",
        "owner_name",
    ),
    "parties": (
        "name",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "postal_code",
        "language",
        "timezone",
    ),
    "accounts": ("unit",),
    "account_parties": (),
    "transactions": ("code", "reference"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class BookImportError(DomainError):
    """Bad input: nothing was imported. `problems` lists each with file, line, column, reason."""

    code = "import_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        head = "\n".join(str(p) for p in problems[:MAX_ERRORS])
        more = len(problems) - MAX_ERRORS
        if more > 0:
            head += f"\n… and {more} more"
        super().__init__(
            f"{head}\nNothing was imported.",
            problems=[
                {"file": p.file, "line": p.line, "column": p.column, "reason": p.reason}
                for p in problems[:MAX_ERRORS]
            ],
        )


class RowError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class SourceFile:
    """One file kind of a book: where it is and how to read its rows."""

    kind: FileKind
    label: str  # the name errors use
    size: int
    open_rows: Callable[[Callable[[int], None] | None], Iterator[tuple[int, list[str]]]]
    header: list[str] = field(default_factory=list)
    ragged: bool = False  # a worksheet: rows may stop short of the header or run past it empty


def _csv_rows(
    open_bytes: Callable[[], IO[bytes]], label: str, progress: Callable[[int], None] | None
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank record; the header is line 1."""
    with open_bytes() as stream:
        counting = _CountingReader(stream, progress)
        text = io.TextIOWrapper(counting, encoding="utf-8-sig", newline="")  # type: ignore[arg-type,type-var]
        reader = csv.reader(text, strict=True)
        start = 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not record or record == [""]:
                    continue
                yield line, record
        except UnicodeDecodeError as exc:
            # The decoder reads ahead of the reader: find the line of the bad bytes itself.
            line = _first_non_utf8_line(open_bytes) or start
            raise BookImportError(
                [Problem(label, line, "", f"the file is not UTF-8 text ({exc.reason})")]
            ) from None
        except csv.Error as exc:
            raise BookImportError([Problem(label, start, "", f"bad CSV quoting: {exc}")]) from None


def _first_non_utf8_line(open_bytes: Callable[[], IO[bytes]]) -> int | None:
    with open_bytes() as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


class _CountingReader(io.RawIOBase):
    """A byte stream that reports how much has been read, for the progress bar."""

    def __init__(self, inner: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.inner = inner
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self.progress and n:
            self.progress(n)
        return n


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps numbers as binary floats; the shortest repr is the number typed in.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def open_book(path: Path) -> list[SourceFile]:
    """The files of a book at `path` (a folder, a .zip or an .xlsx), in import order.

    Raises BookImportError when the path does not exist, holds no book file, or an unknown file.
    """
    if not path.exists():
        raise BookImportError([Problem(str(path), 0, "", "no such file or folder")])
    if path.is_dir():
        return _folder_files(path)
    if path.suffix.lower() == ".zip":
        return _zip_files(path)
    if path.suffix.lower() == ".xlsx":
        return _xlsx_files(path)
    if path.suffix.lower() == ".csv":
        kind = _kind_of(path.name)
        if kind is None:
            raise BookImportError([Problem(path.name, 0, "", _unknown_file_reason())])
        return [_plain_file(kind, path)]
    raise BookImportError(
        [Problem(str(path), 0, "", "a book is a folder, a .zip, an .xlsx or one of its .csv files")]
    )


def _unknown_file_reason() -> str:
    names = ", ".join(k.filename for k in FILE_KINDS)
    return f"not a file of the interchange format (expected one of {names})"


def _kind_of(name: str) -> FileKind | None:
    stem = name.lower().removesuffix(".csv")
    return next((k for k in FILE_KINDS if k.name == stem), None)


def _plain_file(kind: FileKind, path: Path) -> SourceFile:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]]]:
        return _csv_rows(lambda: path.open("rb"), path.name, progress)

    return SourceFile(kind, path.name, path.stat().st_size, rows)


def _folder_files(folder: Path) -> list[SourceFile]:
    found: dict[str, SourceFile] = {}
    for child in sorted(folder.iterdir()):
        if child.is_file() and child.suffix.lower() == ".csv":
            kind = _kind_of(child.name)
            if kind is None:
                raise BookImportError([Problem(child.name, 0, "", _unknown_file_reason())])
            found[kind.name] = _plain_file(kind, child)
    if not found:
        raise BookImportError([Problem(str(folder), 0, "", "the folder holds no book file")])
    return [found[k.name] for k in FILE_KINDS if k.name in found]


def _zip_files(path: Path) -> list[SourceFile]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BookImportError([Problem(path.name, 0, "", "not a readable zip file")]) from None
    found: dict[str, SourceFile] = {}
    with archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if info.is_dir() or name.startswith(".") or not name.lower().endswith(".csv"):
                continue
            kind = _kind_of(name)
            label = f"{path.name}:{info.filename}"
            if kind is None:
                raise BookImportError([Problem(label, 0, "", _unknown_file_reason())])
            if kind.name in found:
                raise BookImportError([Problem(label, 0, "", f"a second {kind.filename}")])

            def rows(
                progress: Callable[[int], None] | None, member: str = info.filename, lb: str = label
            ) -> Iterator[tuple[int, list[str]]]:
                with zipfile.ZipFile(path) as again:
                    yield from _csv_rows(lambda: again.open(member), lb, progress)

            found[kind.name] = SourceFile(kind, label, info.compress_size, rows)
    if not found:
        raise BookImportError([Problem(path.name, 0, "", "the zip holds no book file")])
    return [found[k.name] for k in FILE_KINDS if k.name in found]


def _xlsx_files(path: Path) -> list[SourceFile]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise BookImportError(
            [Problem(path.name, 0, "", f"not a readable workbook: {exc}")]
        ) from None
    found: dict[str, SourceFile] = {}
    names = list(workbook.sheetnames)
    workbook.close()
    for sheet in names:
        kind = _kind_of(sheet.strip())
        label = f"{path.name}[{sheet}]"
        if kind is None:
            raise BookImportError(
                [
                    Problem(
                        label,
                        0,
                        "",
                        "not a sheet of the interchange format: " + _unknown_file_reason(),
                    )
                ]
            )

        def rows(
            progress: Callable[[int], None] | None, name: str = sheet, lb: str = label
        ) -> Iterator[tuple[int, list[str]]]:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            number = 0
            try:
                sheet_rows = book[name].iter_rows(values_only=True)
                while True:
                    try:
                        values = next(sheet_rows, None)
                    except Exception as exc:  # the sheet's XML breaks off (a NUL reference, …)
                        # Its parser reads ahead: the fault is on this row or a later one.
                        reason = f"the sheet cannot be read past row {number}: {exc}"
                        raise BookImportError([Problem(lb, number + 1, "", reason)]) from None
                    if values is None:
                        return
                    number += 1
                    record = [_xlsx_cell(v) for v in values]
                    if any(record):
                        yield number, record
            finally:
                book.close()

        found[kind.name] = SourceFile(kind, label, 0, rows, ragged=True)
    return [found[k.name] for k in FILE_KINDS if k.name in found]


def check_header(source: SourceFile, header: list[str]) -> list[Problem]:
    """Problems with a file's header: missing required, unknown or repeated columns."""
    problems = []
    kind = source.kind
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        if _CONTROL.search(name):
            # Named by its place: the name itself would carry the character into the message.
            problems.append(Problem(source.label, 1, f"#{number}", _control_reason(name)))
            continue
        if name in seen:
            problems.append(Problem(source.label, 1, name, "the column appears twice"))
        seen.add(name)
        if name not in kind.columns and not name.startswith("x_"):
            problems.append(
                Problem(source.label, 1, name, "unknown column (custom columns start with x_)")
            )
    for name in kind.required:
        if name not in seen:
            problems.append(Problem(source.label, 1, name, "required column is missing"))
    return problems


def _control_reason(value: str) -> str:
    if NUL in value:
        return f"holds a NUL byte (\\x00, a control character): {value!r}"
    return f"holds a control character: {value!r}"


def check_nul(row: dict[str, str]) -> None:
    """Raise RowError naming the first column that holds a NUL byte: no database stores one
    (PostgreSQL refuses it in text and JSON), and no book means one."""
    for column, value in row.items():
        if NUL in value:
            raise RowError(column, _control_reason(value))


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_ids_and_text(kind: str, row: dict[str, str]) -> None:
    """Raise RowError for an id outside spec 1.1's character set, or a control character in a
    name, an address or any other plain text (a memo may hold line breaks and tabs)."""
    for column in ID_COLUMNS[kind]:
        value = row.get(column, "")
        if value and not _ID.fullmatch(value):
            raise RowError(
                column,
                f"not an id (1 to 64 letters, digits, '.', '_', '-' or ':', "
                f"starting with a letter or a digit): {value!r}",
            )
    for column in PLAIN_TEXT_COLUMNS[kind]:
        if _CONTROL.search(row.get(column, "")):
            raise RowError(column, _control_reason(row[column]))
    for column, value in row.items():
        if (column == "memo" or column.startswith("x_")) and _CONTROL_IN_MEMO.search(value):
            raise RowError(column, _control_reason(value))


def required(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if not value.strip():
        raise RowError(column, "is required")
    return value


def parse_date(row: dict[str, str], column: str, *, optional: bool = False) -> date | None:
    value = row.get(column, "")
    if not value:
        if optional:
            return None
        raise RowError(column, "is required")
    if not _DATE.fullmatch(value):
        raise RowError(column, f"not a date (YYYY-MM-DD): {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise RowError(column, f"not a date: {value!r}") from None
    if not EARLIEST <= day <= LATEST:
        raise RowError(column, _outside_calendar(day))
    return day


def _outside_calendar(day: date) -> str:
    return (
        f"{day.isoformat()} is outside the book's calendar ({EARLIEST.isoformat()} to "
        f"{LATEST.isoformat()}): a placeholder or a mistyped year?"
    )


def latest_date(today: date) -> date:
    """The latest date a book file may hold: a year after `today` (the project notes of
    docs/ledger-interchange.md: a charge entered ahead of its month is common, an entry dated
    more than a year ahead is a mistyped year)."""
    return min(add_months(today, AHEAD_MONTHS), LATEST)


def dates_check(kind: str, parsed: Any, today: date) -> None:
    """Raise RowError for a date of a parsed row dated more than a year after `today`."""
    latest = latest_date(today)
    for column, attr in DATE_FIELDS.get(kind, ()):
        day = getattr(parsed, attr) if isinstance(parsed, TxnRow) else parsed.get(attr)
        if day is not None and day > latest:
            raise RowError(
                column,
                f"{day.isoformat()} is more than a year after today ({today.isoformat()}): "
                "a mistyped year?",
            )


def parse_amount(
    row: dict[str, str], column: str, *, optional: bool = False, positive: bool = True
) -> Decimal | None:
    value = row.get(column, "")
    if not value:
        if optional:
            return None
        raise RowError(column, "is required")
    if not _AMOUNT.fullmatch(value):
        if _AMOUNT_LOOSE.fullmatch(value) and "." in value and len(value.split(".")[1]) > 2:
            raise RowError(column, f"amount has more than 2 decimal places: {value!r}")
        if value.startswith("-"):
            raise RowError(column, f"amount must be positive: {value!r}")
        raise RowError(
            column, f"not an amount (digits, '.' and at most 2 decimals, no symbols): {value!r}"
        )
    amount = Decimal(value)
    if positive and amount <= 0:
        raise RowError(column, f"amount must be positive: {value!r}")
    return amount


def parse_choice(row: dict[str, str], column: str, choices: tuple[str, ...], default: str) -> str:
    value = row.get(column, "") or default
    if value not in choices:
        raise RowError(column, f"{value!r} is not one of {', '.join(choices)}")
    return value


def parse_pattern(row: dict[str, str], column: str, pattern: re.Pattern[str], what: str) -> str:
    value = row.get(column, "")
    if value and not pattern.fullmatch(value):
        raise RowError(column, f"not {what}: {value!r}")
    return value


def parse_timezone(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if value and value not in _zones():
        raise RowError(column, f"not an IANA time zone: {value!r}")
    return value


def parse_country(row: dict[str, str], column: str = "country") -> str:
    value = row.get(column, "")
    if value and value not in COUNTRIES:
        raise RowError(column, f"not an ISO 3166-1 alpha-2 country code: {value!r}")
    return value


def parse_property(row: dict[str, str]) -> dict[str, Any]:
    state = required(row, "state")
    country = required(row, "country")
    parse_country(row)
    timezone = parse_timezone(row, "timezone")
    if not timezone and country == "US" and state.upper() not in STATE_TIME_ZONES:
        raise RowError("state", f"unknown US state {state!r}, and no timezone given")
    return {
        "property_id": required(row, "property_id"),
        "name": required(row, "name"),
        "address": row.get("address", ""),
        "city": row.get("city", ""),
        "state": state,
        "postal_code": row.get("postal_code", ""),
        "country": country,
        "timezone": timezone,
        "portfolio": row.get("portfolio", ""),
        "owner_name": row.get("owner_name", ""),
    }


def parse_party(row: dict[str, str]) -> dict[str, Any]:
    return {
        "party_id": required(row, "party_id"),
        "name": required(row, "name"),
        "kind": parse_choice(row, "kind", PARTY_KINDS, "person"),
        "email": parse_pattern(row, "email", _EMAIL, "an email address"),
        "phone": parse_pattern(row, "phone", _PHONE, "an E.164 phone number (+15551234567)"),
        "address": row.get("address", ""),
        "city": row.get("city", ""),
        "state": row.get("state", ""),
        "postal_code": row.get("postal_code", ""),
        "country": parse_country(row),
        "language": parse_pattern(row, "language", _LANGUAGE, "a BCP 47 language tag") or "en",
        "timezone": parse_timezone(row, "timezone"),
    }


def parse_account(row: dict[str, str]) -> dict[str, Any]:
    opened = parse_date(row, "opened")
    closed = parse_date(row, "closed", optional=True)
    if closed is not None and opened is not None and closed < opened:
        raise RowError("closed", f"closed {closed} is before opened {opened}")
    return {
        "account_id": required(row, "account_id"),
        "property_id": row.get("property_id", ""),
        "unit": row.get("unit", ""),
        "kind": parse_choice(row, "kind", ACCOUNT_KINDS, ""),
        "opened_on": opened,
        "closed_on": closed,
        "rent": parse_amount(row, "rent", optional=True, positive=False),
        "deposit_held": parse_amount(row, "deposit_held", optional=True, positive=False),
        "currency": parse_pattern(row, "currency", _CURRENCY, "an ISO 4217 code") or "USD",
    }


def parse_account_party(row: dict[str, str]) -> dict[str, Any]:
    return {
        "account_id": required(row, "account_id"),
        "party_id": required(row, "party_id"),
        "role": parse_choice(row, "role", ROLES, ""),
        "guarantee_limit": parse_amount(row, "guarantee_limit", optional=True, positive=False),
    }


class TxnRow(NamedTuple):  # a tuple: built a million times an import, it must be cheap
    txn_id: str
    account_id: str
    posted_on: date
    type: str
    amount: Decimal
    code: str
    due_on: date | None
    applies_to: str
    reverses: str
    reference: str
    memo: str
    extra: dict[str, str]


def parse_transaction(row: dict[str, str]) -> TxnRow:
    txn_id = required(row, "txn_id")
    account_id = required(row, "account_id")
    posted = parse_date(row, "posted")
    assert posted is not None
    kind = parse_choice(row, "type", TXN_TYPES, "")
    amount = parse_amount(row, "amount")
    assert amount is not None
    code = row.get("code", "")
    if code and not _CODE.fullmatch(code):
        raise RowError("code", f"a code is upper case letters and digits: {code!r}")
    due = parse_date(row, "due", optional=True)
    applies_to = row.get("applies_to", "")
    reverses = row.get("reverses", "")
    if kind == "charge":
        if not code:
            raise RowError("code", "is required for a charge")
        due = due or posted
    elif due is not None:
        raise RowError("due", "only a charge has a due date")
    if applies_to and kind not in ("payment", "credit"):
        raise RowError("applies_to", "only a payment or a credit applies to a charge")
    if kind == "reversal" and not reverses:
        raise RowError("reverses", "a reversal names the payment or credit it undoes")
    if reverses and kind != "reversal":
        raise RowError("reverses", "only a reversal reverses")
    if applies_to == txn_id or reverses == txn_id:
        raise RowError("applies_to" if applies_to == txn_id else "reverses", "names its own row")
    return TxnRow(
        txn_id,
        account_id,
        posted,
        kind,
        amount,
        code,
        due,
        applies_to,
        reverses,
        row.get("reference", ""),
        row.get("memo", ""),
        {},
    )


def _iso_date(value: str) -> date | None:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _fast_transaction_parser(
    header: list[str], latest: date
) -> Callable[[list[str]], TxnRow | None]:
    """A parser for the common, clean transaction row, by column position.

    It returns None for anything it does not accept, and the row then goes through
    `parse_transaction`, which decides and names the problem: the two agree on every good row.
    A NUL byte in any field fails that field's pattern (ids, dates, amounts, codes, the type) or
    its control-character check (reference, memo), so such a row goes the slow way too. A date
    outside EARLIEST to `latest` (the book's today plus a year) is left to the slow path.
    """
    ix = {name: i for i, name in enumerate(header)}
    i_txn, i_account, i_posted, i_type, i_amount = (ix[c] for c in TRANSACTIONS.required)
    i_code, i_due, i_applies, i_reverses, i_reference, i_memo = (
        ix.get(c) for c in TRANSACTIONS.optional
    )
    amount_ok, code_ok, id_ok = _AMOUNT.fullmatch, _CODE.fullmatch, _ID.fullmatch
    control, control_in_memo = _CONTROL.search, _CONTROL_IN_MEMO.search

    def parse(rec: list[str]) -> TxnRow | None:
        txn_id, account_id = rec[i_txn], rec[i_account]
        if not id_ok(txn_id) or not id_ok(account_id):
            return None  # the slow path names the column and why
        if i_reference is not None and (len(rec[i_reference]) > 200 or control(rec[i_reference])):
            return None
        if i_memo is not None and control_in_memo(rec[i_memo]):
            return None
        posted = _iso_date(rec[i_posted])
        text = rec[i_amount]
        if posted is None or not amount_ok(text) or not EARLIEST <= posted <= latest:
            return None
        amount = Decimal(text)
        if not amount:
            return None
        kind = rec[i_type]
        code = rec[i_code] if i_code is not None else ""
        due_text = rec[i_due] if i_due is not None else ""
        applies = rec[i_applies] if i_applies is not None else ""
        reverses = rec[i_reverses] if i_reverses is not None else ""
        if (applies and not id_ok(applies)) or (reverses and not id_ok(reverses)):
            return None
        if code and not code_ok(code):
            return None
        due: date | None = None
        if kind == "charge":
            if not code or applies or reverses:
                return None
            due = _iso_date(due_text) if due_text else posted
            if due is None or not EARLIEST <= due <= latest:
                return None
        elif kind in ("payment", "credit"):
            if due_text or reverses or applies == txn_id:
                return None
        elif kind == "reversal":
            if due_text or applies or not reverses or reverses == txn_id:
                return None
        else:
            return None
        return TxnRow(
            txn_id,
            account_id,
            posted,
            kind,
            amount,
            code,
            due,
            applies,
            reverses,
            rec[i_reference] if i_reference is not None else "",
            rec[i_memo] if i_memo is not None else "",
            {},
        )

    return parse


PARSERS: dict[str, Callable[[dict[str, str]], Any]] = {
    "properties": parse_property,
    "parties": parse_party,
    "accounts": parse_account,
    "account_parties": parse_account_party,
    "transactions": parse_transaction,
}


def read_rows(
    source: SourceFile, progress: Callable[[int], None] | None = None, *, today: date
) -> Iterator[tuple[int, Any]]:
    """(line, parsed row or RowError) for each data row of a file; `today` is the book's, for
    the dates a row may hold (`dates_check`).

    Raises BookImportError for a bad header, an empty file, bad quoting or bytes that are not UTF-8.
    """
    rows = source.open_rows(progress)
    header: list[str] | None = None
    custom_columns: list[str] = []
    parse = PARSERS[source.kind.name]
    fast: Callable[[list[str]], TxnRow | None] | None = None
    limits = list(MAX_LENGTHS[source.kind.name].items())
    for line, record in rows:
        if source.ragged:
            # A worksheet's rows end where their last value is, or run past the header empty.
            if header is None:
                while record and record[-1] == "":
                    record.pop()
            else:
                record = record[: len(header)] if not any(record[len(header) :]) else record
                record += [""] * (len(header) - len(record))
        if header is None:
            header = [name.strip() for name in record]
            problems = check_header(source, header)
            if problems:
                raise BookImportError(problems)
            source.header = header
            custom_columns = [name for name in header if name.startswith("x_")]
            if source.kind is TRANSACTIONS and not custom_columns:
                fast = _fast_transaction_parser(header, latest_date(today))
            continue
        if len(record) != len(header):
            yield line, RowError("", f"expected {len(header)} fields, found {len(record)}")
            continue
        if fast is not None and (clean := fast(record)) is not None:
            yield line, clean
            continue
        row = dict(zip(header, record, strict=True))
        try:
            check_nul(row)
            for column, limit in limits:
                if len(row.get(column, "")) > limit:
                    raise RowError(column, f"longer than {limit} characters")
            check_ids_and_text(source.kind.name, row)
            parsed = parse(row)
            dates_check(source.kind.name, parsed, today)
        except RowError as exc:
            yield line, exc
            continue
        if custom_columns:
            extra = {k: row[k] for k in custom_columns if row[k] != ""}
            if isinstance(parsed, TxnRow):
                parsed = parsed._replace(extra=extra)
            else:
                parsed["extra"] = extra
        elif not isinstance(parsed, TxnRow):
            parsed["extra"] = {}
        yield line, parsed
    if header is None:
        raise BookImportError([Problem(source.label, 1, "", "the file is empty (no header row)")])
