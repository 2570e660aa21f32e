"""Plans, promises and disputes in the collection cycle, story by story (both databases).

Tina Ortiz rents 3B at Elm Court, Brooklyn (NY policy); her brother Greg guarantees the lease.
March's rent is unpaid. Alice is the coordinator: she agrees plans and promises with Tina and
answers her disputes. Every story asserts on the database and on the timeline.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from arrears.core.errors import ValidationError
from arrears.core.pdf import pdf_text
from arrears.disputes.documents import analysis_pdf, analysis_xlsx
from arrears.disputes.selectors import account_analysis
from arrears.disputes.services import dispute_open, dispute_resolve
from arrears.dunning.commitments import plan_create, plan_renegotiate
from arrears.dunning.models import Action
from arrears.dunning.policy import BUILT_IN
from arrears.dunning.selectors import analysis_rules, worklist
from arrears.dunning.services import cycle_run, policy_add
from arrears.ledger.models import OpenItem, TimelineEvent, Transaction
from arrears.plans.agreement import agreement_pdf
from arrears.plans.models import Plan, Promise
from arrears.plans.selectors import plan_tracking, promise_kept_rate
from arrears.plans.services import plan_cancel, plan_send_for_acceptance, promise_add

MARCH_6 = date(2026, 3, 6)
MARCH_7 = date(2026, 3, 7)
MARCH_8 = date(2026, 3, 8)
MARCH_11 = date(2026, 3, 11)
MARCH_20 = date(2026, 3, 20)
MARCH_26 = date(2026, 3, 26)
APRIL_1 = date(2026, 4, 1)
APRIL_6 = date(2026, 4, 6)
APRIL_7 = date(2026, 4, 7)


def payment(txn_id: str, posted: str, amount: str) -> dict[str, str]:
    return {
        "txn_id": txn_id,
        "account_id": "A-TINA",
        "posted": posted,
        "type": "payment",
        "amount": amount,
    }


def kinds(account_id: str) -> list[str]:
    return list(
        TimelineEvent.objects.filter(account__account_id=account_id)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def steps(result, rule: str | None = None) -> set[tuple[str, str]]:
    if rule is None:
        return {(a["step"], a.get("amount", "")) for a in result.actions}
    return {(b["step"], b["rule"]) for b in result.blocked if b["rule"] == rule}


def test_a_3_installment_plan_on_1000_splits_333_34_333_33_333_33(tina_lease):
    # given: Tina owes March's rent of 1,000.00
    account = tina_lease(rent="1000.00")

    # when: Alice agrees a plan of three monthly installments from April 1
    plan = plan_create(
        account_id=account,
        on=MARCH_7,
        actor="alice",
        start=APRIL_1,
        frequency="monthly",
        installments=3,
    )

    # then: the parts are 333.34, 333.33 and 333.33, one a month, and sum to the plan
    rows = list(plan.installments.order_by("seq").values_list("due_on", "amount"))
    assert rows == [
        (date(2026, 4, 1), Decimal("333.34")),
        (date(2026, 5, 1), Decimal("333.33")),
        (date(2026, 6, 1), Decimal("333.33")),
    ]
    assert plan.amount == Decimal("1000.00") == sum(a for _, a in rows)
    event = TimelineEvent.objects.get(kind="plan.created")
    assert event.actor == "alice"
    assert [i["amount"] for i in event.detail["installments"]] == ["333.34", "333.33", "333.33"]


def test_a_partial_payment_leaves_an_installment_partly_paid(tina_lease, load_book):
    # given: a plan of 1,000.00 in three from April 1
    account = tina_lease(rent="1000.00")
    plan = plan_create(account_id=account, on=MARCH_7, actor="alice", start=APRIL_1, installments=3)

    # when: Tina pays 200.00 on March 30
    load_book(transactions=[payment("T-PAY-1", "2026-03-30", "200.00")])

    # then: the first installment is partly paid (200.00 of 333.34), the plan stands and holds
    tracking = plan_tracking(plan=plan, on=APRIL_1)
    first = tracking.lines[0]
    assert (first.status, first.paid, first.left) == (
        "partly_paid",
        Decimal("200.00"),
        Decimal("133.34"),
    )
    assert [line.status for line in tracking.lines[1:]] == ["due", "due"]
    assert not tracking.broken


def test_a_payment_already_in_the_balance_does_not_count_toward_the_plan_again(
    tina_lease, load_book
):
    # given: Tina paid 400.00 of March's 1,000.00 this morning; a plan on the 600.00 left
    account = tina_lease(rent="1000.00", transactions=[payment("T-PAY-0", "2026-03-07", "400.00")])
    plan = plan_create(account_id=account, on=MARCH_7, actor="alice", start=APRIL_1, installments=3)
    assert plan.amount == Decimal("600.00")

    # then: nothing is paid toward the plan yet
    assert [line.paid for line in plan_tracking(plan=plan, on=APRIL_1).lines] == [
        Decimal("0.00")
    ] * 3

    # when: a payment of the same day is booked after the plan was made
    load_book(transactions=[payment("T-PAY-1", "2026-03-07", "200.00")])

    # then: it pays the first installment
    assert plan_tracking(plan=plan, on=APRIL_1).lines[0].status == "paid"


def test_a_missed_installment_past_grace_breaks_the_plan_and_the_next_run_refers_the_account(
    tina_lease, print_letters
):
    # given: March's rent of 1,200.00 unpaid: the late notice and fee on the 7th, the 14-day
    # rent demand on the 11th, printed for mailing that day
    account = tina_lease()
    cycle_run(on=MARCH_7)
    cycle_run(on=MARCH_11)
    assert Action.objects.filter(step="rent-demand", status="queued").count() == 1
    print_letters(MARCH_11)

    # when: Alice agrees a plan on the 20th, and the demand expires on the 26th
    plan = plan_create(
        account_id=account, on=MARCH_20, actor="alice", start=APRIL_1, installments=3
    )
    assert plan.amount == Decimal("1250.00")  # the rent and the 50.00 late fee
    held = cycle_run(on=MARCH_26)

    # then: the plan in good standing holds the referral (rule `plan`)
    assert steps(held, "plan") == {("referral", "plan")}
    assert held.actions == []
    refused = Action.objects.get(step="referral", status="refused")
    assert refused.rule == "plan"

    # when: April 1's installment is not paid; the grace of 5 days ends on the 6th
    on_the_6th = cycle_run(on=APRIL_6)
    assert on_the_6th.actions == []
    plan.refresh_from_db()
    assert plan.status == "active"
    result = cycle_run(on=APRIL_7)

    # then: the plan is broken (the guarantor named for a letter), the cycle resumes, and the
    # policy's next step, the referral to the attorney, is done on that run
    plan.refresh_from_db()
    assert (plan.status, plan.ended_on) == ("broken", APRIL_7)
    broken = TimelineEvent.objects.get(kind="plan.broken")
    assert broken.detail["guarantors"] == ["P-GREG"]
    assert "installment 1 of 416.67 due 2026-04-01" in broken.summary
    assert ("referral", "") in steps(result)
    referral = Action.objects.get(step="referral", status="done")
    assert referral.run_on == APRIL_7
    assert kinds(account).index("plan.broken") < kinds(account).index("recommend_referral.done")
    work = {w.kind: w for w in worklist(on=APRIL_7) if w.account_id == account}
    assert f"plan {plan.pk} broken on 2026-04-07" in work["plan_broken"].detail
    assert work["plan_broken"].reason == (
        "Payment plan broken on 2026-04-07: tell the guarantor, decide what next"
    )


def test_the_agreement_is_sent_for_acceptance_through_the_sender_given_and_recorded(tina_lease):
    account = tina_lease(rent="1000.00")
    plan = plan_create(
        account_id=account,
        on=MARCH_7,
        actor="alice",
        start=APRIL_1,
        installments=3,
        party_id="P-TINA",
    )
    outbox: list[tuple[str, str, str, bytes, str]] = []
    plan_send_for_acceptance(
        plan_id=plan.pk,
        on=MARCH_7,
        actor="alice",
        send=lambda *message: outbox.append(message),
        language="es",
    )
    ((to, subject, _, pdf, filename),) = outbox
    assert (to, subject, filename) == (
        "tina@example.org",
        "Su acuerdo de plan de pagos",
        f"plan-{plan.pk}-es.pdf",
    )
    assert "333.34" in pdf_text(pdf)
    plan.refresh_from_db()
    assert plan.agreement_sha256 == hashlib.sha256(pdf).hexdigest()
    assert plan.sent_to == "tina@example.org"
    event = TimelineEvent.objects.get(kind="plan.sent_for_acceptance")
    assert event.detail["sha256"] == plan.agreement_sha256
    with pytest.raises(ValidationError, match=r"already sent to tina@example\.org"):
        plan_send_for_acceptance(
            plan_id=plan.pk, on=MARCH_7, actor="alice", send=lambda *message: outbox.append(message)
        )
    assert len(outbox) == 1


def test_a_plan_is_renegotiated_and_cancelled_with_reasons_and_kept_on_record(tina_lease):
    account = tina_lease(rent="1000.00")
    first = plan_create(
        account_id=account, on=MARCH_7, actor="alice", start=APRIL_1, installments=3
    )
    with pytest.raises(ValidationError, match="already has an active plan"):
        plan_create(account_id=account, on=MARCH_7, actor="alice", start=APRIL_1, installments=2)
    second = plan_renegotiate(
        plan_id=first.pk,
        reason="lost a job",
        on=MARCH_7,
        actor="alice",
        start=APRIL_1,
        installments=5,
    )
    first.refresh_from_db()
    assert (first.status, first.end_reason) == ("superseded", "lost a job")
    assert second.supersedes_id == first.pk
    assert sum(second.installments.values_list("amount", flat=True)) == Decimal("1000.00")
    plan_cancel(plan_id=second.pk, reason="paid in full by a charity", on=MARCH_7, actor="alice")
    assert list(Plan.objects.order_by("id").values_list("status", flat=True)) == [
        "superseded",
        "cancelled",
    ]
    assert kinds(account)[-3:] == ["plan.superseded", "plan.created", "plan.cancelled"]


def test_the_agreement_prints_in_english_and_spanish(tina_lease):
    account = tina_lease(rent="1000.00")
    plan = plan_create(
        account_id=account,
        on=MARCH_7,
        actor="alice",
        start=APRIL_1,
        installments=3,
        down=Decimal("100.00"),
        acceleration_clause="If a payment is missed the whole balance is due.",
    )
    english = pdf_text(agreement_pdf(plan, "en"))
    spanish = pdf_text(agreement_pdf(plan, "es"))
    assert "Payment plan agreement" in english
    assert "Tina Ortiz" in english
    assert "Elm Court" in english
    assert "100.00" in english
    assert "300.00" in english
    assert "1,000.00" in english
    assert "whole balance is due" in english
    assert "Acuerdo de plan de pagos" in spanish
    assert "Cuota 1" in spanish
    assert "Pago inicial" in spanish
    assert "300.00" in spanish


def test_a_promise_holds_the_cycle_until_it_is_broken_then_the_cycle_resumes_and_alice_calls(
    tina_lease, load_book
):
    # given: on the 3rd Tina promises 1,200.00 by the 9th (two days' grace)
    account = tina_lease()
    promise = promise_add(
        account_id=account,
        amount=Decimal("1200.00"),
        promised_on=date(2026, 3, 9),
        on=date(2026, 3, 3),
        actor="alice",
        party_id="P-TINA",
    )

    # when: the run of the 6th
    held = cycle_run(on=MARCH_6)

    # then: nothing goes out; every step is refused with the rule `promise`
    assert held.actions == []
    assert {b["rule"] for b in held.blocked} == {"promise"}

    # when: she pays only 500.00, and the 12th comes (the 9th + 2 days' grace, then one more)
    load_book(transactions=[payment("T-PAY-1", "2026-03-08", "500.00")])
    resumed = cycle_run(on=date(2026, 3, 12))

    # then: the promise is broken, the worklist says so, and the cycle resumes
    promise.refresh_from_db()
    assert (promise.status, promise.paid) == ("broken", Decimal("500.00"))
    assert "late-notice" in {a["step"] for a in resumed.actions}
    work = worklist(on=date(2026, 3, 12))
    assert any(w.kind == "broken_promise" and w.account_id == account for w in work)

    # and a kept promise counts for Alice's kept rate
    promise_add(
        account_id=account,
        amount=Decimal("100.00"),
        promised_on=date(2026, 3, 20),
        on=date(2026, 3, 12),
        actor="alice",
    )
    load_book(transactions=[payment("T-PAY-2", "2026-03-15", "100.00")])
    cycle_run(on=date(2026, 3, 16))
    rates = {r.coordinator: r for r in promise_kept_rate()}
    assert (rates["alice"].kept, rates["alice"].broken) == (1, 1)
    assert rates["alice"].rate == Decimal("0.5000")
    assert [p.status for p in Promise.objects.order_by("id")] == ["broken", "kept"]


def test_a_payment_after_the_promised_date_and_its_grace_does_not_keep_the_promise(
    tina_lease, load_book
):
    # given: a promise of 1,200.00 by the 9th (grace to the 11th), paid in full on the 12th
    account = tina_lease()
    promise = promise_add(
        account_id=account,
        amount=Decimal("1200.00"),
        promised_on=date(2026, 3, 9),
        on=MARCH_7,
        actor="alice",
    )
    load_book(transactions=[payment("T-PAY-1", "2026-03-12", "1200.00")])

    # when: the next run that settles it is on the 13th
    cycle_run(on=date(2026, 3, 13))

    # then: it was broken, not kept
    promise.refresh_from_db()
    assert (promise.status, promise.paid) == ("broken", Decimal("0.00"))


FEE_STEPS = """
# Not in the built-in policy: a reminder of a late fee, and a statement of what is past due.
[[steps]]
key = "fee-reminder"
days_past_due = 1
codes = ["LATE"]
per = "charge"
action = "notice"
channel = "email"
template = "fee-reminder"

