"""The registry of reports (arrears.reports.registry) read through `acts_reports.report_read`:
the same JSON as the reports' own commands, within the reader's scope, and clear refusals."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest

from arrears.access.acts_reports import metrics_read, over_60_read, report_read
from arrears.access.services import SystemActor
from arrears.access.tests.test_reports import CAST_DAY, hand_book  # noqa: F401 - a fixture
from arrears.core.errors import ValidationError
from arrears.reports.render import write_csv, write_table

pytestmark = pytest.mark.django_db

OPERATOR = SystemActor("root")


@pytest.mark.usefixtures("hand_book")
def test_the_metrics_report_is_the_metrics_commands_json() -> None:
    first, last = date(2026, 2, 1), date(2026, 3, 31)
    doc = report_read(actor=OPERATOR, name="metrics", as_of=last, date_from=first, by="property")
    assert doc.data == metrics_read(actor=OPERATOR, date_from=first, date_to=last, by="property")
    # the table shows the JSON's strings, and the CSV the same
    out = StringIO()
    write_table(doc, out)
    assert "OAK" in out.getvalue()
    assert "1000.00" in out.getvalue()
    out = StringIO()
    write_csv(doc, out)
    assert out.getvalue().splitlines()[0].startswith("group,opening,billed")


def test_each_role_reads_the_over_60_report_of_its_scope(people: Any) -> None:
    as_of = date.fromisoformat(CAST_DAY)
    for name in ("alice", "bob", "carol", "mallory"):
        user = people[name]
        doc = report_read(actor=user, name="over-60", as_of=as_of)
        assert doc.data == over_60_read(actor=user, as_of=as_of)
    doc = report_read(actor=people["bob"], name="over-60", as_of=as_of)
    ids = [a["account_id"] for a in doc.data["accounts"]]
    assert ids == ["A-TINA"]


def test_an_unknown_report_a_missing_period_and_a_grouping_it_has_not_are_refused() -> None:
    on = date(2026, 3, 31)
    with pytest.raises(ValidationError) as unknown:
        report_read(actor=OPERATOR, name="nope", as_of=on)
    assert unknown.value.code == "unknown_report"
    with pytest.raises(ValidationError) as period:
        report_read(actor=OPERATOR, name="metrics", as_of=on)
    assert period.value.code == "report_period"
    with pytest.raises(ValidationError) as by:
        report_read(actor=OPERATOR, name="over-60", as_of=on, by="property")
    assert by.value.code == "report_by"
