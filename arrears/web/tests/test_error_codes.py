"""Errors carry codes, interfaces word them: the same refusal through the command line, the account
page (in English and in Spanish) and the API has one code, and each interface words it for its
reader: the CLI names its own flags (its wording is chosen by the code, arrears.cli.wording), the
page speaks the user's language, the API gives {code, message, extra} with the facts.

Tina Ortiz's lease (A-TINA, Elm Court, 1,200.00 of rent unpaid) on March 26, 2026; Alice is the
coordinator, Dave the controller.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from arrears.cli import main
from arrears.disputes.models import Dispute
from arrears.disputes.services import dispute_open
from arrears.dunning.models import Hold
from arrears.ledger.models import PeriodEvent, Transaction
from arrears.ledger.periods import period_close
from arrears.web.tests.test_admin import as_, error_beside

pytestmark = pytest.mark.django_db

TINA = "/accounts/A-TINA"


def api(tokens: dict[str, str], who: str, path: str, body: dict[str, Any]) -> Any:
    return Client().post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens[who]}",
    )


def cli(capsys: Any, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def activity_error(response: Any) -> str:
    html = response.content.decode()
    start = html.index('<p class="error" role="alert">') + len('<p class="error" role="alert">')
    return html[start : html.index("</p>", start)]


@pytest.fixture
def dispute(people) -> Dispute:
    return dispute_open(
        account_id="A-TINA",
        reason="the February late fee was charged twice",
        on=date(2026, 3, 26),
        actor="alice",
    )


def test_a_partial_resolution_above_the_disputed_amount_is_refused_by_each_interface_in_its_words(
    dispute, people, tokens, capsys, monkeypatch
):
    # given a dispute of Tina's open balance, and Alice on each interface
    monkeypatch.setenv("ARREARS_USER", "alice")
    too_much = str(dispute.amount + 1)
    disputed = f"{dispute.amount:.2f}"
    url = f"{TINA}/disputes/{dispute.pk}/resolve/"
    form = {"outcome": "partial", "amount": too_much, "note": ""}
    # when she resolves it partly, for more than was disputed, by the command line
    status, err = cli(
        capsys, "dispute", "resolve", str(dispute.pk), "--outcome", "partial", "--amount", too_much
    )
    # and on the page in English and in Spanish, and through the API
    english = as_(people["alice"]).post(url, form, HTTP_HX_REQUEST="true")
    spanish = as_(people["alice"]).post(
        url, form, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="es"
    )
    by_api = api(tokens, "alice", f"/api{url.rstrip('/')}", form)
    # then each is refused and nothing is credited
    assert not Transaction.objects.filter(type="credit").exists()
    assert Dispute.objects.get(pk=dispute.pk).outcome == ""
    # and the CLI names its flag, the pages say it in the user's language, the API gives facts
    assert status == 2
    assert f"--amount above 0 and below the disputed {disputed}" in err
    assert (english.status_code, spanish.status_code) == (422, 422)
    assert disputed in activity_error(english)
    assert "--amount" not in activity_error(english)
    assert activity_error(spanish).startswith("una resolución parcial abona")
    assert disputed in activity_error(spanish)
    body = by_api.json()
    assert (by_api.status_code, body["code"]) == (422, "dispute_partial_amount")
    assert body["extra"]["disputed"] == disputed
    assert body["extra"]["amount"] == too_much
    assert body["message"] == activity_error(english)


def test_a_hold_ending_before_it_starts_is_refused_by_each_interface_in_its_words(
    people, tokens, capsys, monkeypatch
):
    # given Alice on each interface, on March 26
    monkeypatch.setenv("ARREARS_USER", "alice")
    # when she places a manual hold on Tina's account until March 1
    status, err = cli(capsys, "hold", "A-TINA", "--reason", "manual", "--until", "2026-03-01")
    form = {"reason": "manual", "until": "2026-03-01"}
    english = as_(people["alice"]).post(f"{TINA}/holds/", form, HTTP_HX_REQUEST="true")
    spanish = as_(people["alice"]).post(
        f"{TINA}/holds/", form, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="es"
    )
    by_api = api(tokens, "alice", "/api/accounts/A-TINA/holds", form)
    # then none is placed
    assert not Hold.objects.exists()
    # and each interface words it
    assert status == 2
    assert "--until 2026-03-01 is before the hold starts (2026-03-26)" in err
    assert "2026-03-01" in activity_error(english)
    assert "--until" not in activity_error(english)
    assert activity_error(spanish).startswith("la suspensión termina el 2026-03-01")
    body = by_api.json()
    assert (by_api.status_code, body["code"]) == (422, "hold_ends_before_start")
    assert (body["extra"]["until"], body["extra"]["start"]) == ("2026-03-01", "2026-03-26")
    assert body["message"] == activity_error(english)


def test_closing_a_month_that_has_not_ended_is_period_closed_on_each_interface(
    people, tokens, capsys, monkeypatch
):
    # given Dave the controller on each interface, on March 26
    monkeypatch.setenv("ARREARS_USER", "dave")
    # when he closes March
    status, err = cli(capsys, "period", "close", "2026-03")
    english = as_(people["dave"]).post("/periods/", {"act": "close", "month": "2026-03"})
    spanish = as_(people["dave"]).post(
        "/periods/", {"act": "close", "month": "2026-03"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    by_api = api(tokens, "dave", "/api/periods/close", {"month": "2026-03"})
    # then nothing is closed
    assert not PeriodEvent.objects.exists()
    assert status == 2
    assert "2026-03 has not ended" in err
    assert "2026-03 has not ended" in error_beside(english.content.decode(), "month")
    assert error_beside(spanish.content.decode(), "month").startswith("2026-03 no ha terminado")
    body = by_api.json()
    assert (by_api.status_code, body["code"]) == (409, "period_closed")
    assert (body["extra"]["month"], body["extra"]["last"]) == ("2026-03", "2026-03-31")


def test_a_run_dated_in_a_closed_month_names_the_reopening_command_on_the_cli_only(
    people, tokens, capsys, monkeypatch
):
    # given February closed
    period_close(month=date(2026, 2, 1), actor="dave", on=date(2026, 3, 26))
    monkeypatch.setenv("ARREARS_USER", "alice")
    # when Alice asks for the daily run of February 27 by the command line and through the API
    status, err = cli(capsys, "run", "--date", "2026-02-27")
    by_api = api(tokens, "alice", "/api/runs", {"date": "2026-02-27", "dry_run": False})
    # then the CLI names its command, the API states the facts and no command
    assert status == 2
    assert "`arrears period reopen 2026-02 --reason …`" in err
    body = by_api.json()
    assert (by_api.status_code, body["code"]) == (409, "period_closed")
    assert body["extra"]["what"] == "the daily run"
    assert body["extra"]["first_open"] == "2026-03-01"
    assert "arrears period" not in body["message"]
    assert "the daily run dated 2026-02-27 would change it" in body["message"]
