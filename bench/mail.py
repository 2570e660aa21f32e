"""Benchmark of email out: emails per second to a local SMTP server (aiosmtpd).

    .venv/bin/python bench/mail.py                  # 1,000 emails, a new SQLite file
    .venv/bin/python bench/mail.py --count 200      # smoke run
    .venv/bin/python bench/mail.py --db pg          # PostgreSQL database arrears_email_bench

A fresh database gets COUNT tenants (one lease each) and, for each, an email row as the daily run
queues one. Timed separately, in-process:

0. render: the first 200 rows rendered as `arrears mail send` renders them (the template, and
   the notice as a one-page PDF letter by two worker processes), for the figure only;
1. prepare: each message built (text, the Reg F opt-out line, a one-page PDF letter attached, the
   same bytes for every email) and archived with its SHA-256, its row `rendered`;
2. send: `outbox_send` over one SMTP session to an aiosmtpd server on the loopback (in a thread of
   the same process, so the server's work is counted against the sender's), each email asked of
   the compliance guard first (holds, consent, contact hours in the tenant's zone: the check
   `arrears mail send` makes), its try counted before and its `sent` state and timeline row
   written after, each in its own commit;
3. the same send again, which must send nothing.

The server's received Message-IDs are checked: COUNT, all different. Target of the issue: at least
100 emails per second sent. Results go to bench/results-email-<count>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import common  # noqa: E402 - bench/common.py

TARGET_PER_S = 100.0
RENDERED = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="arrears-email-bench-"))
    if args.db == "pg":
        url = "postgres://postgres@127.0.0.1:5432/arrears_email_bench"
        _pg_recreate(url)
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    common.django_here(url, work / "archive")
    rows = _book(args.count)
    result = _run(rows, work)
    when = datetime.now(ZoneInfo("UTC")).isoformat(timespec="seconds")
    result.update(
        {
            "count": args.count,
            "db": args.db,
            "target_per_s": TARGET_PER_S,
            "machine": f"{os.cpu_count()} cores",
            "when": when,
        }
    )
    out = ROOT / "bench" / f"results-email-{args.count}-{args.db}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    ok = result["send_per_s"] >= TARGET_PER_S and result["again_sent"] == 0
    print(
        f"{'PASS' if ok else 'FAIL'}: {result['send_per_s']:.0f} emails/s sent "
        f"(target {TARGET_PER_S:.0f}/s); results in {out.relative_to(ROOT)}"
    )
    return 0 if ok else 1


def _pg_recreate(url: str) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS arrears_email_bench")
        c.execute("CREATE DATABASE arrears_email_bench")


def _tenants(count: int) -> tuple[list, list]:
    """COUNT tenants at one New York building, one lease each: the accounts and the parties."""
    from arrears.ledger.models import Account, AccountParty, Party, Property

    prop = Property.objects.create(
        property_id="B", name="Bench Court", address="1 Bench St", state="NY", country="US"
    )
    parties = Party.objects.bulk_create(
        Party(
            party_id=f"P{n:06d}",
            name=f"Tenant {n}",
            email=f"t{n}@example.org",
            state="NY",
            country="US",
        )
        for n in range(count)
    )
    accounts = Account.objects.bulk_create(
        Account(
            account_id=f"A{n:06d}",
            property=prop,
            unit=str(n),
            kind="residential_lease",
            opened_on=date(2025, 1, 1),
        )
        for n in range(count)
    )
    AccountParty.objects.bulk_create(
        AccountParty(account=a, party=p, role="primary")
        for a, p in zip(accounts, parties, strict=True)
    )
    return accounts, parties


def _book(count: int) -> list[int]:
    """COUNT tenants at one building, each with a queued email row; returns the rows' ids."""
    from django.db import transaction

    from arrears.correspondence.models import Outbound
    from arrears.ledger.services import NewCharge, charges_post

    accounts, parties = _tenants(count)
    # March's rent, due the 1st and open: the reminder is about it (a letter whose charge would
    # render empty is refused, as the run's would be).
    with transaction.atomic():
        charges_post(
            [
                NewCharge(
                    txn_id=f"R{n:06d}",
                    account_pk=a.pk,
                    posted_on=date(2026, 3, 1),
                    due_on=date(2026, 3, 1),
                    code="RENT",
                    amount=Decimal("1000.00"),
                )
                for n, a in enumerate(accounts)
            ]
        )
    made = datetime(2026, 3, 2, 12, tzinfo=ZoneInfo("America/New_York"))
    rows = Outbound.objects.bulk_create(
        Outbound(
            key=f"{a.account_id}:reminder:2026-03:{p.party_id}",
            account=a,
            party=p,
            role="primary",
            channel="email",
            template="ny-rent-reminder",
            run_on=date(2026, 3, 2),
            status="queued",
            document_name="",
            created_at=made,
        )
        for a, p in zip(accounts, parties, strict=True)
    )
    return [r.pk for r in rows]


