"""The coordinators' desk of the assignment tests: on March 5, 2026, Tina's lease at Elm Court
(ELM, in the NYC portfolio) and Olive's at Oak Terrace (OAK) are new delinquencies, each over
1,000.00 unpaid since the 1st, so both are on the day's worklist; Bea is a second coordinator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR, PASSWORD
from arrears.ledger.models import Account, Property
from arrears.ledger.posting import NewCharge, charges_post

DAY = date(2026, 3, 5)


@pytest.fixture
def desk(people: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("ARREARS_TODAY", DAY.isoformat())
    monkeypatch.delenv("ARREARS_USER", raising=False)
    Property.objects.filter(property_id="ELM").update(portfolio="NYC")
    olive = Account.objects.create(
        account_id="A-OLIVE",
        property=Property.objects.get(property_id="OAK"),
        unit="7",
        kind="residential_lease",
        opened_on=date(2025, 3, 1),
    )
    first = DAY.replace(day=1)
    with transaction.atomic():
        charges_post([NewCharge("RENT-OLIVE-03", olive.pk, first, first, "RENT", Decimal("1100"))])
    bea = user_add(
        username="bea", password=PASSWORD, role="coordinator", actor=OPERATOR, via="system"
    )
    return {**people, "bea": bea}
