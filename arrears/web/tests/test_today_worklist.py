"""The Today page's worklist as a coordinator works it: tabs by kind with their counts, each
line's forms posting to the account's own endpoints (or the worklist's) and coming back to the
list, where the line has left; a refusal shown on the page in words.

Tina Ortiz's March rent is unpaid; her rent demand expired, and on the 26th the policy recommends
a referral (the story of test_today.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from arrears.dunning.models import WorklistSnooze
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent
from arrears.legal.models import Referral
from arrears.legal.services import firm_add
from arrears.web.tests.test_today import DEMAND_DAY, REFERRAL_DAY, frozen_today, tina  # noqa: F401

pytestmark = pytest.mark.django_db

LINE = 'data-account="A-TINA" data-kind="referral"'


@pytest.fixture
def referral_day(tina, tmp_path):  # noqa: F811
    cycle_run(on=DEMAND_DAY, actor="cycle")
    letters_print(on=DEMAND_DAY, output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=REFERRAL_DAY, actor="cycle")
    firm_add(name="Stone & Reyes", on=REFERRAL_DAY)
    return tina


def test_the_tabs_count_the_lines_of_each_kind_and_show_only_theirs(client, referral_day):
    html = client.get("/today/").content.decode()
    assert 'id="tab-referrals">Referrals to decide <strong>1</strong></a>' in html
    assert 'id="tab-calls">Calls to make <strong>0</strong></a>' in html
    assert "Deposits due" not in html  # none yet: the tab comes with deposits
    # the line says who, where, how late and how likely
    assert LINE in html
    assert "<strong>Tina Ortiz</strong>" in html
    assert "Elm Court, 3B" in html
    # a tab shows its own lines only, without JavaScript
    assert LINE in client.get("/today/", {"tab": "referrals"}).content.decode()
    calls = client.get("/today/", {"tab": "calls"}).content.decode()
    assert LINE not in calls
    assert "Nothing on the worklist for 2026-03-26." in calls


def test_a_promise_taken_from_the_line_takes_the_line_off_the_list(client, referral_day):
    # when the coordinator records Tina's promise with the line's form
    response = client.post(
        "/accounts/A-TINA/promises/",
        {
            "amount": "1,250.00",
            "promised_on": "2026-04-03",
            "party_id": "P-TINA",
            "next": "/today/?tab=referrals",
        },
    )
    # then she is back on the list she came from, and the line has left it
    assert response.status_code == 302
    assert response["Location"] == "/today/?tab=referrals"
    assert LINE not in client.get(response["Location"]).content.decode()
    assert TimelineEvent.objects.filter(kind="promise.made").count() == 1


def test_a_referral_from_the_line_takes_the_line_off_the_list(client, referral_day):
    response = client.post(
        "/accounts/A-TINA/referrals/",
        {"firm": "Stone & Reyes", "next": "/today/", "override": "the firm has the papers"},
    )
    assert response.status_code == 302
    assert Referral.objects.get(account__account_id="A-TINA").firm == "Stone & Reyes"
    assert LINE not in client.get("/today/").content.decode()


def test_a_next_that_is_not_the_today_page_is_not_followed(client, referral_day):
    response = client.post(
        "/accounts/A-TINA/referrals/",
        {"firm": "Stone & Reyes", "next": "https://evil.example/", "override": "urgent"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/A-TINA/"


def test_a_snoozed_line_leaves_and_is_back_on_its_day(client, referral_day):
    response = client.post(
        "/today/snooze/",
        {
            "account_id": "A-TINA",
            "kind": "referral",
            "until": "2026-03-30",
            "reason": "her tax refund comes on the 28th",
            "next": "/today/",
        },
    )
    assert response.status_code == 302
    assert LINE not in client.get("/today/").content.decode()
    assert LINE in client.get("/today/", {"as_of": "2026-03-30"}).content.decode()
    snoozed = WorklistSnooze.objects.get()
    assert (snoozed.until, snoozed.by) == (date(2026, 3, 30), "coordinator")


def test_a_line_dismissed_without_a_reason_is_refused_in_words(client, referral_day):
    response = client.post(
        "/today/dismiss/", {"account_id": "A-TINA", "kind": "referral", "reason": ""}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<p class="error" role="alert">say why the line is set aside</p>' in html
    assert LINE in html
    assert not WorklistSnooze.objects.exists()


def test_a_spanish_reader_reads_the_lines_and_tabs_in_spanish(client, referral_day):
    html = client.get("/today/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "¿Remitir a un abogado? La política lo recomienda desde el 2026-03-26" in html
    assert "Remisiones por decidir <strong>1</strong>" in html
    assert "remisión por decidir" in html
    assert "Refer to an attorney" not in html


def test_today_and_letters_count_every_letter_and_email_still_queued_whatever_its_day(client, tina):  # noqa: F811
    # given the run of the 11th queued five letters and an email, none printed or sent since
    cycle_run(on=DEMAND_DAY, actor="cycle")
    # when the coordinator looks on the 26th, at Today and at the day's Letters
    for html in (
        client.get("/today/").content.decode(),
        client.get("/letters/", {"on": "2026-03-26"}).content.decode(),
    ):
        # then the backlog is counted, with the oldest's day
        assert "<strong>5</strong> letters to print" in html
        assert "<strong>1</strong> emails waiting to be sent" in html
        assert html.count("oldest queued 2026-03-11") == 2


def test_a_long_worklist_comes_a_page_at_a_time(client, tina, tmp_path, monkeypatch):  # noqa: F811
    from arrears.web import today as today_module

    # given, on the 23rd, Tina's demand expiring on the 25th and the call the policy asks before
    cycle_run(on=DEMAND_DAY, actor="cycle")
    letters_print(on=DEMAND_DAY, output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=date(2026, 3, 23), actor="cycle")
    # when the list shows one line a page
    monkeypatch.setattr(today_module, "LINES_A_PAGE", 1)
    first = client.get("/today/", {"as_of": "2026-03-23"}).content.decode()
    second = client.get("/today/", {"as_of": "2026-03-23", "page": "2"}).content.decode()
    # then each page has its line, and says where it is in the list
    assert first.count("data-account=") == second.count("data-account=") == 1
    assert "Lines 1–1 of 2" in first
    assert 'href="?as_of=2026-03-23&amp;page=2" rel="next"' in first
    assert "Lines 2–2 of 2" in second
    kinds = {
        k for html in (first, second) for k in ("call", "deadline") if f'data-kind="{k}"' in html
    }
    assert kinds == {"call", "deadline"}
