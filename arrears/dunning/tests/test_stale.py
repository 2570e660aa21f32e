"""A notice that waited too long for the printer is not printed as it stands: re-dated with its
deadline counted again from the day it is printed (the default), or cancelled and re-issued (a
policy's `stale_notice = "reissue"`), said so on the timeline.

Tina Ortiz rents 3B at Elm Court, guaranteed by Greg; September's rent is unpaid. The run of
September 22 queues her certified late notice (NY RPL §235-e(d)) and her 14-day rent demand
(RPAPL §711(2)); nobody prints them until September 30, eight days later: past the policy's
window of 5 days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from arrears.correspondence.models import Outbound
from arrears.dunning.models import CompanyPolicy
from arrears.dunning.policy import built_in_sources
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.dunning.tests.conftest import ELM_COURT, GREG, TINA
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db
SEPT_22, SEPT_24, SEPT_30 = date(2026, 9, 22), date(2026, 9, 24), date(2026, 9, 30)


@pytest.fixture
def queued(load_book) -> None:
    load_book(
        properties=[ELM_COURT],
        parties=[TINA, GREG],
        accounts=[
            {
                "account_id": "A-TINA",
                "property_id": "ELM",
                "unit": "3B",
                "kind": "residential_lease",
                "opened": "2025-06-01",
                "rent": "1200.00",
            }
        ],
        account_parties=[
            {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
            {"account_id": "A-TINA", "party_id": "P-GREG", "role": "guarantor"},
        ],
        transactions=[
            {
                "txn_id": "T-RENT-09",
                "account_id": "A-TINA",
                "posted": "2026-09-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-09-01",
            }
        ],
    )
    cycle_run(on=SEPT_22)


def demand() -> Outbound:
    return Outbound.objects.get(step="rent-demand", party__party_id="P-TINA")


def test_a_demand_printed_after_its_window_is_redated_and_its_deadline_counted_again(
    queued, tmp_path
) -> None:
    # given the rent demand queued on September 22
    queued_deadline = demand().deadline
    # when the letters are printed on September 30
    result = letters_print(on=SEPT_30, output=tmp_path / "print", actor="alice", workers=1)
    # then the demand is printed, dated September 30, its 14 days counted from then
    row = demand()
    assert row.pk in {letter["letter_id"] for letter in result.letters}
    assert row.dated_on == SEPT_30
    assert row.deadline is not None
    assert queued_deadline is not None
    assert row.deadline > queued_deadline
    assert row.deadline >= SEPT_30 + timedelta(days=14)
    # and the timeline says why
    stale = TimelineEvent.objects.get(kind="letter.stale", detail__letter_id=row.pk)
    assert "not mailed within 5 days of being queued on 2026-09-22" in stale.summary
    assert stale.detail["deadline"] == row.deadline.isoformat()


def test_a_letter_printed_within_its_window_is_not_called_stale(queued, tmp_path) -> None:
    letters_print(on=SEPT_24, output=tmp_path / "print", actor="alice", workers=1)
    assert not TimelineEvent.objects.filter(kind="letter.stale").exists()


def test_under_a_reissue_policy_the_stale_letter_is_cancelled_and_a_new_one_queued(
    queued, tmp_path
) -> None:
    # given the company's New York policy re-issues stale notices
    body = dict(built_in_sources())["ny-residential"]
    CompanyPolicy.objects.create(
        name="ny-residential", version=3, body=body + '\n[settings]\nstale_notice = "reissue"\n'
    )
    old = demand()
    # when the letters are printed on September 30
    result = letters_print(on=SEPT_30, output=tmp_path / "print", actor="alice", workers=1)
    # then the old demand is cancelled, saying it is re-issued, and a new one queued that day
    old.refresh_from_db()
    assert old.status == "cancelled"
    assert {c["rule"] for c in result.cancelled} == {"stale"}
    new = Outbound.objects.get(key=f"{old.key}:reissued:2026-09-30")
    assert (new.status, new.run_on, new.detail["reissues"]) == ("queued", SEPT_30, old.pk)
    assert f"re-issued as L{new.pk}" in old.error
    # and the next batch prints it, dated that day
    again = letters_print(on=SEPT_30, output=tmp_path / "print2", actor="alice", workers=1)
    assert new.pk in {letter["letter_id"] for letter in again.letters}
    new.refresh_from_db()
    assert new.dated_on == SEPT_30
    assert new.deadline is not None
    assert new.deadline >= SEPT_30 + timedelta(days=14)
