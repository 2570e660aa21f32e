"""The collection cycle's commands (the dunning part): `arrears run`, `timeline`, `hold`,
`release`, `note`, `worklist` and `policy`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from arrears.cli.acting import actor_name, by, cli_act
from arrears.cli.common import (
    ProgressBar,
    command,
    date,
    ensure_migrated,
    money,
    seconds,
    table,
    write_json,
    write_json_lists,
)


def cmd_run(args: argparse.Namespace) -> int:
    from arrears.access import acts
    from arrears.core.dates import today
    from arrears.core.heap import frozen_heap

    ensure_migrated()
    if args.status:
        return _run_status(args)
    on = args.date or today()
    bar = ProgressBar(sys.stderr)
    try:
        # With EMAIL_URL set, the run's emails go out at once (through the guard, as of now).
        ran = acts.book_run(
            by=by(args, system=True),
            on=on,
            dry_run=args.dry_run,
            send_emails=True,
            progress=lambda done, total: bar("accounts", done, total),
            holding=frozen_heap,
            wait=args.wait,
        )
    finally:
        bar.close()
    if args.snapshots and not args.dry_run:
        # The day's aging snapshot, at the run's end when asked (arrears.reports, read by the
        # metrics). Not by default: at 10,000 accounts it took the real run from 4.9 s to 8.3 s
        # (bench/cycle.py, 2026-12-05), and the run has a time target of its own; a schedule
        # runs `arrears report snapshots build` after the run instead.
        from arrears.access.acts_reports import snapshots_after_run

        bar = ProgressBar(sys.stderr)
        try:
            snapshots_after_run(on=on, progress=lambda done, total: bar("snapshots", done, total))
        finally:
            bar.close()
    sent = None
    if args.subscriptions:
        # The reports subscribed to, due on the run's day, once per period (docs/metrics.md,
        # Subscriptions): after the run (and the snapshots), so they read the day it made. Not by
        # default: a run that is not the scheduled one would send the day's reports before
        # their day's work was done; a dry run only says what would go.
        from arrears.access.acts_subscriptions import subscriptions_send

        sent = subscriptions_send(by=by(args, system=True), on=on, dry_run=args.dry_run)
    result, emails = ran.result, ran.emails
    if args.format == "json":
        doc = result.as_json()
        if emails is not None:
            doc["emails"] = emails.as_json()
        if sent is not None:
            doc["subscriptions"] = sent.as_json()
        write_json_lists(doc, sys.stdout)
        return 1 if sent is not None and sent.failed else 0
    _run_table(result, emails, on=on, dry_run=args.dry_run)
    if sent is not None:
        from arrears.cli.subscriptions import print_problems, send_summary

        print(send_summary(sent, dry_run=args.dry_run).capitalize())
        print_problems(sent)
        return 1 if sent.failed else 0
    return 0


def _run_status(args: argparse.Namespace) -> int:
    """`arrears run --status`: how far the latest real run has got (its chunks done, on the
    workers or in-process) and, once finished, what it did."""
    from arrears.dunning.selectors import run_status_get

    status = run_status_get()
    if args.format == "json":
        write_json(status.as_json() if status else None, sys.stdout)
        return 0
    if status is None:
        print("No run yet.")
        return 0
    from django.utils import timezone as dj_timezone

    from arrears.core.dates import book_zone

    started = dj_timezone.localtime(status.started_at, book_zone())
    finished = status.finished_at and dj_timezone.localtime(status.finished_at, book_zone())
    print(
        f"Run for {status.run_on.isoformat()}: {status.state}; "
        f"{status.chunks_done} of {status.chunks_total} chunks done "
        f"({status.accounts_done} accounts); started {started:%Y-%m-%d %H:%M:%S %Z}"
        + (f", finished {finished:%H:%M:%S %Z}" if finished else "")
        + "."
    )
    if status.stopped:
        print(f"Stopped: {status.stopped}.")
    if status.counts:
        print(
            f"Did {status.counts.get('actions', 0)} actions; "
            f"{status.counts.get('blocked', 0)} refused by the guard; "
            f"{status.counts.get('inspection_offers', 0)} pre-move-out inspection offers."
        )
    return 0


def _run_table(result: Any, emails: Any, *, on: Any, dry_run: bool) -> None:
    """The run as text: what it did (or would do), what the guard refused, the emails sent."""
    verb = "would do" if dry_run else "did"
    print(
        f"Run for {on.isoformat()}{' (dry run: nothing changed)' if dry_run else ''}: "
        f"{result.accounts_seen} accounts with open items; {verb} {len(result.actions)} "
        f"actions; {len(result.blocked)} refused by the guard; "
        f"{'would send' if dry_run else 'sent'} {result.offers_sent} pre-move-out inspection "
        f"offers."
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
        table(
            ["account", "party", "role", "step", "channel", "template", "amount"],
            rows,
            sys.stdout,
            numeric=range(6, 7),
        )
    if result.blocked:
        print("\nRefused:")
        table(
            ["account", "party", "step", "rule"],
            [
                [b["account_id"], b.get("party_id") or "", b["step"], b["rule"]]
                for b in result.blocked
            ],
            sys.stdout,
            numeric=range(0),
        )
    if result.inspection_offers:
        print("\nPre-move-out inspection offers:")
        table(
            ["account", "party", "vacates", "inspection from", "until", "letter or rule"],
            [
                [
                    x["account_id"],
                    x["party_id"],
                    x["vacate_on"],
                    x["inspection_from"],
                    x["inspection_until"],
                    x["rule"] or (f"L{x['letter_id']}" if x["letter_id"] else "(dry run)"),
                ]
                for x in result.inspection_offers
            ],
            sys.stdout,
            numeric=range(0),
        )
    if emails is not None:
        print(f"\n{emails.line()}")


def cmd_timeline(args: argparse.Namespace) -> int:
    from arrears.dunning.selectors import timeline_list

    ensure_migrated()
    events = timeline_list(account_id=args.account_id)
    if args.format == "json":
        write_json(
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
            ]
        )
        return 0
    if not events:
        print(f"Nothing on the timeline of {args.account_id} yet.")
    for e in events:
        print(f"{e.on.isoformat()}  {e.at:%H:%M}  {e.kind:18} {e.actor:10} {e.summary}")
    return 0


def cmd_hold(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
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

    ensure_migrated()
    hold = acts.hold_release(by=by(args), account_id=args.account_id, hold_id=args.hold)
    print(f"Hold {hold.pk} ({hold.reason}) on {args.account_id} released.")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    acts.note_add(by=by(args), account_id=args.account_id, text=args.text)
    print(f"Note added to {args.account_id}.")
    return 0


def cmd_worklist(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.dunning.selectors import worklist

    ensure_migrated()
    if args.worklist_command:
        return _worklist_set_aside(args)
    on = args.date or today()
    items = _worklist_of(args, on) if args.user or args.unassigned else worklist(on=on)
    if args.format == "json":
        write_json({"date": on.isoformat(), "items": [w.as_json() for w in items]})
        return 0
    if not items:
        print(f"Nothing on the worklist for {on.isoformat()}.")
        return 0
    print(f"Worklist for {on.isoformat()}: {len(items)} lines, most expected recovery first")
    table(
        [
            "account",
            "tenant",
            "unit",
            "what",
            "late",
            "balance",
            "likely",
            "expected",
            "last contact",
            "next step",
            "why",
        ],
        [
            [
                w.account_id,
                w.about.name,
                " ".join(x for x in (w.about.property_name, w.about.unit) if x),
                w.kind,
                f"{w.days_late}d",
                money(f"{w.balance:.2f}"),
                f"{w.likelihood_percent}%",
                money(f"{w.expected:.2f}"),
                _last_contact(w),
                f"{w.about.next_step} {w.about.next_on}" if w.about.next_on else "",
                w.reason,
            ]
            for w in items
        ],
        sys.stdout,
        numeric=range(4, 8),
    )
    return 0


def _worklist_of(args: argparse.Namespace, on: Any) -> Any:
    """The lines of one user's accounts that day (theirs and those they cover for), or of the
    accounts assigned to no one (`--unassigned`)."""
    from arrears.access.selectors import user_active, worklist_scope, worklist_visible
    from arrears.core.errors import NotFoundError
    from arrears.dunning.selectors import worklist

    if args.unassigned:
        return worklist_scope(None, on=on, kind="unassigned").lines(None, worklist(on=on), on)
    user = user_active(username=args.user)
    if user is None:
        raise NotFoundError(f"no active Arrears user {args.user!r} (named by --user)")
    return worklist_visible(user, on=on, mine=True)


def _last_contact(w: Any) -> str:
    a = w.about
    if a.last_contact_on is None:
        return ""
    return f"{a.last_contact_on} {a.last_contact_channel} {a.last_contact_outcome}".strip()


def _worklist_set_aside(args: argparse.Namespace) -> int:
    """`arrears worklist snooze|dismiss ACCOUNT --kind K --reason R [--until D] [--task N]`."""
    from arrears.access import acts

    if args.worklist_command == "snooze":
        row = acts.worklist_snooze(
            by=by(args),
            account_id=args.account_id,
            kind=args.kind,
            until=args.until,
            reason=args.reason,
            action_id=args.task,
        )
        print(f"The {row.kind} line of {args.account_id} is snoozed until {row.until}.")
        return 0
    row = acts.worklist_dismiss(
        by=by(args),
        account_id=args.account_id,
        kind=args.kind,
        reason=args.reason,
        action_id=args.task,
    )
    print(f"The {row.kind} line of {args.account_id} is dismissed.")
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    ensure_migrated()
    acts = {
        "list": _policy_list,
        "show": _policy_show,
        "add": _policy_add,
        "assign": _policy_assign,
    }
    return acts[args.policy_command](args)


def _policy_list(args: argparse.Namespace) -> int:
    from arrears.dunning.services import company_policies

    for policy in sorted(company_policies().values(), key=lambda p: p.name):
        kinds = ",".join(policy.account_kinds)
        print(
            f"{policy.name:16} v{policy.version}  {policy.jurisdiction or 'anywhere':8} "
            f"{kinds:40} {policy.state:9} {len(policy.steps)} steps"
        )
    return 0


def _policy_show(args: argparse.Namespace) -> int:
    from arrears.core.errors import NotFoundError
    from arrears.dunning.services import company_policies

    shown = company_policies().get(args.name)
    if shown is None:
        raise NotFoundError(f"no policy {args.name!r}")
    print(f"{shown.name} v{shown.version}: {shown.description}")
    for step in shown.steps:
        when = _step_when(step)
        what = step.channel or step.action
        whom = ",".join(step.audience) if step.action == "notice" else ""
        print(f"  {step.key:24} {when:28} {step.action:18} {what:16} {whom} {step.law}")
    return 0


def _step_when(step: Any) -> str:
    """When a policy's step comes, in a few words."""
    if step.days_past_due is not None:
        return f"day {step.days_past_due}"
    if step.grace_days_exclusive is not None:
        return f"after {step.grace_days_exclusive} days of grace"
    if step.days_before_due is not None:
        return f"{step.days_before_due} days before due"
    if step.day_of_month is not None:
        return f"monthly on day {step.day_of_month}"
    if step.before_deadline_of is not None:
        return f"{step.days_before_deadline} days before {step.before_deadline_of} ends"
    if step.after_broken_promise is not None:
        return f"{step.after_broken_promise} days after a broken promise"
    if step.after_returned_mail is not None:
        return f"{step.after_returned_mail} days after a returned letter"
    return f"{step.after_days} days after {step.after_step}"


