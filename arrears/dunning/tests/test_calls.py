"""The built-in policies' calls: the daily run puts a call task on the worklist where a
coordinator calls (ny-residential v3): two days before the rent demand's last day, the day after
a promise is broken, the day after a letter comes back undeliverable.

Tina Ortiz (3B at Elm Court, Brooklyn; +1 212 555 0101) never paid March's 1,200.00 rent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from arrears.correspondence.mailing import mail_returned
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action
from arrears.dunning.services import cycle_run, hold_place
from arrears.dunning.worklist import worklist
from arrears.plans.services import promise_add

pytestmark = pytest.mark.django_db


def calls(account_id: str) -> list[tuple[str, date, str]]:
    return list(
        Action.objects.filter(account__account_id=account_id, channel="call")
        .order_by("run_on", "id")
        .values_list("step", "run_on", "status")
    )


def test_a_call_two_days_before_the_rent_demand_runs_out(tina_lease, print_letters):
    # given the rent demand served on March 11 (its 14 days run to the 25th)
    account = tina_lease()
    for day in (7, 11):
        cycle_run(on=date(2026, 3, day), actor="cycle")
        print_letters(date(2026, 3, day))
    # when the run goes on the 22nd, then the 23rd and 24th
    for day in (22, 23, 24):
        cycle_run(on=date(2026, 3, day), actor="cycle")
    # then one call task, on the 23rd, for Tina, and it is on the day's worklist
    assert calls(account) == [("call-before-rent-demand-expires", date(2026, 3, 23), "task")]
    (line,) = [w for w in worklist(on=date(2026, 3, 23)) if w.kind == "call"]
    assert (line.account_id, line.party_id) == (account, "P-TINA")
    assert line.reason == "Call Tina Ortiz: call before rent demand expires"
    assert line.tab == "calls"


def test_a_call_the_day_after_a_promise_is_broken(tina_lease):
    # given Tina's promise on the 9th to pay 600.00 by the 12th (two days of grace), unpaid
    account = tina_lease()
    promise_add(
        account_id=account,
        amount=Decimal("600.00"),
        promised_on=date(2026, 3, 12),
        on=date(2026, 3, 9),
        actor="alice",
    )
    # when the run goes each day from the 13th to the 17th
    for day in range(13, 18):
        cycle_run(on=date(2026, 3, day), actor="cycle")
    # then the promise broke on the 15th, and one call came the day after
    assert calls(account) == [("call-after-broken-promise", date(2026, 3, 16), "task")]
    kinds = {w.kind for w in worklist(on=date(2026, 3, 16)) if w.account_id == account}
    assert {"call", "broken_promise"} <= kinds


def test_a_call_the_day_after_a_letter_comes_back(tina_lease, print_letters):
    # given the late notice printed on the 7th, back undeliverable on the 13th
    account = tina_lease()
    cycle_run(on=date(2026, 3, 7), actor="cycle")
    print_letters(date(2026, 3, 7))
    letter = Outbound.objects.filter(account__account_id=account, party__party_id="P-TINA").get(
        channel="certified_letter"
    )
    mail_returned(letter=f"L{letter.pk}", on=date(2026, 3, 13), actor="alice", reason="moved")
    # when the run goes on the 13th and the 14th
    for day in (13, 14):
        cycle_run(on=date(2026, 3, day), actor="cycle")
    # then one call to ask for a good address, the day after
    assert calls(account) == [("call-after-returned-letter", date(2026, 3, 14), "task")]


@pytest.mark.parametrize("deal", ["promised", "held"])
def test_the_call_line_leaves_once_tina_promises_or_is_held(deal, tina_lease, print_letters):
    # given the call before the demand runs out on the worklist of the 23rd
    account = tina_lease()
    for day in (7, 11):
        cycle_run(on=date(2026, 3, day), actor="cycle")
        print_letters(date(2026, 3, day))
    cycle_run(on=date(2026, 3, 23), actor="cycle")
    on = date(2026, 3, 23)
    assert "call" in {w.kind for w in worklist(on=on)}
    # when she promises, or her account is held
    if deal == "promised":
        promise_add(
            account_id=account,
            amount=Decimal("1250.00"),
            promised_on=date(2026, 3, 25),
            on=on,
            actor="alice",
        )
    else:
        hold_place(account_id=account, reason="manual", on=on, actor="alice")
    # then neither the call nor the expiring demand is left to do
    assert not {"call", "deadline"} & {w.kind for w in worklist(on=on)}
