"""The pages' `amount` and `day` filters give what Django's `floatformat:"2g"` and `date:"Y-m-d"`
give, in English and Spanish (they replace those filters for speed)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.web.templatetags.amounts import amount, day
from arrears.web.templatetags.amounts import moment as moment_

DJANGO = Template('{{ v|floatformat:"2g" }}|{{ d|date:"Y-m-d" }}|{{ t|date:"Y-m-d H:i" }}')
OURS = Template("{% load amounts %}{{ v|amount }}|{{ d|day }}|{{ t|moment }}")


@pytest.mark.parametrize("language", ["en", "es"])
@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False),
    when=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    at=st.datetimes(datetime(1970, 1, 1), datetime(2200, 12, 31), timezones=st.just(UTC)),
)
def test_amount_and_day_read_as_django_writes_them(language, value, when, at):
    with translation.override(language):
        context = Context({"v": value, "d": when, "t": at})
        assert OURS.render(context) == DJANGO.render(context)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_edges(language):
    moment = datetime(2026, 3, 8, 3, 30, tzinfo=UTC)  # the day before, in New York
    with translation.override(language):
        for value in (None, "", Decimal("0"), Decimal("-0.004"), Decimal("1234567.005"), 12, 3.5):
            context = Context({"v": value, "d": moment, "t": moment})
            assert OURS.render(context) == DJANGO.render(context), value
    assert day(moment) == "2026-03-07"
    assert moment_(moment) == "2026-03-07 22:30"
    assert amount("not a number") == ""
    assert day(None) == ""
