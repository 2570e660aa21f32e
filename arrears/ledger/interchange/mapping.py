"""Property-management exports mapped onto the interchange format (docs/ledger-interchange.md,
"Property-management exports"): a mapping file (TOML) says which columns of a source CSV fill
which interchange files and columns, and how its values become interchange values.

Pure: a mapping and a source file in, the interchange files out as `SourceFile`s whose rows carry
the source's own line numbers, for the one import service (`importing.book_import`) to read as it
reads any book. Nothing here writes.

Invariants: every problem names the file (the source, or the mapping file), the line, the column
(the source's, or the mapping's key) and the reason, and any problem refuses the whole file; a
translation is deterministic (the same file gives the same rows, so importing it again changes
nothing); every generated row keeps the source's ids in the `x_` columns the mapping names.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from arrears.ledger.interchange.errors import BookImportError, Problem, RowError
from arrears.ledger.interchange.formats import (
    ACCOUNT_PARTIES,
    ACCOUNTS,
    PARTIES,
    TRANSACTIONS,
    FileKind,
)
from arrears.ledger.interchange.sources import SourceFile

BUILTIN_DIR = Path(__file__).with_name("mappings")
TYPES = ("charge", "payment", "credit", "reversal", "refund")
FILTERS = ("id", "upper", "lower", "code", "date", "strip")
PLACEHOLDER_RE = re.compile(r"\{([^{}]+)\}")
NOT_ID_RE = re.compile(r"[^A-Za-z0-9._:-]+")
NOT_CODE_RE = re.compile(r"[^A-Z0-9_-]+")
SECTIONS = {
    "source": {"title", "layout", "cites", "kind", "date_formats", "header_line", "skip"},
    "account": set(ACCOUNTS.columns) | {"x_"},
    "party": set(PARTIES.columns) | {"role", "x_"},
    "transaction": {"txn_id", "posted", "due", "reference", "memo", "x_"},
    "amount": {"debit", "credit", "column", "balance"},
    "type": {"column", "map"},
    "code": {"column", "map", "default", "optional"},
    "aging": {"as_of", "buckets", "credit", "total", "code", "credit_code"},
}


# --- the mapping file -------------------------------------------------------------------------


@dataclass
class Mapping:
    """A mapping file, checked: `label` is the name its problems use."""

    label: str
    name: str
    kind: str  # "ledger" or "aging"
    title: str
    layout: str
    date_formats: list[str]
    header_line: int
    skip: dict[str, list[str]]
    account: dict[str, str]
    party: dict[str, str]
    transaction: dict[str, str]
    amount: dict[str, str]
    type_column: str
    type_map: dict[str, str]
    code_column: str
    code_map: dict[str, str]
    code_default: str
    code_optional: bool
    aging: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # "section.key" -> its line in the file

    def where(self, key: str) -> int:
        return self.lines.get(key, 0)


def builtin_names() -> list[str]:
    """The names of the mappings Arrears ships (`--mapping yardi-ledger`)."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_mapping(name_or_path: str) -> Mapping:
    """The mapping a builtin name or a TOML file's path names.

    Raises BookImportError naming the mapping file, the line and the key of each problem.
    """
    path = BUILTIN_DIR / f"{name_or_path}.toml"
    if "/" in name_or_path or "\\" in name_or_path or not path.is_file():
        path = Path(name_or_path)
    label = path.name
    if not path.is_file():
        known = ", ".join(builtin_names())
        reason = f"no such mapping file, nor a builtin mapping (the builtins: {known})"
        raise BookImportError([Problem(name_or_path, 0, "", reason)])
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or _line_in_message(str(exc))
        raise BookImportError([Problem(label, line, "", f"not TOML: {exc}")]) from None
    return _checked(doc, label, path.stem, _key_lines(text))


