"""Reports by email on a schedule (issue 18, scheduled delivery): a subscription sends each
recipient the report as they would read it, once per period, through a real SMTP server
(aiosmtpd on loopback). On the workspace's cast (`people`): A-TINA (Elm Court, which bob
manages) owes 1,200.00 due 2026-03-01; A-OSCAR (Oak Terrace) 950.00 due 2026-02-01.

As of 2026-05-31 both are more than 60 days past due: the over-60 bucket holds the charges due
on or before 2026-05-31 − 61 days = 2026-03-31 (31 days back to 04-30, 30 more to 03-31), so
the whole book's over-60 is 1,200.00 + 950.00 = 2,150.00 and bob's (ELM only) 1,200.00.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from email.message import Message
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from arrears.access import permissions
from arrears.access.acting import By
from arrears.access.acts_subscriptions import (
    subscription_add,
    subscription_remove,
    subscriptions_send,
)
from arrears.access.errors import ForbiddenError
from arrears.access.models import AuditEntry
from arrears.access.services import user_active_set
from arrears.access.tests.people import OPERATOR, cli, signed_in
from arrears.core.errors import NotFoundError, ValidationError
from arrears.reports.models import Subscription, SubscriptionSend

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)  # a Monday
MAY_28 = date(2026, 5, 28)


@pytest.fixture
def smtp(settings: Any) -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a loopback port, set as EMAIL_URL."""
    from arrears.correspondence.tests import smtp_server

    handler = smtp_server.Recorder()
    controller = smtp_server.start(handler)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


@pytest.fixture
def cast(people: dict[str, Any]) -> dict[str, Any]:
    """The cast with email addresses, but erin (the admin), who has none."""
    for name in ("alice", "bob", "carol", "dave", "mallory"):
        get_user_model().objects.filter(username=name).update(email=f"{name}@a.example")
    return people


def _by(people: dict[str, Any], name: str) -> By:
    return By(people[name], "cli")


def _to(smtp: Any) -> dict[str, Message]:
    """The messages the server took, by their one recipient."""
    out = {}
    for received in smtp.received:
        (to,) = received.rcpt_tos
        out[to] = received.message
    return out


def _attachment(message: Message) -> tuple[str, Any]:
    (part,) = list(message.iter_attachments())  # type: ignore[attr-defined]
    return part.get_filename(), part.get_content()


def _csv_rows(message: Message) -> list[dict[str, str]]:
    _name, text = _attachment(message)
    return list(csv.DictReader(io.StringIO(text)))


