"""The Today page says how far the latest daily run has got (its chunks done, on the workers or
in-process) and, once it is finished, what it did; to whoever may run it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR
from arrears.dunning.models import RunChunk, RunLog

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 9, 10, 6, 0, tzinfo=ZoneInfo("America/New_York"))


def _run(*, chunks: int, done: int, **fields: object) -> RunLog:
    log = RunLog.objects.create(
        run_on=date(2026, 9, 10), started_at=STARTED, chunks_total=chunks, **fields
    )
    for index in range(done):
        RunChunk.objects.create(run=log, index=index, accounts=2000, result={}, done_at=STARTED)
    return log


def test_a_run_under_way_shows_its_chunks_done_of_its_chunks(client):
    # given the run of 2026-09-10 with 2 of its 5 chunks of 2,000 accounts done
    _run(chunks=5, done=2)
    # when the coordinator opens the Today page
    page = client.get("/today/").content.decode()
    # then it says the run is under way, 2 of 5 chunks done, 4,000 accounts
    assert "The run for 2026-09-10 is under way: 2 of 5 chunks done (4000 accounts)." in page


def test_a_finished_run_shows_what_it_did_and_in_spanish(client):
    # given the run of 2026-09-10 finished: 12 actions, 3 refused by the guard
    _run(
        chunks=1,
        done=1,
        finished_at=STARTED,
        counts={"accounts": 6, "actions": 12, "blocked": 3, "inspection_offers": 0},
    )
    # when the coordinator opens the Today page, in English then in Spanish
    english = client.get("/today/").content.decode()
    spanish = client.get("/today/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    # then it says so
    assert "The run for 2026-09-10 is finished: 12 actions, 3 refused by the guard." in english
    assert "ha terminado: 12 acciones, 3 rechazadas por el control." in spanish


def test_a_stopped_run_says_it_can_be_run_again(client):
    # given a run whose workers finished 1 of its 3 chunks and then none within the wait
    _run(chunks=3, done=1, stopped="no chunk done within 600 s (1 of 3 done)")
    # when the coordinator opens the Today page
    page = client.get("/today/").content.decode()
    # then it says it stopped, and that running it again does nothing twice
    assert "stopped with 1 of 3 chunks done" in page
    assert "what was done is not done twice" in page


def test_whoever_may_not_run_it_is_not_shown_the_run(client):
    # given a run under way, and the controller (who may not run it)
    _run(chunks=5, done=2)
    controller = user_add(
        username="dave",
        password="a-long-enough-password",
        role="controller",
        actor=OPERATOR,
        via="system",
    )
    client.force_login(controller)
    # when the controller opens the Today page
    page = client.get("/today/").content.decode()
    # then nothing of the run is on it
    assert 'id="run-status"' not in page
