"""The daily collection run, continued (both databases): holds and stays, consent to texts and
emails, a guarantor without an address, reruns and a killed run resumed, the referral's wait."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from arrears.dunning.models import Action, CompanyPolicy, Consent, PolicyOverride
from arrears.dunning.services import cycle_run, hold_place, hold_release
from arrears.dunning.tests.cycle_reads import (
    MARCH_2,
    MARCH_3,
    MARCH_7,
    MARCH_9,
    MARCH_11,
    MARCH_26,
    NEW_YORK,
    book_counts,
    done,
    late_fees,
    timeline,
)
from arrears.ledger.models import Account, Party, TimelineEvent, Transaction


def test_a_bankruptcy_stay_stops_every_step_including_the_fee_until_it_is_released(tina_lease):
    # given: Tina filed for bankruptcy on the 2nd; Alice placed the hold
    account = tina_lease()
    hold = hold_place(
        account_id=account, reason="bankruptcy", on=MARCH_2, actor="alice", note="Chapter 7, EDNY"
    )

    # when: the cycle runs on the 7th
    result = cycle_run(on=MARCH_7)

    # then: nothing is done, every step is refused under the stay, and no fee is posted
    assert result.actions == []
    assert sorted((b["step"], b["party_id"], b["rule"]) for b in result.blocked) == [
        ("late-fee", None, "hold:bankruptcy"),
        ("late-notice", "P-TINA", "hold:bankruptcy"),
        ("late-notice-guarantor", "P-GREG", "hold:bankruptcy"),
        ("reminder", "P-TINA", "hold:bankruptcy"),
    ]
    assert late_fees(account) == []
    refused = Action.objects.filter(account__account_id=account)
    assert {(a.status, a.rule) for a in refused} == {("refused", "hold:bankruptcy")}
    assert {a.run_on for a in refused} == {MARCH_7}
    rows = timeline(account, "notice.refused") + timeline(account, "fee.refused")
    assert sorted(e.detail["step"] for e in rows) == [
        "late-fee",
        "late-notice",
        "late-notice-guarantor",
        "reminder",
    ]
    assert {e.detail["rule"] for e in rows} == {"hold:bankruptcy"}

    # when: the stay is lifted on the 9th and the cycle runs that day
    hold_release(account_id=account, hold_id=hold.pk, actor="alice", on=MARCH_9)
    after = cycle_run(on=MARCH_9)

    # then: the notices go out and the fee is posted
    assert {a["step"] for a in after.actions} == {
        "reminder",
        "late-notice",
        "late-notice-guarantor",
        "late-fee",
    }
    assert after.blocked == []
    assert [(t.amount, t.posted_on) for t in late_fees(account)] == [(Decimal("50.00"), MARCH_9)]
    assert [a.party.party_id for a in done(account, "late-notice-guarantor")] == ["P-GREG"]
    (released,) = timeline(account, "hold.released")
    assert (released.on, released.actor, released.detail["hold"]) == (MARCH_9, "alice", hold.pk)


def test_a_stay_lifted_in_the_morning_lets_the_afternoon_rerun_act(tina_lease):
    # given: the morning run of the 7th refused everything under Tina's bankruptcy stay
    account = tina_lease()
    hold = hold_place(account_id=account, reason="bankruptcy", on=MARCH_2, actor="alice")
    assert cycle_run(on=MARCH_7).actions == []

    # when: the court lifts the stay at noon, Alice releases the hold and runs the cycle again
    hold_release(account_id=account, hold_id=hold.pk, actor="alice", on=MARCH_7)
    rerun = cycle_run(on=MARCH_7)

    # then: the notices go out and the fee is posted that day
    assert {a["step"] for a in rerun.actions} == {
        "reminder",
        "late-notice",
        "late-notice-guarantor",
        "late-fee",
    }
    assert [t.posted_on for t in late_fees(account)] == [MARCH_7]


def test_a_hold_on_greg_alone_stops_only_the_guarantor_letter(tina_lease):
    # given: Greg, the guarantor, filed for bankruptcy himself
    account = tina_lease()
    hold_place(
        account_id=account, reason="bankruptcy", on=MARCH_2, actor="alice", party_id="P-GREG"
    )

    # when
    result = cycle_run(on=MARCH_7)

    # then: Tina's notice and the fee go ahead; Greg's letter is refused
    assert result.blocked == [
        {
            "account_id": account,
            "party_id": "P-GREG",
            "step": "late-notice-guarantor",
            "rule": "hold:bankruptcy",
        }
    ]
    assert [a.party.party_id for a in done(account, "late-notice")] == ["P-TINA"]
    assert done(account, "late-notice-guarantor") == []
    assert len(late_fees(account)) == 1
    (row,) = timeline(account, "notice.refused")
    assert (row.detail["party_id"], row.detail["rule"]) == ("P-GREG", "hold:bankruptcy")
    (placed,) = timeline(account, "hold.placed")
    assert placed.detail["party_id"] == "P-GREG"


def test_greg_without_a_postal_address_gets_no_letter_at_the_tenants_address(tina_lease):
    # given: Greg's address is not on file (the building's is)
    account = tina_lease(
        greg={"party_id": "P-GREG", "name": "Greg Ortiz", "email": "greg@example.org"}
    )

    # when
    result = cycle_run(on=MARCH_7)

    # then: Tina's letter goes, Greg's is refused for want of an address
    assert [a.party.party_id for a in done(account, "late-notice")] == ["P-TINA"]
    assert {(b["party_id"], b["step"], b["rule"]) for b in result.blocked} == {
        ("P-GREG", "late-notice-guarantor", "channel:no postal address")
    }


TEXTS_POLICY = """
name = "ny-residential-texts"
version = 1
jurisdiction = "US-NY"
account_kinds = ["residential_lease"]

