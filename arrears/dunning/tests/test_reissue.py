"""Notices checked again when they go out: dated the day they are printed or emailed, with the
figures and deadline of that day, and cancelled with their reason when no longer due.

Tina Ortiz rents 3B at Elm Court, guaranteed by her brother Greg; September's rent of 1,200.00
is unpaid. The run of September 2 queues her reminder email; the run of September 22 queues her
certified late notice (NY RPL §235-e(d)), Greg's, and her 14-day rent demand (RPAPL §711(2)).
The letters are printed, and the email sent, only on November 20.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from arrears.correspondence.archive import archive_read
from arrears.correspondence.mail_out import Sender, parse_email_url
from arrears.correspondence.models import Outbound
from arrears.dunning.contact import emails_send
from arrears.dunning.models import Action
from arrears.dunning.reissue import letters_print
from arrears.dunning.selectors import worklist
from arrears.dunning.services import cycle_run, hold_place
from arrears.dunning.tests.conftest import ELM_COURT, GREG, TINA
from arrears.ledger.models import TimelineEvent

NY = ZoneInfo("America/New_York")
SEPT_2, SEPT_22, NOV_20 = date(2026, 9, 2), date(2026, 9, 22), date(2026, 11, 20)
DOMAIN = "elmcourt.example"


@pytest.fixture
def queued(load_book) -> None:
    """September's rent unpaid; the runs of September 2 and 22 queued the reminder and letters."""
    load_book(
        properties=[ELM_COURT],
        parties=[TINA, GREG],
        accounts=[
            {
                "account_id": "A-TINA",
                "property_id": "ELM",
                "unit": "3B",
                "kind": "residential_lease",
                "opened": "2025-06-01",
                "rent": "1200.00",
            }
        ],
        account_parties=[
            {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
            {"account_id": "A-TINA", "party_id": "P-GREG", "role": "guarantor"},
        ],
        transactions=[rent("T-RENT-09")],
    )
    cycle_run(on=SEPT_2)
    cycle_run(on=SEPT_22)


def rent(txn_id: str) -> dict[str, str]:
    return {
        "txn_id": txn_id,
        "account_id": "A-TINA",
        "posted": "2026-09-01",
        "type": "charge",
        "code": "RENT",
        "amount": "1200.00",
        "due": "2026-09-01",
    }


def pay(load_book, amount: str, on: str, txn_id: str = "T-PAY") -> None:
    load_book(
        transactions=[
            {
                "txn_id": txn_id,
                "account_id": "A-TINA",
                "posted": on,
                "type": "payment",
                "amount": amount,
            }
        ]
    )


def pdf_text(outbound: Outbound) -> str:
    assert outbound.document is not None
    reader = PdfReader(BytesIO(archive_read(outbound.document)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def send(smtp, at: datetime, on: date):
    return emails_send(
        on=on,
        settings=parse_email_url(smtp.url),
        now=lambda: at,
        sender=Sender(f"rent@{DOMAIN}", "Elm Court", DOMAIN),
    )


def letter(step: str, party: str = "P-TINA") -> Outbound:
    return Outbound.objects.get(step=step, party__party_id=party)


def test_every_balance_paid_before_printing_cancels_every_notice_and_sends_nothing(
    queued, load_book, smtp, tmp_path
):
    # given the letters and the reminder queued, and the whole balance paid on November 15
    queued_letters = Outbound.objects.filter(channel__in=["letter", "certified_letter"])
    assert sorted(queued_letters.values_list("step", flat=True)) == [
        "late-notice",
        "late-notice-guarantor",
        "rent-demand",
    ]
    assert Outbound.objects.filter(channel="email", status="queued").count() == 1
    pay(load_book, "1250.00", "2026-11-15")  # the rent and September's late fee

    # when the letters are printed on November 20, and the emails sent
    result = letters_print(on=NOV_20, output=tmp_path / "print", actor="alice", workers=1)
    sent = send(smtp, datetime(2026, 11, 20, 10, 0, tzinfo=NY), NOV_20)

    # then nothing is printed or delivered: each is cancelled as paid, with its reason
    assert result.letters == []
    assert result.print_file is None
    assert sorted(c["rule"] for c in result.cancelled) == ["paid", "paid", "paid"]
    assert sent.report.sent == []
    assert smtp.received == []
    assert len(sent.cancelled) == 1
    for row in Outbound.objects.all():
        assert row.status == "cancelled"
        assert "paid" in row.error
        action = Action.objects.get(key=row.key)
        assert (action.status, action.rule) == ("closed", "paid")
        assert action.reason.startswith("cancelled: ")
    events = TimelineEvent.objects.filter(kind__in=["letter.cancelled", "email.cancelled"])
    assert events.count() == 4
    assert all("paid" in e.summary for e in events)
    # and the worklist shows none of them
    actions = set(Action.objects.values_list("pk", flat=True))
    assert [w for w in worklist(on=NOV_20) if w.action in actions] == []


def test_a_partial_payment_prints_the_new_figure_dated_and_counted_from_the_print_day(
    queued, load_book, tmp_path
):
    # given the demand queued on September 22 (1,200.00, by October 6) and 700.00 paid since
    demand = letter("rent-demand")
    assert (demand.run_on, demand.amount, demand.deadline) == (
        SEPT_22,
        Decimal("1200.00"),
        date(2026, 10, 6),
    )
    pay(load_book, "700.00", "2026-11-15")

    # when the letters are printed on November 20
    result = letters_print(on=NOV_20, output=tmp_path / "print", actor="alice", workers=1)

    # then each is dated November 20 with what is open that day, the demand's 14 days counted
    # from that day
    assert len(result.letters) == 3
    demand.refresh_from_db()
    assert (demand.dated_on, demand.amount, demand.deadline) == (
        NOV_20,
        Decimal("500.00"),
        date(2026, 12, 4),
    )
    text = pdf_text(demand)
    assert "November 20, 2026" in text
    assert "$500.00" in text
    assert "on or before December 4, 2026" in text
    assert "$1,200.00" not in text
    assert "October 6" not in text
    assert "September 22" not in text
    notice = letter("late-notice")
    assert (notice.dated_on, notice.amount) == (NOV_20, Decimal("500.00"))
    assert "November 20, 2026" in pdf_text(notice)
    # the action and the timeline say what was fixed, and what it was queued with
    action = Action.objects.get(key=demand.key)
    assert (action.amount, action.deadline) == (Decimal("500.00"), date(2026, 12, 4))
    dated = TimelineEvent.objects.get(kind="letter.dated", detail__key=demand.key)
    assert dated.on == NOV_20
    assert dated.detail["queued_as"]["amount"] == "1200.00"
    assert dated.detail["deadline"] == "2026-12-04"
    assert [line["date"] for line in result.letters] == ["2026-11-20"] * 3


def test_a_hold_placed_since_the_run_cancels_the_letters_with_the_guards_rule(queued, tmp_path):
    # given a bankruptcy filed after the run (11 USC §362(a)(6))
    hold_place(account_id="A-TINA", reason="bankruptcy", on=date(2026, 10, 1), actor="alice")

    # when the letters are printed
    result = letters_print(on=NOV_20, output=tmp_path / "print", actor="alice", workers=1)

    # then none is printed; each is cancelled with the hold as its reason
    assert result.letters == []
    assert {c["rule"] for c in result.cancelled} == {"hold:bankruptcy"}
    letters = Action.objects.filter(channel__in=["letter", "certified_letter"])
    assert set(letters.values_list("status", flat=True)) == {"closed"}


def test_an_email_prepared_before_a_payment_is_prepared_again_under_a_new_name(
    queued, load_book, smtp
):
    # given Tina's reminder prepared at 21:30 on September 2 (too late to send: it waits)
    late = send(smtp, datetime(2026, 9, 2, 21, 30, tzinfo=NY), SEPT_2)
    (reminder,) = Outbound.objects.filter(channel="email")
    assert late.report.deferred == [reminder.key]
    reminder.refresh_from_db()
    first = reminder.document
    assert first is not None
    # and 500.00 paid on September 3
    pay(load_book, "500.00", "2026-09-03")

    # when the emails are sent the morning of September 3
    sent = send(smtp, datetime(2026, 9, 3, 10, 0, tzinfo=NY), date(2026, 9, 3))

    # then the reminder went with the new figure, archived under a new name beside the first
    assert sent.report.sent == [reminder.key]
    reminder.refresh_from_db()
    assert reminder.document is not None
    assert reminder.document.name != first.name
    assert archive_read(first)  # the first message stays archived as it was
    assert (reminder.dated_on, reminder.amount) == (date(2026, 9, 3), Decimal("700.00"))
    (got,) = smtp.received
    body = got.message.get_body(("plain",)).get_content()
    assert "700.00" in body
    assert "1,200.00" not in body


def test_a_demand_sent_by_hand_and_then_paid_is_cancelled_as_paid_not_printed(
    queued, load_book, tmp_path
):
    # given: Alice sends the 14-day demand by hand on September 23
    from arrears.dunning.notices import notice_send

    sent = notice_send(
        account_id="A-TINA",
        template="ny-rent-demand",
        channel="letter",
        on=date(2026, 9, 23),
        actor="alice",
        at=datetime(2026, 9, 23, 12, 0, tzinfo=ZoneInfo("America/New_York")),
    ).outbound
    # when: Tina pays everything, and the batch prints on the 24th
    pay(load_book, "1250.00", "2026-09-23")
    result = letters_print(
        on=date(2026, 9, 24), output=tmp_path / "print", actor="alice", workers=1
    )
    # then: the demand is cancelled as paid, like the run's own, not set aside as unprintable
    sent.refresh_from_db()
    assert sent.status == "cancelled"
    assert sent.pk in {c["id"] for c in result.cancelled}
    assert sent.pk not in {f["id"] for f in result.failed}
    assert "paid" in sent.error
