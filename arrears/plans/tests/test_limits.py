"""The company's plan limits come from ARREARS_PLAN_<FIELD> settings over the defaults."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arrears.core.errors import ValidationError
from arrears.plans.selectors import plan_limits


def test_limits_read_their_kinds_from_the_settings(settings):
    settings.ARREARS_PLANS = {
        "grace_days": "10",
        "require_current": "no",
        "min_installment": "75.00",
    }
    limits = plan_limits()
    assert (limits.grace_days, limits.require_current, limits.min_installment) == (
        10,
        False,
        Decimal("75.00"),
    )
    assert limits.max_installments == 12


def test_a_limit_that_is_not_of_its_kind_is_refused_by_name(settings):
    settings.ARREARS_PLANS = {"grace_days": "five"}
    with pytest.raises(ValidationError, match="ARREARS_PLAN_GRACE_DAYS='five' is not a int"):
        plan_limits()