def test_each_recipient_gets_the_report_of_their_own_scope_once_per_month(
    cast: Any, smtp: Any, capsys: Any, book_clock: Any
) -> None:
    # given Dave (the controller) subscribes Alice (a coordinator) and Bob (ELM's manager) to
    # the balances over 60 days, monthly on the 1st, as CSV
    book_clock(MAY_28)
    code, out, err = cli(
        capsys,
        *("--as", "dave", "subscription", "add", "over-60", "--to", "alice,bob"),
        *("--every", "monthly:1", "--format", "csv"),
    )
    assert code == 0, err
    (made,) = Subscription.objects.all()
    assert out == f"Subscription {made.pk}: over-60 monthly:1 as csv to alice, bob.\n"
    # when the scheduled job runs on June 1st (the operator's cron)
    book_clock(JUNE)
    code, out, err = cli(capsys, "subscription", "send", "--format", "json")
    # then each got one email: the report as of May 31st, as they read it
    assert code == 0, err
    report = json.loads(out)
    assert [(x["user"], x["period"]) for x in report["sent"]] == [
        ("alice", "2026-06"),
        ("bob", "2026-06"),
    ]
    mails = _to(smtp)
    assert set(mails) == {"alice@a.example", "bob@a.example"}
    alice, bob = mails["alice@a.example"], mails["bob@a.example"]
    assert bob["Subject"] == "Balances over 60 days, as of 2026-05-31"
    assert _attachment(bob)[0] == "over-60-2026-05-31.csv"
    # Bob's holds his building's account only; Alice's the whole book (module docstring)
    assert [(r["account"], r["over 60"]) for r in _csv_rows(bob)] == [
        ("A-TINA", "1200.00"),
        ("Total", "1200.00"),
    ]
    assert sorted((r["account"], r["over 60"]) for r in _csv_rows(alice)) == [
        ("A-OSCAR", "950.00"),
        ("A-TINA", "1200.00"),
        ("Total", "2150.00"),
    ]
    body = bob.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    assert "Read it in Arrears: /reports/over-60/?as_of=2026-05-31" in body
    assert f"arrears subscription pause {made.pk}" in body
    rows = {r.username: r for r in SubscriptionSend.objects.all()}
    assert rows["bob"].message_id == bob["Message-ID"]
    assert all(r.sent_at is not None and r.period == "2026-06" for r in rows.values())
    # when the job runs again on June 1st, and on the 2nd
    code, out, err = cli(capsys, "subscription", "send", "--format", "json")
    assert (code, [x["user"] for x in json.loads(out)["already"]]) == (0, ["alice", "bob"])
    book_clock(date(2026, 6, 2))
    code, out, err = cli(capsys, "subscription", "send")
    # then nothing is sent twice
    assert code == 0, err
    assert out.startswith("subscriptions on 2026-06-02: 0 sent, 2 sent before,")
    assert len(smtp.received) == 2
    assert SubscriptionSend.objects.count() == 2
    assert AuditEntry.objects.filter(verb="subscription.add", username="dave").count() == 1
    assert AuditEntry.objects.filter(verb="subscription.send").count() == 3


