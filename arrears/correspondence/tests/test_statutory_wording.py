"""What a letter must say and where (issue 12, items 3 and 5): required merge fields, the owner
and the signer, the USPS endorsement in English, the address inside a #10 window envelope."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.correspondence.models import Outbound
from arrears.correspondence.pdfs import letter_pdf
from arrears.correspondence.rendering import MissingFieldError, message_render
from arrears.correspondence.services import letters_batch, template_add
from arrears.correspondence.statements import statement_pdf
from arrears.ledger.models import Property

MARCH_6 = date(2026, 3, 6)
INCH = 72.0
# A standard #10 window envelope (9 1/2" x 4 1/8"): the window is 4 1/2" wide and 1 1/8" high,
# 7/8" from the envelope's left edge and 1/2" from its bottom (USPS Publication 25, "Designing
# Letter and Reply Mail", and the envelope makers' #10 window standard). A letter folded in three
# puts its top third (11/3") behind the front, resting on the envelope's bottom fold: the top of
# the page is 4 1/8 - 11/3 = 0.458" below the envelope's top, so the window shows the page from
# 4 1/8 - 1/2 - 1 1/8 - 0.458 = 2.042" to 3.167" down. The page (8 1/2") may slide 1" sideways
# in the envelope (9 1/2"): what shows whatever the slide is from 7/8" to 4 1/2 + 7/8 - 1 =
# 4 3/8" across.
WINDOW_TOP = (4.125 - 0.5 - 1.125 - (4.125 - 11 / 3)) * INCH
WINDOW_BOTTOM = (4.125 - 0.5 - (4.125 - 11 / 3)) * INCH
WINDOW_LEFT = 0.875 * INCH
WINDOW_RIGHT = (0.875 + 4.5 - 1.0) * INCH


def words_on_page_one(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """(word, left, top, right, bottom) in points from the page's top-left, by pdftotext."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian: apt-get install poppler-utils)")
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
        r"([^<]*)</word>",
        html,
    )
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in found]


def assert_in_window(words: list[tuple[str, float, float, float, float]], lines: list[str]) -> None:
    for line in lines:
        for token in line.split():
            boxes = [w for w in words if w[0] == token]
            assert boxes, f"{token!r} is not on page 1"
            inside = [
                b
                for b in boxes
                if b[1] >= WINDOW_LEFT
                and b[3] <= WINDOW_RIGHT
                and b[2] >= WINDOW_TOP
                and b[4] <= WINDOW_BOTTOM
            ]
            assert inside, f"{token!r} of {line!r} is outside the #10 window: {boxes}"


def test_a_rent_demand_without_a_deadline_is_refused_naming_the_template_and_field(book):
    # given: a 14-day demand asked for without its deadline (as a hand-queued one was)
    # when / then: it is refused, not printed "on or before , you are required…"
    with pytest.raises(MissingFieldError) as refused:
        message_render(account_id="A-TINA", template="ny-rent-demand", on=MARCH_6)
    assert refused.value.code == "merge_field_missing"
    assert refused.value.extra["template"] == "ny-rent-demand"
    assert refused.value.extra["field"] == "deadline"
    assert "ny-rent-demand requires deadline" in refused.value.message


def test_a_company_version_requires_its_own_fields_or_its_names(book):
    # given: a company's late notice that declares nothing of its own, and a letter that does
    template_add(
        name="ca-3-day-notice-pay-or-quit",
        language="en",
        subject="Pay",
        body="<p>By {{ deadline }}</p>",
        actor="alice",
    )
    template_add(
        name="our-letter",
        language="en",
        subject="Ours",
        body="<p>{{ deadline }}</p>",
        actor="alice",
        requires=["deadline"],
    )

    # when / then: both are refused without a deadline
    for name in ("ca-3-day-notice-pay-or-quit", "our-letter"):
        with pytest.raises(MissingFieldError, match="requires deadline"):
            message_render(account_id="A-TINA", template=name, on=MARCH_6)
    # and a version that requires nothing renders
    template_add(
        name="our-letter",
        language="en",
        subject="Ours",
        body="<p>Hello</p>",
        actor="alice",
        requires=[],
    )
    assert "Hello" in message_render(account_id="A-TINA", template="our-letter", on=MARCH_6).text


