"""A chunk of the daily run, as a worker does it (`services.run_chunk`): done twice, it returns
what it did the first time and adds nothing; a chunk of a run that stopped waiting does nothing.

Tina Ortiz rents 3B at Elm Court (Brooklyn NY) for 1,200.00, guaranteed by her brother Greg;
March's rent is unpaid on the 7th, after New York's five days of grace (GCL §20): her certified
late notice (RPL §235-e(d)), Greg's letter and the late fee of 50.00 (RPL §238-a(2)) are due,
and her email reminder with them.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.utils import timezone as dj_timezone

from arrears.dunning.models import Action, RunChunk, RunLog
from arrears.dunning.run_rows import packed, unpacked
from arrears.dunning.services import run_chunk
from arrears.ledger.models import Account, TimelineEvent, Transaction

pytestmark = pytest.mark.django_db

MARCH_7 = date(2026, 3, 7)


def _run(**fields: object) -> RunLog:
    return RunLog.objects.create(
        run_on=MARCH_7, started_at=dj_timezone.now(), chunks_total=1, **fields
    )


def _rows() -> tuple[int, int, int]:
    return Action.objects.count(), Transaction.objects.count(), TimelineEvent.objects.count()


def test_a_chunk_done_twice_returns_what_it_did_and_adds_nothing(tina_lease):
    # given Tina's lease, March unpaid, and a run of the 7th on the workers
    account = Account.objects.get(account_id=tina_lease())
    log = _run()
    # when its one chunk is done, and then handed to a worker again (a redelivery)
    chunk = {"run_id": log.pk, "index": 0, "pks": [account.pk], "on": MARCH_7}
    first = run_chunk(**chunk, dry_run=False, actor="cycle", keep_result=True)
    rows = _rows()
    again = run_chunk(**chunk, dry_run=False, actor="cycle", keep_result=True)
    # then the first did the 7th's steps: the late notice to Tina, Greg's letter, the fee, and
    # (this being the lease's first run) Tina's email reminder, due since the grace began
    steps = sorted((a["step"], a["party_id"]) for a in first["actions"])
    assert steps == [
        ("late-fee", None),
        ("late-notice", "P-TINA"),
        ("late-notice-guarantor", "P-GREG"),
        ("reminder", "P-TINA"),
    ]
    assert first["accounts"] == 1
    # and the second says the same and writes nothing: no action, fee or timeline row more
    assert again == first
    assert _rows() == rows
    assert list(RunChunk.objects.filter(run=log).values_list("index", "accounts")) == [(0, 1)]
    assert unpacked(RunChunk.objects.get(run=log).result) == first


def test_a_chunk_result_is_kept_compressed_and_read_back_as_it_was():
    # given a chunk's result as a worker returns it (an accent and a refusal among its entries)
    doc = {
        "actions": [{"account_id": "A-1", "party_id": "P-1", "step": "late-notice"}] * 500,
        "blocked": [{"account_id": "A-2", "step": "reminder", "rule": "dispute", "name": "José"}],
        "accounts": 2,
    }
    # when it is packed for its RunChunk row
    kept = packed(doc)
    # then the row holds one compressed string, smaller than the JSON, which reads back as it was
    assert list(kept) == ["z"]
    assert len(kept["z"]) < len(json.dumps(doc)) / 10
    assert unpacked(kept) == doc
    # and a row kept as plain JSON (before results were packed) reads as it is
    assert unpacked(doc) == doc


def test_a_chunk_of_a_run_that_stopped_waiting_does_nothing(tina_lease):
    # given a run of the 7th whose workers were given up on (no chunk done within the wait)
    account = Account.objects.get(account_id=tina_lease())
    log = _run(stopped="no chunk done within 600 s (0 of 1 done)")
    rows = _rows()
    # when a worker comes up later and finds its chunk
    done = run_chunk(
        run_id=log.pk, index=0, pks=[account.pk], on=MARCH_7, dry_run=False, actor="cycle"
    )
    # then it does nothing: the next run of the 7th does the chunk
    assert done == {"actions": [], "blocked": [], "accounts": 0}
    assert _rows() == rows
    assert not RunChunk.objects.filter(run=log).exists()
