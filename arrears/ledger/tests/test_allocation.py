"""Cash application, database-free: the spec's worked example, the order rules, and properties."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given

from arrears.ledger.aging import AgedLine, Buckets, CentsLine, age_open_items, sum_lines
from arrears.ledger.allocation import SIGN, Entry, RefundAboveCreditError, apply_cash
from arrears.ledger.tests.strategies import D0, histories


def charge(id, posted, amount, due=None, code="RENT"):
    return Entry(id, "charge", posted, Decimal(amount), due or posted, code)


def payment(id, posted, amount, applies_to=None):
    return Entry(id, "payment", posted, Decimal(amount), applies_to=applies_to)


def reversal(id, posted, amount, reverses):
    return Entry(id, "reversal", posted, Decimal(amount), reverses=reverses)


def open_as_of(replay, as_of):
    """Open amount per item as of a date, from the deltas."""
    amounts = defaultdict(Decimal)
    for d in replay.deltas:
        if d.on_date <= as_of:
            amounts[(d.item, d.is_credit, d.due_on)] += d.delta
    return {k: v for k, v in amounts.items() if v}


def spec_example():
    return [
        charge(1, date(2026, 1, 1), "2000.00"),
        payment(2, date(2026, 1, 10), "1500.00"),
        charge(3, date(2026, 2, 1), "2000.00"),
        charge(4, date(2026, 2, 6), "50.00", code="LATE"),
        payment(5, date(2026, 2, 15), "2600.00"),
        reversal(6, date(2026, 2, 20), "2600.00", reverses=5),
        charge(7, date(2026, 3, 1), "2000.00"),
    ]


def test_the_spec_worked_example_ages_to_4550_on_march_10():
    replay = apply_cash(spec_example())
    items = [
        (c, due, amount) for (_, c, due), amount in open_as_of(replay, date(2026, 3, 10)).items()
    ]
    line = age_open_items(items, date(2026, 3, 10), Buckets())
    assert line.buckets == (
        Decimal("0"),
        Decimal("2000.00"),
        Decimal("2050.00"),
        Decimal("500.00"),
        Decimal("0"),
    )
    assert line.credit == 0
    assert line.balance == Decimal("4550.00")


def test_the_returned_payment_had_paid_t1_t3_t4_and_left_50_unapplied():
    replay = apply_cash(spec_example())
    by_source = [
        (a.charge, a.amount, a.made_on, a.undone_on) for a in replay.allocations if a.source == 5
    ]
    assert by_source == [
        (1, Decimal("500.00"), date(2026, 2, 15), date(2026, 2, 20)),
        (3, Decimal("2000.00"), date(2026, 2, 15), date(2026, 2, 20)),
        (4, Decimal("50.00"), date(2026, 2, 15), date(2026, 2, 20)),
    ]
    assert open_as_of(replay, date(2026, 2, 16))[(5, True, None)] == Decimal("50.00")
    assert (5, True, None) not in open_as_of(replay, date(2026, 2, 20))


def test_applies_to_is_paid_first_then_the_oldest_due():
    replay = apply_cash(
        [
            charge(1, D0, "100.00"),
            charge(2, D0 + timedelta(days=1), "40.00", code="UTIL"),
            payment(3, D0 + timedelta(days=2), "60.00", applies_to=2),
        ]
    )
    assert [(a.charge, a.amount) for a in replay.allocations] == [
        (2, Decimal("40.00")),
        (1, Decimal("20.00")),
    ]


def test_ties_of_due_and_posted_follow_code_priority_then_file_order():
    entries = [
        charge(1, D0, "10.00", code="LATE"),
        charge(2, D0, "10.00", code="RENT"),
        payment(3, D0, "10.00"),
    ]
    assert apply_cash(entries).allocations[0].charge == 1
    assert apply_cash(entries, code_priority={"RENT": 0}).allocations[0].charge == 2


def test_a_charge_posted_while_credit_exists_is_paid_by_the_oldest_credit_at_once():
    replay = apply_cash(
        [
            payment(1, D0, "30.00"),
            Entry(2, "credit", D0 + timedelta(days=1), Decimal("50.00"), code="CONC"),
            charge(3, D0 + timedelta(days=5), "60.00"),
        ]
    )
    assert [(a.source, a.amount, a.made_on) for a in replay.allocations] == [
        (1, Decimal("30.00"), D0 + timedelta(days=5)),
        (2, Decimal("30.00"), D0 + timedelta(days=5)),
    ]
    assert [(o.item, o.amount) for o in replay.open_items] == [(2, Decimal("20.00"))]


def test_charges_reopened_by_a_reversal_are_paid_by_other_credit():
    replay = apply_cash(
        [
            charge(1, D0, "100.00"),
            payment(2, D0 + timedelta(days=1), "100.00"),
            payment(3, D0 + timedelta(days=2), "70.00"),  # all unapplied
            reversal(4, D0 + timedelta(days=3), "100.00", reverses=2),
        ]
    )
    live = [(a.charge, a.source, a.amount) for a in replay.allocations if a.undone_on is None]
    assert live == [(1, 3, Decimal("70.00"))]
    assert [(o.item, o.amount) for o in replay.open_items] == [(1, Decimal("30.00"))]


def refund(id, posted, amount):
    return Entry(id, "refund", posted, Decimal(amount))


def test_a_refund_pays_out_the_oldest_credit_and_no_charge():
    # given two overpayments, then a refund of 120.00, then a charge
    replay = apply_cash(
        [
            charge(1, D0, "100.00"),
            payment(2, D0 + timedelta(days=1), "150.00"),
            payment(3, D0 + timedelta(days=2), "100.00"),
            refund(4, D0 + timedelta(days=3), "120.00"),
            charge(5, D0 + timedelta(days=4), "20.00"),
        ]
    )
    # then the refund takes the first payment's 50.00 of credit, then 70.00 of the second's,
    # and the charge is paid by the 30.00 left
    live = [(a.charge, a.source, a.amount) for a in replay.allocations]
    assert live == [
        (1, 2, Decimal("100.00")),
        (4, 2, Decimal("50.00")),
        (4, 3, Decimal("70.00")),
        (5, 3, Decimal("20.00")),
    ]
    assert [(o.item, o.is_credit, o.amount) for o in replay.open_items] == [
        (3, True, Decimal("10.00"))
    ]


def test_a_refund_larger_than_the_credit_of_its_day_is_refused():
    entries = [
        payment(1, D0, "100.00"),
        charge(2, D0 + timedelta(days=1), "30.00"),
        refund(3, D0 + timedelta(days=2), "70.01"),
    ]
    with pytest.raises(RefundAboveCreditError) as refused:
        apply_cash(entries)
    assert (refused.value.entry, refused.value.amount, refused.value.credit) == (
        3,
        Decimal("70.01"),
        Decimal("70.00"),
    )


def test_a_reversal_of_the_credit_a_refund_paid_out_makes_the_refund_owed_again():
    day = D0 + timedelta(days=5)
    replay = apply_cash(
        [
            payment(1, D0, "100.00"),
            refund(2, D0 + timedelta(days=1), "100.00"),
            reversal(3, day, "100.00", reverses=1),
        ]
    )
    assert [(o.item, o.is_credit, o.due_on, o.amount) for o in replay.open_items] == [
        (2, False, D0 + timedelta(days=1), Decimal("100.00"))
    ]


def book_balance(entries, as_of):
    return sum((SIGN[e.type] * e.amount for e in entries if e.posted_on <= as_of), Decimal(0))


def dates_of(entries):
    first, last = entries[0].posted_on, entries[-1].posted_on
    return [first - timedelta(days=1), *(e.posted_on for e in entries), last + timedelta(days=40)]


@given(histories())
def test_for_every_date_the_buckets_less_credit_equal_the_balance(entries):
    replay = apply_cash(entries)
    for as_of in dates_of(entries):
        items = [(c, due, a) for (_, c, due), a in open_as_of(replay, as_of).items()]
        line = age_open_items(items, as_of, Buckets())
        assert line.balance == book_balance(entries, as_of)
        assert all(a >= 0 for a in line.buckets)
        assert line.credit >= 0


@given(histories())
def test_entries_posted_after_a_date_never_change_what_was_open_on_it(entries):
    full = apply_cash(entries)
    for as_of in dates_of(entries):
        prefix = apply_cash([e for e in entries if e.posted_on <= as_of])
        assert open_as_of(full, as_of) == open_as_of(prefix, as_of)
        assert open_as_of(prefix, as_of) == {
            (o.item, o.is_credit, o.due_on): o.amount for o in prefix.open_items
        }


@given(histories())
def test_no_charge_is_paid_beyond_its_amount_and_no_payment_pays_beyond_its_own(entries):
    replay = apply_cash(entries)
    amount = {e.id: e.amount for e in entries}
    for as_of in dates_of(entries):
        paid_on_charge, paid_by_source = defaultdict(Decimal), defaultdict(Decimal)
        for a in replay.allocations:
            assert a.amount > 0
            if a.made_on <= as_of and (a.undone_on is None or a.undone_on > as_of):
                paid_on_charge[a.charge] += a.amount
                paid_by_source[a.source] += a.amount
        assert all(paid <= amount[c] for c, paid in paid_on_charge.items())
        assert all(paid <= amount[s] for s, paid in paid_by_source.items())


@given(histories())
def test_credit_is_never_left_unapplied_while_a_charge_is_open(entries):
    replay = apply_cash(entries)
    kinds = {o.is_credit for o in replay.open_items}
    assert kinds != {True, False}


def test_a_line_in_cents_reads_as_the_line_in_decimals_and_adds_up_in_cents():
    # given: two lines as the aging's aggregate gives them, in whole cents
    lines = [CentsLine((1050, 0, 7, 0, 200_000), 25), CentsLine((1, 99, 0, 0, 0), 0)]
    # when
    total = sum_lines(lines, 5)
    # then: the same amounts as Decimals, the total in cents, equal to the Decimal lines' sum
    assert lines[0].buckets[:3] == (Decimal("10.50"), Decimal("0.00"), Decimal("0.07"))
    assert lines[0].credit == Decimal("0.25")
    assert lines[0].balance == Decimal("2010.32")
    assert total == CentsLine((1051, 99, 7, 0, 200_000), 25)
    decimals = [AgedLine(line.buckets, line.credit) for line in lines]
    assert total == sum_lines(decimals, 5) == AgedLine(total.buckets, total.credit)
    # and a mix of the two adds up in Decimals to the same
    assert sum_lines([lines[0], decimals[1]], 5) == total
