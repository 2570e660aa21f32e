"""The daily run and a dispute's credit leave a closed month alone (issue 13, item 8).

Tina's February and March rent are unpaid. Dave, the controller, closed February on March 5,
after its figures went to the owner. A run dated in February (catching up a missed day) would
post its fees there: it is refused before it does anything, as a back-dated dispute credit is.
"""

from __future__ import annotations

from datetime import date

import pytest

from arrears.cli import main
from arrears.disputes.models import Dispute
from arrears.disputes.services import dispute_open, dispute_resolve
from arrears.dunning.models import Action, RunLog
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.periods import PeriodClosedError, period_close
from arrears.ledger.selectors import aging_report

FEBRUARY_RENT = {
    "txn_id": "T-RENT-02",
    "account_id": "A-TINA",
    "posted": "2026-02-01",
    "type": "charge",
    "code": "RENT",
    "amount": "1200.00",
    "due": "2026-02-01",
}
FEBRUARY_27, FEBRUARY_28 = date(2026, 2, 27), date(2026, 2, 28)
MARCH_5, MARCH_7, MARCH_8 = date(2026, 3, 5), date(2026, 3, 7), date(2026, 3, 8)


@pytest.fixture
def february_closed(tina_lease):
    account = tina_lease(history=[FEBRUARY_RENT])
    period_close(month=date(2026, 2, 1), actor="dave", on=MARCH_5)
    return account


def written() -> tuple[int, ...]:
    models = (Action, TimelineEvent, Transaction, RunLog)
    return tuple(m.objects.count() for m in models)


def february_total() -> str:
    (report,) = aging_report(as_of=FEBRUARY_28)
    return str(report.as_json()["totals"]["balance"])


def test_a_run_dated_in_a_closed_month_is_refused_before_it_does_anything(february_closed):
    # given
    before, reported = written(), february_total()
    # when / then: a real run of February 27 is refused, saying why
    with pytest.raises(PeriodClosedError, match="2026-02 is closed") as refused:
        cycle_run(on=FEBRUARY_27, actor="alice")
    assert "the daily run dated 2026-02-27" in refused.value.message
    assert written() == before
    # and a dry run of that day still shows what it would have done, changing nothing
    dry = cycle_run(on=FEBRUARY_27, dry_run=True)
    assert dry.actions
    assert written() == before
    # and the run of March 7 posts March's late fee on March 7, February as reported
    cycle_run(on=MARCH_7, actor="alice")
    fees = Transaction.objects.filter(code="LATE").values_list("posted_on", flat=True)
    assert set(fees) == {MARCH_7}
    assert february_total() == reported == "1200.00"


def test_the_run_command_says_the_month_is_closed_and_exits_2(february_closed, capsys):
    # when
    status = main(["run", "--date", "2026-02-27"])
    # then
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("arrears run: 2026-02 is closed")
    assert "Traceback" not in err


def test_a_dispute_credit_dated_in_a_closed_month_is_refused_and_the_dispute_stays_open(
    february_closed,
):
    # given: Tina disputes February's rent
    dispute = dispute_open(
        account_id=february_closed,
        charges=["T-RENT-02"],
        reason="paid in cash",
        on=MARCH_5,
        actor="alice",
    )
    before = written()
    # when / then: upheld with a credit back-dated to February 28
    with pytest.raises(PeriodClosedError, match="a credit dated 2026-02-28"):
        dispute_resolve(dispute_id=dispute.pk, outcome="upheld", on=FEBRUARY_28, actor="alice")
    assert Dispute.objects.get(pk=dispute.pk).resolved_on is None
    assert written() == before
    # and upheld on March 8 it credits the rent, February's aging as reported
    dispute_resolve(dispute_id=dispute.pk, outcome="upheld", on=MARCH_8, actor="alice")
    credit = Transaction.objects.get(type="credit")
    assert (credit.posted_on, credit.applies_to.txn_id) == (MARCH_8, "T-RENT-02")
    assert february_total() == "1200.00"
