"""The papers a coordinator's act sends, and the monthly statement, end to end: Tina's plan
agreement emailed for acceptance through a real SMTP server (aiosmtpd), the answers to her
disputes printed by the letters batch (the analysis enclosed with a rejection), the guard's
refusals, and the patient's and the student's monthly statements queued by the daily run.

Tina Ortiz rents 3B at Elm Court, Brooklyn; Greg guarantees. Pat Quinn is a patient of the
clinic, Sam Lee a student. Alice types the commands; today is March 7, 2026.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone as dj_timezone
from pypdf import PdfReader

from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.correspondence.archive import archive_read
from arrears.correspondence.mail_out import Sender, message_id_for, parse_email_url
from arrears.correspondence.models import Outbound, ReturnedMail
from arrears.correspondence.rendering import outbound_message
from arrears.correspondence.selectors import party_address_key
from arrears.correspondence.services import letters_batch
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.dunning.contact import emails_send
from arrears.dunning.documents import dispute_resolve
from arrears.dunning.models import Action
from arrears.dunning.services import cycle_run, hold_place, hold_release
from arrears.dunning.tests.test_contact import _zone_at_noon
from arrears.ledger.models import Account, Party, TimelineEvent, Transaction

NY = ZoneInfo("America/New_York")
MARCH_7 = date(2026, 3, 7)
APRIL_1 = date(2026, 4, 1)
DOMAIN = "elmcourt.example"
LATE_FEE = {
    "txn_id": "T-LATE-03",
    "account_id": "A-TINA",
    "posted": "2026-03-06",
    "type": "charge",
    "code": "LATE",
    "amount": "50.00",
    "due": "2026-03-06",
}


@pytest.fixture(autouse=True)
def archive(tmp_path: Path, settings) -> Path:
    folder = tmp_path / "archive"
    settings.STORAGES = {
        **settings.STORAGES,
        "archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    settings.ARREARS_MAIL_FROM = f"rent@{DOMAIN}"
    settings.ARREARS_MAIL_DOMAIN = DOMAIN
    return folder


@pytest.fixture
def smtp(smtp, settings):
    """The conftest's SMTP server, named by EMAIL_URL (the plan agreement reads the setting)."""
    settings.EMAIL_URL = smtp.url
    return smtp


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def test_the_plan_agreement_is_emailed_once_in_spanish_with_its_pdf_and_a_stable_message_id(
    tina_lease, smtp, capsys
):
    # given Tina's plan of 1,000.00 in three, and Tina where it is noon now
    account = tina_lease(rent="1000.00")
    Party.objects.filter(party_id="P-TINA").update(timezone=_zone_at_noon())
    plan = plan_create(
        account_id=account,
        on=MARCH_7,
        actor="alice",
        start=APRIL_1,
        installments=3,
        party_id="P-TINA",
    )
    # when Alice sends it for acceptance in Spanish (the plan in good standing does not stop it)
    assert main(["plan", "send", str(plan.pk), "--language", "es"]) == 0
    out = capsys.readouterr().out
    # then one email reached Tina, with the agreement attached and the opt-out line
    assert "emailed to tina@example.org for acceptance" in out
    [got] = smtp.received
    key = f"A-TINA:plan-agreement:{plan.pk}:P-TINA"
    assert got.rcpt_tos == ["tina@example.org"]
    assert got.message["Message-ID"] == message_id_for(key, DOMAIN)
    assert got.message["Subject"] == "Su acuerdo de plan de pagos"
    assert "STOP" in got.message.get_body(("plain",)).get_content()
    [pdf] = got.message.iter_attachments()
    assert pdf.get_filename() == f"plan-{plan.pk}-es.pdf"
    text = pdf_text(pdf.get_content())
    assert "Acuerdo de plan de pagos" in text
    assert "333.34" in text
    # and the message is archived, the plan and the timeline record it
    row = Outbound.objects.get(key=key)
    assert row.status == "sent"
    assert row.document is not None
    assert got.message["Message-ID"] in archive_read(row.document).decode()
    plan.refresh_from_db()
    assert plan.sent_to == "tina@example.org"
    assert plan.agreement_sha256 == hashlib.sha256(pdf.get_content()).hexdigest()
    event = TimelineEvent.objects.get(kind="plan.sent_for_acceptance")
    assert (event.detail["status"], event.detail["message_id"]) == ("sent", row.message_id)
    assert TimelineEvent.objects.get(kind="email.sent").detail["document"] == row.document_name
    # when she asks again, nothing more is sent
    assert main(["plan", "send", str(plan.pk)]) == 2
    assert "already sent to tina@example.org" in capsys.readouterr().err
    assert len(smtp.received) == 1