def _line_in_message(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 0


def _key_lines(text: str) -> dict[str, int]:
    """Where each `section.key` (and each `[section]`) is written, for the problems' lines."""
    lines: dict[str, int] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[] ")
            lines.setdefault(section, number)
            continue
        key = re.match(r'("[^"]*"|[A-Za-z0-9_.-]+)\s*=', line)
        if key:
            lines.setdefault(f"{section}.{key.group(1).strip(chr(34))}", number)
    return lines


def _checked(doc: dict[str, Any], label: str, name: str, lines: dict[str, int]) -> Mapping:
    problems: list[Problem] = []

    def bad(key: str, reason: str) -> None:
        problems.append(
            Problem(label, lines.get(key, lines.get(key.split(".")[0], 0)), key, reason)
        )

    for section, value in doc.items():
        if section not in SECTIONS:
            bad(section, f"unknown section (a mapping has {', '.join(SECTIONS)})")
            continue
        if not isinstance(value, dict):
            bad(section, "is a section ([name]), not a value")
            continue
        for key in value:
            allowed = SECTIONS[section]
            if key not in allowed and not ("x_" in allowed and key.startswith("x_")):
                bad(f"{section}.{key}", f"unknown key of [{section}]")
    source = doc.get("source", {}) if isinstance(doc.get("source"), dict) else {}
    kind = source.get("kind", "")
    if kind not in ("ledger", "aging"):
        bad("source.kind", f"is 'ledger' or 'aging', not {kind!r}")
    formats = source.get("date_formats", ["%Y-%m-%d"])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        bad("source.date_formats", 'is a list of strptime formats, such as ["%m/%d/%Y"]')
        formats = []
    skip = source.get("skip", {})
    if not isinstance(skip, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in skip.values()
    ):
        bad("source.skip", 'is a table of column = ["value", ...]: rows to leave out')
        skip = {}
    sections = {s: _strings(doc, s, bad) for s in ("account", "party", "transaction", "amount")}
    type_doc = _table(doc, "type")
    code_doc = _table(doc, "code")
    aging = _table(doc, "aging")
    for section, values in sections.items():
        for key, template in values.items():
            _check_template(f"{section}.{key}", template, bad)
    if not sections["account"].get("account_id"):
        bad("account.account_id", "is required: the template of the account's id")
    if sections["party"] and not (
        sections["party"].get("party_id") and sections["party"].get("name")
    ):
        bad("party", "needs party_id and name (or no [party] at all)")
    role = sections["party"].pop("role", "primary")
    sections["party"]["role"] = role
    if role not in ("primary", "co_obligor", "guarantor"):
        bad("party.role", f"is primary, co_obligor or guarantor, not {role!r}")
    if kind == "ledger":
        if not sections["transaction"].get("posted"):
            bad("transaction.posted", "is required: the template of the row's date")
        if not sections["transaction"].get("txn_id"):
            bad("transaction.txn_id", "is required: the template of the row's id")
        amount = sections["amount"]
        if not (amount.get("column") or amount.get("debit") or amount.get("credit")):
            bad("amount", "names `column` (a signed amount) or `debit` and `credit` columns")
        if amount.get("column") and (amount.get("debit") or amount.get("credit")):
            bad("amount.column", "either one signed `column` or `debit` and `credit`, not both")
    if kind == "aging":
        buckets = aging.get("buckets")
        if not isinstance(buckets, list) or not buckets:
            bad("aging.buckets", 'is a list of {column = "31-60", days = 31}')
        else:
            for n, bucket in enumerate(buckets, start=1):
                if (
                    not isinstance(bucket, dict)
                    or not isinstance(bucket.get("column"), str)
                    or not isinstance(bucket.get("days"), int)
                    or isinstance(bucket.get("days"), bool)
                    or bucket["days"] < 0
                ):
                    bad("aging.buckets", f"bucket {n} is not {{column = NAME, days = N >= 0}}")
    type_map = type_doc.get("map", {})
    for key, value in type_map.items() if isinstance(type_map, dict) else []:
        if value not in (*TYPES, "skip"):
            reason = f"{value!r} is not an interchange type ({', '.join(TYPES)}) or skip"
            problems.append(Problem(label, lines.get(f"type.map.{key}", 0), "type.map", reason))
    code_map = code_doc.get("map", {})
    for key, value in code_map.items() if isinstance(code_map, dict) else []:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Z0-9][A-Z0-9_\-]{0,19}", value):
            reason = f"{value!r} is not a code (upper case letters and digits)"
            problems.append(Problem(label, lines.get(f"code.map.{key}", 0), "code.map", reason))
    if problems:
        raise BookImportError(problems)
    return Mapping(
        label=label,
        name=name,
        kind=kind,
        title=str(source.get("title", name)),
        layout=str(source.get("layout", "")),
        date_formats=formats,
        header_line=int(source.get("header_line", 1)),
        skip=skip,
        account=sections["account"],
        party=sections["party"] if sections["party"].get("party_id") else {},
        transaction=sections["transaction"],
        amount=sections["amount"],
        type_column=str(type_doc.get("column", "")),
        type_map={k.casefold(): v for k, v in (type_map or {}).items()},
        code_column=str(code_doc.get("column", "")),
        code_map={k.casefold(): v for k, v in (code_map or {}).items()},
        code_default=str(code_doc.get("default", "")),
        code_optional=bool(code_doc.get("optional", False)),
        aging=aging,
        lines=lines,
    )


