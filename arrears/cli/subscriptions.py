"""`arrears subscription add|list|pause|resume|remove|send`: reports sent by email on a schedule
(arrears.access.acts_subscriptions; docs/metrics.md, Subscriptions). `send` is the scheduled
job (cron, or `arrears run --subscriptions`): each subscription due that day goes to each of its
recipients once per period, their report as they read it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arrears.cli.acting import acting, by
from arrears.cli.common import command, date, ensure_migrated, table, write_json

EVERY_HELP = "daily, weekly:mon … weekly:sun, monthly:1 … monthly:28 or monthly:last"


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def cmd_subscription_add(args: argparse.Namespace) -> int:
    from arrears.access.acts_subscriptions import subscription_add

    ensure_migrated()
    made = subscription_add(
        by=by(args),
        report=args.report,
        recipients=[n for words in args.to for n in _names(words)],
        every=args.every,
        format=args.format,
        report_by=args.by,
    )
    print(
        f"Subscription {made.pk}: {made.report} {made.every} as {made.format} to "
        f"{', '.join(made.recipients)}."
    )
    return 0


def cmd_subscription_list(args: argparse.Namespace) -> int:
    from arrears.access.acts_subscriptions import subscriptions_list

    ensure_migrated()
    listed = subscriptions_list(actor=acting(args, system=True), removed=args.all)
    if args.format == "json":
        write_json([item.as_json() for item in listed])
        return 0
    rows = []
    for item in listed:
        doc = item.as_json()
        state = "removed" if doc["removed"] else ("active" if doc["active"] else "paused")
        last = doc["last_sends"][0] if doc["last_sends"] else None
        rows.append(
            [
                str(doc["id"]),
                doc["report"],
                doc["every"],
                doc["format"],
                ", ".join(doc["to"]),
                state,
                doc["next_send"] or "-",
                f"{last['period']} {last['user']}{'' if last['sent_at'] else ' (unsent)'}"
                if last
                else "-",
            ]
        )
    headers = ["id", "report", "every", "format", "to", "state", "next send", "last send"]
    table(headers, rows, sys.stdout, numeric=range(1))
    return 0


def _change(args: argparse.Namespace, *, active: bool) -> int:
    from arrears.access.acts_subscriptions import subscription_change

    ensure_migrated()
    s = subscription_change(by=by(args), subscription_id=args.id, active=active)
    print(f"Subscription {s.pk} ({s.report}) {'resumed' if active else 'paused'}.")
    return 0


def cmd_subscription_pause(args: argparse.Namespace) -> int:
    return _change(args, active=False)


def cmd_subscription_resume(args: argparse.Namespace) -> int:
    return _change(args, active=True)


def cmd_subscription_recipients(args: argparse.Namespace) -> int:
    from arrears.access.acts_subscriptions import subscription_change

    ensure_migrated()
    names = [name for given in args.to for name in given.split(",")]
    s = subscription_change(by=by(args), subscription_id=args.id, recipients=names)
    print(f"Subscription {s.pk} ({s.report}) now goes to {', '.join(s.recipients)}.")
    return 0


def cmd_subscription_remove(args: argparse.Namespace) -> int:
    from arrears.access.acts_subscriptions import subscription_remove

    ensure_migrated()
    s = subscription_remove(by=by(args), subscription_id=args.id)
    print(f"Subscription {s.pk} ({s.report}) removed; its sends are kept.")
    return 0


def send_summary(report: Any, *, dry_run: bool) -> str:
    """The send in one line (also the last line of `arrears run --subscriptions`)."""
    if dry_run:
        return (
            f"subscriptions on {report.on} (dry run: nothing sent): {len(report.due)} to send, "
            f"{len(report.already)} sent before, {len(report.no_email)} without an email "
            f"address, {len(report.skipped)} skipped."
        )
    return (
        f"subscriptions on {report.on}: {len(report.sent)} sent, {len(report.already)} sent "
        f"before, {len(report.no_email)} without an email address, {len(report.skipped)} "
        f"skipped, {len(report.failed)} failed."
    )


def print_problems(report: Any) -> None:
    """Who was skipped, has no address or failed, one line each on standard error."""
    for kind, lines in (
        ("skipped", report.skipped),
        ("no email", report.no_email),
        ("failed", report.failed),
    ):
        for x in lines:
            why = x.get("reason") or x.get("error") or ""
            print(
                f"  {kind}: subscription {x['subscription']} ({x['report']}) to {x['user']}"
                + (f": {why}" if why else ""),
                file=sys.stderr,
            )


def cmd_subscription_send(args: argparse.Namespace) -> int:
    from arrears.access.acts_subscriptions import subscriptions_send

    ensure_migrated()
    report = subscriptions_send(by=by(args, system=True), on=args.on, dry_run=args.dry_run)
    if args.format == "json":
        write_json(report.as_json())
    else:
        print(send_summary(report, dry_run=args.dry_run))
        print_problems(report)
    return 1 if report.failed else 0


def _id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a subscription id: {text!r}")
    return int(text)


def _subscription_parser(sub: Any) -> None:
    help = "reports sent by email on a schedule: add, list, pause, resume, recipients, remove, send"
    p = sub.add_parser("subscription", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = command(
        actions,
        "add",
        cmd_subscription_add,
        "send a report to users on a schedule (each gets it as they would read it)",
    )
    add.add_argument("report", metavar="REPORT", help="a report's name (arrears report --help)")
    add.add_argument(
        "--to", action="append", required=True, metavar="USER[,USER]", help="the recipients"
    )
    add.add_argument("--every", required=True, metavar="SCHEDULE", help=EVERY_HELP)
    add.add_argument("--format", choices=["pdf", "xlsx", "csv", "json"], default="pdf")
    add.add_argument("--by", help="the report's grouping (property, portfolio, coordinator)")
    listing = command(
        actions, "list", cmd_subscription_list, "the subscriptions, their next and last sends"
    )
    listing.add_argument("--all", action="store_true", help="the removed ones too")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    for name, func, text in (
        ("pause", cmd_subscription_pause, "stop sending a subscription until it is resumed"),
        ("resume", cmd_subscription_resume, "send a paused subscription again"),
        ("remove", cmd_subscription_remove, "remove a subscription (its sends are kept)"),
    ):
        one = command(actions, name, func, text)
        one.add_argument("id", type=_id, metavar="ID")
    recipients = command(
        actions,
        "recipients",
        cmd_subscription_recipients,
        "change who gets a subscription (its sends so far are kept)",
    )
    recipients.add_argument("id", type=_id, metavar="ID")
    recipients.add_argument(
        "--to", action="append", required=True, metavar="USER[,USER]", help="the new recipients"
    )
    send = command(
        actions,
        "send",
        cmd_subscription_send,
        "send the subscriptions due today (once per period; the scheduled job)",
    )
    send.add_argument("--on", type=date, metavar="D", help="the day (default today)")
    send.add_argument("--dry-run", action="store_true", help="say what would be sent, send nothing")
    send.add_argument("--format", choices=["text", "json"], default="text")


PARSERS = {"subscription": _subscription_parser}
