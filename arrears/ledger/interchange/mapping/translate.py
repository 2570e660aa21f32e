"""A source export translated by its mapping into interchange files (`SourceFile`s) for the one
import service; every problem names the source's file, line and column."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from arrears.ledger.interchange.errors import BookImportError, Problem, RowError
from arrears.ledger.interchange.formats import (
    ACCOUNT_PARTIES,
    ACCOUNTS,
    PARTIES,
    TRANSACTIONS,
)
from arrears.ledger.interchange.mapping.mapped import MappedBook, Out
from arrears.ledger.interchange.mapping.spec import Mapping
from arrears.ledger.interchange.mapping.values import (
    NOT_CODE_RE,
    NOT_ID_RE,
    PLACEHOLDER_RE,
    fmt,
    parse_amount,
    source_columns,
)
from arrears.ledger.interchange.sources import SourceFile


def map_book(path: Path, mapping: Mapping, *, as_of: date, label: str = "") -> MappedBook:
    """The interchange files `mapping` makes of the CSV at `path`; `as_of` dates an aging file
    that names no date of its own; `label` is the file's name for its problems (default: the
    path's).

    Raises BookImportError naming the source file, line, column and reason of every bad row (the
    first 50), or the mapping's key when the file lacks a column the mapping reads.
    """
    if not path.is_file():
        raise BookImportError([Problem(str(path), 0, "", "no such file")])
    label = label or path.name
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
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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
        # account -> (its first line, the balance column, what it owed before that line)
        self.carried: dict[str, tuple[int, str, Decimal]] = {}
        self.account_txns: dict[str, list[str]] = {}
        self.unresolved: list[tuple[int, str, str, Decimal]] = []  # line, column, account, amount

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
        for pattern in self.m.date_formats:
            try:
                return datetime.strptime(value.strip(), pattern).date()  # noqa: DTZ007 (a day, no zone)
            except ValueError:
                continue
        formats = " or ".join(self.m.date_formats)
        raise RowError(column, f"not a date in the export's format ({formats}): {value!r}")

    def amount(self, row: dict[str, str], column: str) -> Decimal:
        return parse_amount(row.get(column, ""), column)

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
        txn.update(account_id=account_id, type=kind, amount=fmt(amount))
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
            txn["reverses"] = self.reversed_payment(account_id, amount, line)
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
        self.account_txns.setdefault(account_id, []).append(txn_id)
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
        """The row's code: from the code table; else, for a charge or a credit, the default
        (a receipt without a code in the table has none)."""
        if not self.m.code_column:
            return self.m.code_default if kind in ("charge", "credit") else ""
        value = row.get(self.m.code_column, "").strip()
        code = self.m.code_map.get(value.casefold())
        if code is None and kind not in ("charge", "credit"):
            code = ""
        elif code is None:
            if self.m.code_default == "{source}":
                code = NOT_CODE_RE.sub("-", value.upper()).strip("-_")[:20]
            else:
                code = self.m.code_default
        if kind == "charge" and not code:
            raise RowError(
                self.m.code_column, f"no charge code for {value!r} (add it to [code.map])"
            )
        return code

    def reversed_payment(self, account_id: str, amount: Decimal, line: int) -> str:
        """The latest payment of `amount` earlier in the file for the account, not reversed yet:
        what a negative receipt (a returned check, an NSF) undoes; "" when the file has none
        (`MappedBook.resolve_reversals` looks in the book)."""
        open_payments = self.payments.get(account_id, [])
        for i in range(len(open_payments) - 1, -1, -1):
            txn_id, paid = open_payments[i]
            if paid == amount:
                del open_payments[i]
                return txn_id
        # Not in this file: the book's own (an earlier export's), found by the import.
        column = self.m.amount.get("credit") or self.m.amount.get("column") or self.m.type_column
        self.unresolved.append((line, column, account_id, amount))
        return ""

    def check_balance(
        self, line: int, row: dict[str, str], account_id: str, kind: str, amount: Decimal
    ) -> None:
        """The export's running balance, where the mapping names its column, must be ours:
        a sign read the wrong way round shows on the account's second row. Its first row says
        what the account owed before the file (`carried`, for the import to hold against the
        book: an export of a later period starts where the earlier one ended)."""
        column = self.m.amount.get("balance")
        sign = 1 if kind in ("charge", "reversal", "refund") else -1
        self.running[account_id] = self.running.get(account_id, Decimal("0.00")) + sign * amount
        if not column or not row.get(column, "").strip():
            return
        stated = parse_amount(row[column], column)
        if account_id not in self.carried:
            self.carried[account_id] = (line, column, stated - self.running[account_id])
            return
        before = self.carried[account_id][2]
        if stated != self.running[account_id] + before:
            raise RowError(
                column,
                f"the export's balance is {fmt(stated)}; its rows for account {account_id!r} "
                f"add up to {fmt(self.running[account_id] + before)} (a row missing, or a sign "
                "read the wrong way round?)",
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
                        "amount": fmt(amount),
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
                            "amount": fmt(credit),
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
                    f"the line's total is {fmt(stated)}; its buckets add up to {fmt(total)}"
                    + (f" less {fmt(credit)} of credit" if credit else ""),
                )
        self.earliest.setdefault(account_id, as_of)

    def finish(self) -> MappedBook:
        if self.problems:
            raise BookImportError(self.problems)
        m = self.m
        origins: dict[tuple[str, str], list[str]] = {}
        outs: list[Out] = []
        if self.parties:
            keys = _columns(m.party, exclude={"role"})
            out = Out(PARTIES, keys)
            for line, party in self.parties.values():
                out.rows.append((line, [party.get(k, "") for k in keys]))
            outs.append(out)
            _origins(origins, "parties", m.party)
        keys = _columns(m.account) + [k for k in ("kind", "opened") if k not in m.account]
        out = out_accounts = Out(ACCOUNTS, keys)
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
            out = Out(ACCOUNT_PARTIES, ["account_id", "party_id", "role"])
            for (account_id, party_id), line in self.links.items():
                out.rows.append((line, [account_id, party_id, m.party["role"]]))
            outs.append(out)
        keys = ["txn_id", "account_id", "posted", "type", "amount", "code", "due", "reverses"]
        keys += [k for k in _columns(m.transaction) if k not in keys]
        keys += [k for k in ("x_bucket",) if any(k in t for _, t in self.txns) and k not in keys]
        out = Out(TRANSACTIONS, keys)
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
        carried = {
            a: (line, column, before, self.earliest[a], self.account_txns.get(a, []))
            for a, (line, column, before) in self.carried.items()
        }
        derived = {} if "opened" in m.account else dict(self.earliest)
        mapped = MappedBook(sources, origins, m, self.opening, lines, carried, derived)
        mapped.accounts_out = out_accounts
        mapped.txns_out = out
        mapped.unresolved = self.unresolved
        return mapped


def _columns(templates: dict[str, str], exclude: set[str] | None = None) -> list[str]:
    return [k for k in templates if k not in (exclude or set())]


def _origins(
    origins: dict[tuple[str, str], list[str]], kind: str, templates: dict[str, str]
) -> None:
    for key, template in templates.items():
        cols = source_columns(template)
        if cols:
            origins[(kind, key)] = cols


def _source(out: Out, label: str) -> SourceFile:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]]]:
        yield 1, list(out.header)
        for number, (_line, row) in enumerate(out.rows, start=2):
            yield number, row

    return SourceFile(out.kind, f"{label} ({out.kind.name})", 0, rows)
