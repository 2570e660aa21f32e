"""The daily run and correspondence: the run queues its letters and emails and names their
documents; the batch prints exactly those; returned mail makes the guard refuse the address."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from arrears.core.pdf import pdf_text
from arrears.correspondence.archive import archive_read
from arrears.correspondence.catalog import CATALOG, OUTSIDE_POLICIES
from arrears.correspondence.models import Outbound
from arrears.correspondence.services import letters_batch, mail_returned
from arrears.dunning.models import Action
from arrears.dunning.policy import built_in_policies
from arrears.dunning.services import cycle_run

MARCH_7 = date(2026, 3, 7)
APRIL_RENT = {
    "txn_id": "T-RENT-04",
    "account_id": "A-TINA",
    "posted": "2026-04-01",
    "type": "charge",
    "code": "RENT",
    "amount": "1200.00",
    "due": "2026-04-01",
}


@pytest.fixture(autouse=True)
def archive_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    settings.STORAGES = {
        **settings.STORAGES,
        "archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


def test_every_template_a_built_in_policy_names_is_built_in():
    named = {s.template for p in built_in_policies().values() for s in p.steps if s.template}
    # and the answers to a resolved dispute and the deposit's itemized statement, which no policy
    # step names
    assert named | set(OUTSIDE_POLICIES) == set(CATALOG)


def test_the_run_names_each_letters_document_and_the_batch_prints_it_there(tina_lease, tmp_path):
    # given: Tina's March rent unpaid, Greg guarantees
    tina_lease()

    # when: the run of the 7th, the day after the five days of grace, then the day's batch
    result = cycle_run(on=MARCH_7)
    batch = letters_batch(on=MARCH_7, output=tmp_path / "print", actor="alice", workers=1)

    # then: each certified letter of the run has its document, and that is what the batch wrote
    letters = {a["party_id"]: a for a in result.actions if a["channel"] == "certified_letter"}
    assert set(letters) == {"P-TINA", "P-GREG"}
    emails = [a for a in result.actions if a["channel"] == "email"]
    assert all(a["document"].startswith("email/2026/03/07/") for a in emails)
    assert not [a for a in result.actions if a["step"] == "late-fee" and "document" in a]
    for party_id, entry in letters.items():
        outbound = Outbound.objects.get(document_name=entry["document"])
        action = Action.objects.get(key=outbound.key)
        assert action.document == entry["document"]
        assert outbound.document is not None
        assert outbound.document.name == entry["document"]
        text = " ".join(pdf_text(archive_read(outbound.document)).split())
        assert ("Tina Ortiz" if party_id == "P-TINA" else "Greg Ortiz") in text
        assert "§235-e(d)" in text
    assert len(batch.letters) == 2

    # when: the run and the batch are repeated
    cycle_run(on=MARCH_7)
    again = letters_batch(on=MARCH_7, output=tmp_path / "print", actor="alice", workers=1)

    # then: nothing is queued or printed twice
    assert Outbound.objects.filter(channel="certified_letter").count() == 2
    assert again.letters == []


def test_after_gregs_letter_comes_back_the_guard_refuses_letters_to_that_address(
    tina_lease, tmp_path
):
    # given: March's notices printed; Greg's comes back undeliverable
    tina_lease(transactions=[APRIL_RENT])
    cycle_run(on=MARCH_7)
    letters_batch(on=MARCH_7, output=tmp_path / "print", actor="alice", workers=1)
    greg = Outbound.objects.get(party__party_id="P-GREG", channel="certified_letter")
    mail_returned(letter=f"L{greg.pk}", on=date(2026, 3, 12), actor="alice")

    # when: April's rent is late too (due Wednesday the 1st: noticed on Tuesday the 7th)
    april = cycle_run(on=date(2026, 4, 7))

    # then: Tina still gets her notice; Greg's is refused, naming the returned mail
    assert {
        (a["party_id"], a["step"]) for a in april.actions if a["channel"] == "certified_letter"
    } == {("P-TINA", "late-notice")}
    returned = "channel:mail returned undeliverable"
    assert april.blocked == [
        {
            "account_id": "A-TINA",
            "party_id": "P-GREG",
            "step": "late-notice-guarantor",
            "rule": returned,
        }
    ]
