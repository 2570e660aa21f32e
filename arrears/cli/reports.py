"""`arrears report metrics|over-60|snapshots build|NAME`: the collection metrics of a period, the
balances more than 60 days past due, the daily aging snapshots, and every other report of the
registry (arrears.reports.registry), read through arrears.access.acts_reports within the scope of
the user `--as` names, or the whole book for the operator.

`metrics` and `over-60` keep their own options and their JSON, CSV and table (contracts with
tests); their XLSX and PDF are the registry's document's (`reports.formats`). Every other report
gets a command made from its registry entry: `--as-of D`, `--from D1 --to D2` when it takes a
period, `--by` among its groupings, `--currency`, `--format table|csv|json|xlsx|pdf` and
`--output FILE` (which XLSX and PDF need). Reading the registry needs Django, so building the
`report` command sets it up; the other commands' parsers do not pay for it.
"""

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


FILES = ("xlsx", "pdf")  # formats written only to a file (--output)
OWN = ("metrics", "over-60", "snapshots")  # reports with a command of their own


def _needs_output(args: argparse.Namespace) -> None:
    """A binary format goes to a file: refuse it on a terminal before reading anything."""
    if args.format in FILES and not getattr(args, "output", None):
        from arrears.core.errors import ValidationError

        raise ValidationError(
            f"--format {args.format} writes a file: name it with --output FILE",
            code="report_output",
            field="output",
        )


def _write_file(args: argparse.Namespace, name: str, **ask: Any) -> int:
    """The registry's report NAME as the file --format names, written to --output."""
    from arrears.access.acts_reports import report_read
    from arrears.cli.acting import acting
    from arrears.reports.formats import to_bytes

    doc = report_read(actor=acting(args, system=True), name=name, **ask)
    data = to_bytes(doc, args.format)
    with open(args.output, "wb") as out:
        out.write(data)
    return 0


def cmd_report_metrics(args: argparse.Namespace) -> int:
    from arrears.access.acts_reports import metrics_read
    from arrears.cli.acting import acting

    _needs_output(args)
    ensure_migrated()
    if args.format in FILES:
        return _write_file(
            args,
            "metrics",
            as_of=args.date_to,
            date_from=args.date_from,
            by=args.by,
            currency=args.currency,
        )
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

    _needs_output(args)
    ensure_migrated()
    if args.format in FILES:
        return _write_file(args, "over-60", as_of=args.as_of or today(), currency=args.currency)
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


def cmd_report(args: argparse.Namespace) -> int:
    """A report of the registry without a command of its own (module docstring)."""
    from arrears.access.acts_reports import report_read
    from arrears.cli.acting import acting
    from arrears.core.dates import today
    from arrears.reports import formats, render

    _needs_output(args)
    ensure_migrated()
    doc = report_read(
        actor=acting(args, system=True),
        name=args.action,
        as_of=args.as_of or today(),
        date_from=getattr(args, "date_from", None),
        by=getattr(args, "by", None),
        currency=args.currency,
    )
    if args.format in FILES:
        with open(args.output, "wb") as binary:
            binary.write(formats.to_bytes(doc, args.format))
        return 0
    with output(args) as out:
        if args.format == "table":
            render.write_table(doc, out)
        else:
            out.write(formats.to_bytes(doc, args.format).decode("utf-8"))
    return 0


def _registry_parsers(actions: Any) -> None:
    """A command for each report of the registry without one of its own (`registry.load()`:
    reports registered later appear here without a change to this module)."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from arrears.reports import registry

    for name, spec in sorted(registry.load().items()):
        if name in OWN:
            continue
        p = command(actions, name, cmd_report, str(spec.summary or spec.title))
        if spec.period:
            p.add_argument("--from", dest="date_from", type=date, required=True, metavar="D1")
            p.add_argument(
                "--to", "--as-of", dest="as_of", type=date, metavar="D2", help="default: today"
            )
        else:
            p.add_argument("--as-of", dest="as_of", type=date, help="default: today")
        if spec.bys:
            p.add_argument("--by", choices=list(spec.bys))
        p.add_argument("--currency", help="only the accounts in this currency")
        p.add_argument("--format", choices=["table", "csv", "json", *FILES], default="table")
        p.add_argument(
            "--output", metavar="FILE", help="default: standard output (xlsx, pdf: needed)"
        )


def _report_parser(sub: Any) -> None:
    """The `report` command; with the registry's reports when it is the only command built."""
    alone = not sub.choices
    help = "reports: the collection metrics of a period, the balances over 60 days, and the others"
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
    metrics.add_argument("--format", choices=["table", "csv", "json", *FILES], default="table")
    metrics.add_argument("--output", metavar="FILE", help="default: standard output")
    over = command(
        actions,
        "over-60",
        cmd_report_over_60,
        "the accounts more than 60 days past due, with their last contact and stage",
    )
    over.add_argument("--as-of", type=date, help="default: today")
    over.add_argument("--currency", help="the currency (needed when the accounts are in several)")
    over.add_argument("--format", choices=["table", "csv", "json", *FILES], default="table")
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
    if alone:
        # `arrears report …` named alone: its reports are the registry's, which needs Django.
        # Listing every command (`arrears --help`, built with the others first) loads no
        # Django: there `report` lists its own three, and `arrears report --help` the rest.
        _registry_parsers(actions)


PARSERS = {"report": _report_parser}
