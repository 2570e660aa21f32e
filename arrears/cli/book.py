"""The book's commands (the ledger part): `arrears init`, `import`, `export`, `aging` and
`ledger`."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from arrears.cli.acting import by
from arrears.cli.common import (
    ProgressBar,
    command,
    date,
    ensure_migrated,
    migrate,
    money,
    output,
    table,
    write_json,
)


def cmd_init(args: argparse.Namespace) -> int:
    from django.db import connection

    migrate()
    print(f"Book ready: {connection.settings_dict['NAME']} ({connection.vendor})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from arrears.access import acts

    if args.as_of and not args.mapping:
        raise SystemExit(
            "arrears import: error: --as-of dates an aging export: it goes with --mapping"
        )
    ensure_migrated()
    bar = ProgressBar(sys.stderr)
    started = time.monotonic()
    try:
        summary = acts.book_import(
            by=by(args, system=True),
            path=Path(args.path),
            name=args.path,
            into_open_period=args.into_open_period,
            progress=bar,
            mapping=args.mapping or "",
            as_of=args.as_of,
        )
    finally:
        bar.close()
    print(f"{summary.line()} ({time.monotonic() - started:.1f}s)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from arrears.ledger.export import book_export

    ensure_migrated()
    counts = book_export(Path(args.dir))
    print(f"Exported to {args.dir}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def cmd_aging(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.ledger.aging import Buckets
    from arrears.ledger.selectors import aging_report

    ensure_migrated()
    as_of = args.as_of or today()
    try:
        buckets = Buckets.parse(args.buckets)
    except ValueError as exc:
        raise SystemExit(f"arrears aging: error: {exc}") from None
    reports = aging_report(as_of=as_of, by=args.by, currency=args.currency, buckets=buckets)
    if args.format == "xlsx":
        from arrears.ledger.xlsx import aging_xlsx

        if not args.output:
            raise SystemExit("arrears aging: error: --format xlsx needs --output FILE")
        aging_xlsx(reports, Path(args.output))
        return 0
    with output(args) as out:
        if args.format == "json":
            from arrears.ledger.selectors import aging_json, book_currencies

            currencies = [args.currency] if args.currency else book_currencies()
            body = aging_json(
                reports, as_of=as_of, by=args.by, buckets=buckets, currencies=currencies
            )
            write_json(body, out, indent=None if args.output else 1)
        elif args.format == "csv":
            _aging_csv(reports, out)
        else:
            _aging_table(reports, out)
    return 0


def _aging_csv(reports: Sequence[Any], out: TextIO) -> None:
    from arrears.core.cells import safe_row

    writer = csv.writer(out, lineterminator="\n")
    for i, report in enumerate(reports):
        doc = report.as_json()
        keys = report.key_columns
        amounts = [*doc["buckets"], "credit", "balance"]
        if i == 0:
            writer.writerow(["as_of", "currency", *keys, *amounts])
        for row in doc[report.list_name]:
            writer.writerow(
                [
                    doc["as_of"],
                    doc["currency"],
                    *safe_row(row[k] for k in keys),
                    *[row[a] for a in amounts],
                ]
            )
        writer.writerow(
            [
                doc["as_of"],
                doc["currency"],
                "TOTAL",
                *[""] * (len(keys) - 1),
                *[doc["totals"][a] for a in amounts],
            ]
        )


def _aging_table(reports: Sequence[Any], out: TextIO) -> None:
    if not reports:
        out.write("Nothing is open.\n")
    for report in reports:
        doc = report.as_json()
        keys = report.key_columns
        amounts = [*doc["buckets"], "credit", "balance"]
        body = [
            [row[k] for k in keys] + [money(row[a]) for a in amounts]
            for row in doc[report.list_name]
        ]
        body.append(["TOTAL", *[""] * (len(keys) - 1), *[money(doc["totals"][a]) for a in amounts]])
        out.write(f"Aging as of {doc['as_of']} ({doc['currency']}), by {report.by}\n")
        table([*keys, *amounts], body, out, numeric=range(len(keys), len(keys) + len(amounts)))
        out.write("\n")


def cmd_ledger(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.ledger.selectors import account_ledger

    ensure_migrated()
    ledger = account_ledger(account_id=args.account_id, as_of=args.as_of or today())
    doc = _ledger_json(ledger)
    with output(args) as out:
        if args.format == "json":
            write_json(doc, out)
        elif args.format == "csv":
            _ledger_csv(doc, out)
        else:
            _ledger_table(doc, out)
    return 0


def _ledger_csv(doc: dict[str, Any], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    cols = [
        "txn_id",
        "posted",
        "type",
        "code",
        "due",
        "amount",
        "balance",
        "open",
        "unapplied",
        "paid_by",
        "paid",
    ]
    writer.writerow(cols)
    for e in doc["entries"]:
        writer.writerow(
            [
                e["txn_id"],
                e["posted"],
                e["type"],
                e["code"],
                e["due"] or "",
                e["amount"],
                e["balance"],
                e.get("open", ""),
                e.get("unapplied", ""),
                _paid_text(e.get("paid_by", [])),
                _paid_text(e.get("paid", [])),
            ]
        )


def _paid_text(items: list[dict[str, str]]) -> str:
    return "; ".join(f"{p['txn_id']} {p['amount']}" for p in items)


def _ledger_json(ledger: Any) -> dict[str, Any]:
    account = ledger.account
    entries = []
    for line in ledger.lines:
        entry: dict[str, Any] = {
            "txn_id": line.txn_id,
            "posted": line.posted_on.isoformat(),
            "type": line.type,
            "code": line.code,
            "due": line.due_on.isoformat() if line.due_on else None,
            "amount": f"{line.amount:.2f}",
            "balance": f"{line.balance:.2f}",
            "reference": line.reference,
            "memo": line.memo,
        }
        if line.applies_to:
            entry["applies_to"] = line.applies_to
        if line.reverses:
            entry["reverses"] = line.reverses
        if line.type in ("charge", "refund"):
            entry["open"] = f"{line.open_amount:.2f}"
            entry["paid_by"] = [
                {"txn_id": p.txn_id, "amount": f"{p.amount:.2f}", "on": p.on.isoformat()}
                for p in line.paid_by
            ]
        elif line.type in ("payment", "credit"):
            entry["unapplied"] = f"{line.unapplied:.2f}"
            entry["paid"] = [
                {"txn_id": p.txn_id, "amount": f"{p.amount:.2f}", "on": p.on.isoformat()}
                for p in line.paid
            ]
            if line.reversed_on:
                entry["reversed_on"] = line.reversed_on.isoformat()
        entries.append(entry)
    labels = ledger.buckets.labels
    aging = {label: f"{a:.2f}" for label, a in zip(labels, ledger.aged.buckets, strict=True)}
    aging["credit"] = f"{ledger.aged.credit:.2f}"
    return {
        "account_id": account.account_id,
        "property_id": account.property.property_id if account.property else None,
        "unit": account.unit,
        "currency": account.currency,
        "as_of": ledger.as_of.isoformat(),
        "parties": [
            {"party_id": ap.party.party_id, "name": ap.party.name, "role": ap.role}
            for ap in ledger.parties
        ],
        "entries": entries,
        "aging": aging,
        "balance": f"{ledger.balance:.2f}",
    }


def _ledger_table(doc: dict[str, Any], out: TextIO) -> None:
    from arrears.ledger.allocation import DEBITS

    people = ", ".join(f"{p['name']} ({p['role']})" for p in doc["parties"])
    out.write(f"Account {doc['account_id']}  {doc['property_id'] or ''} {doc['unit']}  {people}\n")
    out.write(f"Ledger as of {doc['as_of']} ({doc['currency']})\n")
    rows = []
    for e in doc["entries"]:
        if e["type"] == "refund":
            note = f"paid out of {_paid_text(e['paid_by'])}" if e["paid_by"] else ""
            if e["open"] != "0.00":
                note += f"; owed again {e['open']}"
        elif e["type"] == "charge":
            note = f"open {e['open']}" + (
                f"; paid by {_paid_text(e['paid_by'])}" if e["paid_by"] else ""
            )
        elif e["type"] in ("payment", "credit"):
            note = f"paid {_paid_text(e['paid'])}" if e["paid"] else ""
            if e.get("reversed_on"):
                note += f" (reversed {e['reversed_on']})"
            elif e["unapplied"] != "0.00":
                note += f"; unapplied {e['unapplied']}"
        else:
            note = f"reverses {e.get('reverses', '')}"
        signed = e["amount"] if e["type"] in DEBITS else f"-{e['amount']}"
        rows.append(
            [
                e["posted"],
                e["txn_id"],
                e["type"],
                e["code"],
                e["due"] or "",
                money(signed),
                money(e["balance"]),
                note.strip("; "),
            ]
        )
    table(
        ["posted", "txn_id", "type", "code", "due", "amount", "balance", "what paid what"],
        rows,
        out,
        numeric=range(5, 7),
    )
    aging = "  ".join(f"{k} {money(v)}" for k, v in doc["aging"].items())
    out.write(f"Aging: {aging}\nBalance: {money(doc['balance'])}\n")


def _init_parser(sub: Any) -> None:
    command(sub, "init", cmd_init, "create or migrate the database named by DATABASE_URL")


def _import_parser(sub: Any) -> None:
    help = (
        "import a book: a folder, a .zip or an .xlsx, or an export with --mapping (all or nothing)"
    )
    p = command(sub, "import", cmd_import, help)
    p.add_argument("path")
    p.add_argument(
        "--into-open-period",
        action="store_true",
        help="post a transaction dated in a closed month on the first open day (its own date "
        "kept in x_original_posted) instead of refusing it",
    )
    p.add_argument(
        "--mapping",
        metavar="MAP",
        help="PATH is a property-management export: a builtin mapping's name (yardi-ledger, "
        "yardi-aging, appfolio-ledger, appfolio-aging, buildium-ledger, buildium-aging) or a "
        "mapping file (.toml) that translates it onto the interchange format",
    )
    p.add_argument(
        "--as-of",
        type=date,
        help="with --mapping: the date of an aging export that names none (default: today)",
    )


def _export_parser(sub: Any) -> None:
    help = "export the whole book as interchange CSV files into DIR"
    p = command(sub, "export", cmd_export, help)
    p.add_argument("dir")


def _aging_parser(sub: Any) -> None:
    p = command(sub, "aging", cmd_aging, "the aging of the book as of a date")
    p.add_argument("--as-of", type=date, help="YYYY-MM-DD (default: today in the book's zone)")
    p.add_argument("--by", choices=["account", "property", "portfolio"], default="account")
    p.add_argument("--currency", help="only this currency (ISO 4217)")
    p.add_argument("--buckets", default="0,30,60,90", help="bucket boundaries in days")
    p.add_argument("--format", choices=["table", "csv", "json", "xlsx"], default="table")
    p.add_argument("--output", help="write to FILE instead of standard output")


def _ledger_parser(sub: Any) -> None:
    help = "an account's ledger with running balance and what paid what"
    p = command(sub, "ledger", cmd_ledger, help)
    p.add_argument("account_id")
    p.add_argument("--as-of", type=date)
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--output")


PARSERS = {
    "init": _init_parser,
    "import": _import_parser,
    "export": _export_parser,
    "aging": _aging_parser,
    "ledger": _ledger_parser,
}
