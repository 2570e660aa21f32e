"""Correspondence commands: the letters batch, proof of mailing, returned mail, statements and
templates (`arrears letters …`, `arrears statement …`, `arrears template …`)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from arrears.cli.acting import actor_name, by, cli_act, cli_job
from arrears.cli.common import ProgressBar, command, date, ensure_migrated, seconds, table

# The sender of a statement by email, provided by the mail part (arrears.dunning.contact, which
# asks the guard before it sends):
# statement_email(*, account_id: str, as_of: date, pdf: bytes, filename: str, actor: str) -> str
# (it returns a line that says what it sent). Until it exists, --email is refused.
STATEMENT_SENDER = ("arrears.dunning.contact", "statement_email")  # through the guard


def cmd_letters(args: argparse.Namespace) -> int:
    ensure_migrated()
    acts = {
        "batch": _letters_batch,
        "mailed": _letters_mailed,
        "returned": _letters_returned,
        "list": _letters_list,
    }
    return acts[args.letters_command](args)


def _letters_batch(args: argparse.Namespace) -> int:
    """`letters batch`: the day's queued letters rendered, a print file and a manifest."""
    from arrears.core.dates import today
    from arrears.dunning.reissue import letters_print

    on = args.date or today()
    output = Path(args.output or f"print-{on.isoformat()}")
    bar = ProgressBar(sys.stderr)
    # The page's detail; a system job (it commits as it goes, to finish after a crash).
    detail: dict[str, Any] = {"batch": on.isoformat()}
    if args.reprint:
        detail["reprint"] = args.batch or "last"
    try:
        result = cli_job(
            args,
            "letters.manage",
            detail=detail,
            do=lambda actor: letters_print(
                on=on,
                output=output,
                actor=actor,
                workers=args.workers,
                progress=lambda d, t: bar("letters", d, t),
                reprint=args.reprint,
                batch=args.batch,
                wait=args.wait,
            ),
        )
    finally:
        bar.close()
    for cancelled in result.cancelled:
        print(f"L{cancelled['id']} ({cancelled['account_id']}) cancelled: {cancelled['reason']}")
    for failed in result.failed:
        print(f"L{failed['id']} ({failed['account_id']}) NOT PRINTED: {failed['reason']}")
    print(result.line())
    return 0


def _letters_mailed(args: argparse.Namespace) -> int:
    """`letters mailed`: proof of mailing, from the batch's filled-in manifest."""
    from arrears.access import acts
    from arrears.core.dates import today

    mailed = acts.letters_mailed(
        by=by(args),
        manifest=Path(args.manifest),
        on=args.date or today(),
        named={"manifest": args.manifest[:200]},
    )
    print(f"{mailed.mailed} letters recorded mailed; {mailed.unchanged} already recorded.")
    return 0


def _letters_returned(args: argparse.Namespace) -> int:
    """`letters returned`: a letter back undeliverable; its address marked bad."""
    from arrears.access import acts

    row = acts.letter_returned(
        by=by(args), letter=args.letter, reason=args.reason or "", on=args.date
    )
    print(
        f"Letter L{row.outbound_id} returned; address marked bad for "
        f"{row.party.party_id}: {row.address.replace(chr(10), ', ')}"
    )
    return 0


def _letters_list(args: argparse.Namespace) -> int:
    """`letters list`: the letters and their status."""
    from arrears.correspondence.models import Outbound

    query = Outbound.objects.filter(channel__in=("letter", "certified_letter"))
    if args.date:
        query = query.filter(run_on=args.date)
    rows = [
        [
            f"L{o.pk}",
            o.run_on.isoformat(),
            o.account.account_id,
            o.party.party_id if o.party else "",
            o.template,
            o.status,
            o.article_number,
            o.document_name,
        ]
        for o in query.select_related("account", "party").order_by("id")
    ]
    table(
        ["letter", "date", "account", "party", "template", "status", "article", "document"],
        rows,
        sys.stdout,
        numeric=range(0),
    )
    return 0


