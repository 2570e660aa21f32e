"""One act, one service: resolving a dispute from the command line, the account page and the API
writes the same rows (the credits, the answer queued through the guard, the timeline, the audit),
apart from who did it and through which interface.

Three equal leases at Elm Court (Brooklyn NY), each with 1,200.00 of March rent unpaid and a
tenant who disputes 200.00 of it; Alice resolves each dispute partly, crediting 50.00, once by each
interface, on March 26, 2026.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.tests.people import signed_in, write_book
from arrears.cli import main
from arrears.correspondence.models import Outbound
from arrears.disputes.services import dispute_open
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

TODAY_ON = "2026-03-26"
LEASES = ("A-CLI", "A-WEB", "A-API")


@pytest.fixture
def three_disputes(people, tmp_path) -> dict[str, int]:
    book: dict[str, list[dict[str, str]]] = {
        "parties": [],
        "accounts": [],
        "account_parties": [],
        "transactions": [],
    }
    for n, account_id in enumerate(LEASES, start=1):
        party_id = f"P-{account_id}"
        book["parties"].append(
            {
                "party_id": party_id,
                "name": "Rita Moreno",
                "email": f"rita{n}@example.org",
                "phone": "",
                "language": "en",
                "address": f"{n} Elm Street, Apt 4A",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11201",
                "country": "US",
            }
        )
        book["accounts"].append(
            {
                "account_id": account_id,
                "property_id": "ELM",
                "unit": "4A",
                "kind": "residential_lease",
                "opened": "2025-06-01",
                "rent": "1200.00",
            }
        )
        book["account_parties"].append(
            {"account_id": account_id, "party_id": party_id, "role": "primary"}
        )
        book["transactions"].append(
            {
                "txn_id": f"RENT-{account_id}",
                "account_id": account_id,
                "posted": "2026-03-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-03-01",
            }
        )
    book_import(write_book(tmp_path / "leases", book))
    from arrears.core.dates import today

    return {
        account_id: dispute_open(
            account_id=account_id,
            reason="I was charged for a month I had moved out",
            on=today(),
            actor="alice",
            charges=[f"RENT-{account_id}"],
        ).pk
        for account_id in LEASES
    }


def _rows(account_id: str, dispute_id: int) -> dict[str, list[Any]]:
    """What the resolution wrote for one account, with its own ids made generic."""

    def generic(value: Any) -> Any:
        text = json.dumps(value, default=str, sort_keys=True)
        text = text.replace(f"P-{account_id}", "P-X").replace(account_id, "A-X")
        text = text.replace(f'"dispute_id": {dispute_id}', '"dispute_id": "N"')
        text = text.replace(f'"dispute": {dispute_id}', '"dispute": "N"')
        return json.loads(
            text.replace(f"dispute {dispute_id}", "dispute N")
            .replace(f"-{dispute_id}-", "-N-")
            .replace(f":{dispute_id}:", ":N:")
            .replace(f"dispute:{dispute_id}", "dispute:N")
        )

    credits = Transaction.objects.filter(account__account_id=account_id, type="credit")
    outbound = Outbound.objects.filter(account__account_id=account_id)
    events = TimelineEvent.objects.filter(account__account_id=account_id).exclude(
        kind="dispute.opened"
    )
    audit = AuditEntry.objects.filter(verb="dispute.resolve", account_id=account_id)
    detail = {k: v for k, v in _first(events, "dispute.resolved").detail.items() if k != "dispute"}
    return generic(
        {
            "credits": list(
                credits.order_by("id").values(
                    "txn_id", "posted_on", "amount", "code", "memo", "reference"
                )
            ),
            "outbound": list(
                outbound.order_by("id").values(
                    "key",
                    "role",
                    "channel",
                    "template",
                    "step",
                    "run_on",
                    "status",
                    "language",
                    "recipient",
                    "amount",
                    "detail",
                )
            ),
            "timeline": [(e.kind, e.on, e.actor, e.summary) for e in events.order_by("id")],
            "resolved": detail,
            "audit": list(audit.values("username", "verb", "account_id", "detail")),
        }
    )


def _first(events: Any, kind: str) -> Any:
    return events.filter(kind=kind).get()


def test_a_dispute_resolved_by_the_cli_the_page_and_the_api_writes_the_same_rows(
    three_disputes, people, tokens, monkeypatch, capsys
):
    # given three equal disputes, each of 1,200.00 of rent, on three equal leases
    monkeypatch.setenv("ARREARS_USER", "alice")
    body = {"outcome": "partial", "amount": "50.00", "note": "the move-out was on March 3"}
    # when Alice resolves one by the command line
    cli = three_disputes["A-CLI"]
    assert (
        main(
            [
                "dispute",
                "resolve",
                str(cli),
                "--outcome",
                "partial",
                "--amount",
                "50.00",
                "--note",
                body["note"],
            ]
        )
        == 0
    )
    # and one on the account page
    web = three_disputes["A-WEB"]
    response = signed_in(people["alice"]).post(
        f"/accounts/A-WEB/disputes/{web}/resolve/", body, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200, response.content.decode()[:500]
    # and one through the API
    api = three_disputes["A-API"]
    response = Client().post(
        f"/api/accounts/A-API/disputes/{api}/resolve",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}",
    )
    assert response.status_code == 200, response.content.decode()[:500]
    # then each queued the same answer letter, posted the same credit and wrote the same
    # timeline and audit rows
    by_cli, by_web, by_api = _rows("A-CLI", cli), _rows("A-WEB", web), _rows("A-API", api)
    assert by_cli["outbound"], "the CLI queues the answer letter"
    assert [o["template"] for o in by_cli["outbound"]] == ["dispute-partial"]
    assert by_cli["credits"][0]["amount"] == "50.00"
    assert by_web == by_cli
    assert by_api == by_cli
    # and the audit says who, through which interface
    vias = dict(AuditEntry.objects.filter(verb="dispute.resolve").values_list("account_id", "via"))
    assert vias == {"A-CLI": "cli", "A-WEB": "web", "A-API": "api"}
    # and the API answers with the answer it queued
    answer = response.json()["answer"]
    assert (answer["channel"], answer["letter"]) == ("letter", "dispute-partial")
    assert answer["letter_id"] == Outbound.objects.get(account__account_id="A-API").pk