def _render(ids: list[int]) -> tuple[int, float]:
    """What `mail send` does first for each email: its template rendered, with the notice as a
    PDF letter rendered by two worker processes (timed on the first RENDERED rows, not kept)."""
    from arrears.correspondence.mail_out import outbound_emails_render
    from arrears.correspondence.models import Outbound

    sample = list(Outbound.objects.filter(pk__in=ids[:RENDERED]).select_related("account", "party"))
    started = time.perf_counter()
    rendered = [e for _, e in outbound_emails_render(sample, workers=2)]
    render_s = time.perf_counter() - started
    assert all(not isinstance(e, str) for e in rendered), rendered[:1]
    return len(sample), render_s


def _prepare(ids: list[int]) -> float:
    """Each message built, with the same one-page PDF letter attached, and archived: seconds."""
    from arrears.core.pdf import render_pdf
    from arrears.correspondence.mail_out import Attachment, OutgoingEmail, email_prepare
    from arrears.correspondence.models import Outbound

    letter = render_pdf("<h1>Rent reminder</h1><p>March's rent of 1,200.00 is unpaid.</p>")
    started = time.perf_counter()
    for row in Outbound.objects.filter(pk__in=ids).select_related("account", "party"):
        assert row.party is not None
        email_prepare(
            outbound=row,
            sender="rent@bench.example",
            domain="bench.example",
            email=OutgoingEmail(
                to=row.party.email,
                to_name=row.party.name,
                subject=f"Your account {row.account.account_id}: March rent",
                text=f"Dear {row.party.name},\n\nMarch's rent of 1,200.00 is unpaid.",
                attachments=[Attachment("reminder.pdf", letter, "application/pdf")],
                opt_out_notice=True,
            ),
        )
    return time.perf_counter() - started


def _send(ids: list[int], port: int) -> tuple:
    """outbox_send to the server on `port`, then again: both reports and their seconds."""
    from arrears.correspondence.mail_out import outbox_send, parse_email_url
    from arrears.correspondence.models import Outbound
    from arrears.dunning.contact import email_check
    from arrears.dunning.derived import derived_holds

    settings = parse_email_url(f"smtp://127.0.0.1:{port}")
    started = time.perf_counter()
    # The guard as `arrears mail send` asks it, for each email, at 10:00 in the tenants'
    # zone, with the accounts' commitments (plans, promises, disputes) read once for all.
    accounts = sorted(set(Outbound.objects.filter(pk__in=ids).values_list("account_id", flat=True)))
    derived = derived_holds(accounts, date(2026, 3, 2))
    check = email_check(
        lambda: datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("America/New_York")), derived
    )
    report = outbox_send(settings=settings, check=check)
    send_s = time.perf_counter() - started
    started = time.perf_counter()
    again = outbox_send(settings=settings, check=check)
    return report, send_s, again, time.perf_counter() - started


def _run(ids: list[int], work: Path) -> dict[str, object]:
    from arrears.correspondence.tests import smtp_server

    render_count, render_s = _render(ids)
    prepare_s = _prepare(ids)
    handler = smtp_server.Recorder()
    controller = smtp_server.start(handler)
    try:
        report, send_s, again, again_s = _send(ids, controller.port)
    finally:
        controller.stop()
    ids_received = handler.message_ids()
    assert len(report.sent) == len(ids), (len(report.sent), report.error)
    assert len(ids_received) == len(set(ids_received)) == len(ids)
    size = sum(len(r.data) for r in handler.received) // max(len(handler.received), 1)
    return {
        "render_count": render_count,
        "render_s": round(render_s, 2),
        "render_per_s": round(render_count / render_s, 1),
        "prepare_s": round(prepare_s, 2),
        "prepare_per_s": round(len(ids) / prepare_s, 1),
        "send_s": round(send_s, 2),
        "send_per_s": round(len(ids) / send_s, 1),
        "again_s": round(again_s, 3),
        "again_sent": len(again.sent),
        "message_bytes": size,
        "received": len(ids_received),
    }


if __name__ == "__main__":
    sys.exit(main())
