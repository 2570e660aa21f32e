"""Templates (every built-in, both languages; a company's versions), the archive, statements."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import storages

from arrears.core.pdf import pdf_text
from arrears.correspondence.archive import ArchiveError, archive_read, archive_store
from arrears.correspondence.catalog import CATALOG, OUTSIDE_POLICIES
from arrears.correspondence.models import Document, Outbound
from arrears.correspondence.rendering import message_render
from arrears.correspondence.services import letters_batch, template_add
from arrears.correspondence.statements import statement_pdf, statement_xlsx
from arrears.ledger.models import TimelineEvent

MARCH_6 = date(2026, 3, 6)


# Tina's book has no dispute, no deposit's disposition and no invoice coming due: those letters
# are refused for her (test_template_fields.py and arrears/access/tests/test_deposit_statement.py
# render them against books that have them).
NOT_FOR_TINA = {"b2b-reminder-before-due", *OUTSIDE_POLICIES}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", sorted(set(CATALOG) - NOT_FOR_TINA))
def test_every_built_in_template_renders_for_tina_in_both_languages(book, name, language):
    message = message_render(
        account_id="A-TINA",
        template=name,
        on=MARCH_6,
        language=language,
        deadline=date(2026, 3, 24),
    )
    assert message.language == language
    assert message.template_version == 0
    assert "A-TINA" in message.subject
    assert "Tina Ortiz" in message.text
    assert "$1,250.00" in message.text or "$1,200.00" in message.text
    assert "{{" not in message.html
    assert "{%" not in message.html


def test_an_email_for_lucia_is_in_spanish_with_subject_text_and_html(book):
    message = message_render(account_id="A-LUCIA", template="ny-rent-reminder", on=MARCH_6)
    assert message.subject == "Recordatorio de renta (A-LUCIA)"
    assert "Le recordamos amablemente" in message.text
    assert "$1,350.00" in message.text
    assert message.html.startswith("<!DOCTYPE html>")
    assert 'lang="es"' in message.html


def test_a_company_version_of_a_template_is_used_and_recorded_on_what_is_sent(queue, tmp_path):
    # given: the company words its own late notice (v1), then changes it (v2)
    body = "<p>{{ addressee.name }}, we miss {{ amount|money }} (v{{ 1 }}).</p>"
    template_add(
        name="ny-late-rent-notice",
        language="en",
        subject="Rent: {{ account.account_id }}",
        body="{% load letters %}" + body,
        actor="alice",
    )
    second = template_add(
        name="ny-late-rent-notice",
        language="en",
        subject="Rent, again",
        body="{% load letters %}<p>Still {{ amount|money }}.</p>",
        actor="alice",
    )
    assert second.version == 2
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
            "amount": Decimal("1200.00"),
        }
    )

    # when
    letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    # then: the letter carries v2's words and records v2; Spanish still has the built-in
    outbound = Outbound.objects.get()
    assert outbound.template_version == 2
    text = " ".join(pdf_text(archive_read(outbound.document)).split())
    assert "Still $1,200.00." in text
    assert "Rent, again" in text
    lucia = message_render(account_id="A-LUCIA", template="ny-late-rent-notice", on=MARCH_6)
    assert lucia.template_version == 0


def test_a_template_that_does_not_compile_is_refused(db):
    from arrears.core.errors import ValidationError

    with pytest.raises(ValidationError, match="body does not compile"):
        template_add(
            name="ny-rent-reminder", language="en", subject="x", body="{% if %}", actor="alice"
        )


def test_the_archive_stores_a_document_once_and_never_overwrites_a_name(db, archive_dir):
    first = archive_store(
        data=b"%PDF one", name="letters/a.pdf", kind="letter", content_type="application/pdf"
    )
    # the same bytes under another name: the first document, no second file
    again = archive_store(
        data=b"%PDF one", name="letters/b.pdf", kind="letter", content_type="application/pdf"
    )
    assert again.pk == first.pk
    assert not (archive_dir / "letters" / "b.pdf").exists()
    # other bytes under a taken name: refused, the file untouched
    with pytest.raises(ArchiveError, match="already holds a different document"):
        archive_store(
            data=b"%PDF two", name="letters/a.pdf", kind="letter", content_type="application/pdf"
        )
    assert (archive_dir / "letters" / "a.pdf").read_bytes() == b"%PDF one"
    # a stray file (a rolled-back batch) with other bytes is not overwritten either
    storages["archive"].save("letters/c.pdf", io.BytesIO(b"stray"))
    with pytest.raises(ArchiveError, match="never overwritten"):
        archive_store(
            data=b"%PDF three", name="letters/c.pdf", kind="letter", content_type="application/pdf"
        )
    assert Document.objects.count() == 1
    import hashlib

    assert first.sha256 == hashlib.sha256(b"%PDF one").hexdigest()


def test_tinas_statement_shows_the_running_balance_open_items_and_what_paid_what(book):
    # when
    statement = statement_pdf(account_id="A-TINA", as_of=date(2026, 3, 7), actor="alice")

    # then: 1,200 charged, 1,200 paid, 50 late fee, 1,200 March rent: 1,250.00 due
    text = " ".join(pdf_text(statement.data).split())
    assert "Statement of account A-TINA as of March 7, 2026" in text
    assert "Balance as of March 7, 2026: $1,250.00" in text
    assert "T-PAY-02 2026-02-03 $1,200.00 T-RENT-02 $1,200.00" in text
    assert "T-RENT-03 RENT 2026-03-01 1-30 $1,200.00" in text
    assert statement.document is not None
    (event,) = TimelineEvent.objects.filter(kind="statement.rendered")
    assert event.detail["document"] == statement.document.name


def test_tinas_statement_as_a_workbook_has_the_exact_amounts(book):
    from openpyxl import load_workbook

    statement = statement_xlsx(account_id="A-TINA", as_of=date(2026, 3, 7))

    book_ = load_workbook(io.BytesIO(statement.data))
    ledger = list(book_["Ledger"].iter_rows(min_row=3, values_only=True))
    assert [r[3] for r in ledger] == ["T-RENT-02", "T-PAY-02", "T-LATE-02", "T-RENT-03"]
    assert [Decimal(str(r[8])) for r in ledger] == [
        Decimal("1200"),
        Decimal("0"),
        Decimal("50"),
        Decimal("1250"),
    ]
    payments = list(book_["Payments"].iter_rows(min_row=2, values_only=True))
    assert payments[0][:6] == ("T-PAY-02", "payment", payments[0][2], 1200, "T-RENT-02", 1200)


def test_a_queued_email_renders_as_its_action_asked_in_the_addressees_language(queue):
    from arrears.correspondence.rendering import outbound_message

    names = queue(
        {
            "account_id": "A-LUCIA",
            "party_id": "P-LUCIA",
            "step": "reminder",
            "template": "ny-rent-reminder",
            "channel": "email",
        }
    )
    (name,) = names.values()
    assert name.startswith("email/2026/03/06/A-LUCIA-reminder-P-LUCIA-")
    assert name.endswith(".eml")
    outbound = Outbound.objects.get()
    assert outbound.recipient == "lucia@example.org"

    message = outbound_message(outbound)

    assert message.subject == "Recordatorio de renta (A-LUCIA)"
    assert "$1,350.00" in message.text
    assert "1 de marzo de 2026" in message.text


def test_a_memo_that_is_a_formula_is_text_in_the_statement_workbook(book, tmp_path):
    from openpyxl import load_workbook

    from arrears.ledger.services import book_import

    # given: a March payment came in the bank's file with a memo that a spreadsheet would run
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "transactions.csv").write_text(
        "txn_id,account_id,posted,type,amount,memo\nT-PAY-03,A-TINA,2026-03-02,payment,10.00,=1+2\n"
    )
    book_import(bank)
    # when
    statement = statement_xlsx(account_id="A-TINA", as_of=date(2026, 3, 7))
    # then: the memo is text, and the amounts are still numbers
    sheet = load_workbook(io.BytesIO(statement.data))["Ledger"]
    memos = {row[3].value: row[4] for row in sheet.iter_rows(min_row=3)}
    assert (memos["T-PAY-03"].value, memos["T-PAY-03"].data_type) == ("'=1+2", "s")
    balances = [row[8].value for row in sheet.iter_rows(min_row=3)]
    assert all(isinstance(b, int | float) for b in balances)
