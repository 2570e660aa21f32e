"""Referral readiness and the case file (issue 17, items 2 and 3), on both databases.

Tina Ortiz (A-TINA, Elm Court, Brooklyn NY; her brother Greg guarantees the lease) leaves March's
rent of 1,200.00 unpaid: the run sends the certified late-rent notice (RPL §235-e(d)) and the
guarantor's on the 7th, the 14-day demand (RPAPL §711(2)) on the 11th, each printed and mailed
that day. Alice agrees a plan on the 20th; April's installment is missed, the plan breaks on
April 7 and the policy recommends a referral. The lease and the broken-plan notice are on the
account already. The checklist then lacks one thing: the proof of service of the demand. Alice
adds it; the case file goes to Hale & Co (carol's firm), by email too; another firm's attorney
cannot fetch it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfWriter

from arrears.access.models import AuditEntry
from arrears.access.services import token_issue, user_add
from arrears.access.tests.people import FIRM, OPERATOR, PASSWORD, signed_in
from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.correspondence.archive import archive_read, sha256_of
from arrears.correspondence.certified import usps_check_digit
from arrears.correspondence.mailing import letters_mailed
from arrears.correspondence.models import Document, Outbound
from arrears.correspondence.uploads import document_add
from arrears.dunning.commitments import plan_create
from arrears.dunning.models import Action
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent
from arrears.legal.models import Firm, Referral

pytestmark = pytest.mark.django_db

MARCH_7, MARCH_11, MARCH_20 = date(2026, 3, 7), date(2026, 3, 11), date(2026, 3, 20)
MARCH_26, APRIL_1 = date(2026, 3, 26), date(2026, 4, 1)
APRIL_6, APRIL_7, APRIL_8 = date(2026, 4, 6), date(2026, 4, 7), date(2026, 4, 8)
FIRM_EMAIL = "intake@hale.example"
PROOF = "rent_demand_service"


def _pdf(words: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_metadata({"/Title": words})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _cli(capsys: Any, *words: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(words))
    out, err = capsys.readouterr()
    return code, out, err


def _print_and_mail(on: date, folder: Path) -> None:
    """The day's letters printed, then mailed that day: certified ones with their numbers."""
    letters_print(on=on, output=folder / f"print-{on}", actor="alice", workers=1)
    manifest = folder / f"manifest-{on}.csv"
    with manifest.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["letter_id", "article_number"])
        for o in Outbound.objects.filter(
            status="rendered", channel__in=["letter", "certified_letter"]
        ):
            number = ""
            if o.channel == "certified_letter":
                payload = f"9407111898765{o.pk % 1_000_000:06d}"
                number = payload + str(usps_check_digit(payload))
            writer.writerow([f"L{o.pk}", number])
    letters_mailed(manifest=manifest, mailed_on=on, actor="alice")


@pytest.fixture
def broken_plan(people: Any, tmp_path: Path) -> str:
    """A-TINA's story to the referral recommendation, with the lease and the broken-plan notice
    on the account."""
    cycle_run(on=MARCH_7)
    _print_and_mail(MARCH_7, tmp_path)
    cycle_run(on=MARCH_11)
    _print_and_mail(MARCH_11, tmp_path)
    plan_create(account_id="A-TINA", on=MARCH_20, actor="alice", start=APRIL_1, installments=3)
    for day in (MARCH_26, APRIL_6, APRIL_7):
        cycle_run(on=day)
    referral = Action.objects.filter(account__account_id="A-TINA", step="referral")
    assert referral.filter(status="done", run_on=APRIL_7).exists()
    for kind, words in (("lease", "signed lease"), ("plan_notice", "plan broken, to Greg")):
        document_add(
            account_id="A-TINA",
            data=_pdf(words),
            filename=f"{kind}.pdf",
            title=words,
            actor="alice",
            on=APRIL_7,
            kind=kind,
        )
    return "A-TINA"


@pytest.fixture
def smtp(settings: Any) -> Any:
    from arrears.correspondence.tests import smtp_server

    handler = smtp_server.Recorder()
    controller = smtp_server.start(handler)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