[[steps]]
key = "statement"
days_past_due = 10
per = "delinquency"
action = "notice"
channel = "letter"
template = "statement"
"""


@pytest.fixture
def fee_policy(db) -> None:
    """Elm Court's company policy: New York's, with a fee reminder and a statement."""
    text = (BUILT_IN / "ny-residential.toml").read_text(encoding="utf-8")
    policy_add(text=text + FEE_STEPS, source="test")


def late_fee() -> Transaction:
    return Transaction.objects.get(code="LATE")


def test_a_dispute_on_the_late_fee_holds_notices_about_that_fee_but_not_the_rent(
    tina_lease, fee_policy
):
    # given: the run of the 7th posts the 50.00 late fee on March's rent
    account = tina_lease()
    cycle_run(on=MARCH_7)
    fee = late_fee()
    assert fee.amount == Decimal("50.00")

    # when: Tina disputes the fee on the 7th
    dispute = dispute_open(
        account_id=account,
        charges=[fee.txn_id],
        reason="paid on time",
        on=MARCH_7,
        actor="alice",
        party_id="P-TINA",
    )
    assert dispute.amount == Decimal("50.00")

    # then: the fee's reminder is refused with the rule `dispute`
    eighth = cycle_run(on=MARCH_8)
    assert steps(eighth, "dispute") == {("fee-reminder", "dispute")}
    refused = Action.objects.get(step="fee-reminder")
    assert (refused.status, refused.rule) == ("refused", "dispute")
    assert f"charge {fee.txn_id} is disputed" in refused.reason

    # and the rent keeps its course: the demand and the statement go out on the 11th, for the
    # rent alone (the disputed fee left out of what is past due)
    eleventh = cycle_run(on=MARCH_11)
    assert {("rent-demand", "1200.00"), ("statement", "1200.00")} <= steps(eleventh)
    assert not steps(eleventh, "dispute") - {("fee-reminder", "dispute")}


def test_upholding_the_dispute_posts_a_credit_of_exactly_that_amount_and_the_analysis_shows_it(
    tina_lease, fee_policy, tmp_path: Path
):
    # given: the disputed 50.00 late fee
    account = tina_lease()
    cycle_run(on=MARCH_7)
    fee = late_fee()
    dispute = dispute_open(
        account_id=account,
        charges=[fee.txn_id],
        reason="the rent was paid on time",
        on=MARCH_7,
        actor="alice",
    )
    before = Transaction.objects.count()

    # when: Alice upholds it
    dispute_resolve(
        dispute_id=dispute.pk,
        outcome="upheld",
        on=MARCH_8,
        actor="alice",
        note="bank confirms the transfer of March 1",
    )

    # then: one new credit of exactly 50.00 against the fee; the fee is no longer open
    credit = Transaction.objects.get(type="credit")
    assert Transaction.objects.count() == before + 1
    assert (credit.amount, credit.applies_to_id, credit.posted_on) == (
        Decimal("50.00"),
        fee.pk,
        MARCH_8,
    )
    assert not OpenItem.objects.filter(item=fee).exists()
    dispute.refresh_from_db()
    assert (dispute.status, dispute.outcome, dispute.credited) == (
        "resolved",
        "upheld",
        Decimal("50.00"),
    )
    assert dispute.letter == "dispute-upheld"
    assert kinds(account)[-1] == "dispute.resolved"

    # and the analysis shows the credit paying the fee, and the dispute upheld
    analysis = account_analysis(
        account_id=account, end=MARCH_8, rules=analysis_rules(account_id=account, on=MARCH_8)
    )
    doc = analysis.as_json()
    line = next(e for e in doc["entries"] if e["type"] == "credit")
    assert (line["amount"], line["applies_to"]) == ("50.00", fee.txn_id)
    assert line["paid"] == [{"txn_id": fee.txn_id, "amount": "50.00", "on": "2026-03-08"}]
    assert doc["closing_balance"] == "1200.00"
    assert doc["disputes"][0]["outcome"] == "upheld"
    assert doc["disputes"][0]["credited"] == "50.00"
    assert doc["check"]["ok"] is True
    text = pdf_text(analysis_pdf(analysis))
    assert "Account analysis: A-TINA" in text
    assert f"DSP-{dispute.pk}-" in text
    assert "upheld" in text
    path = tmp_path / "analysis.xlsx"
    analysis_xlsx(analysis, path)
    entries = load_workbook(path)["Entries"]
    credits = [row for row in entries.iter_rows(values_only=True) if row[2] == "credit"]
    assert credits[0][6] == Decimal("50.00") or credits[0][6] == 50


def test_a_partly_upheld_dispute_credits_the_amount_given_and_a_rejected_one_credits_nothing(
    tina_lease,
):
    account = tina_lease()
    rent = Transaction.objects.get(txn_id="T-RENT-03")
    partly = dispute_open(
        account_id=account,
        charges=[rent.txn_id],
        reason="the heat was off",
        on=MARCH_6,
        actor="alice",
    )
    with pytest.raises(ValidationError, match=r"below the disputed 1200\.00"):
        dispute_resolve(
            dispute_id=partly.pk,
            outcome="partial",
            amount=Decimal("1200.00"),
            on=MARCH_7,
            actor="alice",
        )
    dispute_resolve(
        dispute_id=partly.pk,
        outcome="partial",
        amount=Decimal("120.00"),
        on=MARCH_7,
        actor="alice",
        note="a tenth for 3 days without heat",
    )
    assert Transaction.objects.get(type="credit").amount == Decimal("120.00")
    whole = dispute_open(account_id=account, reason="I owe nothing", on=MARCH_7, actor="alice")
    assert (whole.whole_balance, whole.amount) == (True, Decimal("1080.00"))
    dispute_resolve(dispute_id=whole.pk, outcome="rejected", on=MARCH_7, actor="alice")
    assert Transaction.objects.filter(type="credit").count() == 1
    whole.refresh_from_db()
    assert (whole.credited, whole.letter) == (Decimal("0.00"), "dispute-rejected")
    with pytest.raises(ValidationError, match="already resolved"):
        dispute_resolve(dispute_id=whole.pk, outcome="upheld", on=MARCH_7, actor="alice")


def test_a_dispute_on_the_whole_balance_holds_every_step_and_goes_on_the_worklist_after_30_days(
    tina_lease,
):
    account = tina_lease()
    dispute_open(account_id=account, reason="not my lease", on=date(2026, 3, 2), actor="alice")
    result = cycle_run(on=MARCH_6)
    assert result.actions == []
    assert {b["rule"] for b in result.blocked} == {"dispute"}
    assert not [w for w in worklist(on=date(2026, 4, 1)) if w.kind == "dispute_overdue"]
    late = [w for w in worklist(on=date(2026, 4, 2)) if w.kind == "dispute_overdue"]
    assert [w.account_id for w in late] == [account]


def test_the_analysis_flags_a_late_fee_of_75_on_a_1200_rent_in_new_york_as_above_the_cap(
    tina_lease,
):
    # given: a late fee of 75.00 imported on March's rent of 1,200.00 (NY: at most 50.00)
    account = tina_lease(
        transactions=[
            {
                "txn_id": "T-LATE-03",
                "account_id": "A-TINA",
                "posted": "2026-03-06",
                "type": "charge",
                "code": "LATE",
                "amount": "75.00",
                "due": "2026-03-06",
            },
            {
                "txn_id": "T-LATE-03B",
                "account_id": "A-TINA",
                "posted": "2026-03-03",
                "type": "charge",
                "code": "LATE",
                "amount": "20.00",
                "due": "2026-03-03",
            },
        ]
    )

    # when: the analysis is made against the policy in force
    rules = analysis_rules(account_id=account, on=MARCH_7)
    doc = account_analysis(account_id=account, end=MARCH_7, rules=rules).as_json()

    # then: the fee is above the cap of 50.00 (NY RPL §238-a(2)); both came too early: the
    # five days from Sunday, March 1 end on Friday the 6th (GCL §20), Tina's last day to pay
    cap = [f for f in doc["check"]["findings"] if f["check"] == "late_fee_cap"]
    assert [(f["txn_id"], f["expected"], f["actual"]) for f in cap] == [
        ("T-LATE-03", "50.00", "75.00")
    ]
    assert "RPL §238-a(2)" in cap[0]["message"]
    early = {
        f["txn_id"]: f["message"]
        for f in doc["check"]["findings"]
        if f["check"] == "late_fee_early"
    }
    assert sorted(early) == ["T-LATE-03", "T-LATE-03B"]
    assert early["T-LATE-03"].startswith("late fee posted 2026-03-06, before 2026-03-07")
    assert doc["check"]["rules"]["late_fees"][0]["cap"] == "50.00"
    assert doc["check"]["recomputed"]["balance"] == doc["check"]["book_balance"] == "1295.00"


def test_the_analysis_of_a_guarantors_share_is_the_balance_up_to_the_guarantee(tina_lease):
    account = tina_lease()
    rules = analysis_rules(account_id=account, on=MARCH_7)
    doc = account_analysis(
        account_id=account, end=MARCH_7, rules=rules, guarantor="P-GREG"
    ).as_json()
    assert doc["guarantor"] == {
        "party_id": "P-GREG",
        "name": "Greg Ortiz",
        "limit": None,
        "share": "1200.00",
    }
    with pytest.raises(ValidationError, match="'P-TINA' does not guarantee account A-TINA"):
        account_analysis(account_id=account, end=MARCH_7, rules=rules, guarantor="P-TINA")
