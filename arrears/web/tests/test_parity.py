"""One act, one service: each act done through the command line, the pages and the API writes
the same rows (transactions, actions, outbound, timeline, audit, and the act's own rows),
apart from who did it and through which interface.

Three equal leases at Elm Court (Brooklyn NY), A-CLI, A-WEB and A-API, each with 1,200.00 of
March rent unpaid by its tenant (Rita Moreno, three times over). Alice (a coordinator) does
each act once on each lease, on March 26, 2026: on A-CLI by `arrears --as alice …`, on A-WEB
by posting the account page's form, or the letters page's (htmx, as the pages do), on A-API
with her API token. A letter is mailed, or comes back, after the day's batch printed each
lease's certified notice. An act an interface does not offer (a notice has no command, the
letters no API route) is compared between the others; `parity.OFFERED` (the table of
docs/architecture.md) says which interface offers which act.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfWriter

from arrears.access.assignments import Target, assignment_set, coverage_add
from arrears.access.models import Assignment, Coverage
from arrears.access.services import user_add
from arrears.access.tests.people import FIRM, OPERATOR, TODAY, signed_in, write_book
from arrears.cli import main
from arrears.correspondence.certified import usps_check_digit
from arrears.correspondence.models import Outbound, ReturnedMail
from arrears.disputes.models import Dispute
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.dunning.consent import consent_record
from arrears.dunning.models import Action, Consent, Hold, WorklistSnooze
from arrears.dunning.notices import notice_send
from arrears.dunning.reissue import letters_print
from arrears.dunning.selectors import notice_choices
from arrears.dunning.services import hold_place
from arrears.ledger.models import Account, Party, TimelineEvent, Transaction
from arrears.ledger.services import book_import
from arrears.legal.models import (
    CaseEvent,
    Referral,
    Settlement,
    SettlementInstallment,
    WriteOff,
)
from arrears.legal.schedule import Due
from arrears.legal.services import referral_make
from arrears.legal.settlements import settlement_offer
from arrears.moveout.models import Deduction, Disposition, MoveOut
from arrears.moveout.services import Deduct, disposition_post, moveout_record
from arrears.plans.models import Plan, Promise
from arrears.plans.services import promise_add
from arrears.plans.settlement import commitments_review
from arrears.web.tests.parity import (
    INTERFACES,
    TAG,
    audit_generic,
    audit_last,
    audit_since,
    generic,
)

pytestmark = pytest.mark.django_db

LEASE = {"cli": "A-CLI", "web": "A-WEB", "api": "A-API"}


def _leases(folder: Any) -> Any:
    book: dict[str, list[dict[str, str]]] = {
        "parties": [],
        "accounts": [],
        "account_parties": [],
        "transactions": [],
    }
    for tag in TAG.values():
        book["parties"].append(
            {
                "party_id": f"P-{tag}",
                "name": "Rita Moreno",
                "email": f"rita-{tag.lower()}@example.org",
                "phone": "+17185550110",
                "language": "en",
                "address": "1 Elm Street, Apt 4A",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11201",
                "country": "US",
            }
        )
        book["accounts"].append(
            {
                "account_id": f"A-{tag}",
                "property_id": "ELM",
                "unit": "4A",
                "kind": "residential_lease",
                "opened": "2025-06-01",
                "rent": "1200.00",
                "deposit_held": "1000.00",
            }
        )
        book["account_parties"].append(
            {"account_id": f"A-{tag}", "party_id": f"P-{tag}", "role": "primary"}
        )
        book["transactions"].append(
            {
                "txn_id": f"RENT-A-{tag}",
                "account_id": f"A-{tag}",
                "posted": "2026-03-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-03-01",
            }
        )
    return write_book(folder, book)


@dataclass(frozen=True)
class Act:
    """An act, its set-up on a lease (what it acts on: a hold, a plan, a dispute), and how each
    interface does it: the command's arguments, the page's (URL, form), the API's (URL, body);
    None where the interface does not offer it."""

    name: str
    cli: Callable[[str, Any], list[str]] | None
    web: Callable[[str, Any], tuple[str, dict[str, Any]]] | None
    api: Callable[[str, Any], tuple[str, dict[str, Any]]] | None
    setup: Callable[[str, Path], Any] = lambda account_id, folder: None
    # the set-up's letters printed by the day's letters batch, once every lease's is queued
    printed: bool = False
    # the verb of its audit row, when it is not the act's name
    verb: str = ""
    # what its audit row's detail says differently through each interface, on purpose: see
    # "Where the interfaces still differ" in docs/architecture.md
    detail_differs: frozenset[str] = frozenset()
    # who does it (one of the cast, with an API token)
    actor: str = "alice"


def _hold(account_id: str, _folder: Path) -> int:
    return hold_place(
        account_id=account_id, reason="manual", on=TODAY, actor="alice", note="wait"
    ).pk


def _case(account_id: str, _folder: Path) -> int:
    account = Account.objects.get(account_id=account_id)
    return referral_make(account=account, firm=FIRM, on=TODAY, actor="alice").pk


SETTLE_AMOUNT, SETTLE_DUE = "840.00", "2026-04-30"


def _settlement(account_id: str, folder: Path) -> tuple[int, int]:
    """The lease's case, with a settlement of 840.00 offered on it by Alice."""
    case = _case(account_id, folder)
    made = settlement_offer(
        case=Referral.objects.get(pk=case),
        amount=Decimal(SETTLE_AMOUNT),
        installments=[Due(date.fromisoformat(SETTLE_DUE), Decimal(SETTLE_AMOUNT))],
        actor="alice",
        today=TODAY,
    )
    return case, made.pk


