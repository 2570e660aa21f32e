"""Input no one should send gets a clear refusal, never a server error (issue 13, item 6)."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from arrears.access.models import AuditEntry
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


def test_text_with_a_nul_character_is_refused_by_the_api_and_nothing_is_written(tokens):
    # given: PostgreSQL holds no NUL (U+0000) in text, and refused the write and the query with
    # a server error (schemathesis found a dispute's charges and a referral's firm)
    before = (TimelineEvent.objects.count(), AuditEntry.objects.count())
    # when: a note, a dispute and a referral carry one in their JSON, and a search and an
    # account's path in their URL
    answers = [
        call(tokens, "alice", "post", "/api/accounts/A-TINA/notes", {"text": "rent\x00 paid"}),
        call(
            tokens,
            "alice",
            "post",
            "/api/accounts/A-TINA/disputes",
            {"reason": "paid", "charges": ["\x00"]},
        ),
        call(tokens, "alice", "post", "/api/accounts/A-TINA/referrals", {"firm": "Hale\x00"}),
        call(tokens, "alice", "get", "/api/search", {"q": "ortiz\x00"}),
        call(tokens, "alice", "get", "/api/accounts/A-TINA%00/timeline"),
    ]
    # then: each is a 422 in the API's error shape, naming where the NUL is
    assert [a.status_code for a in answers] == [422] * 5
    assert [a.json()["extra"]["where"] for a in answers] == [
        "field 'body.text'",
        "field 'body.charges[0]'",
        "field 'body.firm'",
        "query field 'q'",
        "the path",
    ]
    assert all(a.json()["code"] == "invalid_text" for a in answers)
    assert "NUL" in answers[0].json()["message"]
    # and nothing was written
    assert (TimelineEvent.objects.count(), AuditEntry.objects.count()) == before


def test_text_with_a_nul_character_is_refused_by_the_pages_and_nothing_is_written(people):
    # given: Alice signed in
    client = signed_in(people["alice"])
    client.raise_request_exception = False
    before = TimelineEvent.objects.count()
    # when: her note's form, and a search, carry a NUL
    note = client.post("/accounts/A-TINA/notes/", {"text": "rent\x00 paid"})
    search = client.get("/search/", {"q": "ortiz\x00"})
    # then: both are refused, saying where, and nothing was written
    assert (note.status_code, search.status_code) == (422, 422)
    assert "field 'text' holds a NUL character" in note.content.decode()
    assert "query field 'q'" in search.content.decode()
    assert TimelineEvent.objects.count() == before


def test_a_malformed_form_body_to_the_api_is_its_own_400_not_a_page(tokens):
    # given: a body that says multipart and has no boundary (schemathesis sends such)
    client = Client(raise_request_exception=False)
    # when
    response = client.generic(
        "POST",
        "/api/accounts/A-TINA/notes",
        b"--x\r\n",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    # then: the API says it cannot read it, in its error shape
    assert response.status_code == 400
    assert response.json()["message"] == "Cannot parse request body"


def test_a_malformed_upload_to_the_api_is_its_own_400_not_a_page(tokens):
    # given: an upload whose body says multipart and has no boundary (found by make fuzz-api)
    client = Client(raise_request_exception=False)
    # when
    response = client.generic(
        "POST",
        "/api/accounts/A-TINA/documents",
        b"--x\r\n",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    # then: the API answers in its own error shape, saying why
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"
    assert "multipart" in response.json()["message"]