def test_an_email_the_server_did_not_take_is_sent_by_the_next_run_with_the_same_message_id(
    cast: Any, smtp: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    subscription_add(
        by=_by(cast, "alice"), report="over-60", recipients=["alice"], every="daily", format="json"
    )
    # given the server refuses service on June 1st
    book_clock(JUNE)
    smtp.down = True
    code, out, err = cli(capsys, "subscription", "send", "--format", "json")
    # then the send failed, reported, and its row stays reserved and unsent
    assert code == 1
    (failed,) = json.loads(out)["failed"]
    assert failed["user"] == "alice"
    assert "421" in failed["error"]
    row = SubscriptionSend.objects.get()
    assert row.sent_at is None
    assert "421" in row.error
    assert smtp.received == []
    # when the server is back and the job runs again that day
    smtp.down = False
    code, out, err = cli(capsys, "subscription", "send", "--format", "json")
    # then the same email goes, once: the Message-ID reserved, the report of May 31st
    assert code == 0, err
    assert [x["user"] for x in json.loads(out)["sent"]] == ["alice"]
    (received,) = smtp.received
    assert received.message["Message-ID"] == row.message_id
    name, data = _attachment(received.message)
    assert name == "over-60-2026-05-31.json"
    assert json.loads(data)["total_over_60"] == "2150.00"
    row.refresh_from_db()
    assert (row.sent_at is not None, row.error) == (True, "")


def test_one_who_may_not_receive_a_report_is_refused_at_the_subscription(
    cast: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    # Bob (a manager) may subscribe himself, not Alice
    code, _out, err = cli(
        capsys, "--as", "bob", "subscription", "add", "over-60", "--to", "alice", "--every", "daily"
    )
    assert code == 2
    assert "may subscribe only themselves" in err
    with pytest.raises(ForbiddenError):
        subscription_add(
            by=_by(cast, "bob"),
            report="over-60",
            recipients=["bob", "alice"],
            every="daily",
            format="csv",
        )
    subscription_add(
        by=_by(cast, "bob"), report="over-60", recipients=["bob"], every="daily", format="csv"
    )
    # no one by that name, and a deactivated user, may not receive one, even from an admin
    user_active_set(username="mallory", active=False, actor=OPERATOR, via="system")
    for name in ("ghost", "mallory"):
        with pytest.raises(ValidationError) as refused:
            subscription_add(
                by=_by(cast, "erin"),
                report="over-60",
                recipients=["alice", name],
                every="daily",
                format="csv",
            )
        assert (refused.value.code, refused.value.extra["user"]) == ("subscription_recipient", name)
    # nor is a report that does not exist, a grouping it has not, a schedule that is none
    for report, every, by, code_ in (
        ("over-90", "daily", None, "unknown_report"),
        ("over-60", "daily", "property", "report_by"),
        ("over-60", "monthly:31", None, "subscription_every"),
    ):
        with pytest.raises(ValidationError) as refused:
            subscription_add(
                by=_by(cast, "erin"),
                report=report,
                recipients=["alice"],
                every=every,
                format="csv",
                report_by=by,
            )
        assert refused.value.code == code_
    assert list(Subscription.objects.values_list("recipients", flat=True)) == [["bob"]]
    assert AuditEntry.objects.filter(verb="subscription.add").count() == 1


def test_a_recipient_who_lost_the_right_is_skipped_and_one_without_an_address_reported(
    cast: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch, book_clock: Any
) -> None:
    book_clock(MAY_28)
    subscription_add(
        by=_by(cast, "dave"),
        report="over-60",
        recipients=["alice", "bob", "carol", "erin"],
        every="monthly:1",
        format="csv",
    )
    # given Bob deactivated, and attorneys no longer let read reports (a role that may not)
    user_active_set(username="bob", active=False, actor=OPERATOR, via="system")
    others = permissions.verbs()["report.view"] - {permissions.ATTORNEY}
    monkeypatch.setitem(permissions._VERBS, "report.view", others)
    # when June 1st's send runs
    book_clock(JUNE)
    report = subscriptions_send(by=By(OPERATOR, "system"))
    # then Alice alone got hers; Bob and Carol were skipped, Erin (no address) reported
    assert [x["user"] for x in report.sent] == ["alice"]
    assert [(x["user"], x["reason"]) for x in report.skipped] == [
        ("bob", "inactive"),
        ("carol", "role"),
    ]
    assert [x["user"] for x in report.no_email] == ["erin"]
    assert list(_to(smtp)) == ["alice@a.example"]
    assert list(SubscriptionSend.objects.values_list("username", flat=True)) == ["alice"]


def test_a_weekly_period_report_covers_the_iso_week_just_ended_across_the_new_year(
    cast: Any, smtp: Any, book_clock: Any
) -> None:
    # given Alice's metrics by property, weekly on Mondays, as JSON
    book_clock(date(2026, 12, 30))
    subscription_add(
        by=_by(cast, "alice"),
        report="metrics",
        recipients=["alice"],
        every="weekly:mon",
        format="json",
        report_by="property",
    )
    # when the job runs on Wednesday Dec 30th (2026-W53's Monday, the 28th, came before the
    # subscription) and on Monday 2027-01-04
    assert subscriptions_send(by=By(OPERATOR, "system")).due == []
    assert smtp.received == []
    book_clock(date(2027, 1, 4))
    report = subscriptions_send(by=By(OPERATOR, "system"))
    # then one email, of 2026-W53 (Monday Dec 28th to Sunday Jan 3rd), keyed 2027-W01
    assert [(x["user"], x["period"]) for x in report.sent] == [("alice", "2027-W01")]
    (received,) = smtp.received
    name, data = _attachment(received.message)
    doc = json.loads(data)
    doc = doc[0] if isinstance(doc, list) else doc
    assert (name, doc["from"], doc["to"]) == ("metrics-2027-01-03.json", "2026-12-28", "2027-01-03")
    assert {"ELM", "OAK"} <= {g["key"] for g in doc["groups"]}  # by property, the whole book
    body = received.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    assert "/reports/metrics/?from=2026-12-28&to=2027-01-03&by=property" in body
    # and Tuesday's run of the same week sends nothing more
    book_clock(date(2027, 1, 5))
    assert [x["user"] for x in subscriptions_send(by=By(OPERATOR, "system")).already] == ["alice"]
    assert len(smtp.received) == 1


def test_a_dry_run_says_what_would_go_and_sends_and_records_nothing(
    cast: Any, capsys: Any, settings: Any, book_clock: Any
) -> None:
    settings.EMAIL_URL = ""  # a dry run needs no server
    book_clock(MAY_28)
    subscription_add(
        by=_by(cast, "dave"),
        report="over-60",
        recipients=["alice", "erin"],
        every="monthly:1",
        format="csv",
    )
    book_clock(JUNE)
    code, out, err = cli(capsys, "subscription", "send", "--dry-run", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert ([x["user"] for x in report["due"]], report["sent"]) == (["alice"], [])
    assert [x["user"] for x in report["no_email"]] == ["erin"]
    assert not SubscriptionSend.objects.exists()
    # a real send without a server is refused before anything is done
    code, _out, err = cli(capsys, "subscription", "send")
    assert code == 2
    assert "EMAIL_URL is not set" in err


def test_the_daily_run_sends_the_subscriptions_when_asked(
    cast: Any, smtp: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    subscription_add(
        by=_by(cast, "bob"), report="over-60", recipients=["bob"], every="daily", format="csv"
    )
    book_clock(JUNE)
    # without --subscriptions the run sends none
    code, _out, err = cli(capsys, "--as", "alice", "run", "--date", "2026-06-01", "--dry-run")
    assert code == 0, err
    code, out, err = cli(
        capsys,
        "--as",
        "alice",
        "run",
        "--date",
        "2026-06-01",
        "--subscriptions",
        "--format",
        "json",
    )
    assert code == 0, err
    assert [x["user"] for x in json.loads(out)["subscriptions"]["sent"]] == ["bob"]
    assert "bob@a.example" in _to(smtp)
    code, out, err = cli(capsys, "--as", "alice", "run", "--date", "2026-06-01", "--subscriptions")
    assert code == 0, err
    assert "Subscriptions on 2026-06-01: 0 sent, 1 sent before," in out
    assert [m for m in smtp.received if m.rcpt_tos == ["bob@a.example"]] == smtp.received[:1]


def test_the_command_the_page_and_the_api_list_and_change_the_same_subscriptions(
    cast: Any, tokens: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['dave']}")
    # given Dave subscribes Bob through the API, and Alice and Bob on the page
    made = api.post(
        "/api/subscriptions",
        {"report": "over-60", "to": ["bob"], "every": "weekly:mon", "format": "csv"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    first = made.json()
    assert (first["to"], first["every"], first["next_send"]) == (
        ["bob"],
        "weekly:mon",
        "2026-06-01",
    )
    dave = signed_in(cast["dave"])
    posted = dave.post(
        "/reports/subscriptions/",
        {"report": "over-60", "to": "alice, bob", "every": "monthly:last", "format": "csv"},
    )
    assert posted.status_code == 302
    second = Subscription.objects.get(every="monthly:last")
    # (one who may not receive reports is refused beside the field, nothing written)
    wrong = dave.post(
        "/reports/subscriptions/",
        {"report": "over-60", "to": "ghost", "every": "daily", "format": "csv"},
    )
    assert wrong.status_code == 422
    assert "ghost may not receive reports" in wrong.content.decode()
    assert Subscription.objects.count() == 2
    # when Bob pauses his own on the page, and resumes it from the command line
    bob = signed_in(cast["bob"])
    assert bob.post(f"/reports/subscriptions/{first['id']}/pause/").status_code == 302
    assert not Subscription.objects.get(pk=first["id"]).active
    code, _out, err = cli(capsys, "--as", "bob", "subscription", "resume", str(first["id"]))
    assert code == 0, err
    # then Bob may not pause the one that also goes to Alice, nor see one that is not his
    refused = bob.post(f"/reports/subscriptions/{second.pk}/pause/")
    assert refused.status_code == 403
    assert Subscription.objects.get(pk=second.pk).active
    alices = subscription_add(
        by=_by(cast, "alice"), report="over-60", recipients=["alice"], every="daily", format="csv"
    )
    bobs_api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}")
    assert bobs_api.post(f"/api/subscriptions/{alices.pk}/pause").status_code == 404
    with pytest.raises(NotFoundError):
        subscription_remove(by=_by(cast, "bob"), subscription_id=alices.pk)
    # and Dave removes the second through the API: it is listed no more, but with --all
    removed = api.post(f"/api/subscriptions/{second.pk}/remove")
    assert removed.status_code == 200
    assert (removed.json()["active"], removed.json()["removed"]) == (False, True)
    # the command, the API and the page list the same
    code, out, err = cli(capsys, "--as", "dave", "subscription", "list", "--format", "json")
    assert code == 0, err
    listed = json.loads(out)
    assert api.get("/api/subscriptions").json() == listed
    assert [x["id"] for x in listed] == [alices.pk, first["id"]]
    code, out, err = cli(
        capsys, "--as", "dave", "subscription", "list", "--all", "--format", "json"
    )
    assert [x["id"] for x in json.loads(out)] == [alices.pk, second.pk, first["id"]]
    page = dave.get("/reports/subscriptions/").content.decode()
    assert f'id="subscription-{first["id"]}"' in page
    assert f'id="subscription-{alices.pk}"' in page
    assert f'id="subscription-{second.pk}"' not in page
    # Bob's list holds his own only
    code, out, err = cli(capsys, "--as", "bob", "subscription", "list", "--format", "json")
    assert [x["id"] for x in json.loads(out)] == [first["id"]]
    bobs_page = bob.get("/reports/subscriptions/").content.decode()
    assert f'id="subscription-{alices.pk}"' not in bobs_page
    verbs = AuditEntry.objects.filter(verb__startswith="subscription.").values_list("verb", "via")
    assert sorted(verbs) == sorted(
        [
            ("subscription.add", "api"),
            ("subscription.add", "web"),
            ("subscription.add", "cli"),
            ("subscription.change", "web"),
            ("subscription.change", "cli"),
            ("subscription.remove", "api"),
        ]
    )


def test_the_command_the_page_and_the_api_change_who_gets_a_subscription(
    cast: Any, tokens: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    made = subscription_add(
        by=_by(cast, "dave"), report="over-60", recipients=["bob"], every="daily", format="csv"
    )
    # when Dave sends it to Alice too from the command line
    code, out, err = cli(
        capsys, "--as", "dave", "subscription", "recipients", str(made.pk), "--to", "bob,alice"
    )
    assert code == 0, err
    assert f"Subscription {made.pk} (over-60) now goes to" in out
    assert sorted(Subscription.objects.get(pk=made.pk).recipients) == ["alice", "bob"]
    # then to Alice alone on the page, and back to Bob through the API
    dave = signed_in(cast["dave"])
    assert f'action="/reports/subscriptions/{made.pk}/recipients/"' in (
        dave.get("/reports/subscriptions/").content.decode()
    )
    posted = dave.post(f"/reports/subscriptions/{made.pk}/recipients/", {"to": "alice"})
    assert posted.status_code == 302
    assert Subscription.objects.get(pk=made.pk).recipients == ["alice"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['dave']}")
    changed = api.post(
        f"/api/subscriptions/{made.pk}/recipients", {"to": ["bob"]}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["to"] == ["bob"]
    # one who may not receive reports is refused by each, and nothing changes
    code, _out, err = cli(
        capsys, "--as", "dave", "subscription", "recipients", str(made.pk), "--to", "ghost"
    )
    assert code == 2
    assert "ghost may not receive reports" in err
    wrong = dave.post(f"/reports/subscriptions/{made.pk}/recipients/", {"to": "ghost"})
    assert wrong.status_code == 422
    refused = api.post(
        f"/api/subscriptions/{made.pk}/recipients",
        {"to": ["ghost"]},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert Subscription.objects.get(pk=made.pk).recipients == ["bob"]
    # and Bob, a coordinator, may not give his subscription to Alice
    bobs_api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}")
    forbidden = bobs_api.post(
        f"/api/subscriptions/{made.pk}/recipients",
        {"to": ["alice"]},
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    assert Subscription.objects.get(pk=made.pk).recipients == ["bob"]
    changes = AuditEntry.objects.filter(verb="subscription.change")
    assert set(changes.values_list("via", flat=True)) == {"api", "cli", "web"}


def test_a_report_no_longer_registered_is_reported_and_the_others_still_go(
    cast: Any, smtp: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    gone = subscription_add(
        by=_by(cast, "alice"), report="over-60", recipients=["alice"], every="daily", format="csv"
    )
    subscription_add(
        by=_by(cast, "bob"), report="over-60", recipients=["bob"], every="daily", format="csv"
    )
    # given the first one's report was renamed since (its module gone from the registry)
    Subscription.objects.filter(pk=gone.pk).update(report="over-sixty")
    book_clock(JUNE)
    report = subscriptions_send(by=By(OPERATOR, "system"))
    assert [(x["user"], x["reason"]) for x in report.skipped] == [("alice", "unknown_report")]
    assert [x["user"] for x in report.sent] == ["bob"]
    assert list(_to(smtp)) == ["bob@a.example"]


def test_the_controllers_pdf_and_a_managers_xlsx_hold_their_own_accounts(
    cast: Any, smtp: Any, book_clock: Any
) -> None:
    import openpyxl
    import pypdf

    book_clock(MAY_28)
    subscription_add(
        by=_by(cast, "dave"), report="over-60", recipients=["dave"], every="monthly:1", format="pdf"
    )
    subscription_add(
        by=_by(cast, "bob"), report="over-60", recipients=["bob"], every="monthly:1", format="xlsx"
    )
    book_clock(JUNE)
    report = subscriptions_send(by=By(OPERATOR, "system"))
    assert sorted(x["user"] for x in report.sent) == ["bob", "dave"]
    mails = _to(smtp)
    # Dave's PDF: the whole book, 2,150.00 over 60 days (module docstring)
    (part,) = list(mails["dave@a.example"].iter_attachments())  # type: ignore[attr-defined]
    assert (part.get_content_type(), part.get_filename()) == (
        "application/pdf",
        "over-60-2026-05-31.pdf",
    )
    pdf = pypdf.PdfReader(io.BytesIO(part.get_content()))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "A-TINA" in text
    assert "A-OSCAR" in text
    # Bob's workbook: his building's account only
    (part,) = list(mails["bob@a.example"].iter_attachments())  # type: ignore[attr-defined]
    assert part.get_filename() == "over-60-2026-05-31.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(part.get_content()))
    cells = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
    assert "A-TINA" in cells
    assert "A-OSCAR" not in cells


def test_a_managers_weekly_digest_holds_his_buildings_only(
    cast: Any, smtp: Any, book_clock: Any
) -> None:
    book_clock(MAY_28)
    subscription_add(
        by=_by(cast, "bob"),
        report="manager-digest",
        recipients=["bob"],
        every="weekly:mon",
        format="json",
    )
    # on Monday June 1st: the week that ended Sunday May 31st, as Bob reads it
    book_clock(JUNE)
    report = subscriptions_send(by=By(OPERATOR, "system"))
    assert [(x["user"], x["period"]) for x in report.sent] == [("bob", "2026-W23")]
    name, data = _attachment(_to(smtp)["bob@a.example"])
    assert name == "manager-digest-2026-05-31.json"
    text = data.decode() if isinstance(data, bytes) else data
    assert "ELM" in text
    assert "A-OSCAR" not in text
    assert "OAK" not in text