def _plan(account_id: str, _folder: Path) -> int:
    return plan_create(
        account_id=account_id,
        on=TODAY,
        actor="alice",
        start=TODAY.replace(month=4, day=1),
        installments=3,
    ).pk


def _dispute(account_id: str, _folder: Path) -> int:
    return dispute_open(
        account_id=account_id,
        reason="I was charged for a month I had moved out",
        on=TODAY,
        actor="alice",
        charges=[f"RENT-{account_id}"],
    ).pk


def _broken_promise(account_id: str, _folder: Path) -> None:
    """Rita promised 600.00 by March 16 and paid nothing: on the 26th the promise is broken and
    its line is on the worklist."""
    promise_add(
        account_id=account_id,
        amount=Decimal("600.00"),
        promised_on=TODAY.replace(day=16),
        on=TODAY.replace(day=12),
        actor="alice",
    )
    commitments_review(on=TODAY, actor="cycle")


VACATED = "2026-03-20"


def _moved_out(account_id: str, _folder: Path) -> None:
    moveout_record(
        account_id=account_id, on=date.fromisoformat(VACATED), actor="alice", today=TODAY
    )


def _disposed(account_id: str, folder: Path) -> None:
    _moved_out(account_id, folder)
    disposition_post(
        account_id=account_id,
        deductions=[Deduct("damage", Decimal("300.00"), "bedroom door")],
        on=TODAY,
        actor="alice",
    )


def _notice(account_id: str, _folder: Path) -> str:
    account = Account.objects.get(account_id=account_id)
    return notice_choices(account=account, on=TODAY).templates[0]


@dataclass(frozen=True)
class Letter:
    """A certified notice queued on a lease, the article number it is to be mailed with, and a
    folder for the manifest."""

    id: int
    number: str
    folder: Path

    def manifest(self) -> str:
        path = self.folder / f"manifest-L{self.id}.csv"
        path.write_text(f"letter_id,article_number\nL{self.id},{self.number}\n", encoding="utf-8")
        return str(path)

    def typed(self) -> str:
        """The article number as a clerk types it from the receipt, in groups of four."""
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