def test_the_print_batch_refuses_a_queued_three_day_notice_with_no_deadline(queue, tmp_path):
    # given: a California 3-day notice queued for a New York tenant, with no deadline
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "by-hand",
            "template": "ca-3-day-notice-pay-or-quit",
            "amount": Decimal("1200.00"),
        }
    )

    # when: the batch is printed
    result = letters_batch(on=MARCH_6, output=tmp_path / "print", actor="alice", workers=1)

    # then: it is set aside, naming the template and the field; nothing is printed
    assert result.letters == []
    (failed,) = result.failed
    assert "ca-3-day-notice-pay-or-quit requires deadline" in failed["reason"]
    assert Outbound.objects.get().status == "failed"


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_certified_notice_names_owner_and_signer_and_says_certified_mail_in_english(
    book, settings, language
):
    # given: Elm Court's owner of record, and the company's signer
    Property.objects.filter(property_id="ELM").update(owner_name="Elm Court Owners LLC")
    settings.ARREARS_COMPANY = {
        **settings.ARREARS_COMPANY,
        "signer_name": "Dana Reyes",
        "signer_title": "Collections Manager",
    }

    # when: Tina's late notice is rendered as a certified letter
    message = message_render(
        account_id="A-TINA",
        template="ny-late-rent-notice",
        on=MARCH_6,
        language=language,
        letter=True,
    )
    html = message.html
    assert "CERTIFIED MAIL" not in html  # not certified: no endorsement
    from arrears.correspondence.rendering import render_with, template_load

    context = {**message.context, "certified": True}
    html = render_with(template_load("ny-late-rent-notice", language), context, letter=True).html

    # then: the endorsement is in English, owner and signer are named, nothing asks to disregard
    assert "CERTIFIED MAIL" in html
    assert "CORREO CERTIFICADO" not in html
    owner = (
        "Owner: Elm Court Owners LLC, by its managing agent Arrears Property Management"
        if language == "en"
        else "Propietario: Elm Court Owners LLC, por medio de su agente "
        "administrador Arrears Property Management"
    )
    assert owner in html
    assert "Dana Reyes, Collections Manager" in html
    assert "disregard" not in html
    assert "ignore esta carta" not in html


def test_a_reminder_that_no_statute_governs_may_still_say_disregard_if_paid(book):
    text = message_render(account_id="A-TINA", template="ny-rent-reminder", on=MARCH_6).text
    assert "please disregard this letter" in text


def test_the_address_block_of_a_letter_sits_inside_a_number_10_window(book, tmp_path):
    # given: Tina's certified late notice, with the endorsement above her address
    message = message_render(
        account_id="A-TINA", template="ny-late-rent-notice", on=MARCH_6, letter=True
    )
    from arrears.correspondence.rendering import render_with, template_load

    context = {**message.context, "certified": True}
    html = render_with(template_load("ny-late-rent-notice", "en"), context, letter=True).html

    # when: the letter is printed
    words = words_on_page_one(letter_pdf(html), tmp_path)

    # then: every word of the endorsement, her name and her address shows through the window
    assert_in_window(
        words, ["CERTIFIED MAIL", "Tina Ortiz", "12 Elm Street, Apt 3B", "Brooklyn, NY 11201"]
    )


def test_the_address_block_of_a_statement_sits_inside_a_number_10_window(book, tmp_path):
    # when: Tina's statement of account is printed
    statement = statement_pdf(account_id="A-TINA", as_of=MARCH_6, actor="alice")

    # then: her name and address show through the window of a #10 envelope
    words = words_on_page_one(statement.data, tmp_path)
    assert_in_window(words, ["Tina Ortiz", "12 Elm Street, Apt 3B", "Brooklyn, NY 11201"])