def test_a_request_to_cease_stops_the_agreement_until_it_is_released(tina_lease, smtp, capsys):
    # given Tina's plan, and her written request that contact cease (15 USC §1692c(c))
    account = tina_lease(rent="1000.00")
    Party.objects.filter(party_id="P-TINA").update(timezone=_zone_at_noon())
    plan = plan_create(account_id=account, on=MARCH_7, actor="alice", start=APRIL_1, installments=3)
    hold = hold_place(account_id=account, reason="cease", on=MARCH_7, actor="alice")
    # when Alice sends the agreement
    assert main(["plan", "send", str(plan.pk)]) == 2
    # then the guard refused it: nothing went, the plan is not marked sent, the refusal is kept
    assert "hold:cease" in capsys.readouterr().err
    assert smtp.received == []
    plan.refresh_from_db()
    assert plan.sent_for_acceptance_at is None
    assert TimelineEvent.objects.get(kind="email.refused").detail["rule"] == "hold:cease"
    # when the hold is released and she sends it again, it goes, as a new email of its own
    hold_release(account_id=account, hold_id=hold.pk, actor="alice", on=MARCH_7)
    assert main(["plan", "send", str(plan.pk)]) == 0
    [got] = smtp.received
    key = f"A-TINA:plan-agreement:{plan.pk}:P-TINA#2"
    assert got.message["Message-ID"] == message_id_for(key, DOMAIN)


def test_plan_send_without_email_url_says_so(tina_lease, settings, capsys):
    account = tina_lease(rent="1000.00")
    plan = plan_create(account_id=account, on=MARCH_7, actor="alice", start=APRIL_1, installments=3)
    settings.EMAIL_URL = ""
    assert main(["plan", "send", str(plan.pk)]) == 2
    assert "EMAIL_URL is not set" in capsys.readouterr().err
    assert not Outbound.objects.exists()


