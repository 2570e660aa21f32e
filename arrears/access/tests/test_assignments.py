"""Accounts belong to coordinators: assigned by portfolio, property or account (the most
specific wins), covered for while someone is out, reassigned by a manager or an admin, every
change on the accounts' timelines.

The cast of `people.py`, Elm Court (ELM) and Oak Terrace (OAK) put in the NYC and CA portfolios,
and Bea, a second coordinator at company A.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from arrears.access import acts
from arrears.access.acting import By
from arrears.access.assigned import (
    account_coordinator,
    accounts_assigned,
    accounts_unassigned,
)
from arrears.access.assignments import Target
from arrears.access.errors import ForbiddenError
from arrears.access.models import Assignment, AuditEntry, Coverage
from arrears.access.selectors import worklist_of, worklist_scope, worklist_visible
from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR, TODAY
from arrears.core.errors import NotFoundError, ValidationError
from arrears.dunning.selectors import WorkItem
from arrears.ledger.models import Account, Property, TimelineEvent
from arrears.ledger.posting import NewCharge, charges_post

pytestmark = pytest.mark.django_db

ELM = Target("property", "ELM")
NYC = Target("portfolio", "NYC")
TINA = Target("account", "A-TINA")
DAY = date(2026, 3, 5)


@pytest.fixture
def desk(people: dict[str, Any]) -> dict[str, Any]:
    Property.objects.filter(property_id="ELM").update(portfolio="NYC")
    Property.objects.filter(property_id="OAK").update(portfolio="CA")
    bea = user_add(
        username="bea",
        password="bea-coordinates-2026",
        role="coordinator",
        actor=OPERATOR,
        via="system",
    )
    return {**people, "bea": bea}


def by(user: Any) -> By:
    return By(user, "cli")


def mine(user: Any, on: date = TODAY) -> set[str]:
    return set(accounts_assigned(user, on).values_list("account_id", flat=True))


def timeline(account_id: str, kind: str) -> list[TimelineEvent]:
    return list(
        TimelineEvent.objects.filter(account__account_id=account_id, kind=kind).order_by("id")
    )


def test_the_most_specific_assignment_wins_account_over_property_over_portfolio(desk):
    # given Bea has the NYC portfolio
    erin = by(desk["erin"])
    acts.assign(by=erin, username="bea", target=NYC)
    assert mine(desk["bea"]) == {"A-TINA"}
    # when Alice is given Elm Court, the property wins over the portfolio
    acts.assign(by=erin, username="alice", target=ELM)
    assert mine(desk["alice"]) == {"A-TINA"}
    assert mine(desk["bea"]) == set()
    # when Tina's lease itself is Bea's, the account wins over the property
    acts.assign(by=erin, username="bea", target=TINA)
    assert mine(desk["bea"]) == {"A-TINA"}
    assert mine(desk["alice"]) == set()
    # then ending the account's assignment gives it back to the property's coordinator
    acts.unassign(by=erin, target=TINA)
    assert mine(desk["alice"]) == {"A-TINA"}
    # and ending the property's to the portfolio's
    acts.unassign(by=erin, target=ELM)
    assert mine(desk["bea"]) == {"A-TINA"}
    # and Oscar's lease, in the CA portfolio no one has, is unassigned
    assert set(accounts_unassigned(TODAY).values_list("account_id", flat=True)) == {"A-OSCAR"}
    # and each change of coordinator is one row on the account's timeline
    rows = [e.summary for e in timeline("A-TINA", "assignment.changed")]
    assert rows == [
        "coordinator: bea (portfolio NYC)",
        "coordinator: alice (property ELM); was bea",
        "coordinator: bea (account A-TINA); was alice",
        "coordinator: alice (account A-TINA); was bea",
        "coordinator: bea (property ELM); was alice",
    ]
    assert timeline("A-TINA", "assignment.changed")[0].actor == "erin"
    # and the ended assignments are kept, with the day they ended
    assert Assignment.objects.filter(ended_on=TODAY, ended_by="erin").count() == 2


def test_reassigning_a_property_ends_the_old_assignment_and_moves_the_account(desk):
    # given Alice has Elm Court
    acts.assign(by=by(desk["erin"]), username="alice", target=ELM)
    # when Bob, Elm Court's manager, gives it to Bea
    acts.assign(by=by(desk["bob"]), username="bea", target=ELM)
    # then it is Bea's and no longer Alice's, one open assignment, on the timeline and the audit
    assert mine(desk["bea"]) == {"A-TINA"}
    assert mine(desk["alice"]) == set()
    assert Assignment.objects.filter(property__property_id="ELM", ended_on=None).count() == 1
    assert timeline("A-TINA", "assignment.changed")[-1].summary.endswith("; was alice")
    audit = AuditEntry.objects.filter(verb="assignment.add").order_by("id").last()
    assert audit is not None
    assert (audit.username, audit.detail) == ("bob", {"user": "bea", "property": "ELM"})
    # and the account names its coordinator
    coordinator = account_coordinator(Account.objects.get(account_id="A-TINA"), TODAY)
    assert coordinator is not None
    assert (coordinator.username, coordinator.by, coordinator.target) == ("bea", "property", "ELM")


def test_a_coordinator_takes_accounts_for_herself_but_may_not_assign_others(desk):
    alice = by(desk["alice"])
    # when Alice takes Tina's lease, it is hers
    acts.assign(by=alice, username="alice", target=TINA)
    assert mine(desk["alice"]) == {"A-TINA"}
    # then she may not give Elm Court to Bea, nor take Tina's lease from Bea
    with pytest.raises(ForbiddenError) as refused:
        acts.assign(by=alice, username="bea", target=ELM)
    assert refused.value.code == "assignment_others"
    acts.assign(by=by(desk["erin"]), username="bea", target=TINA)
    with pytest.raises(ForbiddenError):
        acts.unassign(by=alice, target=TINA)
    # nor arrange Bea's backup
    with pytest.raises(ForbiddenError):
        acts.coverage_add(by=alice, out="bea", backup="alice", starts_on=TODAY, ends_on=TODAY)
    # and nothing of the refused acts was written
    assert not Assignment.objects.filter(property__isnull=False).exists()
    assert not Coverage.objects.exists()
    assert not AuditEntry.objects.filter(verb="coverage.add").exists()


def test_a_manager_assigns_within_his_properties_only(desk):
    bob = by(desk["bob"])
    # Bob manages Elm Court, not Oak Terrace nor the CA portfolio
    with pytest.raises(ForbiddenError) as refused:
        acts.assign(by=bob, username="alice", target=Target("property", "OAK"))
    assert refused.value.code == "assignment_out_of_scope"
    with pytest.raises(ForbiddenError):
        acts.assign(by=bob, username="alice", target=Target("portfolio", "CA"))
    with pytest.raises(NotFoundError):  # out of scope is not found, as everywhere
        acts.assign(by=bob, username="alice", target=Target("account", "A-OSCAR"))
    # and the controller may assign no one
    with pytest.raises(ForbiddenError):
        acts.assign(by=by(desk["dave"]), username="alice", target=ELM)


def test_only_a_coordinator_or_an_admin_is_given_accounts_and_a_change_must_change(desk):
    erin = by(desk["erin"])
    with pytest.raises(ValidationError) as wrong:
        acts.assign(by=erin, username="bob", target=ELM)
    assert wrong.value.code == "assignee_role"
    with pytest.raises(NotFoundError):
        acts.assign(by=erin, username="nobody", target=ELM)
    with pytest.raises(NotFoundError) as no_portfolio:
        acts.assign(by=erin, username="alice", target=Target("portfolio", "TX"))
    assert no_portfolio.value.code == "portfolio_not_found"
    acts.assign(by=erin, username="alice", target=ELM)
    with pytest.raises(ValidationError) as same:
        acts.assign(by=erin, username="alice", target=ELM)
    assert same.value.code == "assignment_unchanged"
    with pytest.raises(NotFoundError) as nothing:
        acts.unassign(by=erin, target=Target("property", "OAK"))
    assert nothing.value.code == "assignment_not_found"


def test_a_backup_works_the_accounts_of_whoever_is_out_from_the_first_to_the_last_day(desk):
    # given Alice has Elm Court and is out from March 30 to April 3; Bea covers
    erin = by(desk["erin"])
    acts.assign(by=erin, username="alice", target=ELM)
    first, last = date(2026, 3, 30), date(2026, 4, 3)
    acts.coverage_add(
        by=by(desk["alice"]),
        out="alice",
        backup="bea",
        starts_on=first,
        ends_on=last,
        note="act as a backup when they are out of office",
    )
    # then Bea's worklist holds Alice's accounts from the first day to the last, both included
    bea = desk["bea"]
    assert mine(bea, first - timedelta(days=1)) == set()
    assert mine(bea, first) == {"A-TINA"}
    assert mine(bea, last) == {"A-TINA"}
    assert mine(bea, last + timedelta(days=1)) == set()
    # and Alice keeps them, they are hers
    assert mine(desk["alice"], first) == {"A-TINA"}
    # and the account page says who covers
    coordinator = account_coordinator(Account.objects.get(account_id="A-TINA"), first)
    assert coordinator is not None
    assert (coordinator.username, coordinator.backup, coordinator.back_on) == ("alice", "bea", last)
    # and each of Alice's accounts has it on its timeline
    [row] = timeline("A-TINA", "coverage.added")
    assert row.summary == "bea covers for alice from 2026-03-30 to 2026-04-03"
    assert row.actor == "alice"
    # and a second backup over the same days is refused
    with pytest.raises(ValidationError) as overlap:
        acts.coverage_add(by=erin, out="alice", backup="erin", starts_on=last, ends_on=last)
    assert overlap.value.code == "coverage_overlaps"


def test_a_coverage_ended_early_stops_the_day_it_is_ended(desk, monkeypatch):
    # given Bea covers for Alice from March 26 to April 3
    erin = by(desk["erin"])
    acts.assign(by=erin, username="alice", target=ELM)
    coverage = acts.coverage_add(
        by=erin, out="alice", backup="bea", starts_on=TODAY, ends_on=date(2026, 4, 3)
    )
    # when Alice is back on March 28 and the coverage is ended that day
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-28")
    acts.coverage_end(by=by(desk["alice"]), coverage_id=coverage.pk)
    # then Bea had the accounts the day before, and no longer from that day
    assert mine(desk["bea"], date(2026, 3, 27)) == {"A-TINA"}
    assert mine(desk["bea"], date(2026, 3, 28)) == set()
    assert [e.summary for e in timeline("A-TINA", "coverage.ended")] == [
        "bea no longer covers for alice from 2026-03-28"
    ]
    # and it cannot be ended twice
    with pytest.raises(ValidationError):
        acts.coverage_end(by=erin, coverage_id=coverage.pk)


def test_reversed_or_past_or_self_coverage_is_refused(desk):
    erin = by(desk["erin"])
    cases = [
        ("alice", "alice", TODAY, TODAY, "coverage_oneself"),
        ("alice", "bea", TODAY, TODAY - timedelta(days=1), "coverage_range_reversed"),
        ("alice", "bea", TODAY - timedelta(days=9), TODAY - timedelta(days=2), "coverage_past"),
        ("alice", "bob", TODAY, TODAY, "assignee_role"),
    ]
    for out, backup, starts, ends, code in cases:
        with pytest.raises(ValidationError) as refused:
            acts.coverage_add(by=erin, out=out, backup=backup, starts_on=starts, ends_on=ends)
        assert refused.value.code == code
    assert not Coverage.objects.exists()


def test_a_property_of_many_accounts_is_assigned_in_a_few_queries(
    desk, django_assert_max_num_queries
):
    # given Elm Court with 2,000 leases
    elm = Property.objects.get(property_id="ELM")
    Account.objects.bulk_create(
        Account(
            account_id=f"A-ELM-{n:04d}",
            property=elm,
            unit=str(n),
            kind="residential_lease",
            opened_on=date(2025, 1, 1),
        )
        for n in range(2000)
    )
    # when Erin gives it to Alice, the timeline rows are written in bulk (batches of what
    # the database takes in one statement), not a statement a lease
    with django_assert_max_num_queries(40):
        acts.assign(by=by(desk["erin"]), username="alice", target=ELM)
    # then each lease has its row, and is Alice's
    assert TimelineEvent.objects.filter(kind="assignment.changed").count() == 2001
    assert len(mine(desk["alice"])) == 2001


def test_the_worklist_is_the_coordinators_own_by_default(desk, monkeypatch):
    # given March 5: Tina's lease and Olive's (at Oak Terrace) are new delinquencies, each
    # over 1,000.00 unpaid since March 1; Elm Court is Alice's
    monkeypatch.setenv("ARREARS_TODAY", DAY.isoformat())
    olive = Account.objects.create(
        account_id="A-OLIVE",
        property=Property.objects.get(property_id="OAK"),
        kind="residential_lease",
        opened_on=date(2025, 3, 1),
    )
    first = DAY.replace(day=1)
    with transaction.atomic():
        charges_post(
            [NewCharge("RENT-OLIVE-03", olive.pk, first, first, "RENT", Decimal("1100.00"))]
        )
    acts.assign(by=by(desk["erin"]), username="alice", target=ELM)
    everyone = {w.account_id for w in worklist_visible(desk["alice"], on=DAY)}
    assert everyone == {"A-TINA", "A-OLIVE"}
    # then Alice's own list holds Tina's lease only, and is her default
    own = {w.account_id for w in worklist_visible(desk["alice"], on=DAY, mine=True)}
    assert own == {"A-TINA"}
    scope = worklist_scope(desk["alice"], on=DAY)
    assert (scope.kind, scope.default) == ("mine", True)
    # and the unassigned lines are Olive's
    unassigned = worklist_scope(desk["alice"], on=DAY, kind="unassigned")
    work = worklist_visible(desk["alice"], on=DAY)
    assert {w.account_id for w in unassigned.lines(desk["alice"], work, DAY)} == {"A-OLIVE"}
    # and Bea, who has nothing, sees everyone's; Erin, an admin, too
    assert worklist_scope(desk["bea"], on=DAY).kind == "everyone"
    assert worklist_scope(desk["erin"], on=DAY).kind == "everyone"
    # and Erin may pick Alice's
    alices = worklist_scope(desk["erin"], on=DAY, kind="user", username="alice")
    assert {w.account_id for w in alices.lines(desk["erin"], work, DAY)} == {"A-TINA"}


def test_a_long_worklist_is_scoped_in_one_query_whatever_its_length(
    desk, django_assert_num_queries
):
    # given 1,200 leases at Elm Court (Alice's) and 300 at Oak Terrace (no one's), each a line
    acts.assign(by=by(desk["erin"]), username="alice", target=ELM)
    places = dict(Property.objects.values_list("property_id", "pk"))
    Account.objects.bulk_create(
        Account(
            account_id=f"A-{where}-{n:04d}",
            property_id=places[where],
            kind="residential_lease",
            opened_on=date(2025, 1, 1),
        )
        for where, count in (("ELM", 1200), ("OAK", 300))
        for n in range(count)
    )
    work = [
        WorkItem(a, "call", "call them", Decimal("100.00"), Decimal("0.5"))
        for a in Account.objects.order_by("account_id").values_list("account_id", flat=True)
    ]
    alice = desk["alice"]
    # then the long list and a short one are each scoped in one query, in their own order
    with django_assert_num_queries(1):
        mine = worklist_of(work, accounts_assigned(alice, TODAY))
    assert len(mine) == 1201  # Tina's lease and the 1,200
    assert [w.account_id for w in mine] == sorted(w.account_id for w in mine)
    with django_assert_num_queries(1):
        nobodys = worklist_of(work, accounts_unassigned(TODAY))
    assert len(nobodys) == 301  # Oscar's lease and the 300
    with django_assert_num_queries(1):
        few = worklist_of(work[:20], accounts_assigned(alice, TODAY))
    assert few == [w for w in work[:20] if w.account_id.startswith(("A-ELM", "A-TINA"))]


def test_a_manager_arranges_no_ones_backup(desk):
    # (a coverage is of a coordinator, not of a property: a manager's scope cannot bound it)
    with pytest.raises(ForbiddenError):
        acts.coverage_add(
            by=by(desk["bob"]), out="alice", backup="bea", starts_on=TODAY, ends_on=TODAY
        )
    coverage = acts.coverage_add(
        by=by(desk["erin"]), out="alice", backup="bea", starts_on=TODAY, ends_on=TODAY
    )
    with pytest.raises(ForbiddenError):
        acts.coverage_end(by=by(desk["mallory"]), coverage_id=coverage.pk)
    assert Coverage.objects.get().ended_on is None