def _policy_add(args: argparse.Namespace) -> int:
    import hashlib

    from arrears.core.errors import ValidationError
    from arrears.dunning.policy import PolicyError
    from arrears.dunning.services import policy_add

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


def _policy_assign(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.dunning.services import policy_assign

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


def _run_parser(sub: Any) -> None:
    help = "the daily collection run: plan, guard and execute every due step"
    p = command(sub, "run", cmd_run, help)
    p.add_argument("--date", type=date, help="the run's date (default today)")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument(
        "--snapshots",
        action="store_true",
        help="then build the aging snapshots up to the run's day (arrears report snapshots build)",
    )
    p.add_argument(
        "--subscriptions",
        action="store_true",
        help="then send the reports subscribed to that are due on the run's day, once per period "
        "(arrears subscription send; needs EMAIL_URL)",
    )
    p.add_argument(
        "--wait",
        type=seconds,
        default=600,
        metavar="SECONDS",
        help="with CELERY_BROKER_URL: how long to wait for a worker to answer, and for each "
        "chunk, before giving up with exit status 2 (default 600)",
    )
    p.add_argument(
        "--status",
        action="store_true",
        help="show how far the latest run has got (its chunks done) and what it did",
    )
    p.add_argument("--format", choices=["table", "json"], default="table")


def _timeline_parser(sub: Any) -> None:
    p = command(sub, "timeline", cmd_timeline, "everything that happened to an account")
    p.add_argument("account_id")
    p.add_argument("--format", choices=["table", "json"], default="table")


# The values of arrears.dunning.models.Hold.Reason (a test holds them equal), in the order the
# help lists them: the parser is built before Django is set up.
HOLD_REASONS = (
    "bankruptcy",
    "military",
    "cease",
    "deceased",
    "represented",
    "manual",
    "dispute",
    "plan",
)


def _hold_parser(sub: Any) -> None:
    p = command(sub, "hold", cmd_hold, "place a hold on an account (or one of its parties)")
    p.add_argument("account_id")
    p.add_argument("--reason", required=True, choices=list(HOLD_REASONS))
    p.add_argument("--until", type=date, help="the hold ends after this date")
    p.add_argument("--party", help="hold contact with this party only")
    p.add_argument("--on", type=date, help="when the hold starts (default today)")
    p.add_argument("--note", help="why, for the timeline")


def _release_parser(sub: Any) -> None:
    p = command(sub, "release", cmd_release, "release a hold")
    p.add_argument("account_id")
    p.add_argument("--hold", type=int, required=True, help="the hold's number")


def _note_parser(sub: Any) -> None:
    p = command(sub, "note", cmd_note, "add a note to an account's timeline")
    p.add_argument("account_id")
    p.add_argument("text")


def _worklist_parser(sub: Any) -> None:
    from arrears.dunning.workline import TAB_OF

    p = command(sub, "worklist", cmd_worklist, "the coordinator's queue for the day")
    p.add_argument("--date", type=date)
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--user", help="only this user's accounts: assigned to them, or covered for that day"
    )
    who.add_argument(
        "--unassigned", action="store_true", help="only the accounts assigned to no one"
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    lines = p.add_subparsers(dest="worklist_command", metavar="ACTION")
    help = "put a line off until a day, with a reason"
    q = lines.add_parser("snooze", help=help, description=help)
    q.add_argument("--until", type=date, required=True)
    help = "take a line off while its reason stands, with a reason"
    r = lines.add_parser("dismiss", help=help, description=help)
    for x in (q, r):
        x.add_argument("account_id")
        x.add_argument("--kind", required=True, choices=sorted(TAB_OF))
        x.add_argument("--reason", required=True)
        x.add_argument("--task", type=int, help="the call or text task's action id")


def _policy_parser(sub: Any) -> None:
    help = "collection policies: list, show, add a company's own, assign"
    p = command(sub, "policy", cmd_policy, help)
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


PARSERS = {
    "run": _run_parser,
    "timeline": _timeline_parser,
    "hold": _hold_parser,
    "release": _release_parser,
    "note": _note_parser,
    "worklist": _worklist_parser,
    "policy": _policy_parser,
}
