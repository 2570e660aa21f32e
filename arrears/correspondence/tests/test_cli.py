"""The correspondence commands, as Alice types them: template preview, letters batch, mailed,
returned and list, statements (both databases)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.correspondence.models import Outbound


def check_digit(payload: str) -> str:
    n = len(payload)
    total = sum(int(d) * (3 if (n - i) % 2 == 1 else 1) for i, d in enumerate(payload))
    return str(-total % 10)


def test_alice_previews_lucias_notice_in_spanish_as_text_and_as_pdf(book, capsys, tmp_path):
    assert (
        main(
            [
                "template",
                "preview",
                "ny-late-rent-notice",
                "--account",
                "A-LUCIA",
                "--date",
                "2026-03-06",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Subject: Aviso de renta no recibida (A-LUCIA)" in out
    assert "Template: ny-late-rent-notice v0 (es)" in out
    assert "AVISO DE FALTA DE RECEPCIÓN DEL PAGO DE LA RENTA" in out

    pdf = tmp_path / "preview.pdf"
    assert (
        main(
            [
                "template",
                "preview",
                "ny-late-rent-notice",
                "--account",
                "A-LUCIA",
                "--language",
                "en",
                "--output",
                str(pdf),
            ]
        )
        == 0
    )
    text = " ".join(pdf_text(pdf.read_bytes()).split())
    assert "NOTICE OF FAILURE TO RECEIVE RENT PAYMENT" in text
    assert "Lucía Fernández" in text


def test_an_unknown_template_is_a_clear_error(book, capsys):
    assert main(["template", "preview", "no-such-letter", "--account", "A-TINA"]) == 2
    assert "no template 'no-such-letter'" in capsys.readouterr().err


def test_alice_prints_the_batch_records_mailing_and_a_return(queue, capsys, tmp_path):
    # given: Tina's certified notice queued by the run
    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
            "amount": Decimal("1200.00"),
        }
    )

    # when: the batch
    out_dir = tmp_path / "print"
    assert (
        main(
            ["letters", "batch", "--date", "2026-03-06", "--output", str(out_dir), "--workers", "1"]
        )
        == 0
    )
    assert "1 letters for 2026-03-06" in capsys.readouterr().out
    manifest = out_dir / "manifest-2026-03-06.csv"
    assert (out_dir / "print-2026-03-06.pdf").exists()

    # when: the manifest comes back with the article number, and is imported
    with manifest.open() as stream:
        rows = list(csv.DictReader(stream))
    payload = "940711189922310007777"
    rows[0]["article_number"] = payload + check_digit(payload)
    with manifest.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["letters", "mailed", "--manifest", str(manifest), "--date", "2026-03-06"]) == 0
    assert "1 letters recorded mailed" in capsys.readouterr().out

    # then: the timeline shows the number; the letter list too
    assert main(["timeline", "A-TINA"]) == 0
    assert payload + check_digit(payload) in capsys.readouterr().out
    assert main(["letters", "list"]) == 0
    assert "mailed" in capsys.readouterr().out

    # when: it comes back, by its article number
    assert (
        main(
            [
                "letters",
                "returned",
                payload + check_digit(payload),
                "--reason",
                "moved, left no address",
            ]
        )
        == 0
    )
    assert "address marked bad for P-TINA" in capsys.readouterr().out
    assert Outbound.objects.get().status == "returned"


def test_a_repeated_batch_says_there_is_nothing_to_print(book, capsys, tmp_path):
    assert main(["letters", "batch", "--date", "2026-03-06", "--output", str(tmp_path)]) == 0
    assert "No letters to print for 2026-03-06." in capsys.readouterr().out


def test_statements_as_pdf_and_xlsx_and_email_refused_without_a_sender(
    book, capsys, tmp_path, monkeypatch
):
    pdf = tmp_path / "s.pdf"
    assert main(["statement", "A-TINA", "--as-of", "2026-03-07", "--output", str(pdf)]) == 0
    assert "archived as statements/2026/03/07/A-TINA-2026-03-07.pdf" in capsys.readouterr().out
    assert "$1,250.00" in pdf_text(pdf.read_bytes())
    xlsx = tmp_path / "s.xlsx"
    assert main(["statement", "A-TINA", "--format", "xlsx", "--output", str(xlsx)]) == 0
    assert xlsx.read_bytes()[:2] == b"PK"

    monkeypatch.setattr(
        "arrears.cli.letters.STATEMENT_SENDER", ("arrears.correspondence", "nothing")
    )
    assert main(["statement", "A-TINA", "--email", "--output", str(pdf)]) == 2
    assert "EMAIL_URL" in capsys.readouterr().err


@pytest.mark.parametrize("path", ["missing.csv"])
def test_a_missing_manifest_is_a_clear_error(book, capsys, tmp_path, path):
    assert main(["letters", "mailed", "--manifest", str(tmp_path / path)]) == 2
    assert "cannot read the manifest" in capsys.readouterr().err
    assert not Path(path).exists()


def test_a_reprint_writes_the_print_file_and_manifest_again_without_rendering(
    queue, capsys, tmp_path
):
    from arrears.ledger.models import TimelineEvent

    queue(
        {
            "account_id": "A-TINA",
            "party_id": "P-TINA",
            "step": "late-notice",
            "template": "ny-late-rent-notice",
        }
    )
    assert (
        main(
            [
                "letters",
                "batch",
                "--date",
                "2026-03-06",
                "--output",
                str(tmp_path / "a"),
                "--workers",
                "1",
            ]
        )
        == 0
    )
    first = (tmp_path / "a" / "manifest-2026-03-06.csv").read_text()

    assert (
        main(
            [
                "letters",
                "batch",
                "--date",
                "2026-03-06",
                "--output",
                str(tmp_path / "b"),
                "--reprint",
            ]
        )
        == 0
    )

    assert (tmp_path / "b" / "manifest-2026-03-06.csv").read_text() == first
    assert (tmp_path / "b" / "print-2026-03-06.pdf").read_bytes().startswith(b"%PDF")
    assert TimelineEvent.objects.filter(kind="letter.rendered").count() == 1