def cmd_statement(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.correspondence.statements import statement_xlsx

    ensure_migrated()
    as_of = args.as_of or today()
    sender = _statement_sender(args) if args.email else None
    output = Path(args.output or f"statement-{args.account_id}-{as_of.isoformat()}.{args.format}")
    if args.format == "xlsx":  # a read: nothing archived, nothing on the timeline
        statement = statement_xlsx(account_id=args.account_id, as_of=as_of)
        output.write_bytes(statement.data)
        print(f"Statement of {args.account_id} as of {as_of.isoformat()}: {output}")
        return 0
    from arrears.access import acts

    sent = acts.statement_send(
        by=by(args),
        account_id=args.account_id,
        email=sender is not None,
        as_of=as_of,
        filename=output.name,
    )
    statement, said = sent.statement, [sent.emailed] if sent.emailed else []
    output.write_bytes(statement.data)
    archived = f" (archived as {statement.document.name})" if statement.document else ""
    print(f"Statement of {args.account_id} as of {as_of.isoformat()}: {output}{archived}")
    for line in said:
        print(line)
    return 0


def _statement_sender(args: argparse.Namespace) -> Any:
    """The sender `--email` uses (STATEMENT_SENDER); DomainError when there is none."""
    from arrears.core.errors import DomainError

    if args.format != "pdf":
        raise DomainError("--email sends the PDF statement: leave out --format xlsx")
    try:
        return getattr(importlib.import_module(STATEMENT_SENDER[0]), STATEMENT_SENDER[1])
    except (ImportError, AttributeError):
        raise DomainError(
            "cannot email statements: no email sender is installed (set EMAIL_URL, e.g. "
            "smtp://user:pass@host:587, once the mail part is present)"
        ) from None


def cmd_template(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.core.errors import ValidationError

    ensure_migrated()
    if args.template_command == "list":
        from arrears.correspondence.services import template_names

        rows = [[n, lang, str(v) if v else "built in"] for n, lang, v in template_names()]
        table(["template", "language", "version"], rows, sys.stdout, numeric=range(0))
        return 0
    if args.template_command == "add":
        from arrears.correspondence.services import template_add

        try:
            body = Path(args.body).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"{args.body}: {exc.strerror}") from None
        actor = actor_name(args)
        # The page's detail: the template, its language, then the version stored.
        detail: dict[str, Any] = {"template": args.name, "language": args.language}

        def store(_account: Any) -> Any:
            row = template_add(
                name=args.name, language=args.language, subject=args.subject, body=body, actor=actor
            )
            detail["version"] = row.version
            return row

        row = cli_act(args, "template.add", detail=detail, do=store)
        print(f"Template {row.name} [{row.language}] v{row.version} stored.")
        return 0
    from arrears.correspondence.rendering import message_render
    from arrears.dunning.selectors import preview_deadline

    on = args.date or today()
    letter = bool(args.output)
    message = message_render(
        account_id=args.account,
        template=args.name,
        on=on,
        party_id=args.party,
        language=args.language,
        deadline=preview_deadline(account_id=args.account, template=args.name, on=on),
        letter=letter,
        reference="preview",
    )
    if args.output:
        from arrears.correspondence.pdfs import letter_pdf

        Path(args.output).write_bytes(letter_pdf(message.html))
        print(
            f"{args.name} v{message.template_version} ({message.language}) for "
            f"{args.account}: {args.output}"
        )
        return 0
    print(f"Subject: {message.subject}")
    print(f"Template: {message.template} v{message.template_version} ({message.language})\n")
    sys.stdout.write(message.text)
    return 0


def _letters_parser(sub: Any) -> None:
    p = command(sub, "letters", cmd_letters, "letters: print the day's batch, record mailing")
    letters = p.add_subparsers(dest="letters_command", required=True, metavar="ACTION")
    b = letters.add_parser("batch", help="render queued letters: PDFs, a print file, a manifest")
    b.add_argument("--date", type=date, help="YYYY-MM-DD (default: today)")
    b.add_argument(
        "--output", help="folder for the letters, print file and manifest (default: print-DATE)"
    )
    b.add_argument(
        "--workers",
        type=int,
        default=2,
        help="rendering processes when the batch renders in its own process (default 2)",
    )
    b.add_argument(
        "--wait",
        type=seconds,
        default=600,
        metavar="SECONDS",
        help="with CELERY_BROKER_URL (the letters rendered by `arrears worker`): how long to wait "
        "for a worker to answer, and for each letter, before giving up with exit status 2 "
        "(default 600)",
    )
    b.add_argument(
        "--reprint",
        action="store_true",
        help="render nothing: write one batch's print file and manifest again (its letters not "
        "yet mailed)",
    )
    b.add_argument(
        "--batch", type=int, help="with --reprint: the batch (default: the last complete one)"
    )
    m = letters.add_parser("mailed", help="record proof of mailing from a filled-in manifest")
    m.add_argument(
        "--manifest",
        required=True,
        help="the batch's manifest CSV with article_number filled in for certified letters",
    )
    m.add_argument("--date", type=date, help="the mailing date (default: today)")
    r = letters.add_parser("returned", help="record a letter returned undeliverable")
    r.add_argument("letter", help="the letter id (L12) or its certified article number")
    r.add_argument("--date", type=date, help="the day it came back (default: today)")
    r.add_argument("--reason", help="e.g. 'not deliverable as addressed'")
    ls = letters.add_parser("list", help="letters and their status")
    ls.add_argument("--date", type=date)


def _statement_parser(sub: Any) -> None:
    p = command(sub, "statement", cmd_statement, "a statement of account as PDF or XLSX")
    p.add_argument("account_id")
    p.add_argument("--as-of", type=date, help="YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=["pdf", "xlsx"], default="pdf")
    p.add_argument("--output", help="file to write (default: statement-ACCOUNT-DATE.FORMAT)")
    p.add_argument("--email", action="store_true", help="also email the PDF (needs EMAIL_URL)")


def _template_parser(sub: Any) -> None:
    p = command(sub, "template", cmd_template, "letter and email templates")
    templates = p.add_subparsers(dest="template_command", required=True, metavar="ACTION")
    pv = templates.add_parser("preview", help="render a template for an account")
    pv.add_argument("name")
    pv.add_argument("--account", required=True)
    pv.add_argument("--party", help="a party of the account (default: the primary)")
    pv.add_argument("--language", choices=["en", "es"])
    pv.add_argument("--date", type=date, help="the letter's date (default: today)")
    pv.add_argument("--output", help="write the letter as PDF here instead of printing text")
    templates.add_parser("list", help="templates, their languages and latest versions")
    ad = templates.add_parser("add", help="store a company's version of a template")
    ad.add_argument("name")
    ad.add_argument("--language", default="en", choices=["en", "es"])
    ad.add_argument("--subject", required=True, help="the subject line (Django template)")
    ad.add_argument("--body", required=True, help="file with the HTML body (Django template)")


PARSERS = {
    "letters": _letters_parser,
    "statement": _statement_parser,
    "template": _template_parser,
}
