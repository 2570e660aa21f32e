"""The demo's goals (arrears.demo.goals) on the goals' test book: proposed and set for the last
three months and this one, so the forecast has goals to read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from arrears.access.tests.people import TODAY
from arrears.access.tests.test_goals import book as book  # the goals' book, a fixture
from arrears.demo.goals import demo_goals
from arrears.reports.models import CollectionGoal

pytestmark = pytest.mark.django_db


def test_the_demo_sets_goals_for_the_last_months_and_this_one(book: Any) -> None:
    lines = demo_goals(on=TODAY)
    assert lines[-1] == "2026-03: 1 goal(s) for the book"
    found = {
        (f"{g.month:%Y-%m}", g.scope_kind, g.scope_key): g.amount
        for g in CollectionGoal.objects.all()
    }
    # December to February: no charge due in the 12 months before them, nothing proposed.
    # March: ELM's rate is 1.0000 (1,200 due and collected in February) × March's 2,000 due;
    # OAK's 0.0000 (950 due, nothing collected) proposes nothing. The book: 1,200 collected of
    # 2,150 due = 0.5581 × March's 2,950 due = 1,646.40 (1646.395 half up)
    assert found == {
        ("2026-03", "property", "ELM"): Decimal("2000.00"),
        ("2026-03", "book", ""): Decimal("1646.40"),
    }
    assert {g.source for g in CollectionGoal.objects.all()} == {"proposed"}
    assert date(2026, 3, 1) == CollectionGoal.objects.get(scope_kind="book").month