def _letter(account_id: str, folder: Path) -> Letter:
    queued = notice_send(
        account_id=account_id,
        template=_notice(account_id, folder),
        channel="certified_letter",
        on=TODAY,
        actor="alice",
    )
    # 19 digits and the check digit, whatever the letter's id (a long-lived test database's ids
    # run past three digits)
    payload = f"9407111898765{queued.outbound.pk % 1_000_000:06d}"
    return Letter(queued.outbound.pk, payload + str(usps_check_digit(payload)), folder)


def _coordinator_out(account_id: str, _folder: Path) -> str:
    """Olga, a coordinator of the lease's own (olga-CLI, olga-WEB, olga-API), who has it."""
    name = f"olga{account_id[1:]}"
    user_add(
        username=name,
        password="olga-works-elm-2026",
        role="coordinator",
        actor=OPERATOR,
        via="system",
    )
    assignment_set(username=name, target=Target("account", account_id), on=TODAY, actor="erin")
    return name


def _assigned(account_id: str, _folder: Path) -> None:
    assignment_set(username="alice", target=Target("account", account_id), on=TODAY, actor="erin")


def _coverage(account_id: str, folder: Path) -> int:
    """Olga (the lease's own coordinator) out until April 3, Alice covering."""
    name = _coordinator_out(account_id, folder)
    return coverage_add(
        out=name, backup="alice", starts_on=TODAY, ends_on=AWAY, note="", on=TODAY, actor="erin"
    ).pk


AWAY = TODAY.replace(month=4, day=3)
NOTE = "Rita says the rent comes with her paycheck on April 3"
FORWARD = "9 Pine Street, Apt 2, Albany, NY 12203"
WORDS = "I agree to texts about my rent account at this number."
NEW_CONTACT = {"phone": "(347) 555-0113", "address": "5 Oak Lane", "language": "es"}


def _lease_scan(account_id: str) -> bytes:
    """A signed lease as a one-page PDF, of each lease its own (the same size)."""
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": f"Lease of {account_id}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _scan_file(account_id: str, folder: Path) -> Path:
    path = folder / f"lease-{account_id}.pdf"
    path.write_bytes(_lease_scan(account_id))
    return path


def _upload(account_id: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"lease-{account_id}.pdf", _lease_scan(account_id))


def _consented(account_id: str, _folder: Path) -> None:
    consent_record(
        party_id=f"P{account_id[1:]}",
        channel="sms",
        granted=True,
        how="written",
        words=WORDS,
        actor="alice",
        on=TODAY,
    )


