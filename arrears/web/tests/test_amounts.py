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


@pytest.mark.parametrize("language", ["en", "es"])
def test_spanish_reads_amounts_and_dates_as_new_york_writes_them(language):
    # given an amount and a day, and the Jinja pages' environment beside Django's
    from django.template import engines
    from django.utils.formats import date_format, number_format

    jinja = engines["jinja2"].env.from_string("{{ v|amount }}|{{ d|day }}")
    context = {"v": Decimal("17075"), "d": date(2026, 11, 20)}
    # when they are written in English or in Spanish
    with translation.override(language):
        ours = jinja.render(**context)
        django = DJANGO.render(Context(context))
        short = date_format(context["d"], "SHORT_DATE_FORMAT")
        grouped = number_format(Decimal("17075.5"), 2, force_grouping=True)
    # then both engines write them the American way, Spanish as English
    assert ours == "17,075.00|2026-11-20"
    assert django.startswith("17,075.00|2026-11-20")
    assert short == "11/20/2026"
    assert grouped == "17,075.50"
