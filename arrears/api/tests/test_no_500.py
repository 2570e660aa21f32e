"""Input no one should send gets a clear refusal, never a server error (issue 13, item 6)."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from arrears.access.tests.people import signed_in
from arrears.api.tests.test_api import call
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db


def test_a_note_with_a_lone_surrogate_is_refused_not_a_server_error(tokens):
    # given: JSON may escape half of a UTF-16 pair, which no database can store
    client = Client(raise_request_exception=False)
    body = '{"text": "rent \\ud800 received"}'
    before = TimelineEvent.objects.count()
    # when
    response = client.post(
        "/api/accounts/A-TINA/notes",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    # then: a 422 that says why, and nothing written
    assert response.status_code == 422, response.content
    assert "surrogate" in response.json()["message"]
    assert TimelineEvent.objects.count() == before
    # and a note of real text still goes
    response = call(tokens, "alice", "post", "/api/accounts/A-TINA/notes", {"text": "ok"})
    assert response.status_code == 201


def test_an_attorney_with_no_referred_accounts_exports_an_empty_portfolio(people):
    from arrears.access.services import user_add
    from arrears.access.tests.people import OPERATOR, PASSWORD

    # given: an attorney of a firm no account was referred to
    dora = user_add(
        username="dora",
        password=PASSWORD,
        role="attorney",
        firm="Quiet Law LLP",
        actor=OPERATOR,
        via="system",
    )
    client = signed_in(dora)
    client.raise_request_exception = False
    # when she exports the portfolio, as a workbook and as CSV
    xlsx = client.get("/", {"as_of": "2026-03-26", "export": "xlsx"})
    csv_text = client.get("/", {"as_of": "2026-03-26", "export": "csv"})
    # then: files that say there is nothing, not a server error
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert "Nothing" in str(sheet["A1"].value)
    assert csv_text.status_code == 200
