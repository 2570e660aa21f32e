"""A date outside the book's calendar (1900-01-01 to 2200-12-31: year 1, year 9999, a mistyped
year) typed on the command line, sent to the API or posted by a page is refused with a clear
message, never a traceback or a server error, and changes nothing (issue 13, item 7).

Company A's book (access.tests.people), as Alice, the coordinator, on March 26, 2026.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.tests.people import signed_in
from arrears.cli import main
from arrears.dunning.models import Hold
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db

FAR = ("0001-01-01", "9999-12-31")


@pytest.mark.parametrize("far", FAR)
@pytest.mark.parametrize(
    "command",
    [
        ["aging", "--as-of"],
        ["ledger", "A-TINA", "--as-of"],
        ["run", "--dry-run", "--date"],
        ["worklist", "--date"],
        ["hold", "A-TINA", "--reason", "manual", "--until"],
        ["promise", "add", "A-TINA", "--amount", "10.00", "--date"],
        ["letters", "batch", "--date"],
    ],
    ids=lambda c: " ".join(c) if isinstance(c, list) else c,
)
def test_a_command_line_date_outside_the_calendar_is_refused_by_its_option(
    people, capsys, command, far
):
    # given
    before = (Hold.objects.count(), TimelineEvent.objects.count())
    # when
    with pytest.raises(SystemExit) as exited:
        main([*command, far])
    # then: argparse's usage error, naming the option and the calendar, and nothing written
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"{far} is outside the book's calendar (1900-01-01 to 2200-12-31)" in err
    assert "Traceback" not in err
    assert (Hold.objects.count(), TimelineEvent.objects.count()) == before


@pytest.mark.parametrize("far", FAR)
def test_a_call_logged_at_a_time_outside_the_calendar_is_refused(people, capsys, far):
    # when Alice, the coordinator, logs the call from the command line
    call = ["--as", "alice", "call", "log", "A-TINA", "--party", "P-TINA", "--outcome", "no-answer"]
    status = main([*call, "--at", f"{far}T10:00"])
    # then
    assert status == 2
    assert "outside the book's calendar" in capsys.readouterr().err
    assert not TimelineEvent.objects.filter(kind__startswith="call").exists()


@pytest.mark.parametrize("far", FAR)
def test_the_api_and_the_pages_refuse_a_date_outside_the_calendar(people, tokens, far):
    api = Client(raise_request_exception=False)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['alice']}"}
    alice = signed_in(people["alice"])
    alice.raise_request_exception = False
    before = (Hold.objects.count(), TimelineEvent.objects.count(), AuditEntry.objects.count())

    # when
    def post(path: str, body: dict[str, str]) -> Any:
        return api.post(path, body, content_type="application/json", **bearer)

    call = {"party_id": "P-TINA", "outcome": "no-answer", "at": f"{far}T10:00"}
    answers = {
        "aging": api.get(f"/api/aging?as_of={far}", **bearer),
        "run": post("/api/runs", {"date": far}),
        "hold": post("/api/accounts/A-TINA/holds", {"reason": "manual", "until": far}),
        "call": post("/api/accounts/A-TINA/calls", call),
        "hold page": alice.post("/accounts/A-TINA/holds/", {"reason": "manual", "until": far}),
    }
    # then: each a 422 in the error shape (the page: beside its form), nothing written
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 422)
    for name in ("aging", "run", "hold", "call"):
        assert set(answers[name].json()) == {"code", "message", "extra"}
        assert "outside" in answers[name].json()["message"], name
    assert "The end date is not a date." in answers["hold page"].content.decode()
    after = (Hold.objects.count(), TimelineEvent.objects.count(), AuditEntry.objects.count())
    assert after == before