[[steps]]
key = "text-reminder"
days_past_due = 1
codes = ["RENT"]
per = "charge"
action = "notice"
channel = "sms"
template = "ny-rent-reminder-text"

[[steps]]
key = "email-reminder"
days_past_due = 1
codes = ["RENT"]
per = "charge"
action = "notice"
channel = "email"
template = "ny-rent-reminder"
"""


def test_a_text_without_consent_is_refused_and_an_email_opt_out_stops_the_email(tina_lease):
    # given: Tina's lease follows a company policy that texts and emails a reminder; she has
    # opted out of email and has not consented to texts
    account = tina_lease()
    CompanyPolicy.objects.create(name="ny-residential-texts", version=1, body=TEXTS_POLICY)
    PolicyOverride.objects.create(
        account=Account.objects.get(account_id=account), policy="ny-residential-texts"
    )
    tina = Party.objects.get(party_id="P-TINA")
    Consent.objects.create(
        party=tina,
        channel="email",
        granted=False,
        source="phone call",
        at=datetime(2026, 2, 20, 10, 0, tzinfo=NEW_YORK),
    )

    # when
    result = cycle_run(on=MARCH_2)

    # then: both refused, each with the rule that refused it
    assert result.actions == []
    assert sorted((b["step"], b["rule"]) for b in result.blocked) == [
        ("email-reminder", "channel:opted out"),
        ("text-reminder", "channel:no consent to texts"),
    ]
    rows = timeline(account, "notice.refused")
    assert sorted((e.detail["step"], e.detail["rule"]) for e in rows) == [
        ("email-reminder", "channel:opted out"),
        ("text-reminder", "channel:no consent to texts"),
    ]

    # when: Tina consents to texts that evening, and the cycle runs the next day
    Consent.objects.create(
        party=tina,
        channel="sms",
        granted=True,
        source="web form",
        at=datetime(2026, 3, 2, 19, 0, tzinfo=NEW_YORK),
    )
    later = cycle_run(on=MARCH_3)

    # then: the text becomes a task for the coordinator; the email stays stopped
    assert [(a["step"], a["channel"]) for a in later.actions] == [("text-reminder", "sms")]
    assert {(b["step"], b["rule"]) for b in later.blocked} <= {
        ("email-reminder", "channel:opted out")
    }
    assert done(account, "email-reminder") == []
    (text,) = done(account, "text-reminder")
    assert (text.status, text.run_on, text.policy) == ("task", MARCH_3, "ny-residential-texts")
    assert [e.detail["step"] for e in timeline(account, "notice.task")] == ["text-reminder"]


def test_a_rerun_on_the_same_date_adds_nothing(tina_lease):
    # given: the run of the 7th is done, with one refusal (Greg is on hold)
    account = tina_lease()
    hold_place(
        account_id=account, reason="represented", on=MARCH_2, actor="alice", party_id="P-GREG"
    )
    first = cycle_run(on=MARCH_7)
    assert first.actions
    assert first.blocked
    before = book_counts()

    # when
    again = cycle_run(on=MARCH_7)

    # then: no new action, timeline row or transaction; nothing to report
    assert book_counts() == before
    assert again.as_json() == {
        "date": "2026-03-07",
        "actions": [],
        "blocked": [],
        "inspection_offers": [],
    }
    assert len(late_fees(account)) == 1


def test_a_killed_run_resumed_finishes_without_duplicates(small_leases):
    # given: 2,100 tenants with March's rent unpaid: more than one chunk of 2,000 accounts
    accounts = small_leases(2100)
    with transaction.atomic():  # a clean run on the same book, then undone: the reference
        clean = cycle_run(on=MARCH_7)
        clean_keys = set(Action.objects.values_list("key", flat=True))
        transaction.set_rollback(True)
    assert Action.objects.count() == 0
    assert len(clean_keys) == 3 * len(accounts)  # reminder, late notice and fee for each

    # when: the run dies after its first chunk, and is run again
    killed = cycle_run(on=MARCH_7, stop_after_chunks=1)
    assert Action.objects.values("account").distinct().count() == 2000
    resumed = cycle_run(on=MARCH_7)

    # then: together they did exactly what the clean run did, each thing once
    keys = list(Action.objects.values_list("key", flat=True))
    assert set(keys) == clean_keys
    assert len(keys) == len(set(keys))

    def entries(result):
        return Counter(tuple(sorted(a.items())) for a in result.actions)

    assert entries(killed) + entries(resumed) == entries(clean)
    assert max((entries(killed) + entries(resumed)).values()) == 1
    fees = Counter(
        Transaction.objects.filter(code="LATE").values_list("account__account_id", flat=True)
    )
    assert set(fees) == set(accounts)
    assert set(fees.values()) == {1}
    assert TimelineEvent.objects.filter(on=MARCH_7).count() == len(clean_keys)
    (charge,) = late_fees("A-02100")
    assert (charge.amount, charge.posted_on) == (Decimal("5.00"), MARCH_7)


def test_a_referral_waits_for_the_demand_to_be_served_and_its_own_deadline(
    tina_lease, print_letters
):
    # given: the demand queued on the 11th is printed for mailing only on the 13th
    account = tina_lease()
    cycle_run(on=MARCH_7)
    cycle_run(on=MARCH_11)
    # when: the cycle runs 15 days after the demand was queued, before it was even printed
    unserved = cycle_run(on=MARCH_26)
    # then: no referral: the demand has not been served
    assert "referral" not in {a["step"] for a in unserved.actions}
    # when: it is printed on the 13th (dated the 13th: 14 days run to Friday the 27th)
    print_letters(date(2026, 3, 13))
    (demand,) = done(account, "rent-demand")
    assert demand.deadline == date(2026, 3, 27)
    # then: no referral while its deadline runs, one 15 days after it was served
    assert "referral" not in {a["step"] for a in cycle_run(on=date(2026, 3, 27)).actions}
    assert "referral" in {a["step"] for a in cycle_run(on=date(2026, 3, 28)).actions}
