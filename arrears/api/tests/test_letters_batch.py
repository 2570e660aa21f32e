"""One act, one service: the CLI's `arrears letters batch`, the letters page and the API's
`POST /api/letters/batch` print the same batch through `dunning.reissue.letters_print`: the same
letters printed with the same date and figures, the same cancelled with the same reason, the same
manifest. Each is run on the same book from the same savepoint (the archive keeps the same bytes
under the same names, which it adopts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.test import Client

from arrears.access.tests.people import TODAY, signed_in
from arrears.cli import main
from arrears.correspondence.archive import archive_read
from arrears.correspondence.models import Outbound, PrintBatch
from arrears.dunning.services import cycle_run, hold_place


def _printed() -> dict[str, Any]:
    letters = Outbound.objects.filter(channel__in=["letter", "certified_letter"]).order_by("key")
    batch = PrintBatch.objects.get()
    assert batch.manifest is not None
    return {
        "letters": [
            (o.key, o.status, o.dated_on, o.amount, o.deadline, o.error, o.document_name)
            for o in letters
        ],
        "manifest": archive_read(batch.manifest).decode(),
    }


def test_the_cli_the_letters_page_and_the_api_print_the_same_batch(
    db, people, tokens, tmp_path, monkeypatch, capsys
):
    # given the runs queued Tina's and Greg's letters and Oscar's, and Oscar has since been
    # represented by an attorney (15 USC §1692c(a)(2)): his letters no longer go
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    cycle_run(on=TODAY, actor="cycle")
    assert Outbound.objects.filter(account__account_id="A-OSCAR", status="queued").exists()
    hold_place(account_id="A-OSCAR", reason="represented", on=TODAY, actor="alice")
    monkeypatch.setenv("ARREARS_USER", "alice")
    day = TODAY.isoformat()

    def cli() -> None:
        assert main(["letters", "batch", "--date", day, "--output", str(tmp_path / "cli")]) == 0

    def page() -> None:
        response = signed_in(people["alice"]).post("/letters/batch/", {"on": day})
        assert response.status_code == 302

    def api() -> None:
        response = Client().post(
            "/api/letters/batch",
            {"on": day},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
        )
        assert response.status_code == 200, response.content
        assert response.json()["cancelled"]

    # when each prints the batch, from the same book
    results = {}
    for name, act in (("cli", cli), ("page", page), ("api", api)):
        point = transaction.savepoint()
        act()
        results[name] = _printed()
        transaction.savepoint_rollback(point)

    # then the three printed the same letters the same way and cancelled the same
    assert results["cli"] == results["page"] == results["api"]
    statuses = {key: status for key, status, *_ in results["cli"]["letters"]}
    assert {s for k, s in statuses.items() if k.startswith("A-OSCAR")} == {"cancelled"}
    assert {s for k, s in statuses.items() if k.startswith("A-TINA")} == {"rendered"}
    assert "cancelled" in capsys.readouterr().out