def test_an_upheld_dispute_queues_a_letter_that_says_so_and_the_batch_prints_it(
    tina_lease, tmp_path, capsys
):
    # given Tina disputes the 50.00 late fee
    account = tina_lease(transactions=[LATE_FEE])
    dispute = dispute_open(
        account_id=account,
        charges=["T-LATE-03"],
        reason="the fee is wrong",
        on=MARCH_7,
        actor="alice",
        party_id="P-TINA",
    )
    # when Alice upholds it
    assert (
        main(["dispute", "resolve", str(dispute.pk), "--outcome", "upheld", "--format", "json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    # then the credit is posted and the letter queued, its document named and on the timeline
    assert Transaction.objects.get(txn_id=f"DSP-{dispute.pk}-T-LATE-03").amount == Decimal("50")
    assert (doc["letter"], doc["channel"], doc["credited"]) == ("dispute-upheld", "letter", "50.00")
    assert doc["document"].startswith("letters/2026/03/07/A-TINA-dispute-answer-P-TINA-")
    queued = TimelineEvent.objects.get(kind="letter.queued")
    assert queued.detail["document"] == doc["document"]
    # when the day's letters are printed
    batch = letters_batch(on=MARCH_7, output=tmp_path / "print", actor="alice", workers=1)
    # then the answer is among them, under that name, and says the credit was posted
    [line] = batch.letters
    assert line["document"] == doc["document"]
    outbound = Outbound.objects.get(pk=doc["letter_id"])
    assert outbound.document is not None
    text = " ".join(pdf_text(archive_read(outbound.document)).split())
    assert "Tina Ortiz" in text
    assert "the fee is wrong" in text
    assert "We agree with you" in text
    assert "$50.00" in text
    assert "T-LATE-03" in text
    assert "$1,200.00" in text  # March's rent, still due after the credit


def test_a_rejected_dispute_is_answered_in_spanish_with_the_account_analysis_enclosed(
    tina_lease, tmp_path
):
    # given Tina reads Spanish and disputes the whole balance
    account = tina_lease(transactions=[LATE_FEE])
    Party.objects.filter(party_id="P-TINA").update(language="es")
    dispute = dispute_open(
        account_id=account, reason="no debo nada", on=MARCH_7, actor="alice", party_id="P-TINA"
    )
    # when Alice rejects it, and the letters are printed
    answered = dispute_resolve(
        dispute_id=dispute.pk, outcome="rejected", on=MARCH_7, actor="alice", note="per the lease"
    )
    letters_batch(on=MARCH_7, output=tmp_path / "print", actor="alice", workers=1)
    # then the Spanish answer is printed, the analysis archived and enclosed after it
    assert answered.outbound is not None
    assert answered.enclosure.startswith("analyses/2026/03/07/A-TINA-dispute-")
    outbound = Outbound.objects.get(pk=answered.outbound.pk)
    assert (outbound.template, outbound.language, outbound.status) == (
        "dispute-rejected",
        "es",
        "rendered",
    )
    assert outbound.document is not None
    letter, *enclosed = pages(archive_read(outbound.document))
    assert "Hemos comprobado que los cargos reclamados son correctos" in " ".join(letter.split())
    assert "$1,250.00" in letter
    assert enclosed
    assert "Account analysis: A-TINA" in enclosed[0]
    assert "T-LATE-03" in "".join(enclosed)


def test_a_partly_upheld_dispute_says_what_was_credited_and_what_remains(tina_lease):
    # given Tina disputes the whole 1,250.00
    account = tina_lease(transactions=[LATE_FEE])
    dispute = dispute_open(
        account_id=account,
        reason="the fee and part of March",
        on=MARCH_7,
        actor="alice",
        party_id="P-TINA",
    )
    # when Alice upholds 50.00 of it
    answered = dispute_resolve(
        dispute_id=dispute.pk, outcome="partial", amount=Decimal("50.00"), on=MARCH_7, actor="alice"
    )
    # then the queued letter says what was credited and what remains due, with no enclosure
    assert answered.outbound is not None
    assert answered.enclosure == ""
    text = " ".join(outbound_message(answered.outbound).text.split())
    assert "We agree with you in part. Of the $1,250.00 you disputed, a credit of $50.00" in text
    assert "the rest, $1,200.00, remains due" in text


def test_an_answer_to_a_represented_tenant_is_not_queued_but_the_resolution_stands(
    tina_lease, capsys
):
    # given Tina disputes the fee, and is represented by an attorney (15 USC §1692c(a)(2))
    account = tina_lease(transactions=[LATE_FEE])
    dispute = dispute_open(
        account_id=account,
        charges=["T-LATE-03"],
        reason="wrong",
        on=MARCH_7,
        actor="alice",
        party_id="P-TINA",
    )
    hold_place(
        account_id=account, reason="represented", on=MARCH_7, actor="alice", party_id="P-TINA"
    )
    # when the dispute is upheld
    assert main(["dispute", "resolve", str(dispute.pk), "--outcome", "upheld"]) == 0
    # then the credit is posted, but no letter queued: the refusal is on the timeline
    assert "the answer was NOT queued: hold:represented" in capsys.readouterr().out
    assert Transaction.objects.filter(txn_id=f"DSP-{dispute.pk}-T-LATE-03").exists()
    assert not Outbound.objects.exists()
    refused = TimelineEvent.objects.get(kind="letter.refused")
    assert refused.detail["rule"] == "hold:represented"


def test_an_answer_goes_by_email_when_mail_to_the_address_came_back(tina_lease, smtp):
    # given Tina's letters came back from her address, and she disputes the fee
    account = tina_lease(transactions=[LATE_FEE])
    tina = Party.objects.get(party_id="P-TINA")
    lease = Account.objects.get(account_id=account)
    ReturnedMail.objects.create(
        party=tina,
        account=lease,
        address_key=party_address_key(tina, lease, "primary"),
        address="12 Elm Street, Apt 3B",
        returned_on=MARCH_7,
        recorded_by="alice",
        recorded_at=dj_timezone.now(),
    )
    dispute = dispute_open(
        account_id=account,
        charges=["T-LATE-03"],
        reason="wrong",
        on=MARCH_7,
        actor="alice",
        party_id="P-TINA",
    )
    # when Alice rejects it, and the emails are sent at 10:00 in Brooklyn
    answered = dispute_resolve(dispute_id=dispute.pk, outcome="rejected", on=MARCH_7, actor="alice")
    assert answered.outbound is not None
    assert answered.outbound.channel == "email"
    run = emails_send(
        on=MARCH_7,
        settings=parse_email_url(smtp.url),
        sender=Sender(f"rent@{DOMAIN}", "Elm Court", DOMAIN),
        now=lambda: datetime(2026, 3, 7, 10, 0, tzinfo=NY),
    )
    # then the answer was emailed once, the letter and the analysis attached
    key = answered.outbound.key
    assert run.report.sent == [key]
    [got] = smtp.received
    assert got.message["Message-ID"] == message_id_for(key, DOMAIN)
    names = [a.get_filename() for a in got.message.iter_attachments()]
    assert names[0] == "dispute-rejected.pdf"
    assert names[1] == Path(answered.enclosure).name
    analysis = list(got.message.iter_attachments())[1]
    assert "Account analysis: A-TINA" in pdf_text(analysis.get_content())
    # and a second pass sends nothing
    emails_send(
        on=MARCH_7,
        settings=parse_email_url(smtp.url),
        sender=Sender(f"rent@{DOMAIN}", "Elm Court", DOMAIN),
        now=lambda: datetime(2026, 3, 7, 10, 5, tzinfo=NY),
    )
    assert len(smtp.received) == 1


@pytest.fixture
def patient(load_book: Callable[..., Path]) -> str:
    """Pat Quinn owes the clinic 300.00 for a visit due March 20, 2026; Rob Quinn guarantees."""
    load_book(
        parties=[
            {
                "party_id": "P-PAT",
                "name": "Pat Quinn",
                "email": "pat@example.org",
                "address": "7 Clinic Road",
                "city": "Albany",
                "state": "NY",
                "postal_code": "12207",
                "country": "US",
                "timezone": "America/New_York",
            },
            {
                "party_id": "P-ROB",
                "name": "Rob Quinn",
                "address": "9 Clinic Road",
                "city": "Albany",
                "state": "NY",
                "postal_code": "12207",
                "country": "US",
            },
        ],
        accounts=[{"account_id": "H-PAT", "kind": "patient", "opened": "2026-03-01"}],
        account_parties=[
            {"account_id": "H-PAT", "party_id": "P-PAT", "role": "primary"},
            {"account_id": "H-PAT", "party_id": "P-ROB", "role": "guarantor"},
        ],
        transactions=[
            {
                "txn_id": "V-1",
                "account_id": "H-PAT",
                "posted": "2026-03-01",
                "type": "charge",
                "code": "VISIT",
                "amount": "300.00",
                "due": "2026-03-20",
            }
        ],
    )
    return "H-PAT"


@pytest.fixture
def student(load_book: Callable[..., Path]) -> str:
    """Sam Lee owes 4,000.00 of tuition due March 15, 2026."""
    load_book(
        parties=[
            {
                "party_id": "P-SAM",
                "name": "Sam Lee",
                "email": "sam@example.edu",
                "address": "1 College Walk",
                "city": "Ithaca",
                "state": "NY",
                "postal_code": "14850",
                "country": "US",
                "timezone": "America/New_York",
            }
        ],
        accounts=[{"account_id": "S-SAM", "kind": "student", "opened": "2025-09-01"}],
        account_parties=[{"account_id": "S-SAM", "party_id": "P-SAM", "role": "primary"}],
        transactions=[
            {
                "txn_id": "TU-1",
                "account_id": "S-SAM",
                "posted": "2026-03-01",
                "type": "charge",
                "code": "TUITION",
                "amount": "4000.00",
                "due": "2026-03-15",
            }
        ],
    )
    return "S-SAM"


def test_the_patients_monthly_statement_is_queued_once_a_month_with_the_statement_enclosed(
    patient, settings, tmp_path, capsys, book_clock
):
    settings.EMAIL_URL = ""
    # when, on April 1, the day's run runs twice
    book_clock(date(2026, 4, 1))
    assert main(["run", "--date", "2026-04-01", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert main(["run", "--date", "2026-04-01", "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    # then one monthly statement letter each for Pat and Rob, keyed by the month, their
    # documents named in the JSON
    entries = {a["party_id"]: a for a in doc["actions"] if a["step"] == "monthly-statement"}
    assert set(entries) == {"P-PAT", "P-ROB"}
    entry = entries["P-PAT"]
    assert (entry["channel"], entry["template"]) == ("letter", "monthly-statement")
    assert entry["document"].startswith("letters/2026/04/01/H-PAT-monthly-statement-P-PAT-")
    assert again["actions"] == []
    action = Action.objects.get(step="monthly-statement", party__party_id="P-PAT")
    assert action.key == "H-PAT:monthly-statement:2026-04:P-PAT"
    assert action.document == entry["document"]
    # and later in April nothing more; on May 1, May's
    cycle_run(on=date(2026, 4, 20))
    assert Action.objects.filter(step="monthly-statement").count() == 2
    cycle_run(on=date(2026, 5, 1))
    keys = Action.objects.filter(step="monthly-statement", party__party_id="P-PAT")
    assert set(keys.values_list("key", flat=True)) == {
        "H-PAT:monthly-statement:2026-04:P-PAT",
        "H-PAT:monthly-statement:2026-05:P-PAT",
    }
    # when April 1's letters are printed by two worker processes
    batch = letters_batch(on=APRIL_1, output=tmp_path / "print", actor="alice", workers=2)
    # then each cover letter is followed by the statement of account, in one document
    assert sorted(line["document"] for line in batch.letters) == sorted(
        e["document"] for e in entries.values()
    )
    for party_id, name in (("P-PAT", "Pat Quinn"), ("P-ROB", "Rob Quinn")):
        outbound = Outbound.objects.get(document_name=entries[party_id]["document"])
        assert outbound.document is not None
        letter, *enclosed = pages(archive_read(outbound.document))
        assert name in letter
        assert "monthly statement" in letter
        assert "Financial assistance may be available" in " ".join(letter.split())
        assert "Statement of account H-PAT" in enclosed[0]
        assert "300.00" in enclosed[0]
    # and the statement was rendered and archived once for the two letters
    rendered = TimelineEvent.objects.filter(kind="statement.rendered", account__account_id="H-PAT")
    assert rendered.count() == 1
    assert len(pages((batch.print_file or Path()).read_bytes())) == 2 * (1 + len(enclosed))


def test_the_students_monthly_statement_is_emailed_once_with_the_statement_attached(student, smtp):
    # given the run of April 1 (the student policy emails its monthly statement)
    cycle_run(on=APRIL_1)
    cycle_run(on=APRIL_1)
    action = Action.objects.get(step="monthly-statement")
    assert (action.channel, action.status) == ("email", "queued")
    # when the emails are sent at 10:00 in New York, twice
    for minute in (0, 5):
        at = datetime(2026, 4, 1, 10, minute, tzinfo=NY)
        emails_send(
            on=APRIL_1,
            settings=parse_email_url(smtp.url),
            sender=Sender(f"rent@{DOMAIN}", "", DOMAIN),
            now=lambda at=at: at,
        )
    # then Sam got one email, the cover letter and the statement attached
    [got] = [r for r in smtp.received if "monthly statement" in str(r.message["Subject"])]
    assert got.rcpt_tos == ["sam@example.edu"]
    assert got.message["Message-ID"] == message_id_for(action.key, DOMAIN)
    attachments = {a.get_filename(): a for a in got.message.iter_attachments()}
    assert set(attachments) == {"monthly-statement.pdf", "statement-S-SAM-2026-04-01.pdf"}
    statement = pdf_text(attachments["statement-S-SAM-2026-04-01.pdf"].get_content())
    assert "Statement of account S-SAM" in statement
    assert "4,000.00" in statement
    action.refresh_from_db()
    assert action.status == "done"
