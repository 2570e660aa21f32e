"""The coordinator's day (`/today/`) and the collection activity on an account's page.

The story: Tina Ortiz rents 3B at Elm Court in Brooklyn, NY, with her co-tenant Sam Lee (no email
address) and her brother Greg Ortiz as guarantor. March's rent of 1,200.00, due on the 1st, is not
paid. The cycle runs on the 11th (day 10: reminder, certified late notice, 14-day rent demand) and
on the 26th (the demand has expired unpaid: referral). Alice is the coordinator.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from django.utils.timezone import localtime

from arrears.dunning.models import Action
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run, hold_place, hold_release, note_add
from arrears.ledger.models import TimelineEvent
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

BOOK = {
    "properties": [
        {
            "property_id": "ELM",
            "name": "Elm Court",
            "address": "12 Elm Street",
            "city": "Brooklyn",
            "state": "NY",
            "postal_code": "11201",
            "country": "US",
        },
    ],
    "parties": [
        {
            "party_id": "P-TINA",
            "name": "Tina Ortiz",
            "email": "tina@example.org",
            "phone": "+12125550101",
            "address": "12 Elm Street, Apt 3B",
            "state": "NY",
            "country": "US",
        },
        {
            "party_id": "P-SAM",
            "name": "Sam Lee",
            "email": "",
            "phone": "",
            "address": "12 Elm Street, Apt 3B",
            "state": "NY",
            "country": "US",
        },
        {
            "party_id": "P-GREG",
            "name": "Greg Ortiz",
            "email": "greg@example.org",
            "phone": "+17185550102",
            "address": "88 Hudson Avenue, Albany",
            "state": "NY",
            "country": "US",
        },
    ],
    "accounts": [
        {
            "account_id": "A-TINA",
            "property_id": "ELM",
            "unit": "3B",
            "kind": "residential_lease",
            "opened": "2025-06-01",
            "rent": "1200.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
        {"account_id": "A-TINA", "party_id": "P-SAM", "role": "co_obligor"},
        {"account_id": "A-TINA", "party_id": "P-GREG", "role": "guarantor"},
    ],
    "transactions": [
        {
            "txn_id": "T-RENT-03",
            "account_id": "A-TINA",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1200.00",
            "due": "2026-03-01",
        },
    ],
}

DEMAND_DAY = date(2026, 3, 11)
REFERRAL_DAY = date(2026, 3, 26)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setenv("ARREARS_TODAY", REFERRAL_DAY.isoformat())
    return REFERRAL_DAY


@pytest.fixture
def tina(tmp_path: Path) -> str:
    folder = tmp_path / "book"
    folder.mkdir()
    for name, rows in BOOK.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    book_import(folder)
    return "A-TINA"


def test_the_today_page_lists_the_referral_with_its_reason_after_the_demand_expires(
    client, tina, tmp_path
):
    # given the rent demand sent on the 11th (printed for mailing that day), unpaid
    cycle_run(on=DEMAND_DAY, actor="cycle")
    letters_print(on=DEMAND_DAY, output=tmp_path / "print", actor="alice", workers=1)
    # when the cycle runs on the 26th
    cycle_run(on=REFERRAL_DAY, actor="cycle")
    # then the day's worklist names the account, links it, and says why
    response = client.get("/today/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="/accounts/A-TINA/">A-TINA</a>' in html
    assert "Refer to an attorney? The policy recommends it since 2026-03-26" in html
    assert "1,250.00" in html  # March's rent and the run's late fee of 50.00 (RPL §238-a(2))
    assert Action.objects.filter(account__account_id=tina, action="recommend_referral").exists()


def test_the_today_page_counts_what_the_run_queued_and_what_the_guard_refused(client, tina):
    # when the cycle runs on the 11th
    cycle_run(on=DEMAND_DAY, actor="cycle")
    # then that day shows its letters to print, its emails, and Sam's refused reminder by rule
    response = client.get("/today/", {"as_of": DEMAND_DAY.isoformat()})
    html = response.content.decode()
    letters = Action.objects.filter(
        run_on=DEMAND_DAY, status="queued", channel__in=["letter", "certified_letter"]
    ).count()
    assert letters == 5  # late notices to Tina, Sam and Greg; rent demands to Tina and Sam
    assert "<strong>5</strong> letters to print" in html
    assert "oldest queued 2026-03-11" in html
    assert "<strong>1</strong> emails waiting to be sent" in html  # Tina's reminder; Sam has none
    assert "channel:no email address" in html
    assert "cannot use email: no email address" in html
    # and the rent demand's deadline (the 25th) is on the worklist of the 23rd
    html = client.get("/today/", {"as_of": "2026-03-23"}).content.decode()
    assert "The rent demand runs out on 2026-03-25, unpaid" in html


def test_the_today_page_shows_holds_ending_within_a_week(client, tina):
    hold_place(
        account_id=tina,
        reason="dispute",
        on=DEMAND_DAY,
        until=date(2026, 3, 30),
        actor="alice",
        note="Tina says March was paid in cash",
    )
    html = client.get("/today/").content.decode()
    assert "<strong>1</strong> holds expiring within 7 days" in html
    assert "Tina says March was paid in cash" in html
    assert "2026-03-30" in html


def test_the_account_page_shows_the_run_on_its_timeline_and_its_actions(client, tina):
    # when the cycle runs on the 11th
    cycle_run(on=DEMAND_DAY, actor="cycle")
    # then the account's page shows the timeline rows and the actions of that run
    html = client.get(f"/accounts/{tina}/").content.decode()
    assert TimelineEvent.objects.filter(account__account_id=tina, kind="notice.queued").exists()
    assert "late-notice: ny-late-rent-notice by certified_letter to P-TINA (primary)" in html
    assert "notice.queued" in html
    assert "<td>cycle</td>" in html
    assert "reminder not done for P-" in html
    assert "cannot use email: no email address" in html
    assert "ny-rent-demand" in html
    assert "refused: <span" in html


def test_the_account_page_shows_a_note_newest_first(client, tina):
    # given a run, then Alice's note
    cycle_run(on=DEMAND_DAY, actor="cycle")
    note_add(
        account_id=tina, text="Called Tina: she will pay Friday", actor="alice", on=REFERRAL_DAY
    )
    # then the note is on the timeline, above the run's rows
    html = client.get(f"/accounts/{tina}/").content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert "Called Tina: she will pay Friday" in timeline
    assert "<td>alice</td>" in timeline
    assert timeline.index("Called Tina") < timeline.index("late-notice: ny-late-rent-notice")


def test_the_account_page_shows_active_and_released_holds(client, tina):
    kept = hold_place(account_id=tina, reason="military", on=DEMAND_DAY, actor="alice")
    gone = hold_place(
        account_id=tina, reason="dispute", on=DEMAND_DAY, actor="alice", party_id="P-GREG"
    )
    gone = hold_release(account_id=tina, hold_id=gone.pk, actor="alice", on=REFERRAL_DAY)
    html = client.get(f"/accounts/{tina}/").content.decode()
    holds = html[html.index('id="holds"') : html.index('id="timeline"')]
    assert f"<td>{kept.pk}</td><td>military</td>" in holds
    assert "<td>active <form" in holds
    assert "Greg Ortiz (P-GREG)" in holds
    assert f"<td>{gone.pk}</td><td>dispute</td>" in holds
    assert f"released {localtime(gone.released_at):%Y-%m-%d} by alice" in holds
    assert "dispute hold released" in html


def test_the_portfolio_stays_at_the_root_and_the_header_links_both_pages(client, tina):
    html = client.get("/").content.decode()
    assert "Portfolio aging as of 2026-03-26" in html
    assert '<a href="/today/"' in html
    assert '<a href="/"' in html
