"""The worklist's acts (`acts.worklist_snooze`, `acts.worklist_dismiss`): a line of the actor's
worklist today, set aside with a reason, audited; refused in words otherwise.

Tina Ortiz's rent demand of March 11 expired unpaid: on the 26th the policy recommends a
referral. Alice is the coordinator; Dave, the controller, may read but not act.
"""

from __future__ import annotations

from datetime import date

import pytest

from arrears.access import acts
from arrears.access.acting import By
from arrears.access.errors import ForbiddenError
from arrears.access.models import AuditEntry
from arrears.access.tests.people import TODAY
from arrears.core.errors import NotFoundError, ValidationError
from arrears.dunning.models import WorklistSnooze
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral_line(people, tmp_path):
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    letters_print(on=date(2026, 3, 11), output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=TODAY, actor="cycle")
    return people


def test_alice_dismisses_the_referral_line_saying_why(referral_line):
    row = acts.worklist_dismiss(
        by=By(referral_line["alice"], "cli"),
        account_id="A-TINA",
        kind="referral",
        reason="the owner wants to wait for the court to reopen",
    )
    assert (row.until, row.by, row.on) == (None, "alice", TODAY)
    assert row.ref == "A-TINA:referral:2026-03-01"  # the recommendation's own key
    event = TimelineEvent.objects.get(kind="worklist.dismissed")
    assert event.summary == (
        "referral line dismissed from the worklist: the owner wants to wait for the court to reopen"
    )
    audit = AuditEntry.objects.get(verb="worklist.dismiss")
    assert (audit.username, audit.via, audit.account_id) == ("alice", "cli", "A-TINA")


def test_a_line_is_set_aside_only_with_a_reason_only_later_and_only_if_it_is_there(
    referral_line,
):
    alice = By(referral_line["alice"], "web")
    with pytest.raises(ValidationError) as missing:
        acts.worklist_dismiss(by=alice, account_id="A-TINA", kind="referral", reason=" ")
    assert missing.value.code == "snooze_reason_missing"
    with pytest.raises(ValidationError) as past:
        acts.worklist_snooze(
            by=alice, account_id="A-TINA", kind="referral", until=TODAY, reason="later"
        )
    assert past.value.code == "snooze_until_past"
    with pytest.raises(NotFoundError) as absent:
        acts.worklist_dismiss(by=alice, account_id="A-TINA", kind="call", reason="done")
    assert absent.value.code == "worklist_line_not_found"
    assert absent.value.message == "no call line for A-TINA on the worklist"
    assert not WorklistSnooze.objects.exists()


def test_a_controller_may_not_set_a_line_aside(referral_line):
    with pytest.raises(ForbiddenError):
        acts.worklist_snooze(
            by=By(referral_line["dave"], "web"),
            account_id="A-TINA",
            kind="referral",
            until=date(2026, 3, 30),
            reason="later",
        )
    assert not WorklistSnooze.objects.exists()