def _table(doc: dict[str, Any], section: str) -> dict[str, Any]:
    value = doc.get(section, {})
    return value if isinstance(value, dict) else {}


def _strings(doc: dict[str, Any], section: str, bad: Callable[[str, str], None]) -> dict[str, str]:
    out = {}
    for key, value in _table(doc, section).items():
        if isinstance(value, str):
            out[key] = value
        else:
            bad(f"{section}.{key}", 'is a text: a template such as "{Property}-{Unit}|id"')
    return out


def _check_template(key: str, template: str, bad: Callable[[str, str], None]) -> None:
    _body, *filters = template.split("|")
    for name in filters:
        if name.strip() not in FILTERS:
            bad(key, f"unknown filter {name.strip()!r} (filters: {', '.join(FILTERS)})")


# --- values -----------------------------------------------------------------------------------


def source_columns(template: str) -> list[str]:
    """The source columns a template reads (`{Column}`; `{Column?}` when it may be absent)."""
    body = template.split("|")[0]
    return [m.rstrip("?") for m in PLACEHOLDER_RE.findall(body) if not m.startswith("_")]


def parse_amount(text: str, column: str) -> Decimal:
    """A source amount as a signed Decimal: `$1,234.50`, `(1,234.50)` and `-1,234.50` (both
    negative), `1234.50-`; empty is 0. Raises RowError for anything else or a fraction of a cent."""
    value = text.strip().replace("$", "").replace(",", "").replace(" ", "")
    negative = False
    if value.startswith("(") and value.endswith(")"):
        value, negative = value[1:-1], True
    if value.endswith("-"):
        value, negative = value[:-1], True
    if value.startswith("-"):
        value, negative = value[1:], not negative
    if value == "":
        if negative:
            raise RowError(column, f"not an amount: {text!r}")
        return Decimal("0.00")
    if not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", value):
        raise RowError(column, f"not an amount: {text!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(column, f"not an amount: {text!r}") from None
    if amount != amount.quantize(Decimal("0.01")):
        raise RowError(column, f"amount has a fraction of a cent: {text!r}")
    amount = amount.quantize(Decimal("0.01"))
    return -amount if negative else amount


def _fmt(amount: Decimal) -> str:
    return f"{amount:.2f}"


# --- translation ------------------------------------------------------------------------------


@dataclass
class _Out:
    """The rows of one interchange file kind, with the source line of each."""

    kind: FileKind
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class MappedBook:
    """A source file translated: the interchange files to import, and how to word their
    problems in the source's terms."""

    sources: list[SourceFile]
    origins: dict[tuple[str, str], list[str]]  # (file kind, interchange column) -> source columns
    mapping: Mapping
    opening_accounts: dict[str, tuple[int, str]]  # aging: account_id -> (line, txn id prefix)
    # (file kind, row number of the generated file) -> the source's line. The importer numbers
    # a file's rows from 2 without gaps (its ids are the book's last id + line), and one source
    # line may make several rows (an aging line's buckets).
    lines: dict[tuple[str, int], int] = field(default_factory=dict)

    def explain(self, error: BookImportError) -> BookImportError:
        """The import's problems named by the source's lines and columns (the interchange column
        in the reason)."""
        problems = []
        for p in error.problems:
            label, _, kind = p.file.rpartition(" (")
            label, kind = (label, kind.rstrip(")")) if label else (p.file, "")
            line = self.lines.get((kind, p.line), p.line)
            cols = self.origins.get((kind, p.column))
            if cols:
                problems.append(Problem(label, line, ", ".join(cols), f"{p.column}: {p.reason}"))
            else:
                problems.append(Problem(label, line, p.column, p.reason))
        return BookImportError(problems)


def map_book(path: Path, mapping: Mapping, *, as_of: date) -> MappedBook:
    """The interchange files `mapping` makes of the CSV at `path`; `as_of` dates an aging file
    that names no date of its own.

    Raises BookImportError naming the source file, line, column and reason of every bad row (the
    first 50), or the mapping's key when the file lacks a column the mapping reads.
    """
    if not path.is_file():
        raise BookImportError([Problem(str(path), 0, "", "no such file")])
    label = path.name
    header, records = _read_source(path, label, mapping.header_line)
    _check_columns(mapping, header, label)
    translator = _Translator(mapping, label, header, as_of)
    for line, record in records:
        translator.row(line, record)
    return translator.finish()


def _read_source(
    path: Path, label: str, header_line: int
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:  # Windows exports: a PM system's "Excel CSV" is often cp1252
            text = path.read_bytes().decode("cp1252")
        except UnicodeDecodeError:
            raise BookImportError(
                [Problem(label, 0, "", f"the file is not UTF-8 text ({exc.reason})")]
            ) from None
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    header: list[str] | None = None
    records = []
    try:
        for record in reader:
            line = reader.line_num
            if header is None:
                if line >= header_line:
                    header = [c.strip() for c in record]
                continue
            if not any(c.strip() for c in record):
                continue
            records.append((line, record))
    except csv.Error as exc:
        raise BookImportError(
            [Problem(label, reader.line_num, "", f"bad CSV quoting: {exc}")]
        ) from None
    if header is None:
        raise BookImportError([Problem(label, header_line, "", "the file has no header row")])
    return header, records


def _check_columns(mapping: Mapping, header: list[str], label: str) -> None:
    wanted: dict[str, str] = {}
    for section in ("account", "party", "transaction"):
        for key, template in getattr(mapping, section).items():
            body = template.split("|")[0]
            for name in PLACEHOLDER_RE.findall(body):
                if not name.startswith("_") and not name.endswith("?"):
                    wanted.setdefault(name, f"{section}.{key}")
    for key in ("debit", "credit", "column", "balance"):
        if mapping.amount.get(key):
            wanted.setdefault(mapping.amount[key], f"amount.{key}")
    if mapping.type_column:
        wanted.setdefault(mapping.type_column, "type.column")
    if mapping.code_column and not mapping.code_optional:
        wanted.setdefault(mapping.code_column, "code.column")
    for bucket in mapping.aging.get("buckets", []):
        wanted.setdefault(bucket["column"], "aging.buckets")
    for key in ("credit", "total"):
        if mapping.aging.get(key):
            wanted.setdefault(mapping.aging[key], f"aging.{key}")
    missing = [
        Problem(
            label,
            1,
            name,
            f"the mapping {mapping.label} reads this column ({key}); the file has none",
        )
        for name, key in wanted.items()
        if name not in header
    ]
    if missing:
        raise BookImportError(missing)


class _Translator:
    """One pass over the source rows, collecting the interchange rows and the problems."""

    def __init__(self, mapping: Mapping, label: str, header: list[str], as_of: date) -> None:
        self.m = mapping
        self.label = label
        self.header = header
        self.as_of = as_of
        self.problems: list[Problem] = []
        self.accounts: dict[str, tuple[int, dict[str, str]]] = {}
        self.earliest: dict[str, date] = {}
        self.parties: dict[str, tuple[int, dict[str, str]]] = {}
        self.links: dict[tuple[str, str], int] = {}
        self.txns: list[tuple[int, dict[str, str]]] = []
        self.txn_ids: dict[str, int] = {}
        self.payments: dict[str, list[tuple[str, Decimal]]] = {}  # account -> unreversed payments
        self.running: dict[str, Decimal] = {}
        self.digests: dict[str, int] = {}
        self.opening: dict[str, tuple[int, str]] = {}

    # values

    def fill(self, template: str, row: dict[str, str], key: str, extra: dict[str, str]) -> str:
        body, *filters = template.split("|")

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("_"):
                if name not in extra:
                    raise RowError(key, f"unknown placeholder {{{name}}} in the mapping's {key}")
                return extra[name]
            return row.get(name.rstrip("?"), "").strip()

        value = PLACEHOLDER_RE.sub(one, body)
        for name in filters:
            value = self.filtered(name.strip(), value, template, key)
        return value

    def filtered(self, name: str, value: str, template: str, key: str) -> str:
        if name == "id":
            return NOT_ID_RE.sub("-", value).strip("-._:")
        if name == "upper":
            return value.upper()
        if name == "lower":
            return value.lower()
        if name == "strip":
            return value.strip()
        if name == "code":
            return NOT_CODE_RE.sub("-", value.upper()).strip("-_")[:20]
        # date
        if not value:
            return ""
        return self.date(value, ", ".join(source_columns(template)) or key).isoformat()

    def date(self, value: str, column: str) -> date:
        for fmt in self.m.date_formats:
            try:
                return datetime.strptime(value.strip(), fmt).date()  # noqa: DTZ007 (a day, no zone)
            except ValueError:
                continue
        formats = " or ".join(self.m.date_formats)
        raise RowError(column, f"not a date in the export's format ({formats}): {value!r}")

    def amount(self, row: dict[str, str], column: str) -> Decimal:
        return parse_amount(row.get(column, ""), column)

    # rows

    def row(self, line: int, record: list[str]) -> None:
        if len(record) != len(self.header):
            reason = f"expected {len(self.header)} fields, found {len(record)}"
            self.problems.append(Problem(self.label, line, "", reason))
            return
        row = dict(zip(self.header, record, strict=True))
        for column, values in self.m.skip.items():
            if row.get(column, "").strip().casefold() in {v.casefold() for v in values}:
                return
        try:
            if self.m.kind == "ledger":
                self.ledger_row(line, row)
            else:
                self.aging_row(line, row)
        except RowError as bad:
            self.problems.append(Problem(self.label, line, bad.column, bad.reason))

    def account_and_party(self, line: int, row: dict[str, str], extra: dict[str, str]) -> str:
        account = {k: self.fill(v, row, f"account.{k}", extra) for k, v in self.m.account.items()}
        account.setdefault("kind", "residential_lease")
        account_id = account["account_id"]
        if not account_id:
            cols = ", ".join(source_columns(self.m.account["account_id"]))
            raise RowError(cols, "is empty: the account's id is made of it")
        self.keep(self.accounts, account_id, line, account, "account", self.m.account)
        if self.m.party:
            party = {
                k: self.fill(v, row, f"party.{k}", extra)
                for k, v in self.m.party.items()
                if k != "role"
            }
            if not party["party_id"]:
                cols = ", ".join(source_columns(self.m.party["party_id"]))
                raise RowError(cols, "is empty: the party's id is made of it")
            self.keep(self.parties, party["party_id"], line, party, "party", self.m.party)
            self.links.setdefault((account_id, party["party_id"]), line)
        return account_id

    def keep(
        self,
        store: dict[str, tuple[int, dict[str, str]]],
        key: str,
        line: int,
        values: dict[str, str],
        what: str,
        templates: dict[str, str],
    ) -> None:
        """The first row of an account or a party, or RowError where a later row says otherwise."""
        if key not in store:
            store[key] = (line, values)
            return
        first_line, first = store[key]
        for column, value in values.items():
            if column != "opened" and first.get(column) != value:
                cols = ", ".join(source_columns(templates[column])) or column
                raise RowError(
                    cols,
                    f"{what} {key!r}: {column} is {value!r} here and {first.get(column)!r} "
                    f"on line {first_line}",
                )

    def ledger_row(self, line: int, row: dict[str, str]) -> None:
        signed, side = self.signed_amount(row)
        kind = self.kind(row, signed, side)
        if kind == "skip":
            return
        amount = abs(signed)
        if amount == 0:
            return  # a zero line (a memo, a $0 receipt applying credit) moves no money
        digest = self.digest(row)
        extra = {"_digest": digest}
        account_id = self.account_and_party(line, row, extra)
        txn = {
            k: self.fill(v, row, f"transaction.{k}", extra) for k, v in self.m.transaction.items()
        }
        txn.update(account_id=account_id, type=kind, amount=_fmt(amount))
        posted_cols = ", ".join(source_columns(self.m.transaction["posted"])) or "posted"
        if not txn["posted"]:
            raise RowError(posted_cols, "is empty: the row's date is required")
        posted = date.fromisoformat(txn["posted"])
        self.earliest[account_id] = min(self.earliest.get(account_id, posted), posted)
        code = self.code(row, kind)
        if code:
            txn["code"] = code
        if kind != "charge":
            txn.pop("due", None)
        if kind == "reversal":
            txn["reverses"] = self.reversed_payment(account_id, amount, side)
        txn_id = txn["txn_id"]
        if not txn_id:
            cols = ", ".join(source_columns(self.m.transaction["txn_id"]))
            raise RowError(cols, "is empty: the row's id is made of it")
        if txn_id in self.txn_ids:
            cols = ", ".join(source_columns(self.m.transaction["txn_id"])) or "txn_id"
            raise RowError(cols, f"the id {txn_id!r} is already on line {self.txn_ids[txn_id]}")
        self.txn_ids[txn_id] = line
        if kind == "payment":
            self.payments.setdefault(account_id, []).append((txn_id, amount))
        self.check_balance(line, row, account_id, kind, amount)
        self.txns.append((line, txn))

    def signed_amount(self, row: dict[str, str]) -> tuple[Decimal, str]:
        """The row's amount, positive for what the debtor owes more; and its side (debit or
        credit) by the column it came from."""
        a = self.m.amount
        if a.get("column"):
            value = self.amount(row, a["column"])
            return value, "debit" if value >= 0 else "credit"
        debit = self.amount(row, a["debit"]) if a.get("debit") else Decimal("0.00")
        credit = self.amount(row, a["credit"]) if a.get("credit") else Decimal("0.00")
        if debit and credit:
            raise RowError(
                f"{a['debit']}, {a['credit']}", "a row has a debit or a credit, not both"
            )
        return (debit, "debit") if debit else (-credit, "credit")

    def kind(self, row: dict[str, str], signed: Decimal, side: str) -> str:
        """The interchange type: from the type table, or by the sign and side of the amount.
        Without a table: a debit is a charge (a negative one a credit), a credit a payment (a
        negative one the reversal of a payment)."""
        if self.m.type_column:
            value = row.get(self.m.type_column, "").strip()
            kind = self.m.type_map.get(value.casefold())
            if kind is None:
                known = ", ".join(sorted(self.m.type_map)) or "none"
                raise RowError(
                    self.m.type_column,
                    f"the mapping has no interchange type for {value!r} (it knows: {known})",
                )
            return kind
        if side == "debit":
            return "charge" if signed > 0 else "credit"
        if self.m.amount.get("column"):
            return "payment"
        return "payment" if signed < 0 else "reversal"

    def code(self, row: dict[str, str], kind: str) -> str:
        if not self.m.code_column:
            return self.m.code_default if kind == "charge" else ""
        value = row.get(self.m.code_column, "").strip()
        code = self.m.code_map.get(value.casefold())
        if code is None:
            if self.m.code_default == "{source}":
                code = NOT_CODE_RE.sub("-", value.upper()).strip("-_")[:20]
            else:
                code = self.m.code_default
        if kind == "charge" and not code:
            raise RowError(
                self.m.code_column, f"no charge code for {value!r} (add it to [code.map])"
            )
        return code

    def reversed_payment(self, account_id: str, amount: Decimal, side: str) -> str:
        """The latest payment of `amount` earlier in the file for the account, not reversed yet:
        what a negative receipt (a returned check, an NSF) undoes."""
        open_payments = self.payments.get(account_id, [])
        for i in range(len(open_payments) - 1, -1, -1):
            txn_id, paid = open_payments[i]
            if paid == amount:
                del open_payments[i]
                return txn_id
        column = self.m.amount.get("credit") or self.m.amount.get("column") or self.m.type_column
        raise RowError(
            column,
            f"a reversal of {_fmt(amount)} with no earlier payment of {_fmt(amount)} to "
            f"account {account_id!r} in this file to reverse",
        )

    def check_balance(
        self, line: int, row: dict[str, str], account_id: str, kind: str, amount: Decimal
    ) -> None:
        """The export's running balance, where the mapping names its column, must be ours:
        a sign read the wrong way round shows on the first row."""
        column = self.m.amount.get("balance")
        sign = 1 if kind in ("charge", "reversal", "refund") else -1
        self.running[account_id] = self.running.get(account_id, Decimal("0.00")) + sign * amount
        if not column or not row.get(column, "").strip():
            return
        stated = parse_amount(row[column], column)
        if stated != self.running[account_id]:
            raise RowError(
                column,
                f"the export's balance is {_fmt(stated)}; its rows for account {account_id!r} "
                f"add up to {_fmt(self.running[account_id])} (a row missing, or a sign read "
                "the wrong way round?)",
            )

    def digest(self, row: dict[str, str]) -> str:
        """A stable id for a row without one: its values' digest, and its repeat number when
        identical rows repeat (two equal charges on a day)."""
        text = "\x1f".join(
            row.get(c, "").strip() for c in self.header if c != self.m.amount.get("balance")
        )
        base = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.digests[base] = self.digests.get(base, 0) + 1
        n = self.digests[base]
        return base if n == 1 else f"{base}-{n}"

    def aging_row(self, line: int, row: dict[str, str]) -> None:
        """An aging line as opening balances: each bucket's amount a charge due `days` before
        the as-of date, the prepaid credit a credit on it (docs/ledger-interchange.md)."""
        aging = self.m.aging
        as_of = self.as_of
        if aging.get("as_of"):
            text = self.fill(aging["as_of"], row, "aging.as_of", {})
            if text:
                as_of = date.fromisoformat(text)
        extra = {"_as_of": as_of.isoformat()}
        account_id = self.account_and_party(line, row, extra)
        if account_id in self.opening:
            raise RowError(
                ", ".join(source_columns(self.m.account["account_id"])),
                f"account {account_id!r} is already on line {self.opening[account_id][0]}",
            )
        prefix = f"{account_id}:OPEN:{as_of.isoformat()}"
        self.opening[account_id] = (line, prefix)
        total = Decimal("0.00")
        code = str(aging.get("code", "OPENING"))
        for bucket in aging["buckets"]:
            amount = self.amount(row, bucket["column"])
            if amount < 0:
                raise RowError(
                    bucket["column"],
                    f"a bucket's amount is not negative: {row[bucket['column']]!r}",
                )
            total += amount
            if amount == 0:
                continue
            due = as_of - timedelta(days=bucket["days"])
            self.earliest[account_id] = min(self.earliest.get(account_id, due), due)
            self.txns.append(
                (
                    line,
                    {
                        "txn_id": f"{prefix}:{bucket['days']}",
                        "account_id": account_id,
                        "posted": due.isoformat(),
                        "type": "charge",
                        "amount": _fmt(amount),
                        "code": code,
                        "due": due.isoformat(),
                        "memo": f"opening balance: {bucket['column']} as of {as_of.isoformat()}",
                        "x_bucket": bucket["column"],
                    },
                )
            )
        credit = Decimal("0.00")
        if aging.get("credit"):
            # A prepayment column is shown negative by some systems, positive by others.
            credit = abs(self.amount(row, aging["credit"]))
            if credit:
                self.earliest[account_id] = min(self.earliest.get(account_id, as_of), as_of)
                self.txns.append(
                    (
                        line,
                        {
                            "txn_id": f"{prefix}:credit",
                            "account_id": account_id,
                            "posted": as_of.isoformat(),
                            "type": "credit",
                            "amount": _fmt(credit),
                            "code": str(aging.get("credit_code", "PREPAID")),
                            "memo": f"opening credit: {aging['credit']} as of {as_of.isoformat()}",
                            "x_bucket": aging["credit"],
                        },
                    )
                )
        if aging.get("total") and row.get(aging["total"], "").strip():
            stated = self.amount(row, aging["total"])
            if stated not in (total - credit, total):
                raise RowError(
                    aging["total"],
                    f"the line's total is {_fmt(stated)}; its buckets add up to {_fmt(total)}"
                    + (f" less {_fmt(credit)} of credit" if credit else ""),
                )
        self.earliest.setdefault(account_id, as_of)

    # output

    def finish(self) -> MappedBook:
        if self.problems:
            raise BookImportError(self.problems)
        m = self.m
        origins: dict[tuple[str, str], list[str]] = {}
        outs: list[_Out] = []
        if self.parties:
            keys = _columns(m.party, exclude={"role"})
            out = _Out(PARTIES, keys)
            for line, party in self.parties.values():
                out.rows.append((line, [party.get(k, "") for k in keys]))
            outs.append(out)
            _origins(origins, "parties", m.party)
        keys = _columns(m.account) + [k for k in ("kind", "opened") if k not in m.account]
        out = _Out(ACCOUNTS, keys)
        for account_id, (line, account) in self.accounts.items():
            account = dict(account)
            account["opened"] = account.get("opened") or self.earliest[account_id].isoformat()
            out.rows.append((line, [account.get(k, "") for k in keys]))
        outs.append(out)
        _origins(origins, "accounts", m.account)
        if "opened" not in m.account:  # the account's earliest date
            dated = m.transaction.get("posted") or m.aging.get("as_of", "")
            origins[("accounts", "opened")] = source_columns(dated) or ["opened"]
        if self.links:
            out = _Out(ACCOUNT_PARTIES, ["account_id", "party_id", "role"])
            for (account_id, party_id), line in self.links.items():
                out.rows.append((line, [account_id, party_id, m.party["role"]]))
            outs.append(out)
        keys = ["txn_id", "account_id", "posted", "type", "amount", "code", "due", "reverses"]
        keys += [k for k in _columns(m.transaction) if k not in keys]
        keys += [k for k in ("x_bucket",) if any(k in t for _, t in self.txns) and k not in keys]
        out = _Out(TRANSACTIONS, keys)
        for line, txn in self.txns:
            out.rows.append((line, [txn.get(k, "") for k in keys]))
        outs.append(out)
        _origins(origins, "transactions", m.transaction)
        amount_cols = [m.amount[k] for k in ("column", "debit", "credit") if m.amount.get(k)]
        origins[("transactions", "amount")] = amount_cols or [
            b["column"] for b in m.aging.get("buckets", [])
        ]
        if m.type_column:
            origins[("transactions", "type")] = [m.type_column]
            origins[("transactions", "reverses")] = [m.type_column]
        if m.code_column:
            origins[("transactions", "code")] = [m.code_column]
        origins[("transactions", "account_id")] = source_columns(m.account["account_id"])
        origins[("account_parties", "account_id")] = source_columns(m.account["account_id"])
        if m.party:
            origins[("account_parties", "party_id")] = source_columns(m.party["party_id"])
        sources = [_source(o, self.label) for o in outs if o.rows]
        lines = {
            (o.kind.name, number): line
            for o in outs
            for number, (line, _row) in enumerate(o.rows, start=2)
        }
        return MappedBook(sources, origins, m, self.opening, lines)


def _columns(templates: dict[str, str], exclude: set[str] | None = None) -> list[str]:
    return [k for k in templates if k not in (exclude or set())]


def _origins(
    origins: dict[tuple[str, str], list[str]], kind: str, templates: dict[str, str]
) -> None:
    for key, template in templates.items():
        cols = source_columns(template)
        if cols:
            origins[(kind, key)] = cols


def _source(out: _Out, label: str) -> SourceFile:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]]]:
        yield 1, list(out.header)
        for number, (_line, row) in enumerate(out.rows, start=2):
            yield number, row

    return SourceFile(out.kind, f"{label} ({out.kind.name})", 0, rows)
