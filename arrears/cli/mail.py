"""`arrears mail …`, `arrears call …`, `arrears sms …`: email out and in, calls and texts.

Settings (config/settings.py, from the environment):
EMAIL_URL          smtp://user:pass@host:587 (STARTTLS), smtps://… (TLS), smtp://host:25 (plain)
ARREARS_MAIL_FROM  the sender address (default: the company's email, else collections@localhost)
ARREARS_MAIL_DOMAIN  the domain of Message-IDs (default: the sender's domain)
IMAP_URL           imaps://user:pass@host/INBOX: `mail fetch` reads it when set
ARREARS_MAILDIR    the Maildir folder `mail fetch` reads otherwise (default ./maildir)
SMS_URL            file:///folder: texts are written there as JSON lines (the only adapter)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from arrears.cli.acting import actor_name, by, cli_act, cli_job
from arrears.cli.common import amount, command, date, ensure_migrated, seconds, table, write_json


def cmd_mail_send(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.correspondence.mail_out import Sender, smtp_from_env
    from arrears.dunning.contact import emails_send

    ensure_migrated()
    on = args.date or today()
    run = cli_job(
        args,
        "mail.send",
        detail={"date": on.isoformat()},
        do=lambda actor: emails_send(
            on=on,
            settings=smtp_from_env(),
            sender=Sender.from_env(),
            actor=actor,
            workers=args.workers,
            wait=args.wait,
        ),
    )
    r = run.report
    if args.format == "json":
        write_json(run.as_json(), default=str)
    else:
        print(run.line())
    if r.error:
        sys.stderr.write(
            f"arrears mail send: the SMTP server failed: {r.error}; "
            "run it again to send the rest (nothing is sent twice)\n"
        )
        return 2
    return 0


def cmd_mail_fetch(args: argparse.Namespace) -> int:
    from arrears.access.schedule import mail_fetch

    ensure_migrated()
    report, opted = mail_fetch(by=by(args, system=True), source=args.source or "")
    if args.format == "json":
        write_json({**report.as_json(), "opted_out": opted}, default=str)
        return 0
    print(
        f"Mail: {len(report.filed)} filed on accounts, {len(report.triage)} to triage, "
        f"{len(report.bounces)} bounce reports, {report.already} filed before"
        + (f"; {opted} opted out of email" if opted else "")
        + "."
    )
    return 0


def cmd_mail_triage(args: argparse.Namespace) -> int:
    from arrears.correspondence.mail_in import triage_list

    ensure_migrated()
    rows = triage_list()
    if args.format == "json":
        write_json(
            [
                {
                    "id": r.pk,
                    "from": r.from_address,
                    "subject": r.subject,
                    "received_at": r.received_at.isoformat(),
                    "category": r.category,
                    "why": r.why_unmatched,
                    "excerpt": r.excerpt[:200],
                }
                for r in rows
            ],
            default=str,
        )
        return 0
    if not rows:
        print("Nothing in triage.")
        return 0
    table(
        ["id", "received", "from", "category", "subject", "why"],
        [
            [
                str(r.pk),
                f"{r.received_at:%Y-%m-%d}",
                r.from_address,
                r.category,
                r.subject[:50],
                r.why_unmatched,
            ]
            for r in rows
        ],
        sys.stdout,
        numeric=range(1),
    )
    print("Assign one with `arrears mail assign ID ACCOUNT_ID`.")
    return 0


def cmd_mail_assign(args: argparse.Namespace) -> int:
    from arrears.correspondence.mail_in import triage_assign

    ensure_migrated()
    actor = actor_name(args)
    # The page's act: the account must be one the user may see.
    row = cli_act(
        args,
        "mail.triage",
        account_id=args.account_id,
        detail={"inbound": args.id},
        do=lambda _a: triage_assign(inbound_id=args.id, account_id=args.account_id, actor=actor),
    )
    print(f"Message {row.pk} filed on {args.account_id}.")
    return 0


def cmd_mail_answered(args: argparse.Namespace) -> int:
    from arrears.correspondence.mail_in import inbound_answered
    from arrears.correspondence.mail_models import InboundEmail

    ensure_migrated()
    actor = actor_name(args)
    # On the message's account (one the user may see); one in triage is refused by the service.
    filed = InboundEmail.objects.filter(pk=args.id).values_list("account__account_id", flat=True)
    cli_act(
        args,
        "mail.answered",
        account_id=next(iter(filed), None) or None,
        detail={"inbound": args.id, "note": (args.note or "")[:300]},
        do=lambda _a: inbound_answered(inbound_id=args.id, actor=actor, note=args.note or ""),
    )
    print(f"Message {args.id} answered: off the worklist.")
    return 0


def _call_time(args: argparse.Namespace) -> Any:
    from django.utils import timezone as dj_timezone

    from arrears.dunning.contact import local_time, party_zone

    if not args.at:
        return dj_timezone.now()
    return local_time(args.at, party_zone(account_id=args.account_id, party_id=args.party))


def cmd_call_log(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    promise = None
    if args.promise_amount is not None or args.promise_date is not None:
        if args.promise_amount is None or args.promise_date is None:
            sys.stderr.write("arrears call: a promise needs --promise-amount and --promise-date\n")
            return 2
        promise = acts.PromiseTaken(args.promise_amount, args.promise_date)
    # A call logged now that the guard refuses is recorded refused (it was tried); a call logged
    # after the fact (--at) is recorded with the guard's warning.
    logged = acts.call_log(
        by=by(args),
        account_id=args.account_id,
        party_id=args.party,
        outcome=args.outcome,
        note=args.note or "",
        at=args.at or "",
        promise=promise,
        confirm=args.confirm,
    )
    d = logged.decision
    if not logged.recorded:
        sys.stderr.write(
            f"arrears call: refused by the guard ({d.rule}): {d.reason}; recorded on the "
            "timeline (a call already made: give its time with --at)\n"
        )
        return 2
    if logged.warned:
        sys.stderr.write(
            f"arrears call: logged after the fact; the guard warns ({d.rule}): {d.reason}\n"
        )
    print(f"Call to {args.party} on {args.account_id} logged: {args.outcome}.")
    if logged.promise is not None:
        p = logged.promise
        print(f"Promise {p.pk} recorded: {p.amount:.2f} by {p.promised_on}.")
    return 0


def cmd_call_check(args: argparse.Namespace) -> int:
    from arrears.dunning.contact import call_check

    ensure_migrated()
    decision = call_check(account_id=args.account_id, party_id=args.party, at=_call_time(args))
    if not decision.allowed:
        print(f"Do not call: {decision.rule}: {decision.reason}")
        return 2
    print(f"{args.party} may be called now about {args.account_id}.")
    return 0


def cmd_sms_send(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.correspondence.sms import sms_provider
    from arrears.dunning.contact import texts_send

    ensure_migrated()
    on = args.date or today()
    run = cli_job(
        args,
        "sms.send",
        detail={"date": on.isoformat()},
        do=lambda actor: texts_send(on=on, provider=sms_provider(), actor=actor),
    )
    if args.format == "json":
        write_json(run.as_json(), default=str)
        return 0
    print(
        f"Texts: {len(run.sent)} sent, {len(run.deferred)} waiting for contact hours, "
        f"{len(run.refused)} refused by the guard, {len(run.failed)} failed."
    )
    return 0


def _mail_parser(sub: Any) -> None:
    p = command(sub, "mail", lambda args: args.mail_func(args), "email: send, fetch, triage")
    mail = p.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    q = mail.add_parser("send", help="send the email actions due (EMAIL_URL), through the guard")
    q.set_defaults(mail_func=cmd_mail_send)
    q.add_argument("--date", type=date, help="send what is due by this date (default today)")
    q.add_argument("--workers", type=int, default=2, help="processes rendering the PDF letters")
    q.add_argument(
        "--wait",
        type=seconds,
        default=600,
        metavar="SECONDS",
        help="with CELERY_BROKER_URL: how long to wait for a worker to answer, and for each "
        "batch of emails, before giving up with exit status 2 (default 600)",
    )
    q.add_argument("--format", choices=["table", "json"], default="table")
    q = mail.add_parser(
        "fetch",
        help="read the mailbox (IMAP_URL or ARREARS_MAILDIR) and file each message on its account",
    )
    q.set_defaults(mail_func=cmd_mail_fetch)
    q.add_argument("--source", help="a Maildir folder or an imap(s):// URL instead")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q = mail.add_parser("triage", help="messages that matched no account")
    q.set_defaults(mail_func=cmd_mail_triage)
    q.add_argument("--format", choices=["table", "json"], default="table")
    q = mail.add_parser("assign", help="file a message from triage on an account")
    q.set_defaults(mail_func=cmd_mail_assign)
    q.add_argument("id", type=int)
    q.add_argument("account_id")
    q = mail.add_parser("answered", help="take a message off the worklist: it was answered")
    q.set_defaults(mail_func=cmd_mail_answered)
    q.add_argument("id", type=int)
    q.add_argument("--note")


def _call_parser(sub: Any) -> None:
    p = command(sub, "call", lambda args: args.call_func(args), "calls: log one, check first")
    call = p.add_subparsers(dest="call_command", required=True, metavar="ACTION")
    for name, func, text in (
        ("log", cmd_call_log, "record a call's outcome (the guard is asked as of its time)"),
        ("check", cmd_call_check, "may this party be called now? (the guard's answer)"),
    ):
        q = call.add_parser(name, help=text)
        q.set_defaults(call_func=func)
        q.add_argument("account_id")
        q.add_argument("--party", required=True)
        q.add_argument(
            "--at",
            help="when the call was placed, YYYY-MM-DDTHH:MM in the party's zone (default now)",
        )
        if name == "log":
            q.add_argument(
                "--outcome",
                required=True,
                choices=[
                    "no-answer",
                    "left-message",
                    "wrong-number",
                    "promise",
                    "dispute",
                    "refused",
                    "paid",
                ],
            )
            q.add_argument("--note")
            q.add_argument("--promise-amount", type=amount, help="the promise taken on the call")
            q.add_argument("--promise-date", type=date, help="the day it is to be paid by")
            q.add_argument(
                "--confirm",
                action="store_true",
                help="save a promise above the balance, far off or beside an open one",
            )


def _sms_parser(sub: Any) -> None:
    p = command(sub, "sms", lambda args: args.sms_func(args), "texts: send the text tasks due")
    sms = p.add_subparsers(dest="sms_command", required=True, metavar="ACTION")
    q = sms.add_parser("send", help="send the text tasks due through SMS_URL's adapter")
    q.set_defaults(sms_func=cmd_sms_send)
    q.add_argument("--date", type=date)
    q.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"mail": _mail_parser, "call": _call_parser, "sms": _sms_parser}
