"""A real run dated after the book's today is refused, whichever door asks (the command line, the
API), with the same words and nothing done: a late fee charged, or a notice dated, before its day
would break the law's counts (NY RPL §238-a(2): the fee only once the rent is more than five
days late, and a payment made meanwhile stops it). A dry run of that day is shown.

Company A's book (access.tests.people), as Alice, the coordinator, on March 26, 2026: Tina's
March rent is late, so a run of April 6 would charge her a late fee and send notices.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.cli import main
from arrears.dunning.models import Action, RunLog
from arrears.ledger.models import TimelineEvent, Transaction

pytestmark = pytest.mark.django_db

AHEAD = "2026-04-06"
SAID = (
    "the run for 2026-04-06 is after today (2026-03-26): a run is done on its day or after "
    "(a dry run shows what it would do)"
)


def _book() -> tuple[int, ...]:
    return (
        Transaction.objects.count(),
        Action.objects.count(),
        RunLog.objects.count(),
        TimelineEvent.objects.count(),
        AuditEntry.objects.filter(verb="run.real").count(),
    )


def test_a_run_ahead_of_today_is_refused_by_the_command_and_the_api_alike(people, tokens, capsys):
    before = _book()
    # when Alice runs April 6 from the command line
    status = main(["--as", "alice", "run", "--date", AHEAD])
    # then it is refused in words, exit status 2
    assert status == 2
    assert SAID in capsys.readouterr().err
    # and when she asks the API for it
    api = Client(raise_request_exception=False)
    answer = api.post(
        "/api/runs",
        {"date": AHEAD, "dry_run": False},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    # then the same refusal, as a 422 in the error shape
    assert answer.status_code == 422
    assert answer.json()["code"] == "run_after_today"
    assert answer.json()["message"] == SAID
    # and nothing was done: no fee, no action, no run, no timeline row, no run audited
    assert _book() == before


def test_a_dry_run_ahead_of_today_shows_what_that_day_would_do(people, capsys):
    before = _book()
    # when Alice asks what April 6 would do
    status = main(["--as", "alice", "run", "--date", AHEAD, "--dry-run", "--format", "json"])
    # then it says (Tina's late fee among it), and changes nothing
    assert status == 0
    said = json.loads(capsys.readouterr().out)
    assert any(a["account_id"] == "A-TINA" for a in said["actions"])
    assert _book() == before


def test_a_run_of_today_goes(people, capsys):
    assert main(["--as", "alice", "run", "--date", "2026-03-26"]) == 0
    assert RunLog.objects.filter(run_on="2026-03-26", dry_run=False).exists()