def test_the_case_file_of_a_broken_plan_holds_the_listed_documents_and_reaches_the_firm(
    broken_plan: str, people: Any, tokens: Any, book_clock: Any, smtp: Any, capsys: Any
) -> None:
    book_clock(APRIL_8)
    Firm.objects.filter(name=FIRM).update(email=FIRM_EMAIL)
    # given the checklist of a NY nonpayment case: only the demand's proof of service missing
    code, out, err = _cli(
        capsys, "--as", "alice", "refer", "A-TINA", "--firm", FIRM, "--check", "--format", "json"
    )
    assert code == 0, err
    check = json.loads(out)
    assert (check["checklist"], check["missing"], check["ready"]) == (
        "ny-nonpayment",
        [PROOF],
        False,
    )
    items = {i["key"]: i for i in check["items"]}
    notice = items["late_rent_notice_mailing"]["sources"]
    assert [s["template"] for s in notice] == ["ny-late-rent-notice"]
    assert notice[0]["article_number"].startswith("9407111898765")
    assert items["rent_demand"]["held"]
    assert items["guarantor_notices"]["held"]
    assert items["plan_history"]["applies"]
    assert items["broken_plan_notice"]["held"]
    assert not items["registration"]["applies"]  # the building needs none
    # and the worklist's referral line says what is missing, and asks a reason
    today = signed_in(people["alice"]).get("/today/", {"tab": "referrals"}).content.decode()
    assert "Proof of service of the 14-day rent demand" in today
    assert 'name="override"' in today
    # when Alice refers without it, the referral is refused naming it, and nothing is written
    code, _out, err = _cli(capsys, "--as", "alice", "refer", "A-TINA", "--firm", FIRM)
    assert code == 2
    assert "Proof of service of the 14-day rent demand" in err
    assert not Referral.objects.filter(account__account_id="A-TINA").exists()
    # and the API says the same with the error's code
    refused = Client().post(
        "/api/accounts/A-TINA/referrals",
        json.dumps({"firm": FIRM}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "referral_incomplete"
    # when she adds the process server's affidavit through the document upload
    proof = _pdf("affidavit of service of the 14-day demand")
    added = Client().post(
        "/api/accounts/A-TINA/documents",
        {
            "file": io.BytesIO(proof),
            "title": "Affidavit of service, rent demand",
            "kind": "proof_of_service",
        },
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    assert added.status_code == 201, added.content
    # then the checklist holds it
    code, out, _err = _cli(
        capsys, "--as", "alice", "refer", "A-TINA", "--firm", FIRM, "--check", "--format", "json"
    )
    check = json.loads(out)
    assert (check["missing"], check["ready"]) == ([], True)
    held = {i["key"]: i for i in check["items"]}[PROOF]["sources"]
    assert [(s["kind"], s["sha256"]) for s in held] == [("proof_of_service", sha256_of(proof))]
    # when she refers the account
    code, out, err = _cli(
        capsys, "--as", "alice", "refer", "A-TINA", "--firm", FIRM, "--format", "json"
    )
    assert code == 0, err
    made = json.loads(out)
    case = Referral.objects.get(pk=made["case_id"])
    assert set(made) == {"account_id", "firm", "case_id", "packet", "missing", "documents"}
    assert (made["account_id"], made["firm"], made["missing"]) == ("A-TINA", FIRM, [])
    assert made["packet"] == case.packet
    assert case.status == "sent"
    # then the ZIP, read back from the archive, holds exactly the listed documents
    data = archive_read(Document.objects.get(name=made["packet"]))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [d["name"] for d in made["documents"]]
        files = {name: archive.read(name) for name in archive.namelist()}
    for d in made["documents"]:
        assert sha256_of(files[d["name"]]) == d["sha256"]
    assert made["documents"][0]["name"] == "00-index.pdf"
    assert sha256_of(proof) in {d["sha256"] for d in made["documents"]}
    named = {d["name"] for d in made["documents"]}
    for key in ("ledger", "analysis", "plan-history", "lease", "late-rent-notice", "rent-demand"):
        assert any(re.match(rf"\d\d-{key}", n) for n in named), key
    # and the index lists each of the others with its SHA-256, and the cover letter's facts
    index = pdf_text(files["00-index.pdf"])
    flat = re.sub(r"\s+", "", index)
    for d in made["documents"][1:]:
        assert d["name"] in flat
        assert d["sha256"] in flat, d["name"]
    assert "Re: referral of account A-TINA" in index
    assert "Tina Ortiz" in index
    assert "Greg Ortiz" in index
    assert f"{case.balance_referred:.2f}" in index
    # and the firm received the case file by email, once, the ZIP attached
    assert len(smtp.received) == 1
    got = smtp.received[0]
    assert got.rcpt_tos == [FIRM_EMAIL]
    (attached,) = list(got.message.iter_attachments())
    assert attached.get_content_type() == "application/zip"
    assert attached.get_content() == data
    email = Outbound.objects.get(key=f"case:{case.pk}:file")
    assert (email.status, email.recipient) == ("sent", FIRM_EMAIL)
    # and the timeline has the case file
    event = TimelineEvent.objects.get(account__account_id="A-TINA", kind="case.file")
    assert (event.detail["document"], event.detail["missing"]) == (made["packet"], [])
    # and the firm's attorney downloads it; an attorney of another firm gets 404
    Firm.objects.create(name="Other Firm LLP", created_on=APRIL_8)
    user_add(
        username="otto",
        password=PASSWORD,
        role="attorney",
        firm="Other Firm LLP",
        actor=OPERATOR,
        via="system",
    )
    otto = token_issue(username="otto", actor=OPERATOR, via="system")
    url = f"/api/cases/{case.pk}/packet"
    mine = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}")
    assert mine.status_code == 200
    assert mine.content == data
    assert mine["Content-Type"] == "application/zip"
    for token in (otto, tokens["mallory"]):
        assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404
    # and the run sends nothing more to Tina: every step refused with rule `referred`
    cycle_run(on=date(2026, 4, 9))
    later = Action.objects.filter(account__account_id="A-TINA", run_on=date(2026, 4, 9))
    assert set(later.values_list("status", "rule")) <= {("refused", "referred")}


def test_a_coordinator_refers_with_a_reason_and_the_case_names_what_was_missing(
    people: Any, tokens: Any, book_clock: Any
) -> None:
    book_clock(MARCH_26)
    # given A-TINA with nothing sent and nothing added: most of the checklist is missing
    reason = "the tenant has left; the firm has the lease from the owner"
    # when Alice refers it from the account page with the reason
    page = signed_in(people["alice"])
    checklist = page.get("/accounts/A-TINA/referrals/checklist/").content.decode()
    assert "Proof of service of the 14-day rent demand" in checklist
    assert "missing" in checklist
    refused = page.post(
        "/accounts/A-TINA/referrals/", {"firm": FIRM}, HTTP_HX_REQUEST="true", follow=True
    )
    assert "The lease" in refused.content.decode()
    assert not Referral.objects.filter(account__account_id="A-TINA").exists()
    response = page.post(
        "/accounts/A-TINA/referrals/",
        {"firm": FIRM, "override": reason},
        HTTP_HX_REQUEST="true",
        follow=True,
    )
    assert response.status_code == 200
    # then the case is sent, naming what was missing, the reason on the timeline and the audit
    case = Referral.objects.get(account__account_id="A-TINA")
    missing = case.packet_manifest["missing"]
    assert case.status == "sent"
    assert {"lease", "late_rent_notice", "rent_demand", PROOF} <= set(missing)
    event = TimelineEvent.objects.get(account=case.account, kind="case.file")
    assert (event.detail["missing"], event.detail["override"]) == (missing, reason)
    assert "sent without" in event.summary
    audit = AuditEntry.objects.get(verb="referral.make", account_id="A-TINA")
    assert audit.detail["override"] == reason
    # and the case file holds the index and what the book built: ledger and analysis
    names = [d["name"] for d in case.packet_manifest["documents"]]
    assert names == ["00-index.pdf", "01-ledger.pdf", "02-analysis.pdf"]
    # and the index says what is not in it and why
    with zipfile.ZipFile(io.BytesIO(archive_read(Document.objects.get(name=case.packet)))) as z:
        index = pdf_text(z.read("00-index.pdf"))
    assert "Not in this file" in index
    assert "the tenant has left" in index


def test_an_unknown_document_kind_is_refused(
    people: Any, book_clock: Any, capsys: Any, tmp_path: Path
) -> None:
    book_clock(MARCH_26)
    path = tmp_path / "scan.pdf"
    path.write_bytes(_pdf("scan"))
    code, _out, err = _cli(
        capsys,
        *("--as", "alice", "document", "add", "A-TINA", str(path), "--title", "scan"),
        *("--kind", "affidavit"),
    )
    assert code == 2
    assert "not affidavit" in err
    assert not TimelineEvent.objects.filter(kind="document.added").exists()
