"""The deposit's itemized statement mailed to the tenant and her guarantor (issue 16, item 3), and
the post-move-out letters held to the ledger's figures of a disposition (item 5), from the
command line, on both databases, the letters printed by the letters batch and read back.

Nina Ortiz (Hudson Rows, New York) owes February's and March's rent, 2,450.00, and leaves a
deposit of 1,800.00; she vacates on March 3rd (the statement is due by the 17th). Her lease is
guaranteed by Gustavo Ruiz, who reads Spanish. On the 10th the coordinator keeps 300.00 for a
broken door: the deposit pays the door and 1,500.00 of the rent; 950.00 is still owed.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR, write_book
from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.correspondence.archive import archive_read
from arrears.correspondence.catalog import CATALOG
from arrears.correspondence.certified import usps_check_digit
from arrears.correspondence.models import Outbound
from arrears.correspondence.rendering import render_with, template_load
from arrears.correspondence.selectors import context_for
from arrears.ledger.models import TimelineEvent
from arrears.ledger.selectors import open_items_as_of
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

LAW = "N.Y. Gen. Oblig. Law §7-108(1-a)(e)"
DOOR = "bedroom door replaced"

BOOK: dict[str, list[dict[str, str]]] = {
    "properties": [
        {
            "property_id": "HUD",
            "name": "Hudson Rows",
            "address": "4 Hudson Row",
            "city": "Troy",
            "state": "NY",
            "postal_code": "12180",
            "country": "US",
        },
    ],
    "parties": [
        {
            "party_id": "P-NINA",
            "name": "Nina Ortiz",
            "address": "77 Elm Street, Apt 4",
            "city": "Albany",
            "state": "NY",
            "postal_code": "12203",
            "country": "US",
            "language": "en",
        },
        {
            "party_id": "P-GUS",
            "name": "Gustavo Ruiz",
            "address": "9 Pine Avenue",
            "city": "Schenectady",
            "state": "NY",
            "postal_code": "12305",
            "country": "US",
            "language": "es",
        },
    ],
    "accounts": [
        {
            "account_id": "A-NY",
            "property_id": "HUD",
            "unit": "2",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "1225.00",
            "deposit_held": "1800.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-NY", "party_id": "P-NINA", "role": "primary"},
        {"account_id": "A-NY", "party_id": "P-GUS", "role": "guarantor"},
    ],
    "transactions": [
        {
            "txn_id": f"T-NY-{m}",
            "account_id": "A-NY",
            "posted": f"2026-0{m}-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1225.00",
            "due": f"2026-0{m}-01",
        }
        for m in (2, 3)
    ],
}


@pytest.fixture
def nina(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-10")
    book_import(write_book(tmp_path / "book", BOOK))
    for name, role in (("cora", "coordinator"), ("bob", "controller")):
        user_add(
            username=name, password="a-long-test-password", role=role, actor=OPERATOR, via="system"
        )
    return tmp_path


def arrears(capsys: pytest.CaptureFixture[str], *words: str, who: str = "cora") -> tuple:
    capsys.readouterr()
    code = main(["--as", who, *words])
    out, err = capsys.readouterr()
    return code, out, err


def moved_out_and_disposed(capsys: pytest.CaptureFixture[str], on: str = "2026-03-10") -> None:
    assert arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")[0] == 0
    code, _out, err = arrears(
        capsys, "deposit", "dispose", "A-NY", "--deduct", f"damage:300.00:{DOOR}", "--on", on
    )
    assert (code, err) == (0, "")


def words(data: bytes) -> str:
    return " ".join(pdf_text(data).split())


def test_the_statement_is_mailed_to_nina_in_english_and_to_her_guarantor_in_spanish(nina, capsys):
    # given Nina's deposit disposed of on the 10th
    moved_out_and_disposed(capsys)

    # when the coordinator sends its itemized statement
    code, out, err = arrears(
        capsys, "deposit", "statement", "A-NY", "--on", "2026-03-10", "--format", "json"
    )

    # then one certified letter is queued for Nina and one for Gustavo, each in their language
    assert (code, err) == (0, "")
    sent = json.loads(out)
    assert [(x["party_id"], x["role"], x["language"], x["created"]) for x in sent["letters"]] == [
        ("P-NINA", "primary", "en", True),
        ("P-GUS", "guarantor", "es", True),
    ]
    rows = Outbound.objects.filter(template="deposit-statement").order_by("id")
    assert [(o.channel, o.status) for o in rows] == [("certified_letter", "queued")] * 2
    event = TimelineEvent.objects.get(kind="deposit.statement")
    assert "P-NINA, P-GUS" in event.summary

    # when the day's letters are printed
    code, out, err = arrears(
        capsys,
        "letters",
        "batch",
        "--date",
        "2026-03-10",
        "--output",
        str(nina / "print"),
        "--workers",
        "1",
    )
    assert (code, err) == (0, "")

    # then Nina's letter states the disposition, its figures exactly, the law and where to dispute
    english, spanish = (Outbound.objects.get(pk=o.pk) for o in rows)
    assert english.status == spanish.status == "rendered"
    assert english.document is not None
    assert spanish.document is not None
    text = words(archive_read(english.document))
    assert "Itemized statement of the security deposit (A-NY)" in text
    assert "You moved out of 4 Hudson Row, Unit 2, Troy, NY 12180 on March 3, 2026" in text
    assert "Security deposit held $1,800.00" in text
    assert f"Deduction 1: Damage beyond normal wear and tear: {DOOR} $300.00" in text
    assert "Total deductions $300.00" in text
    assert re.search(r"Deposit applied - ?\$1,800\.00", text)
    assert "Balance owed $950.00" in text
    assert "Please pay the balance of $950.00" in text
    assert f"This statement is given under {LAW}." in text
    assert "If you disagree with any deduction" in text
    assert "(718) 555-0100" in text
    assert "CERTIFIED MAIL" in text
    # and every amount it prints is the disposition's (2,750.00: owed before the deposit)
    printed = {m.replace("-", "") for m in re.findall(r"-?\$[\d,]+\.\d\d", text)}
    assert printed == {"$1,800.00", "$300.00", "$950.00", "$2,750.00"}

    # and Gustavo's says the same in Spanish, as guarantor
    texto = words(archive_read(spanish.document))
    assert "Estado detallado del depósito de garantía (A-NY)" in texto
    assert "Usted garantizó el contrato de arrendamiento de Nina Ortiz" in texto
    assert "3 de marzo de 2026" in texto
    assert "Depósito de garantía recibido $1,800.00" in texto
    assert f"Deducción 1: Daños más allá del desgaste normal: {DOOR} $300.00" in texto
    assert re.search(r"Depósito aplicado - ?\$1,800\.00", texto)
    assert "Saldo adeudado $950.00" in texto
    assert "Como garante, se le pide que pague el saldo de $950.00" in texto
    assert f"Este estado se entrega conforme a {LAW}." in texto
    assert "Si no está de acuerdo con alguna deducción" in texto

    # when the firm sheet comes back with the article numbers
    manifest = next((nina / "print").glob("manifest-*.csv"))
    with manifest.open(encoding="utf-8", newline="") as stream:
        lines = list(csv.DictReader(stream))
    for n, line in enumerate(lines):
        payload = f"9407111899223100{n:05d}"
        line["article_number"] = payload + str(usps_check_digit(payload))
    with manifest.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)
    code, _out, err = arrears(
        capsys, "letters", "mailed", "--manifest", str(manifest), "--date", "2026-03-10"
    )
    assert (code, err) == (0, "")

    # then both are mailed, with their proof of mailing
    mailed = Outbound.objects.filter(template="deposit-statement")
    assert {(o.status, len(o.article_number)) for o in mailed} == {("mailed", 22)}

    # and sending it again queues nothing new
    code, out, _err = arrears(
        capsys, "deposit", "statement", "A-NY", "--on", "2026-03-11", "--format", "json"
    )
    assert code == 0
    assert [x["created"] for x in json.loads(out)["letters"]] == [False, False]
    assert Outbound.objects.filter(template="deposit-statement").count() == 2
    assert TimelineEvent.objects.filter(kind="deposit.statement").count() == 1


def test_after_its_deadline_the_statement_is_refused_unless_a_reason_is_given(
    nina, capsys, monkeypatch
):
    # given the disposition posted in time, on the 10th
    moved_out_and_disposed(capsys)
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-18")

    # when the statement is sent on the 18th, a day after the deadline of the 17th
    code, out, err = arrears(capsys, "deposit", "statement", "A-NY")

    # then it is refused with its rule, the law and the forfeiture, and nothing is queued
    assert code == 2
    assert out == ""
    assert "deposit:deadline" in err
    assert "2026-03-17" in err
    assert LAW in err
    assert "forfeits" in err
    assert "--override" in err
    assert not Outbound.objects.filter(template="deposit-statement").exists()

    # when the coordinator says why
    code, out, err = arrears(
        capsys, "deposit", "statement", "A-NY", "--override", "the first one came back unopened"
    )

    # then both letters are queued and the reason is on the timeline
    assert (code, err) == (0, "")
    assert "after its deadline: the first one came back unopened" in out
    assert Outbound.objects.filter(template="deposit-statement").count() == 2
    event = TimelineEvent.objects.get(kind="deposit.statement")
    assert "after its deadline of 2026-03-17: the first one came back unopened" in event.summary
    assert event.detail["late_reason"] == "the first one came back unopened"


def test_a_statement_with_an_empty_required_field_is_refused_and_queues_nothing(
    nina, capsys, settings
):
    moved_out_and_disposed(capsys)
    # given a company with no telephone (how to dispute the deductions would be left unsaid)
    settings.ARREARS_COMPANY = {**settings.ARREARS_COMPANY, "phone": ""}
    code, _out, err = arrears(capsys, "deposit", "statement", "A-NY")
    assert code == 2
    assert "company.phone" in err
    assert not Outbound.objects.filter(template="deposit-statement").exists()
    assert not TimelineEvent.objects.filter(kind__in=["letter.queued", "deposit.statement"])


def test_a_guarantor_the_guard_refuses_gets_none_and_the_tenant_hers(nina, capsys):
    from arrears.ledger.models import Party

    moved_out_and_disposed(capsys)
    # given Gustavo's address is not known (a guarantor's letter never goes to the premises)
    Party.objects.filter(party_id="P-GUS").update(address="", city="", state="", postal_code="")
    code, out, _err = arrears(capsys, "deposit", "statement", "A-NY", "--format", "json")
    # then Nina's letter is queued, Gustavo's refused with the guard's rule, and the command says so
    assert code == 1
    nina_letter, gus_letter = json.loads(out)["letters"]
    assert nina_letter["created"] is True
    assert gus_letter["letter_id"] is None
    assert gus_letter["rule"].startswith("channel:")
    refused = TimelineEvent.objects.get(kind="letter.refused")
    assert refused.detail == {
        "template": "deposit-statement",
        "rule": gus_letter["rule"],
        "party_id": "P-GUS",
    }
    assert Outbound.objects.filter(template="deposit-statement").count() == 1


def test_no_statement_before_a_disposition_nor_by_a_controller(nina, capsys):
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    code, _out, err = arrears(capsys, "deposit", "statement", "A-NY")
    assert code == 2
    assert "has no disposition" in err
    moved = arrears(
        capsys, "deposit", "dispose", "A-NY", "--deduct", f"damage:300:{DOOR}", "--on", "2026-03-10"
    )
    assert moved[0] == 0
    code, _out, err = arrears(capsys, "deposit", "statement", "A-NY", who="bob")
    assert code == 2
    assert "controller" in err
    assert not Outbound.objects.filter(template="deposit-statement").exists()


# -- the post-move-out letters (issue 16, item 5) -------------------------------------------------

POST_MOVE_OUT = sorted(name for name in CATALOG if name.startswith("post-move-out"))
AMOUNT = re.compile(r"-?\$[\d,]+\.\d\d")


def post_move_out_letters(on: date) -> list[tuple[str, str, str]]:
    """Every post-move-out template, in both languages, for Nina (the tenant's) and Gustavo (the
    guarantor's), as rendered on `on`: (where, text)."""
    out = []
    for name in POST_MOVE_OUT:
        party = "P-GUS" if name.endswith("-guarantor") else "P-NINA"
        for language in ("en", "es"):
            context = context_for(
                account_id="A-NY",
                template=name,
                on=on,
                party_id=party,
                language=language,
                deadline=on + timedelta(days=20),
            )
            message = render_with(template_load(name, language), context, letter=True)
            out.append((f"{name} ({language})", language, " ".join(message.text.split())))
    return out


def open_figures(on: date) -> set[Decimal]:
    """The open charges of the ledger on `on` and their total."""
    rows = [r for r in open_items_as_of(as_of=on, account_pks=None) if not r.is_credit]
    return {r.amount for r in rows} | {sum((r.amount for r in rows), Decimal(0))}


def test_post_move_out_letters_name_no_deposit_before_its_disposition(nina, capsys):
    # given Nina moved out and nothing is disposed of yet: her deposit is held, never applied
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    on = date(2026, 3, 10)
    for where, _language, text in post_move_out_letters(on):
        # then no post-move-out letter says a word of a deposit
        assert "deposit" not in text.lower(), where
        assert "depósito" not in text.lower(), where
        for printed in AMOUNT.findall(text):
            value = Decimal(printed.replace("$", "").replace(",", "").replace("-", ""))
            assert value in open_figures(on), f"{where} prints {printed}"


@pytest.mark.parametrize("corrected", [False, True])
def test_post_move_out_letters_name_exactly_the_disposition_the_ledger_holds(
    nina, capsys, corrected
):
    # given the disposition of the 10th (and, corrected, the door at 200.00 instead)
    moved_out_and_disposed(capsys)
    kept, owed = Decimal("300.00"), Decimal("950.00")
    if corrected:
        code, _out, err = arrears(
            capsys,
            "deposit",
            "dispose",
            "A-NY",
            "--deduct",
            f"damage:200.00:{DOOR}",
            "--on",
            "2026-03-10",
            "--correct",
            "the contractor billed 200.00",
        )
        assert (code, err) == (0, "")
        kept, owed = Decimal("200.00"), Decimal("850.00")
    on = date(2026, 3, 11)
    for where, language, text in post_move_out_letters(on):
        # then each names the deposit applied, 1,800.00 (once, whatever the versions), the
        # deduction and the balance left, and no other amount
        deposit = "security deposit" if language == "en" else "depósito de garantía"
        assert deposit in text, where
        assert re.search(rf"{deposit} (?:of|de) \$1,800\.00", text), where
        assert f"${kept:,.2f}" in text, where
        assert DOOR in text, where
        assert f"${owed:,.2f}" in text, where
        allowed = open_figures(on) | {Decimal("1800.00"), kept, owed}
        for printed in AMOUNT.findall(text):
            value = Decimal(printed.replace("$", "").replace(",", "").replace("-", ""))
            assert value in allowed, f"{where} prints {printed}"
        if corrected:
            assert "$300.00" not in text, where
            assert "$3,600.00" not in text, where
    # and the sentence itself, in English
    (tenant,) = (t for w, _l, t in post_move_out_letters(on) if w == "post-move-out-demand (en)")
    assert (
        f"From your security deposit, we kept ${kept:,.2f} for damage ({DOOR}). After applying "
        f"your security deposit of $1,800.00, a balance of ${owed:,.2f} remains" in tenant
    )


def test_the_page_previews_and_mails_the_statement_and_the_api_mails_it_the_same_way(nina, capsys):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from arrears.access.services import token_issue

    moved_out_and_disposed(capsys)
    client = Client()
    client.force_login(get_user_model().objects.get(username="cora"))
    page = client.get("/accounts/A-NY/").content.decode()
    assert "Mail the itemized statement" in page
    # the preview is the letter as it will print, and queues nothing
    preview = client.get("/accounts/A-NY/deposit/statement.pdf")
    assert preview["Content-Type"] == "application/pdf"
    text = words(preview.content)
    assert "1,800.00" in text
    assert "300.00" in text
    assert "950.00" in text
    assert not Outbound.objects.filter(template="deposit-statement").exists()
    # mailing it from the page queues a letter to the tenant and one to the guarantor, said so
    answer = client.post("/accounts/A-NY/deposit/statement/", follow=True)
    assert "Itemized statement queued for printing: 2 letters" in answer.content.decode()
    assert Outbound.objects.filter(template="deposit-statement").count() == 2
    # and the API, asked again, answers as the command line does: nothing new queued
    token = token_issue(username="cora", actor=OPERATOR, via="system")
    api = client.post(
        "/api/accounts/A-NY/deposit/statement",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert api.status_code == 201
    code, out, _err = arrears(capsys, "deposit", "statement", "A-NY", "--format", "json")
    assert code == 0
    assert api.json() == json.loads(out)
    assert {x["created"] for x in api.json()["letters"]} == {False}
    assert Outbound.objects.filter(template="deposit-statement").count() == 2