RESOLVED = {"outcome": "partial", "amount": "50.00", "note": "the move-out was on March 3"}
ACTS = [
    Act(
        "note.add",
        cli=lambda a, _: ["note", a, NOTE],
        web=lambda a, _: (f"/accounts/{a}/notes/", {"text": NOTE}),
        api=lambda a, _: (f"/api/accounts/{a}/notes", {"text": NOTE}),
    ),
    Act(
        "hold.place",
        cli=lambda a, _: [
            *("hold", a, "--reason", "cease", "--until", "2026-04-30", "--note", NOTE)
        ],
        web=lambda a, _: (
            f"/accounts/{a}/holds/",
            {"reason": "cease", "until": "2026-04-30", "note": NOTE, "party_id": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/holds",
            {"reason": "cease", "until": "2026-04-30", "note": NOTE},
        ),
    ),
    Act(
        "hold.release",
        setup=_hold,
        cli=lambda a, hold: ["release", a, "--hold", str(hold)],
        web=lambda a, hold: (f"/accounts/{a}/holds/{hold}/release/", {}),
        api=lambda a, hold: (f"/api/accounts/{a}/holds/{hold}/release", {}),
    ),
    Act(
        "referral.make",
        # the leases hold no lease nor notices: referred with the reason to send them without
        cli=lambda a, _: ["refer", a, "--firm", FIRM, "--note", NOTE, "--override", NOTE],
        web=lambda a, _: (
            f"/accounts/{a}/referrals/",
            {"firm": FIRM, "note": NOTE, "override": NOTE},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/referrals",
            {"firm": FIRM, "note": NOTE, "override": NOTE},
        ),
    ),
    Act(
        "case.update",
        setup=_case,
        cli=lambda a, case: [
            *("case", "update", str(case), "--status", "filed", "--on", "2026-03-26"),
            *("--index-number", "LT-301/26", "--court", "Kings County Housing Court"),
            *("--note", NOTE),
        ],
        web=lambda a, case: (
            f"/cases/{case}/update/",
            {
                "status": "filed",
                "on": "2026-03-26",
                "index_number": "LT-301/26",
                "court": "Kings County Housing Court",
                "note": NOTE,
            },
        ),
        api=lambda a, case: (
            f"/api/cases/{case}/updates",
            {
                "status": "filed",
                "on": "2026-03-26",
                "index_number": "LT-301/26",
                "court": "Kings County Housing Court",
                "note": NOTE,
            },
        ),
    ),
    Act(
        "settlement.offer",
        setup=_case,
        cli=lambda a, case: [
            *("settlement", "offer", str(case), "--amount", SETTLE_AMOUNT),
            *("--due", f"{SETTLE_DUE}:{SETTLE_AMOUNT}", "--note", NOTE),
        ],
        web=lambda a, case: (
            f"/cases/{case}/settlements/",
            {"amount": SETTLE_AMOUNT, "due_1": SETTLE_DUE, "pay_1": SETTLE_AMOUNT, "note": NOTE},
        ),
        api=lambda a, case: (
            f"/api/cases/{case}/settlements",
            {
                "amount": SETTLE_AMOUNT,
                "installments": [{"due_on": SETTLE_DUE, "amount": SETTLE_AMOUNT}],
                "note": NOTE,
            },
        ),
    ),
    Act(
        "settlement.approve",
        setup=_settlement,
        actor="dave",
        cli=lambda a, made: ["settlement", "approve", str(made[1])],
        web=lambda a, made: (f"/cases/{made[0]}/settlements/{made[1]}/approve/", {}),
        api=lambda a, made: (f"/api/cases/{made[0]}/settlements/{made[1]}/approve", {}),
    ),
    Act(
        "settlement.reject",
        setup=_settlement,
        actor="dave",
        cli=lambda a, made: ["settlement", "reject", str(made[1]), "--reason", NOTE],
        web=lambda a, made: (
            f"/cases/{made[0]}/settlements/{made[1]}/reject/",
            {"reason": NOTE},
        ),
        api=lambda a, made: (
            f"/api/cases/{made[0]}/settlements/{made[1]}/reject",
            {"reason": NOTE},
        ),
    ),
    Act(
        "payment.post",
        cli=lambda a, _: [
            *("payment", "post", a, "--amount", "400.00", "--on", "2026-03-25"),
            *("--reference", f"CHK-{a}", "--memo", NOTE),
        ],
        web=lambda a, _: (
            f"/accounts/{a}/payments/",
            {"amount": "400.00", "on": "2026-03-25", "reference": f"CHK-{a}", "memo": NOTE},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/payments",
            {"amount": "400.00", "on": "2026-03-25", "reference": f"CHK-{a}", "memo": NOTE},
        ),
    ),
    Act(
        "writeoff.post",
        actor="dave",
        cli=lambda a, _: ["writeoff", a, "--amount", "1200.00", "--reason", NOTE],
        web=lambda a, _: (f"/accounts/{a}/writeoffs/", {"amount": "1200.00", "reason": NOTE}),
        api=lambda a, _: (
            f"/api/accounts/{a}/writeoffs",
            {"amount": "1200.00", "reason": NOTE},
        ),
    ),
    Act(
        "worklist.snooze",
        setup=_broken_promise,
        cli=lambda a, _: [
            *("worklist", "snooze", a, "--kind", "broken_promise", "--until", "2026-04-03"),
            *("--reason", NOTE),
        ],
        web=lambda a, _: (
            "/today/snooze/",
            {"account_id": a, "kind": "broken_promise", "until": "2026-04-03", "reason": NOTE},
        ),
        api=lambda a, _: (
            "/api/worklist/snooze",
            {"account_id": a, "kind": "broken_promise", "until": "2026-04-03", "reason": NOTE},
        ),
    ),
    Act(
        "worklist.dismiss",
        setup=_broken_promise,
        cli=lambda a, _: ["worklist", "dismiss", a, "--kind", "broken_promise", "--reason", NOTE],
        web=lambda a, _: (
            "/today/dismiss/",
            {"account_id": a, "kind": "broken_promise", "reason": NOTE},
        ),
        api=lambda a, _: (
            "/api/worklist/dismiss",
            {"account_id": a, "kind": "broken_promise", "reason": NOTE},
        ),
    ),
    Act(
        "call.log",  # a call in which the tenant promised 400.00 by April 3: both recorded
        cli=lambda a, _: [
            *("call", "log", a, "--party", f"P{a[1:]}", "--outcome", "promise"),
            *("--at", "2026-03-26T11:00", "--note", NOTE),
            *("--promise-amount", "400.00", "--promise-date", "2026-04-03"),
        ],
        web=lambda a, _: (
            f"/accounts/{a}/calls/",
            {"party_id": f"P{a[1:]}", "outcome": "promise", "at": "2026-03-26T11:00", "note": NOTE}
            | {"promise_amount": "400.00", "promise_on": "2026-04-03"},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/calls",
            {"party_id": f"P{a[1:]}", "outcome": "promise", "at": "2026-03-26T11:00", "note": NOTE}
            | {"promise_amount": "400.00", "promise_on": "2026-04-03"},
        ),
    ),
    Act(
        "promise.record",
        cli=lambda a, _: ["promise", "add", a, "--amount", "400.00", "--date", "2026-04-03"],
        web=lambda a, _: (
            f"/accounts/{a}/promises/",
            {"amount": "400.00", "promised_on": "2026-04-03", "party_id": "", "channel": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/promises",
            {"amount": "400.00", "promised_on": "2026-04-03"},
        ),
    ),
    Act(
        "plan.create",
        cli=lambda a, _: ["plan", "create", a, "--start", "2026-04-01", "--installments", "3"],
        web=lambda a, _: (
            f"/accounts/{a}/plans/",
            {"start": "2026-04-01", "installments": "3", "frequency": "monthly", "down": ""},
        ),
        api=lambda a, _: (f"/api/accounts/{a}/plans", {"start": "2026-04-01", "installments": 3}),
    ),
    Act(
        "plan.cancel",
        setup=_plan,
        cli=lambda a, plan: ["plan", "cancel", str(plan), "--reason", "she moved out"],
        web=lambda a, plan: (f"/accounts/{a}/plans/{plan}/cancel/", {"reason": "she moved out"}),
        api=lambda a, plan: (
            f"/api/accounts/{a}/plans/{plan}/cancel",
            {"reason": "she moved out"},
        ),
    ),
    Act(
        "dispute.open",
        cli=lambda a, _: [
            *("dispute", "open", a, "--charge", f"RENT-{a}", "--reason", "moved out")
        ],
        web=lambda a, _: (
            f"/accounts/{a}/disputes/",
            {"reason": "moved out", "charges": [f"RENT-{a}"], "party_id": "", "channel": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/disputes",
            {"reason": "moved out", "charges": [f"RENT-{a}"]},
        ),
    ),
    Act(
        "dispute.resolve",
        setup=_dispute,
        cli=lambda a, d: [
            *("dispute", "resolve", str(d), "--outcome", "partial", "--amount", "50.00"),
            *("--note", RESOLVED["note"]),
        ],
        web=lambda a, d: (f"/accounts/{a}/disputes/{d}/resolve/", RESOLVED),
        api=lambda a, d: (f"/api/accounts/{a}/disputes/{d}/resolve", RESOLVED),
    ),
    Act(
        "notice.send",
        setup=_notice,
        cli=None,  # no command sends a notice now: the daily run sends the policy's
        web=lambda a, t: (
            f"/accounts/{a}/notices/",
            {"template": t, "channel": "letter", "party_id": ""},
        ),
        api=lambda a, t: (f"/api/accounts/{a}/notices", {"template": t, "channel": "letter"}),
    ),
    Act(
        "statement.send",
        setup=lambda a, folder: folder,
        cli=lambda a, out: ["statement", a, "--output", str(out / f"statement-{a}.pdf")],
        web=lambda a, _: (f"/accounts/{a}/statement/", {}),
        api=lambda a, _: (f"/api/accounts/{a}/statement", {"email": False}),
    ),
    Act(
        "party.update",
        cli=lambda a, _: [
            *("party", "update", f"P{a[1:]}", "--phone", NEW_CONTACT["phone"]),
            *("--address", NEW_CONTACT["address"], "--language", NEW_CONTACT["language"]),
        ],
        web=lambda a, _: (f"/accounts/{a}/parties/P{a[1:]}/", NEW_CONTACT),
        api=lambda a, _: (f"/api/parties/P{a[1:]}", NEW_CONTACT),
    ),
    Act(
        "consent.grant",
        cli=lambda a, _: [
            *("consent", "grant", f"P{a[1:]}", "--channel", "sms", "--how", "written"),
            *("--words", WORDS),
        ],
        web=lambda a, _: (
            f"/accounts/{a}/parties/P{a[1:]}/consent/",
            {"act": "grant", "channel": "sms", "how": "written", "words": WORDS},
        ),
        api=lambda a, _: (
            f"/api/parties/P{a[1:]}/consents",
            {"channel": "sms", "how": "written", "words": WORDS},
        ),
    ),
    Act(
        "consent.withdraw",
        setup=_consented,
        cli=lambda a, _: [
            *("consent", "withdraw", f"P{a[1:]}", "--channel", "sms", "--how", "reply"),
            *("--words", "STOP"),
        ],
        web=lambda a, _: (
            f"/accounts/{a}/parties/P{a[1:]}/consent/",
            {"act": "withdraw", "channel": "sms", "how": "reply", "words": "STOP"},
        ),
        api=lambda a, _: (
            f"/api/parties/P{a[1:]}/consents/withdraw",
            {"channel": "sms", "how": "reply", "words": "STOP"},
        ),
    ),
    Act(
        "document.add",
        setup=_scan_file,
        cli=lambda a, path: ["document", "add", a, str(path), "--title", "Signed lease"],
        web=lambda a, _: (
            f"/accounts/{a}/documents/add/",
            {"title": "Signed lease", "file": _upload(a)},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/documents",
            {"title": "Signed lease", "file": _upload(a)},
        ),
    ),
    Act(
        "letters.mailed",
        setup=_letter,
        printed=True,
        verb="letters.manage",
        detail_differs=frozenset({"manifest", "mailed"}),
        cli=lambda a, letter: [
            *("letters", "mailed", "--manifest", letter.manifest(), "--date", "2026-03-26")
        ],
        web=lambda a, letter: (
            "/letters/mailed/",
            {"lines": f"L{letter.id} {letter.typed()}", "on": "2026-03-26"},
        ),
        api=None,  # no route records mailing
    ),
    Act(
        "letters.returned",
        setup=_letter,
        printed=True,
        verb="letters.manage",
        cli=lambda a, letter: ["letters", "returned", f"L{letter.id}", "--reason", "moved"],
        web=lambda a, letter: (
            "/letters/returned/",
            {"letter": f"L{letter.id}", "reason": "moved"},
        ),
        api=None,  # no route records a return
    ),
    Act(
        "assignment.add",
        cli=lambda a, _: ["assign", "alice", "--account", a],
        web=lambda a, _: ("/assignments/", {"user": "alice", "kind": "account", "code": a}),
        api=lambda a, _: ("/api/assignments", {"user": "alice", "account_id": a}),
    ),
    Act(
        "assignment.remove",
        setup=_assigned,
        cli=lambda a, _: ["unassign", "--account", a],
        web=lambda a, _: ("/assignments/remove/", {"kind": "account", "code": a}),
        api=lambda a, _: ("/api/assignments/remove", {"account_id": a}),
    ),
    Act(
        "coverage.add",
        setup=_coordinator_out,
        actor="erin",
        cli=lambda a, olga: [
            *("coverage", "add", olga, "--backup", "alice", "--from", TODAY.isoformat()),
            *("--to", AWAY.isoformat(), "--note", NOTE),
        ],
        web=lambda a, olga: (
            "/assignments/coverage/",
            {"out": olga, "backup": "alice", "from": TODAY, "to": AWAY, "note": NOTE},
        ),
        api=lambda a, olga: (
            "/api/coverage",
            {
                "out": olga,
                "backup": "alice",
                "starts_on": str(TODAY),
                "ends_on": str(AWAY),
                "note": NOTE,
            },
        ),
    ),
    Act(
        "moveout.record",
        cli=lambda a, _: ["moveout", a, "--on", VACATED, "--forwarding-address", FORWARD],
        web=lambda a, _: (
            f"/accounts/{a}/moveout/",
            {"on": VACATED, "forwarding_address": FORWARD, "party_id": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/moveout",
            {"on": VACATED, "forwarding_address": FORWARD},
        ),
    ),
    Act(
        "deposit.dispose",
        setup=_moved_out,
        cli=lambda a, _: ["deposit", "dispose", a, "--deduct", "damage:300.00:bedroom door"],
        web=lambda a, _: (
            f"/accounts/{a}/deposit/",
            {"code_1": "damage", "amount_1": "300.00", "text_1": "bedroom door"},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/deposit/disposition",
            {"deductions": [{"code": "damage", "amount": "300.00", "text": "bedroom door"}]},
        ),
    ),
    Act(
        "deposit.statement",
        setup=_disposed,
        cli=lambda a, _: ["deposit", "statement", a],
        web=lambda a, _: (f"/accounts/{a}/deposit/statement/", {}),
        api=lambda a, _: (f"/api/accounts/{a}/deposit/statement", {}),
    ),
    Act(
        "coverage.end",
        setup=_coverage,
        actor="erin",
        cli=lambda a, n: ["coverage", "end", str(n)],
        web=lambda a, n: (f"/assignments/coverage/{n}/end/", {}),
        api=lambda a, n: (f"/api/coverage/{n}/end", {}),
    ),
]


def _do(interface: str, act: Act, account_id: str, given: Any, people: Any, token: str) -> None:
    if interface == "cli":
        assert act.cli is not None
        assert main(["--as", act.actor, *act.cli(account_id, given)]) == 0
        return
    if interface == "web":
        assert act.web is not None
        url, form = act.web(account_id, given)
        # (a page that answers a change by going back to itself is followed there)
        response = signed_in(people[act.actor]).post(url, form, HTTP_HX_REQUEST="true", follow=True)
    else:
        assert act.api is not None
        url, body = act.api(account_id, given)
        if any(isinstance(v, SimpleUploadedFile) for v in body.values()):  # multipart
            response = Client().post(url, body, HTTP_AUTHORIZATION=f"Bearer {token}")
        else:
            response = Client().post(
                url,
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
    # (the record's forms answer a change with a redirect back to the account page)
    assert response.status_code in (200, 201, 302), response.content.decode()[:500]
    if interface == "web":
        assert b'class="error"' not in response.content, response.content.decode()[:2000]


def _rows(account_id: str, tag: str, audit: list[dict[str, Any]], act: Act) -> dict[str, Any]:
    """What the act wrote on one lease, and its audit rows, made generic."""
    mine = {"account__account_id": account_id}
    tables: dict[str, Any] = {
        "transactions": Transaction.objects.filter(**mine),
        "actions": Action.objects.filter(**mine),
        "outbound": Outbound.objects.filter(**mine),
        "timeline": TimelineEvent.objects.filter(**mine),
        "holds": Hold.objects.filter(**mine),
        "promises": Promise.objects.filter(**mine),
        "plans": Plan.objects.filter(**mine),
        "disputes": Dispute.objects.filter(**mine),
        "referrals": Referral.objects.filter(**mine),
        "case_events": CaseEvent.objects.filter(case__account__account_id=account_id),
        "settlements": Settlement.objects.filter(**mine),
        "settlement_lines": SettlementInstallment.objects.filter(
            settlement__account__account_id=account_id
        ),
        "writeoffs": WriteOff.objects.filter(**mine),
        "worklist": WorklistSnooze.objects.filter(**mine),
        "returned": ReturnedMail.objects.filter(**mine),
        "parties": Party.objects.filter(account_parties__account__account_id=account_id),
        "consents": Consent.objects.filter(party__account_parties__account__account_id=account_id),
        "assignments": Assignment.objects.filter(**mine),
        "coverage": Coverage.objects.filter(user_out__username=f"olga-{tag}"),
        "moveouts": MoveOut.objects.filter(**mine),
        "dispositions": Disposition.objects.filter(**mine),
        "deductions": Deduction.objects.filter(disposition__account__account_id=account_id),
    }
    rows = {name: list(query.order_by("id").values()) for name, query in tables.items()}
    # (a write-off's id is no part of its txn_id, WO-<lease>-<n>, whose n is the lease's own)
    own = ("holds", "plans", "disputes", "promises", "referrals", "outbound", "settlements")
    ids = {r["id"] for name in own for r in rows[name]}
    written = generic(json.loads(json.dumps(rows, default=str)), tag, ids)
    return {**written, "audit": audit_generic(audit, tag, ids, act.detail_differs)}


@pytest.fixture
def leases(people: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    book_import(_leases(tmp_path / "leases"))
    monkeypatch.delenv("ARREARS_USER", raising=False)


@pytest.mark.parametrize("act", ACTS, ids=[a.name for a in ACTS])
def test_an_act_done_by_the_cli_the_page_and_the_api_writes_the_same_rows(
    act: Act, leases: None, people: Any, tokens: Any, tmp_path: Any
) -> None:
    # given three equal leases, each with what the act works on
    offered = [i for i in INTERFACES if getattr(act, i) is not None]
    assert len(offered) >= 2, "an act of one interface has nothing to be compared with"
    given = {i: act.setup(LEASE[i], tmp_path) for i in offered}
    if act.printed:
        letters_print(on=TODAY, output=tmp_path / "print", actor="alice", workers=1)
    # when Alice does it once through each interface
    audit = {}
    for interface in offered:
        last = audit_last()
        _do(interface, act, LEASE[interface], given[interface], people, tokens[act.actor])
        audit[interface] = audit_since(last, act.verb or act.name)
    # then each lease has the same rows written, apart from who did it and through what
    rows = {i: _rows(LEASE[i], TAG[i], audit[i], act) for i in offered}
    first = rows[offered[0]]
    assert first["audit"], f"{act.name} wrote no audit row"
    for interface in offered[1:]:
        for table, written in first.items():
            assert rows[interface][table] == written, f"{act.name}: {interface} {table}"
    # and a letter is mailed with the article number given (each lease's own: generic above)
    if act.name == "letters.mailed":
        for interface in offered:
            letter = given[interface]
            assert Outbound.objects.get(pk=letter.id).article_number == letter.number
    # and the audit says who, through which interface
    vias = {i: [(row["username"], row["via"]) for row in audit[i]] for i in offered}
    assert vias == {i: [(act.actor, i)] for i in offered}
