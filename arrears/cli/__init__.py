"""The `arrears` command: a thin adapter over the services and selectors.

Each subcommand parses its options, calls one service or selector, and renders the result. A
DomainError prints its message on standard error and exits with status 2 (1 for anything else).

Who acts (see `acting`): a change is made by the Arrears user the command names, `arrears --as
USER …` (or `--as USER` after the command), else ARREARS_USER; it goes through
`access.services.act` as the same change on the pages does (the user's role and scope, the same
audit verb and detail, via "cli"). With no user named, the system jobs (`run`, `import`,
`letters batch`, `mail send`, `mail fetch`, `sms send`, `demo`), and the `user` commands while
there is no active admin (the first users), run as the operator: `system:<OS login>`, via
"system". Any other change is refused (exit 2), saying how to name a user. Reads need no user.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO, TypeVar

from arrears.core.cells import safe_row

T = TypeVar("T")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _date(text: str) -> date:
    from arrears.core.dates import EARLIEST, LATEST, in_calendar

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not in_calendar(day):
        raise argparse.ArgumentTypeError(
            f"{text} is outside the book's calendar ({EARLIEST} to {LATEST})"
        )
    return day


class _ProgressBar:
    """A one-line progress bar on a terminal; silent when standard error is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        width = 30
        share = min(done / total, 1.0) if total else 0.0
        bar = "#" * int(share * width)
        self.stream.write(
            f"\r{label[:28]:28} [{bar:{width}}] {share:4.0%} {done / 1e6:7.1f} MB "
            f"{now - self.started:5.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


def acting(args: argparse.Namespace, *, system: bool = False) -> Any:
    """Who makes this command's change: the active Arrears user named by `--as` or ARREARS_USER;
    with none named, the operator (`SystemActor`, the OS login) when `system` (a system job, or
    the first users), else UserNotNamedError. NotFoundError for a name that is no active user.
    """
    from arrears.access.errors import UserNotNamedError
    from arrears.access.selectors import user_active
    from arrears.access.services import SystemActor
    from arrears.core.errors import NotFoundError

    named = getattr(args, "as_user", None)
    name = named or os.environ.get("ARREARS_USER", "")
    if name:
        user = user_active(username=name)
        if user is None:
            where = "--as" if named else "ARREARS_USER"
            raise NotFoundError(
                f"no active Arrears user {name!r} (named by {where})", username=name
            )
        return user
    if system:
        return SystemActor(getpass.getuser())
    raise UserNotNamedError(
        "name the Arrears user who does this: `arrears --as USER ...` or ARREARS_USER=USER "
        "(an active user of the pages; `arrears user add` adds one)"
    )


def _via(who: Any) -> str:
    from arrears.access.services import SystemActor

    return "system" if isinstance(who, SystemActor) else "cli"


def cli_act(
    args: argparse.Namespace,
    verb: str,
    *,
    detail: dict[str, Any],
    do: Callable[[Any], T],
    account_id: str | None = None,
    system: bool = False,
) -> T:
    """`access.services.act` for a command: the user `acting` names (or the operator, for a
    system job), authorized for `verb` (on `account_id`) as on the pages, `do(account)` and its
    audit row in one transaction."""
    from arrears.access.services import act

    who = acting(args, system=system)
    return act(user=who, verb=verb, via=_via(who), account_id=account_id, detail=detail, do=do)


def cli_job(
    args: argparse.Namespace,
    verb: str,
    *,
    detail: dict[str, Any],
    do: Callable[[str], T],
    account_id: str | None = None,
    system: bool = True,
) -> T:
    """`access.services.act_job` for a change that commits as it goes (a system job, an email
    sent at once): `do(the actor's name)` by the user named, or the operator (when `system`)."""
    from arrears.access.services import act_job

    who = acting(args, system=system)
    return act_job(
        user=who,
        verb=verb,
        via=_via(who),
        account_id=account_id,
        detail=detail,
        do=lambda: do(who.get_username()),
    )


def by(args: argparse.Namespace, *, system: bool = False) -> Any:
    """Who does a command's act (`arrears.access.acts`): the user `acting` names (or the
    operator, for a system job), through the command line."""
    from arrears.access.acts import By

    who = acting(args, system=system)
    return By(who, _via(who))


def actor_name(args: argparse.Namespace, *, system: bool = False) -> str:
    """The name the timeline records for this command's change (see `acting`)."""
    return str(acting(args, system=system).get_username())


def _migrate() -> None:
    """Create or migrate the database named by DATABASE_URL."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def cmd_init(args: argparse.Namespace) -> int:
    from django.db import connection

    _migrate()
    print(f"Book ready: {connection.settings_dict['NAME']} ({connection.vendor})")
    return 0


def _ensure_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        from arrears.core.errors import DomainError

        raise DomainError("the database is not set up: run `arrears init` first")


def cmd_import(args: argparse.Namespace) -> int:
    from arrears.access import acts

    _ensure_migrated()
    bar = _ProgressBar(sys.stderr)
    started = time.monotonic()
    try:
        summary = acts.book_import(
            by=by(args, system=True),
            path=Path(args.path),
            name=args.path,
            into_open_period=args.into_open_period,
            progress=bar,
        )
    finally:
        bar.close()
    print(f"{summary.line()} ({time.monotonic() - started:.1f}s)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from arrears.ledger.export import book_export

    _ensure_migrated()
    counts = book_export(Path(args.dir))
    print(f"Exported to {args.dir}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _output(args: argparse.Namespace) -> TextIO:
    if getattr(args, "output", None):
        return open(args.output, "w", encoding="utf-8", newline="")
    return sys.stdout


def cmd_aging(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.ledger.aging import Buckets
    from arrears.ledger.selectors import aging_report

    _ensure_migrated()
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
    out = _output(args)
    try:
        if args.format == "json":
            from arrears.ledger.selectors import aging_json, book_currencies

            currencies = [args.currency] if args.currency else book_currencies()
            body = aging_json(
                reports, as_of=as_of, by=args.by, buckets=buckets, currencies=currencies
            )
            json.dump(body, out, indent=None if args.output else 1)
            out.write("\n")
        elif args.format == "csv":
            _aging_csv(reports, out)
        else:
            _aging_table(reports, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _aging_csv(reports: Sequence[Any], out: TextIO) -> None:
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


def _table(headers: list[str], rows: list[list[str]], out: TextIO, numeric: range) -> None:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def render(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out.write(render(headers) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(render(row) + "\n")


def _money(text: str) -> str:
    whole, _, cents = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{cents}"


def _aging_table(reports: Sequence[Any], out: TextIO) -> None:
    if not reports:
        out.write("Nothing is open.\n")
    for report in reports:
        doc = report.as_json()
        keys = report.key_columns
        amounts = [*doc["buckets"], "credit", "balance"]
        body = [
            [row[k] for k in keys] + [_money(row[a]) for a in amounts]
            for row in doc[report.list_name]
        ]
        body.append(
            ["TOTAL", *[""] * (len(keys) - 1), *[_money(doc["totals"][a]) for a in amounts]]
        )
        out.write(f"Aging as of {doc['as_of']} ({doc['currency']}), by {report.by}\n")
        _table([*keys, *amounts], body, out, numeric=range(len(keys), len(keys) + len(amounts)))
        out.write("\n")


def cmd_ledger(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.ledger.selectors import account_ledger

    _ensure_migrated()
    ledger = account_ledger(account_id=args.account_id, as_of=args.as_of or today())
    doc = _ledger_json(ledger)
    out = _output(args)
    try:
        if args.format == "json":
            json.dump(doc, out, indent=1)
            out.write("\n")
        elif args.format == "csv":
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
        else:
            _ledger_table(doc, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


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
        if line.type == "charge":
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
    people = ", ".join(f"{p['name']} ({p['role']})" for p in doc["parties"])
    out.write(f"Account {doc['account_id']}  {doc['property_id'] or ''} {doc['unit']}  {people}\n")
    out.write(f"Ledger as of {doc['as_of']} ({doc['currency']})\n")
    rows = []
    for e in doc["entries"]:
        if e["type"] == "charge":
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
        signed = e["amount"] if e["type"] in ("charge", "reversal") else f"-{e['amount']}"
        rows.append(
            [
                e["posted"],
                e["txn_id"],
                e["type"],
                e["code"],
                e["due"] or "",
                _money(signed),
                _money(e["balance"]),
                note.strip("; "),
            ]
        )
    _table(
        ["posted", "txn_id", "type", "code", "due", "amount", "balance", "what paid what"],
        rows,
        out,
        numeric=range(5, 7),
    )
    aging = "  ".join(f"{k} {_money(v)}" for k, v in doc["aging"].items())
    out.write(f"Aging: {aging}\nBalance: {_money(doc['balance'])}\n")


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile
    from collections import Counter
    from decimal import Decimal

    from arrears.demo.build import demo_build
    from arrears.dunning.models import Action
    from arrears.dunning.reissue import letters_print
    from arrears.dunning.services import cycle_run

    _migrate()
    days: list[date] = []
    took = [0.0]
    printed = [0]
    # The coordinator's day: the run, then the day's letters printed for mailing (dated and their
    # deadlines counted that day, the steps that follow a letter counting from it). The print
    # files and manifests are archived; the copies written here are not kept.
    print_folder = tempfile.TemporaryDirectory(prefix="arrears-demo-print-")

    def run_day(on: date) -> None:
        started = time.monotonic()
        cycle_run(on=on, actor="cycle")
        output = Path(print_folder.name) / on.isoformat()
        batch = letters_print(on=on, output=output, actor="cycle")
        printed[0] += len(batch.letters)
        took[0] += time.monotonic() - started
        days.append(on)

    def build(_actor: str) -> None:
        with print_folder:
            demo_build(
                force=args.force, cycle=run_day, progress=lambda line: print(line, flush=True)
            )

    cli_job(args, "demo.build", detail={"force": bool(args.force)}, do=build)
    if days:
        # What the cycle put on record over those days (all of it done by these runs on a new book).
        kinds: Counter[str] = Counter()
        rules: Counter[str] = Counter()
        fees = Decimal(0)
        for action, channel, status, rule, amount in Action.objects.filter(
            run_on__gte=days[0], run_on__lte=days[-1]
        ).values_list("action", "channel", "status", "rule", "amount"):
            if status == "refused":
                rules[rule] += 1
                continue
            kinds["actions"] += 1
            if status == "queued":
                kinds["letters" if channel in ("letter", "certified_letter") else channel] += 1
            elif status == "task":
                kinds["tasks"] += 1
            elif action == "fee":
                kinds["fees"] += 1
                fees += amount or 0
            elif action in ("recommend_referral", "referral"):
                kinds["referrals"] += 1
        refused = ", ".join(f"{rule} {n}" for rule, n in rules.most_common())
        print(
            f"Collection cycle: {len(days)} daily runs and letter batches, {days[0]} to "
            f"{days[-1]}, in {took[0]:.1f}s ({printed[0]} letters printed)\n"
            f"  actions: {kinds['actions']} ({kinds['letters']} letters and {kinds['email']} "
            f"emails queued, {kinds['tasks']} call/text tasks, {kinds['referrals']} referrals "
            f"recommended)\n"
            f"  fees posted: {kinds['fees']} ({fees:.2f} in all)\n"
            f"  refused by the guard: {sum(rules.values())}"
            f"{f' ({refused})' if refused else ''}\n"
            f"The day's worklist: `arrears worklist`, or /today/ on the web.",
            flush=True,
        )
    return cmd_aging(
        argparse.Namespace(
            as_of=None,
            by="property",
            currency=None,
            buckets="0,30,60,90",
            format="table",
            output=None,
        )
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.db import connections

    from arrears.cli.serve import serve
    from config.secret import secret_key_problem

    if problem := secret_key_problem():
        sys.stderr.write(f"arrears serve: {problem}\n")
        return 2
    from config.wsgi import application

    _ensure_migrated()
    connections.close_all()  # no database connection may be shared across a fork
    return serve(
        application,
        args.host,
        args.port,
        max(args.workers, 1),
        args.threads,
        trusted_proxy=settings.ARREARS_TRUSTED_PROXY,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from arrears.access import acts
    from arrears.core.dates import today
    from arrears.core.heap import frozen_heap

    _ensure_migrated()
    on = args.date or today()
    bar = _ProgressBar(sys.stderr)
    try:
        # With EMAIL_URL set, the run's emails go out at once (through the guard, as of now).
        ran = acts.book_run(
            by=by(args, system=True),
            on=on,
            dry_run=args.dry_run,
            send_emails=True,
            progress=lambda done, total: bar("accounts", done, total),
            holding=frozen_heap,
        )
    finally:
        bar.close()
    result, emails = ran.result, ran.emails
    if args.format == "json":
        doc = result.as_json()
        if emails is not None:
            doc["emails"] = emails.as_json()
        _write_json_lists(doc, sys.stdout)
        return 0
    verb = "would do" if args.dry_run else "did"
    print(
        f"Run for {on.isoformat()}{' (dry run: nothing changed)' if args.dry_run else ''}: "
        f"{result.accounts_seen} accounts with open items; {verb} {len(result.actions)} "
        f"actions; {len(result.blocked)} refused by the guard."
    )
    rows = [
        [
            a["account_id"],
            a.get("party_id") or "",
            a.get("role") or "",
            a["step"],
            a.get("channel") or "",
            a.get("template") or "",
            a.get("amount", ""),
        ]
        for a in result.actions
    ]
    if rows:
        _table(
            ["account", "party", "role", "step", "channel", "template", "amount"],
            rows,
            sys.stdout,
            numeric=range(6, 7),
        )
    if result.blocked:
        print("\nRefused:")
        _table(
            ["account", "party", "step", "rule"],
            [
                [b["account_id"], b.get("party_id") or "", b["step"], b["rule"]]
                for b in result.blocked
            ],
            sys.stdout,
            numeric=range(0),
        )
    if emails is not None:
        print(f"\n{emails.line()}")
    return 0


def _write_json_lists(doc: dict[str, Any], out: TextIO) -> None:
    """`doc` as JSON with each element of its lists on a line of its own: readable, easy to grep
    and diff, and written by the C encoder (`indent` would take the slow pure-Python one)."""
    out.write("{")
    for n, (name, value) in enumerate(doc.items()):
        out.write(("," if n else "") + "\n " + json.dumps(name) + ": ")
        if isinstance(value, list) and value:
            out.write("[\n  " + ",\n  ".join(map(json.dumps, value)) + "\n ]")
        else:
            out.write(json.dumps(value))
    out.write("\n}\n")


def cmd_timeline(args: argparse.Namespace) -> int:
    from arrears.dunning.selectors import timeline_list

    _ensure_migrated()
    events = timeline_list(account_id=args.account_id)
    if args.format == "json":
        json.dump(
            [
                {
                    "at": e.at.isoformat(),
                    "on": e.on.isoformat(),
                    "kind": e.kind,
                    "actor": e.actor,
                    "summary": e.summary,
                    "detail": e.detail,
                }
                for e in events
            ],
            sys.stdout,
            indent=1,
        )
        sys.stdout.write("\n")
        return 0
    if not events:
        print(f"Nothing on the timeline of {args.account_id} yet.")
    for e in events:
        print(f"{e.on.isoformat()}  {e.at:%H:%M}  {e.kind:18} {e.actor:10} {e.summary}")
    return 0


def cmd_hold(args: argparse.Namespace) -> int:
    from arrears.access import acts

    _ensure_migrated()
    hold = acts.hold_place(
        by=by(args),
        account_id=args.account_id,
        reason=args.reason,
        until=args.until,
        party_id=args.party,
        note=args.note or "",
        on=args.on,
    )
    print(
        f"Hold {hold.pk} placed on {args.account_id}: {hold.reason}"
        + (f" until {hold.until}" if hold.until else "")
    )
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from arrears.access import acts

    _ensure_migrated()
    hold = acts.hold_release(by=by(args), account_id=args.account_id, hold_id=args.hold)
    print(f"Hold {hold.pk} ({hold.reason}) on {args.account_id} released.")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from arrears.access import acts

    _ensure_migrated()
    acts.note_add(by=by(args), account_id=args.account_id, text=args.text)
    print(f"Note added to {args.account_id}.")
    return 0


def cmd_worklist(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.dunning.selectors import worklist

    _ensure_migrated()
    on = args.date or today()
    items = worklist(on=on, user=args.user)
    if args.format == "json":
        json.dump(
            {"date": on.isoformat(), "items": [w.as_json() for w in items]}, sys.stdout, indent=1
        )
        sys.stdout.write("\n")
        return 0
    if not items:
        print(f"Nothing on the worklist for {on.isoformat()}.")
        return 0
    print(f"Worklist for {on.isoformat()}: {len(items)} lines, most expected recovery first")
    _table(
        ["account", "what", "balance", "likelihood", "expected", "why"],
        [
            [
                w.account_id,
                w.kind,
                _money(f"{w.balance:.2f}"),
                f"{w.likelihood:.2f}",
                _money(f"{w.expected:.2f}"),
                w.reason,
            ]
            for w in items
        ],
        sys.stdout,
        numeric=range(2, 5),
    )
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    import hashlib

    from arrears.core.dates import today
    from arrears.core.errors import NotFoundError, ValidationError
    from arrears.dunning.policy import PolicyError
    from arrears.dunning.services import company_policies, policy_add, policy_assign

    _ensure_migrated()
    if args.policy_command == "list":
        for policy in sorted(company_policies().values(), key=lambda p: p.name):
            kinds = ",".join(policy.account_kinds)
            print(
                f"{policy.name:16} v{policy.version}  {policy.jurisdiction or 'anywhere':8} "
                f"{kinds:40} {policy.state:9} {len(policy.steps)} steps"
            )
        return 0
    if args.policy_command == "show":
        shown = company_policies().get(args.name)
        if shown is None:
            raise NotFoundError(f"no policy {args.name!r}")
        print(f"{shown.name} v{shown.version}: {shown.description}")
        for step in shown.steps:
            when = (
                f"day {step.days_past_due}"
                if step.days_past_due is not None
                else f"after {step.grace_days_exclusive} days of grace"
                if step.grace_days_exclusive is not None
                else f"{step.days_before_due} days before due"
                if step.days_before_due is not None
                else f"{step.after_days} days after {step.after_step}"
            )
            what = step.channel or step.action
            whom = ",".join(step.audience) if step.action == "notice" else ""
            print(f"  {step.key:24} {when:28} {step.action:18} {what:16} {whom} {step.law}")
        return 0
    if args.policy_command == "add":
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(str(exc)) from None
        # The page's detail: the file, its SHA-256, then the name and version stored.
        detail: dict[str, Any] = {
            "source": args.file[:100],
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }

        def store(_account: Any) -> Any:
            row = policy_add(text=text, source=args.file)
            detail.update(name=row.name, version=row.version)
            return row

        try:
            row = cli_act(args, "policy.add", detail=detail, do=store)
        except PolicyError as exc:
            raise ValidationError(str(exc)) from None
        print(f"Policy {row.name} v{row.version} stored.")
        return 0
    actor = actor_name(args)
    name = None if args.clear else args.name
    cli_act(
        args,
        "policy.assign",
        account_id=args.account_id,
        detail={"policy": name},
        do=lambda _a: policy_assign(
            account_id=args.account_id, policy=name, actor=actor, on=today()
        ),
    )
    print(
        f"{args.account_id} follows "
        + ("its property's policy." if args.clear else f"policy {args.name}.")
    )
    return 0


# The other parts' commands live in their own modules here (arrears/cli/<part>.py), each with a
# `register(sub)` that adds its subcommands with `command(...)`.
PARTS: list[str] = ["access", "plans", "disputes", "letters", "mail", "periods"]


def command(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    """Add the subcommand NAME that runs FUNC(args) and returns its exit status."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arrears",
        description="Arrears: the receivables book, aging and collections. "
        "The database is DATABASE_URL (default sqlite:///arrears.sqlite3).",
    )
    parser.add_argument("--as", dest="as_user", metavar="USER", help=AS_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> Any:
        return command(sub, name, func, help)

    add("init", cmd_init, "create or migrate the database named by DATABASE_URL")
    p = add("import", cmd_import, "import a book: a folder, a .zip or an .xlsx (all or nothing)")
    p.add_argument("path")
    p.add_argument(
        "--into-open-period",
        action="store_true",
        help="post a transaction dated in a closed month on the first open day (its own date "
        "kept in x_original_posted) instead of refusing it",
    )
    p = add("export", cmd_export, "export the whole book as interchange CSV files into DIR")
    p.add_argument("dir")
    p = add("aging", cmd_aging, "the aging of the book as of a date")
    p.add_argument("--as-of", type=_date, help="YYYY-MM-DD (default: today in the book's zone)")
    p.add_argument("--by", choices=["account", "property", "portfolio"], default="account")
    p.add_argument("--currency", help="only this currency (ISO 4217)")
    p.add_argument("--buckets", default="0,30,60,90", help="bucket boundaries in days")
    p.add_argument("--format", choices=["table", "csv", "json", "xlsx"], default="table")
    p.add_argument("--output", help="write to FILE instead of standard output")
    p = add("ledger", cmd_ledger, "an account's ledger with running balance and what paid what")
    p.add_argument("account_id")
    p.add_argument("--as-of", type=_date)
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--output")
    p = add("demo", cmd_demo, "build the demo book (once) and print its aging by property")
    p.add_argument("--force", action="store_true", help="rebuild even if the book has entries")
    p = add("run", cmd_run, "the daily collection run: plan, guard and execute every due step")
    p.add_argument("--date", type=_date, help="the run's date (default today)")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p = add("timeline", cmd_timeline, "everything that happened to an account")
    p.add_argument("account_id")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p = add("hold", cmd_hold, "place a hold on an account (or one of its parties)")
    p.add_argument("account_id")
    p.add_argument(
        "--reason",
        required=True,
        choices=[
            "bankruptcy",
            "military",
            "cease",
            "deceased",
            "represented",
            "manual",
            "dispute",
            "plan",
        ],
    )
    p.add_argument("--until", type=_date, help="the hold ends after this date")
    p.add_argument("--party", help="hold contact with this party only")
    p.add_argument("--on", type=_date, help="when the hold starts (default today)")
    p.add_argument("--note", help="why, for the timeline")
    p = add("release", cmd_release, "release a hold")
    p.add_argument("account_id")
    p.add_argument("--hold", type=int, required=True, help="the hold's number")
    p = add("note", cmd_note, "add a note to an account's timeline")
    p.add_argument("account_id")
    p.add_argument("text")
    p = add("worklist", cmd_worklist, "the coordinator's queue for the day")
    p.add_argument("--date", type=_date)
    p.add_argument("--user")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p = add("policy", cmd_policy, "collection policies: list, show, add a company's own, assign")
    policy_sub = p.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    policy_sub.add_parser("list", help="the policies in force (built-in and the company's own)")
    q = policy_sub.add_parser("show", help="a policy's steps")
    q.add_argument("name")
    q = policy_sub.add_parser("add", help="store a policy file (TOML) as a new version")
    q.add_argument("file")
    q = policy_sub.add_parser("assign", help="make an account follow a policy")
    q.add_argument("account_id")
    q.add_argument("name", nargs="?")
    q.add_argument("--clear", action="store_true", help="back to the property's policy")
    p = add("serve", cmd_serve, "serve the web pages (waitress, a production WSGI server)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    # One request at a time per process, a process per core (see arrears/cli/serve.py): threads in
    # one process take turns at Python's GIL, and that cost more CPU than the pages themselves.
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="requests at once per worker (default 1; more if long reports block)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per core)",
    )
    for part in PARTS:
        importlib.import_module(f"arrears.cli.{part}").register(sub)
    _as_everywhere(parser)
    return parser


AS_HELP = (
    "the Arrears user who makes the change (default: ARREARS_USER); a system job run "
    "without one is recorded as system:<OS login>"
)


def _as_everywhere(parser: argparse.ArgumentParser) -> None:
    """`--as USER` after any command too (`arrears note A1 "…" --as alice`); given there, it
    wins over the one before the command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument(
                    "--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS, help=AS_HELP
                )
                _as_everywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup()
    from arrears.cli.wording import cli_message
    from arrears.core.errors import DomainError

    try:
        return int(args.func(args))
    except DomainError as exc:
        sys.stderr.write(f"arrears {args.command}: {cli_message(exc)}\n")
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
