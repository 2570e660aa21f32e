"""The collection cycle through the `arrears` command: run, dry run, timeline, hold, release,
note and worklist, their JSON and their errors (both databases).

Tina Ortiz rents 3B at Elm Court, Brooklyn; her brother Greg guarantees the lease. Omar Haddad has
just moved into 5A. Alice, the coordinator, types the commands (ARREARS_USER); today is frozen at
March 7, 2026 (ARREARS_TODAY) unless a story says otherwise.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from arrears.cli import main
from arrears.dunning.models import Action, Hold, RunLog
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent, Transaction

MARCH_6 = date(2026, 3, 6)


def run_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["run", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def timeline_json(capsys, account_id: str) -> list[dict]:
    capsys.readouterr()
    assert main(["timeline", account_id, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def book_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Action, TimelineEvent, Transaction, RunLog, Hold)
    }


def place_hold(capsys, *args: str) -> int:
    capsys.readouterr()
    assert main(["hold", *args]) == 0
    placed = re.fullmatch(r"Hold (\d+) placed on .*\n", capsys.readouterr().out)
    assert placed
    return int(placed.group(1))


def test_the_dry_run_shows_the_plan_the_real_run_then_carries_out_and_changes_nothing(
    tina_lease, capsys
):
    # given: March's rent unpaid, and a hold on contact with Greg
    account = tina_lease()
    place_hold(
        capsys, account, "--reason", "represented", "--party", "P-GREG", "--on", "2026-03-02"
    )
    before = book_counts()

    # when
    plan = run_json(capsys, "--date", "2026-03-07", "--dry-run")

    # then: the plan has the notice, the fee and the refusal, and the book is as it was
    assert sorted(a["step"] for a in plan["actions"]) == ["late-fee", "late-notice", "reminder"]
    assert plan["blocked"] == [
        {
            "account_id": account,
            "party_id": "P-GREG",
            "step": "late-notice-guarantor",
            "rule": "hold:represented",
        }
    ]
    assert book_counts() == before

    # when: the real run of the same date
    real = run_json(capsys, "--date", "2026-03-07")

    # then: it did exactly what the dry run showed
    assert real == plan
    assert Action.objects.count() == before["Action"] + 4
    assert Transaction.objects.filter(code="LATE").count() == 1


def test_a_rerun_through_the_command_reports_no_actions_and_adds_no_rows(tina_lease, capsys):
    # given: the run of the 7th is done
    tina_lease()
    first = run_json(capsys, "--date", "2026-03-07")
    assert len(first["actions"]) == 4
    before = book_counts()

    # when
    again = run_json(capsys, "--date", "2026-03-07")

    # then
    assert again == {
        "date": "2026-03-07",
        "actions": [],
        "blocked": [],
        "inspection_offers": [],
    }
    assert book_counts() == {**before, "RunLog": before["RunLog"] + 1}


def test_every_action_and_every_refusal_is_on_the_timeline(tina_lease, capsys, book_clock):
    # given: Greg asked, through his attorney, not to be contacted; the cycle ran on the 7th and
    # the 11th
    account = tina_lease()
    place_hold(
        capsys, account, "--reason", "represented", "--party", "P-GREG", "--on", "2026-03-02"
    )
    run_json(capsys, "--date", "2026-03-07")
    book_clock(date(2026, 3, 11))
    run_json(capsys, "--date", "2026-03-11")

    # when
    events = timeline_json(capsys, account)

    # then: each action and each refusal has its row, found by its key and date
    rows = {(e["detail"]["key"], e["on"]): e for e in events if "key" in e["detail"]}
    actions = list(Action.objects.filter(account__account_id=account).order_by("id"))
    assert len(rows) == len(actions) >= 5
    for action in actions:
        row = rows[(action.key.split("@")[0], action.run_on.isoformat())]
        assert row["kind"] == f"{action.action}.{action.status}"
        assert row["actor"] == "alice"
        assert row["detail"]["step"] == action.step
        assert row["detail"]["party_id"] == (action.party.party_id if action.party else None)
    # the hold, then the run of the 7th: Tina's reminder and notice, Greg's letter refused, the
    # fee; the run of the 11th: the demand
    assert [(e["on"], e["kind"]) for e in events if e["on"] <= "2026-03-07"] == [
        ("2026-03-02", "hold.placed"),
        ("2026-03-07", "notice.queued"),
        ("2026-03-07", "notice.queued"),
        ("2026-03-07", "notice.refused"),
        ("2026-03-07", "fee.done"),
    ]
    refusal = next(e for e in events if e["kind"] == "notice.refused")
    assert (refusal["detail"]["step"], refusal["detail"]["party_id"]) == (
        "late-notice-guarantor",
        "P-GREG",
    )
    assert refusal["detail"]["rule"] == "hold:represented"
    later = [e for e in events if e["on"] == "2026-03-11" and e["kind"] == "notice.queued"]
    assert [e["detail"]["step"] for e in later] == ["rent-demand"]


def test_hold_release_and_note_through_the_command_write_timeline_rows(tina_lease, capsys):
    # given
    account = tina_lease()

    # when: Alice places a bankruptcy hold, releases it, and notes Tina's call
    number = place_hold(
        capsys, account, "--reason", "bankruptcy", "--on", "2026-03-02", "--note", "Chapter 7, EDNY"
    )
    assert main(["release", account, "--hold", str(number)]) == 0
    released = capsys.readouterr().out
    assert main(["note", account, "Tina called: she will pay on the 15th"]) == 0
    noted = capsys.readouterr().out

    # then: the hold is on record, released, and the timeline has all three
    hold = Hold.objects.get(pk=number)
    assert (hold.reason, hold.placed_on, hold.placed_by, hold.note) == (
        "bankruptcy",
        date(2026, 3, 2),
        "alice",
        "Chapter 7, EDNY",
    )
    assert hold.released_at is not None
    assert hold.released_by == "alice"
    assert released == f"Hold {number} (bankruptcy) on {account} released.\n"
    assert noted == f"Note added to {account}.\n"
    events = timeline_json(capsys, account)
    assert [(e["kind"], e["on"], e["actor"], e["summary"]) for e in events] == [
        ("hold.placed", "2026-03-02", "alice", "bankruptcy hold"),
        ("hold.released", "2026-03-07", "alice", "bankruptcy hold released"),
        ("note.added", "2026-03-07", "alice", "Tina called: she will pay on the 15th"),
    ]
    assert events[0]["detail"]["note"] == "Chapter 7, EDNY"
    assert events[1]["detail"] == {"hold": number}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hold", "A-NOBODY", "--reason", "bankruptcy"], "arrears hold: no account 'A-NOBODY'"),
        (["release", "A-NOBODY", "--hold", "1"], "arrears release: no account 'A-NOBODY'"),
        (["note", "A-NOBODY", "Tina called"], "arrears note: no account 'A-NOBODY'"),
        (["timeline", "A-NOBODY"], "arrears timeline: no account 'A-NOBODY'"),
        (
            ["release", "A-TINA", "--hold", "999"],
            "arrears release: account 'A-TINA' has no hold 999",
        ),
        (
            ["hold", "A-TINA", "--reason", "manual", "--party", "P-OMAR"],
            "arrears hold: 'P-OMAR' is not a party of account 'A-TINA'",
        ),
        (
            ["hold", "A-TINA", "--reason", "manual", "--on", "2026-03-07", "--until", "2026-03-01"],
            "arrears hold: --until 2026-03-01 is before the hold starts (2026-03-07)",
        ),
    ],
)
def test_a_command_on_something_that_does_not_exist_exits_2_with_a_clear_message(
    tina_lease, capsys, argv, message
):
    # given
    tina_lease()
    before = book_counts()
    capsys.readouterr()

    # when
    status = main(argv)

    # then: one line on standard error, nothing on standard output, nothing changed
    out, err = capsys.readouterr()
    assert status == 2
    assert (out, err) == ("", message + "\n")
    assert book_counts() == before


def test_releasing_a_hold_twice_exits_2_and_writes_no_second_row(tina_lease, capsys):
    # given: a hold Alice placed and released
    account = tina_lease()
    number = place_hold(capsys, account, "--reason", "manual", "--on", "2026-03-02")
    assert main(["release", account, "--hold", str(number)]) == 0
    capsys.readouterr()

    # when
    status = main(["release", account, "--hold", str(number)])

    # then
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith(f"arrears release: hold {number} was already released on ")
    assert TimelineEvent.objects.filter(kind="hold.released").count() == 1


def test_releasing_a_hold_twice_names_the_day_it_was_released(tina_lease, capsys):
    # given: a hold released on March 7 (today)
    account = tina_lease()
    number = place_hold(capsys, account, "--reason", "manual", "--on", "2026-03-02")
    assert main(["release", account, "--hold", str(number)]) == 0
    capsys.readouterr()

    # when
    main(["release", account, "--hold", str(number)])

    # then
    assert capsys.readouterr().err == (
        f"arrears release: hold {number} was already released on 2026-03-07\n"
    )


def test_the_worklist_lists_a_new_large_delinquency_and_a_referral_by_expected_recovery(
    tina_lease, omar_lease, capsys, monkeypatch, print_letters
):
    # given: Tina paid January and February on the 3rd, never paid March: her demand expired and
    # a referral was recommended on the 26th; Omar moved in on the 22nd and has not paid his
    # 3,000.00 rent
    tina_lease(
        history=[
            {
                "txn_id": "T-RENT-01",
                "account_id": "A-TINA",
                "posted": "2026-01-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-01-01",
            },
            {
                "txn_id": "T-PAY-01",
                "account_id": "A-TINA",
                "posted": "2026-01-03",
                "type": "payment",
                "amount": "1200.00",
            },
            {
                "txn_id": "T-RENT-02",
                "account_id": "A-TINA",
                "posted": "2026-02-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-02-01",
            },
            {
                "txn_id": "T-PAY-02",
                "account_id": "A-TINA",
                "posted": "2026-02-03",
                "type": "payment",
                "amount": "1200.00",
            },
        ]
    )
    omar_lease(
        opened="2026-03-22",
        transactions=[
            {
                "txn_id": "O-RENT-03",
                "posted": "2026-03-22",
                "code": "RENT",
                "amount": "3000.00",
                "due": "2026-03-22",
            },
        ],
    )
    for day in (6, 11, 26):
        cycle_run(on=date(2026, 3, day))
        print_letters(date(2026, 3, day))
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-26")
    capsys.readouterr()

    # when
    assert main(["worklist", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)

    # then: Tina first (1,250.00 × 0.66: she paid 2,400.00 of 3,650.00 charged on time), then
    # Omar (3,000.00 × 0.05: no record yet), each with the reason for the line, in words for a
    # person, and the cycle's own words as its detail
    keys = ("account_id", "kind", "reason", "detail", "party_id", "balance", "likelihood")
    assert doc["date"] == "2026-03-26"
    assert [{k: item[k] for k in (*keys, "expected_recovery")} for item in doc["items"]] == [
        {
            "account_id": "A-TINA",
            "kind": "referral",
            "reason": "Refer to an attorney? The policy recommends it since 2026-03-26",
            "detail": "referral: referral to the attorney recommended on 2026-03-26",
            "party_id": None,
            "balance": "1250.00",
            "likelihood": "0.66",
            "expected_recovery": "825.00",
        },
        {
            "account_id": "A-OMAR",
            "kind": "new_delinquency",
            "reason": "3,000.00 newly past due since 2026-03-22: call before it grows",
            "detail": "3000.00 past due since 2026-03-22",
            "party_id": None,
            "balance": "3000.00",
            "likelihood": "0.05",
            "expected_recovery": "150.00",
        },
    ]
    # and each line says who, where, how late and how likely, as the page and the API do
    tina = doc["items"][0]
    assert (tina["tenant"], tina["property"], tina["days_late"], tina["likelihood_percent"]) == (
        "Tina Ortiz",
        "Elm Court",
        25,
        66,
    )
    assert tina["tab"] == "referrals"


def test_rent_posted_before_it_is_due_does_not_make_a_small_arrear_a_large_delinquency(
    omar_lease, capsys
):
    # given: Omar owes a 25.00 utility charge due on the 20th; April's rent is posted on the 25th
    omar_lease(
        opened="2026-03-01",
        transactions=[
            {
                "txn_id": "O-UTIL-03",
                "posted": "2026-03-20",
                "code": "UTIL",
                "amount": "25.00",
                "due": "2026-03-20",
            },
            {
                "txn_id": "O-RENT-04",
                "posted": "2026-03-25",
                "code": "RENT",
                "amount": "3000.00",
                "due": "2026-04-01",
            },
        ],
    )
    capsys.readouterr()

    # when
    assert main(["worklist", "--date", "2026-03-26", "--format", "json"]) == 0

    # then: 25.00 past due is not a large delinquency
    assert json.loads(capsys.readouterr().out)["items"] == []


def test_a_company_policy_is_stored_as_a_new_version_of_its_name(users, tmp_path, capsys):
    # given the built-in NY policy, changed to send the rent demand on day 12
    from arrears.dunning.policy import BUILT_IN

    text = (BUILT_IN / "ny-residential.toml").read_text(encoding="utf-8")
    changed = tmp_path / "ny.toml"
    changed.write_text(text.replace("days_past_due = 10", "days_past_due = 12"), encoding="utf-8")
    # when alice, a coordinator, tries to store it, then erin, the admin
    assert main(["policy", "add", str(changed)]) == 2
    assert "the role coordinator may not do this (policy.add)" in capsys.readouterr().err
    assert main(["policy", "add", str(changed), "--as", "erin"]) == 0
    # then it is version 4 of ny-residential (after the built-in's 3), and version 3 stays
    from arrears.dunning.services import company_policies

    policy = company_policies()["ny-residential"]
    assert policy.version == 4
    assert policy.step("rent-demand").days_past_due == 12
    # and a policy that does not parse is refused with its reason
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[steps]]\nkey = "a"\naction = "bogus"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["policy", "add", str(bad), "--as", "erin"]) == 2
    assert "action must be one of" in capsys.readouterr().err


def test_tina_can_be_put_on_another_policy_and_back(tina_lease, capsys):
    # given Tina's NY lease
    account = tina_lease()
    # when erin, the admin, puts it on the post-move-out policy, then back on its property's
    assert main(["policy", "assign", account, "post-move-out", "--as", "erin"]) == 0
    from arrears.dunning.models import PolicyOverride

    assert PolicyOverride.objects.get(account__account_id=account).policy == "post-move-out"
    assert main(["policy", "assign", account, "--clear", "--as", "erin"]) == 0
    # then no override is left, and both changes are on the timeline
    assert not PolicyOverride.objects.filter(account__account_id=account).exists()
    kinds = [e["kind"] for e in timeline_json(capsys, account)]
    assert kinds.count("policy.assigned") == 2
    # and an unknown policy is refused
    assert main(["policy", "assign", account, "nope", "--as", "erin"]) == 2


@pytest.mark.django_db
def test_policy_show_says_which_steps_wait_out_new_yorks_grace_period(capsys):
    # when alice asks for the New York policy
    assert main(["policy", "show", "ny-residential"]) == 0
    out = capsys.readouterr().out
    # then the notice, the guarantor's letter and the fee wait out five days of grace; the demand
    # keeps its day
    assert out.startswith("ny-residential v3: ")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    for key in ("late-notice", "late-notice-guarantor", "late-fee"):
        assert "after 5 days of grace" in lines[key], key
    assert "day 10" in lines["rent-demand"]
