"""Posting one payment (arrears.ledger.payments, issue 19 item 6): by the command, the account
page's form and the API, once per reference, within the poster's scope.

The cast's book (arrears.access.tests.people), today 2026-03-26: A-TINA at ELM owes March's rent,
1,200.00 (T-TINA-03, due March 1); A-OSCAR at OAK February's, 950.00, referred to Hale & Co.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.tests.people import TODAY, cli, signed_in
from arrears.ledger.models import Transaction
from arrears.ledger.periods import period_close
from arrears.ledger.selectors import account_ledger

pytestmark = pytest.mark.django_db


def _balance(account_id: str) -> Decimal:
    return account_ledger(account_id=account_id, as_of=TODAY).balance


def _payments(account_id: str) -> list[tuple[str, Decimal, str]]:
    return list(
        Transaction.objects.filter(account__account_id=account_id, type="payment")
        .order_by("pk")
        .values_list("txn_id", "amount", "reference")
    )


def _post(capsys: Any, *words: str) -> tuple[int, Any, str]:
    code, out, err = cli(capsys, *words, "--format", "json")
    return code, (json.loads(out) if code == 0 else None), err


def test_the_command_posts_once_per_reference_and_applies_the_cash(
    people: Any, capsys: Any
) -> None:
    words = ("--as", "alice", "payment", "post", "A-TINA", "--amount", "500.00")
    code, first, err = _post(capsys, *words, "--on", "2026-03-20", "--reference", "CHK-1041")
    assert code == 0, err
    assert first["posted"] is True
    assert (first["amount"], first["posted_on"], first["reference"]) == (
        "500.00",
        "2026-03-20",
        "CHK-1041",
    )
    # 1,200.00 owed, 500.00 paid: 700.00 left, the rent partly paid
    assert _balance("A-TINA") == Decimal("700.00")
    ledger = account_ledger(account_id="A-TINA", as_of=TODAY)
    (rent,) = [line for line in ledger.lines if line.type == "charge"]
    # the same reference again: nothing posted, the first payment named, exit 0
    code, again, err = _post(capsys, *words, "--on", "2026-03-20", "--reference", "CHK-1041")
    assert code == 0, err
    assert again == {**first, "posted": False}
    assert _payments("A-TINA") == [(first["txn_id"], Decimal("500.00"), "CHK-1041")]
    assert _balance("A-TINA") == Decimal("700.00")
    # the table says so in words
    code, out, _ = cli(capsys, *words, "--on", "2026-03-20", "--reference", "CHK-1041")
    assert code == 0
    assert out.startswith("Already posted")
    # both asks audited, with who asked
    audited = AuditEntry.objects.filter(verb="payment.post", account_id="A-TINA")
    assert audited.count() == 3
    assert rent is not None


def test_a_reference_reused_for_another_amount_or_account_is_refused_and_posts_nothing(
    people: Any, capsys: Any
) -> None:
    base = ("--as", "alice", "payment", "post")
    code, _, err = _post(
        capsys, *base, "A-TINA", "--amount", "100", "--on", "2026-03-20", "--reference", "ACH-77"
    )
    assert code == 0, err
    code, _, err = _post(
        capsys, *base, "A-TINA", "--amount", "100.01", "--on", "2026-03-20", "--reference", "ACH-77"
    )
    assert code != 0
    assert "reference_reused" in err or "ACH-77" in err
    code, _, err = _post(
        capsys, *base, "A-OSCAR", "--amount", "100", "--on", "2026-03-20", "--reference", "ACH-77"
    )
    assert code != 0
    assert len(_payments("A-TINA")) == 1
    assert _payments("A-OSCAR") == []


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--on", "2026-03-27"), "after today"),  # today is 2026-03-26
        (("--on", "2026-03-20", "--applies-to", "T-OSCAR-02"), "not a charge of account"),
        (("--on", "2026-03-20", "--applies-to", "NOPE"), "not a charge of account"),
    ],
)
def test_a_payment_dated_ahead_or_applied_to_another_accounts_charge_is_refused(
    people: Any, capsys: Any, extra: tuple[str, ...], said: str
) -> None:
    code, _, err = _post(
        capsys,
        "--as",
        "alice",
        "payment",
        "post",
        "A-TINA",
        "--amount",
        "10",
        "--reference",
        "R-1",
        *extra,
    )
    assert code != 0
    assert said in err
    assert _payments("A-TINA") == []


def test_a_payment_dated_in_a_closed_month_is_refused(people: Any, capsys: Any) -> None:
    period_close(month=date(2026, 2, 1), actor="dave", on=TODAY)
    code, _, err = _post(
        capsys,
        "--as",
        "alice",
        "payment",
        "post",
        "A-TINA",
        "--amount",
        "10",
        "--on",
        "2026-02-27",
        "--reference",
        "R-2",
    )
    assert code != 0
    assert "closed" in err
    assert _payments("A-TINA") == []


def test_who_may_post_a_payment_and_where(people: Any, tokens: dict[str, str]) -> None:
    body = {"amount": "25.00", "on": "2026-03-25"}

    def post(who: str, account: str, key: str) -> Any:
        return Client(HTTP_AUTHORIZATION=f"Bearer {tokens[who]}").post(
            f"/api/accounts/{account}/payments",
            body,
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    # the manager of ELM posts to Tina's account; not to Oscar's, at OAK: not found
    assert post("bob", "A-TINA", "k-bob").status_code == 201
    assert post("bob", "A-OSCAR", "k-bob-2").status_code == 404
    # an attorney posts no payment; another company's manager sees no such account
    assert post("carol", "A-OSCAR", "k-carol").status_code == 403
    assert post("mallory", "A-TINA", "k-mallory").status_code == 404
    assert post("dave", "A-OSCAR", "k-dave").status_code == 201
    assert [p[2] for p in _payments("A-TINA")] == ["k-bob"]
    assert [p[2] for p in _payments("A-OSCAR")] == ["k-dave"]


def test_the_api_is_idempotent_by_its_key_and_the_page_by_its_form(
    people: Any, tokens: dict[str, str]
) -> None:
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")
    url = "/api/accounts/A-TINA/payments"
    body = {"amount": "300.00", "on": "2026-03-24"}
    first = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "w1"})
    assert first.status_code == 201
    again = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "w1"})
    assert again.status_code == 200
    assert again.json() == {**first.json(), "posted": False}
    other = api.post(
        url,
        {**body, "amount": "301.00"},
        content_type="application/json",
        headers={"Idempotency-Key": "w1"},
    )
    assert other.status_code == 409
    assert other.json()["code"] == "reference_reused"
    none = api.post(url, body, content_type="application/json")
    assert none.status_code == 422
    # the page: a form sent twice with its token posts once; the same figures as the API's
    page = signed_in(people["alice"])
    form = {"amount": "200.00", "on": "2026-03-24", "token": "f00d"}
    assert page.post("/accounts/A-TINA/payments/", form).status_code in (200, 302)
    assert page.post("/accounts/A-TINA/payments/", form).status_code in (200, 302)
    assert [(p[1], p[2]) for p in _payments("A-TINA")] == [
        (Decimal("300.00"), "w1"),
        (Decimal("200.00"), "desk:f00d"),
    ]
    assert _balance("A-TINA") == Decimal("700.00")  # 1,200.00 - 300.00 - 200.00
    # the account page offers the form with a fresh token
    html = page.get("/accounts/A-TINA/").content.decode()
    assert 'class="payment-form"' in html
    assert 'name="token"' in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_post_one_payment(
    people: Any, tokens: dict[str, str]
) -> None:
    url = "/api/accounts/A-TINA/payments"
    body = {"amount": "50.00", "on": "2026-03-24"}
    start = threading.Barrier(2)
    answers: list[int] = []

    def send() -> None:
        try:
            start.wait()
            answer = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}").post(
                url, body, content_type="application/json", headers={"Idempotency-Key": "twin"}
            )
            answers.append(answer.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 201]
    assert len(_payments("A-TINA")) == 1
