"""`arrears report metrics|over-60|snapshots build`: the collection metrics of a period, the
balances more than 60 days past due and the daily aging snapshots (arrears.reports, read through
arrears.access.acts_reports within the scope of the user `--as` names, or the whole book for the
operator)."""

from __future__ import annotations

import argparse
import csv
from typing import Any, TextIO

from arrears.cli.common import command, date, ensure_migrated, money, output, table, write_json

METRIC_COLUMNS = (
    "opening_receivables",
    "billed",
    "collected",
    "closing_receivables",
    "closing_current",
    "cei",
    "dso_countback",
    "dso_simple",
)
AMOUNTS = METRIC_COLUMNS[:5]


def cmd_report_metrics(args: argparse.Namespace) -> int:
    from arrears.access.acts_reports import metrics_read
    from arrears.cli.acting import acting

    ensure_migrated()
    body = metrics_read(
        actor=acting(args, system=True),
        date_from=args.date_from,
        date_to=args.date_to,
        by=args.by,
        currency=args.currency,
    )
    docs = body if isinstance(body, list) else [body]
    with output(args) as out:
        if args.format == "json":
            write_json(body, out)
        elif args.format == "csv":
            _metrics_csv(docs, out)
        else:
            _metrics_table(docs, out)
    return 0


def _metric_cells(group: dict[str, Any]) -> list[str]:
    rolls = group["roll_rates"]
    return [group[c] or "" for c in METRIC_COLUMNS] + [rolls[r] or "" for r in rolls]


def _metrics_csv(docs: list[dict[str, Any]], out: TextIO) -> None:
    from arrears.core.cells import safe_row
    from arrears.reports.metrics import ROLLS

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from", "to", "currency", "key", *METRIC_COLUMNS, *ROLLS])
    for doc in docs:
        for group in doc["groups"]:
            head = [doc["from"], doc["to"], doc["currency"], *safe_row([group["key"]])]
            writer.writerow([*head, *_metric_cells(group)])


def _metrics_table(docs: list[dict[str, Any]], out: TextIO) -> None:
    headers = ["key", "opening", "billed", "collected", "closing", "current", "CEI %"]
    headers += ["DSO cb", "DSO", "cur>1-30", "1-30>", "31-60>", "61-90>"]
    for doc in docs:
        out.write(f"Metrics {doc['from']} to {doc['to']} ({doc['currency']})\n")
        rows = []
        for group in doc["groups"]:
            cells = _metric_cells(group)
            rows.append(
                [group["key"] or "(none)"]
                + [money(c) for c in cells[: len(AMOUNTS)]]
                + [c or "-" for c in cells[len(AMOUNTS) :]]
            )
        table(headers, rows, out, numeric=range(1, len(headers)))


def cmd_report_over_60(args: argparse.Namespace) -> int:
    from arrears.access.acts_reports import over_60_read
    from arrears.cli.acting import acting
    from arrears.core.dates import today

    ensure_migrated()
    doc = over_60_read(
        actor=acting(args, system=True), as_of=args.as_of or today(), currency=args.currency
    )
    columns = ["account_id", "property_id", "over_60", "balance", "last_contact", "stage"]
    with output(args) as out:
        if args.format == "json":
            write_json(doc, out)
        elif args.format == "csv":
            from arrears.core.cells import safe_row

            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["as_of", *columns])
            for row in doc["accounts"]:
                writer.writerow([doc["as_of"], *safe_row(row[c] or "" for c in columns)])
            writer.writerow([doc["as_of"], "TOTAL", "", doc["total_over_60"], "", "", ""])
        else:
            _over_60_table(doc, columns, out)
    return 0


def _over_60_table(doc: dict[str, Any], columns: list[str], out: TextIO) -> None:
    out.write(f"Balances more than 60 days past due as of {doc['as_of']}\n")
    rows = [
        [
            row["account_id"],
            row["property_id"],
            money(row["over_60"]),
            money(row["balance"]),
            row["last_contact"] or "-",
            row["stage"] or "-",
        ]
        for row in doc["accounts"]
    ]
    rows.append(["TOTAL", "", money(doc["total_over_60"]), "", "", ""])
    table(
        ["account", "property", "over 60", "balance", "last contact", "stage"],
        rows,
        out,
        range(2, 4),
    )


def cmd_report_snapshots_build(args: argparse.Namespace) -> int:
    import sys

    from arrears.access.acts_reports import snapshots_build
    from arrears.cli.acting import acting
    from arrears.cli.common import ProgressBar

    ensure_migrated()
    bar = ProgressBar(sys.stderr)
    try:
        built = snapshots_build(
            actor=acting(args, system=True),
            date_from=args.date_from,
            date_to=args.date_to,
            progress=lambda done, total: bar("days", done, total),
        )
    finally:
        bar.close()
    if args.format == "json":
        write_json(built.as_json())
    elif built.rebuilt_from is None:
        print(f"Snapshots: nothing to build; built {built.first or '-'} to {built.last or '-'}.")
    else:
        print(
            f"Snapshots: built {built.days} day(s) from {built.rebuilt_from}, {built.rows} row(s);"
            f" built {built.first} to {built.last}."
        )
    return 0


def _report_parser(sub: Any) -> None:
    help = "reports: the collection metrics of a period, the balances over 60 days"
    p = sub.add_parser("report", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="REPORT")
    metrics = command(
        actions,
        "metrics",
        cmd_report_metrics,
        "receivables, billed, collected, CEI, DSO and roll rates of a period (docs/metrics.md)",
    )
    metrics.add_argument("--from", dest="date_from", type=date, required=True, metavar="D1")
    metrics.add_argument("--to", dest="date_to", type=date, required=True, metavar="D2")
    metrics.add_argument("--by", choices=["property", "portfolio", "coordinator"])
    metrics.add_argument("--currency", help="only the accounts in this currency")
    metrics.add_argument("--format", choices=["table", "csv", "json"], default="table")
    metrics.add_argument("--output", metavar="FILE", help="default: standard output")
    over = command(
        actions,
        "over-60",
        cmd_report_over_60,
        "the accounts more than 60 days past due, with their last contact and stage",
    )
    over.add_argument("--as-of", type=date, help="default: today")
    over.add_argument("--currency", help="the currency (needed when the accounts are in several)")
    over.add_argument("--format", choices=["table", "csv", "json"], default="table")
    over.add_argument("--output", metavar="FILE", help="default: standard output")
    snaps = actions.add_parser(
        "snapshots",
        help="the daily aging snapshots (docs/metrics.md, Snapshots)",
        description="the daily aging snapshots (docs/metrics.md, Snapshots)",
    )
    snap_actions = snaps.add_subparsers(dest="snapshots_action", required=True, metavar="ACTION")
    build = command(
        snap_actions,
        "build",
        cmd_report_snapshots_build,
        "build the days not built, or changed since (from --from D when given), up to --to D",
    )
    build.add_argument("--from", dest="date_from", type=date, metavar="D", help="rebuild from D")
    build.add_argument("--to", dest="date_to", type=date, metavar="D", help="default: today")
    build.add_argument("--format", choices=["text", "json"], default="text")


PARSERS = {"report": _report_parser}
