"""Contacts through the guard at the minute they happen: the run's reminder emailed to Tina
(through a real aiosmtpd server), her answers filed and put on the worklist, her STOP honored,
calls logged at 20:59 and 21:00 in her zone, and texts written by the file adapter.

Tina Ortiz rents 3B at Elm Court, Brooklyn (America/New_York); Greg guarantees. Carmen Ruiz rents
at Sunset Gardens, Los Angeles. Alice types the commands; today is March 7, 2026.
"""

from __future__ import annotations

import json
import mailbox
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone as dj_timezone

from arrears.cli import main
from arrears.core.errors import ValidationError
from arrears.core.pdf import pdf_text
from arrears.correspondence.mail_in import inbound_answered, mail_fetch
from arrears.correspondence.mail_models import OutboundSms
from arrears.correspondence.mail_out import (
    Sender,
    message_id_for,
    outbound_email_render,
    parse_email_url,
)
from arrears.correspondence.models import Outbound
from arrears.correspondence.sms import FileSmsProvider
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.dunning.contact import (
    call_log,
    emails_send,
    opt_outs_record,
    texts_send,
)
from arrears.dunning.models import Action, Consent, ContactAttempt
from arrears.dunning.selectors import worklist
from arrears.dunning.services import cycle_run, hold_place
from arrears.ledger.models import Account, Party, TimelineEvent

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
MARCH_2 = date(2026, 3, 2)
DOMAIN = "elmcourt.example"


@pytest.fixture(autouse=True)
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Path:
    folder = tmp_path / "archive"
    monkeypatch.setenv("ARREARS_ARCHIVE_DIR", str(folder))
    storages = getattr(settings, "STORAGES", None)
    if storages and "archive" in storages:
        settings.STORAGES = {
            **storages,
            "archive": {**storages["archive"], "OPTIONS": {"location": str(folder)}},
        }
    return folder


def send(smtp, at: datetime, on: date = MARCH_2):
    return emails_send(
        on=on,
        settings=parse_email_url(smtp.url),
        now=lambda: at,
        sender=Sender(f"rent@{DOMAIN}", "Elm Court", DOMAIN),
    )


def reminder(account: str) -> Action:
    return Action.objects.get(
        account__account_id=account, step="reminder", party__party_id="P-TINA"
    )


def test_the_runs_reminder_is_emailed_once_and_the_action_is_done(tina_lease, smtp):
    # given March's rent unpaid and the run of March 2, which queues Tina's reminder
    account = tina_lease()
    cycle_run(on=MARCH_2)
    assert reminder(account).status == "queued"
    # when the emails are sent at 10:00 in Brooklyn, and again
    first = send(smtp, datetime(2026, 3, 2, 10, 0, tzinfo=NY))
    second = send(smtp, datetime(2026, 3, 2, 10, 5, tzinfo=NY))
    # then one email reached Tina, with the Message-ID of the action's key
    action = reminder(account)
    assert first.report.sent == [action.key]
    assert second.report.sent == []
    [got] = smtp.received
    assert got.rcpt_tos == ["tina@example.org"]
    assert got.message["Message-ID"] == message_id_for(action.key, DOMAIN)
    assert "STOP" in got.message.get_body(("plain",)).get_content()  # Reg F §1006.6(e)
    # rendered from the reminder's template, with the notice attached as a PDF letter
    assert "Tina Ortiz" in got.message.get_body(("plain",)).get_content()
    [pdf] = got.message.iter_attachments()
    assert pdf.get_filename() == "ny-rent-reminder.pdf"
    letter = pdf_text(pdf.get_content())
    assert "Tina Ortiz" in letter
    assert "1,200.00" in letter
    # and the action is done, naming the archived message, which the timeline names too
    assert action.status == "done"
    assert action.document == Outbound.objects.get(key=action.key).document_name
    assert first.documents == {action.key: action.document}
    sent = TimelineEvent.objects.get(kind="email.sent")
    assert sent.detail["message_id"] == got.message["Message-ID"]
    assert sent.detail["document"] == action.document


def test_an_email_waits_for_the_morning_and_a_hold_placed_since_the_run_stops_it(
    tina_lease, carmen_lease, smtp
):
    # given Tina's reminder queued by the run of March 2
    account = tina_lease()
    cycle_run(on=MARCH_2)
    # when the sending runs at 21:30 in Brooklyn
    late = send(smtp, datetime(2026, 3, 2, 21, 30, tzinfo=NY))
    # then nothing went: it waits, still queued
    assert late.report.deferred == [reminder(account).key]
    assert smtp.received == []
    assert reminder(account).status == "queued"
    # when a dispute hold is placed, and the sending runs the next morning
    hold_place(account_id=account, reason="dispute", on=date(2026, 3, 3), actor="alice")
    morning = send(smtp, datetime(2026, 3, 3, 9, 0, tzinfo=NY), on=date(2026, 3, 3))
    # then the guard refused it for good, with the hold's rule on the action and the timeline
    assert morning.report.refused == [reminder(account).key]
    assert smtp.received == []
    action = reminder(account)
    assert (action.status, action.rule) == ("refused", "hold:dispute")
    assert TimelineEvent.objects.get(kind="email.refused").detail["rule"] == "hold:dispute"


def test_a_plan_agreed_since_the_run_stops_its_email(tina_lease, smtp):
    # given Tina's reminder queued by the run of March 2
    account = tina_lease()
    cycle_run(on=MARCH_2)
    # when a payment plan is agreed the same morning, and the sending runs at 10:00
    plan_create(
        account_id=account, on=MARCH_2, actor="alice", start=date(2026, 3, 15), installments=2
    )
    sent = send(smtp, datetime(2026, 3, 2, 10, 0, tzinfo=NY))
    # then the guard refused the reminder: a plan in good standing holds the account
    assert sent.report.refused == [reminder(account).key]
    assert smtp.received == []
    assert (reminder(account).status, reminder(account).rule) == ("refused", "plan")


def test_a_call_about_a_wholly_disputed_balance_logged_after_the_fact_carries_a_warning(
    tina_lease, capsys
):
    # given Tina disputes everything she owes (15 USC §1692g(b): collection stops until verified)
    account = tina_lease()
    dispute_open(
        account_id=account,
        reason="I paid March by money order",
        on=date(2026, 3, 4),
        actor="alice",
        party_id="P-TINA",
    )
    # when Alice logs a call placed at 10:00
    status = main(
        [
            "call",
            "log",
            account,
            "--party",
            "P-TINA",
            "--outcome",
            "no-answer",
            "--at",
            "2026-03-05T10:00",
        ]
    )
    # then the call, which was made, is recorded, with the guard's warning (the dispute rule)
    assert status == 0
    assert "logged after the fact; the guard warns (dispute)" in capsys.readouterr().err
    assert ContactAttempt.objects.count() == 1
    logged = TimelineEvent.objects.get(kind="call.logged")
    assert logged.detail["warning_rule"] == "dispute"


def _reply(to: Outbound, text: str, sender: str = "tina@example.org") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"rent@{DOMAIN}"
    msg["Subject"] = "Re: your account"
    msg["Message-ID"] = f"<{abs(hash(text))}@mail.example.org>"
    msg["In-Reply-To"] = to.message_id
    msg.set_content(text)
    return msg.as_bytes()


def test_a_dispute_by_email_goes_on_the_worklist_until_answered(tina_lease, smtp, tmp_path):
    # given the reminder sent, and Tina's reply disputing the late fee
    account = tina_lease()
    cycle_run(on=MARCH_2)
    send(smtp, datetime(2026, 3, 2, 10, 0, tzinfo=NY))
    ours = Outbound.objects.get(key=reminder(account).key)
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(_reply(ours, "I do not owe a late fee: I paid on the 2nd."))
    # when the mailbox is fetched
    report = mail_fetch(source=str(tmp_path / "Maildir"))
    # then the worklist has the email to answer for Tina's account
    [inbound] = report.filed
    lines = [w for w in worklist(on=date(2026, 3, 7)) if w.kind == "email"]
    assert [(w.account_id, w.party_id) for w in lines] == [(account, "P-TINA")]
    assert lines[0].detail.startswith("answer dispute by email from tina@example.org")
    assert lines[0].reason.startswith("Answer the tenant's mail: answer dispute by email")
    # when Alice answers it
    inbound_answered(inbound_id=inbound, actor="alice", note="called her back")
    # then it is off the worklist, and the answer is on the timeline
    assert [w for w in worklist(on=date(2026, 3, 7)) if w.kind == "email"] == []
    assert TimelineEvent.objects.get(kind="email.answered").actor == "alice"


def test_a_stop_reply_withdraws_consent_to_email(tina_lease, smtp, tmp_path):
    # given the reminder sent, and Tina's reply "STOP"
    account = tina_lease()
    cycle_run(on=MARCH_2)
    send(smtp, datetime(2026, 3, 2, 10, 0, tzinfo=NY))
    ours = Outbound.objects.get(key=reminder(account).key)
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(_reply(ours, "STOP"))
    # when fetched
    report = mail_fetch(source=str(tmp_path / "Maildir"))
    opted = opt_outs_record(report)
    # then consent to email is withdrawn (12 CFR §1006.6(e)), on the timeline
    assert opted == 1
    consent = Consent.objects.get(party__party_id="P-TINA")
    assert (consent.channel, consent.granted) == ("email", False)
    assert TimelineEvent.objects.get(kind="consent.withdrawn").detail["law"] == "12 CFR §1006.6(e)"
    # and the next run's email to her is refused by the guard
    Outbound.objects.create(
        key="manual-email",
        account=ours.account,
        party=ours.party,
        role="primary",
        channel="email",
        template="ny-rent-reminder",
        run_on=MARCH_2,
        status="queued",
        document_name="",
        created_at=dj_timezone.now(),
    )
    again = send(smtp, datetime(2026, 3, 3, 10, 0, tzinfo=NY), on=date(2026, 3, 3))
    assert again.report.refused == ["manual-email"]
    assert Outbound.objects.get(key="manual-email").detail["rule"] == "channel:opted out"


def test_a_call_at_20_59_in_tinas_zone_is_logged_and_one_at_21_00_with_a_warning(
    tina_lease, capsys
):
    # given Tina's lease
    account = tina_lease()
    # when Alice logs a call placed at 20:59 in Brooklyn
    assert (
        main(
            [
                "call",
                "log",
                account,
                "--party",
                "P-TINA",
                "--outcome",
                "left-message",
                "--note",
                "voicemail",
                "--at",
                "2026-03-05T20:59",
            ]
        )
        == 0
    )
    # then it counts as an attempt and is on the timeline
    attempt = ContactAttempt.objects.get()
    assert (attempt.outcome, attempt.conversation) == ("left-message", False)
    logged = TimelineEvent.objects.get(kind="call.logged")
    assert logged.summary == "call to P-TINA: left message — voicemail"
    # when she logs one placed at 21:00
    capsys.readouterr()
    status = main(
        [
            "call",
            "log",
            account,
            "--party",
            "P-TINA",
            "--outcome",
            "no-answer",
            "--at",
            "2026-03-05T21:00",
        ]
    )
    # then, made already, it is recorded with the hours rule's warning (12 CFR §1006.100: the
    # records show every contact made, the ones the rules did not allow too)
    assert status == 0
    err = capsys.readouterr().err
    assert "the guard warns (hours)" in err
    assert "21:00 America/New_York is outside 08:00–21:00" in err
    late = TimelineEvent.objects.filter(kind="call.logged").order_by("id").last()
    assert late.detail["warning_rule"] == "hours"
    assert not TimelineEvent.objects.filter(kind="call.refused").exists()
    assert ContactAttempt.objects.count() == 2


def test_carmen_may_be_called_at_20_59_in_los_angeles(carmen_lease):
    # 20:59 in Los Angeles is 23:59 in New York: her own zone decides
    at = datetime(2026, 9, 10, 20, 59, tzinfo=LA)
    logged = call_log(
        account_id=carmen_lease, party_id="P-CARMEN", outcome="no-answer", at=at, actor="alice"
    )
    assert logged.decision.allowed
    assert logged.zone == "America/Los_Angeles"


def test_a_conversation_starts_seven_quiet_days_and_closes_the_call_task(tina_lease):
    # given a call task for Tina
    account = tina_lease()
    task = Action.objects.create(
        key="call-task",
        account=Account.objects.get(account_id=account),
        party=Party.objects.get(party_id="P-TINA"),
        role="primary",
        policy="ny-residential",
        policy_version=1,
        step="call",
        action="notice",
        channel="call",
        status="task",
        run_on=date(2026, 3, 3),
        created_at=dj_timezone.now(),
    )
    # when she promises to pay on a call at 10:00 on March 3
    talk = datetime(2026, 3, 3, 10, 0, tzinfo=NY)
    call_log(
        account_id=account,
        party_id="P-TINA",
        outcome="promise",
        at=talk,
        actor="alice",
        note="pays Friday",
    )
    # then the task is closed, and a call six days later is refused, one seven days later is not
    task.refresh_from_db()
    assert (task.status, task.reason) == ("closed", "call: promise")
    six = call_log(
        account_id=account,
        party_id="P-TINA",
        outcome="no-answer",
        at=talk + timedelta(days=6, hours=23),
        actor="alice",
    )
    seven = call_log(
        account_id=account,
        party_id="P-TINA",
        outcome="no-answer",
        at=talk + timedelta(days=7, minutes=1),
        actor="alice",
    )
    assert (six.decision.allowed, six.decision.rule) == (False, "frequency")
    assert seven.decision.allowed


def test_an_unknown_outcome_is_refused_and_changes_nothing(tina_lease):
    account = tina_lease()
    with pytest.raises(ValidationError, match="a call's outcome is one of"):
        call_log(
            account_id=account,
            party_id="P-TINA",
            outcome="hung-up",
            at=datetime(2026, 3, 5, 10, tzinfo=NY),
            actor="alice",
        )
    assert not TimelineEvent.objects.filter(kind__startswith="call.").exists()


def test_a_text_task_is_written_by_the_file_adapter_once(tina_lease, tmp_path):
    # given Tina's consent to texts and a text task for her
    account = tina_lease()
    tina = Party.objects.get(party_id="P-TINA")
    Consent.objects.create(party=tina, channel="sms", granted=True, at=dj_timezone.now())
    Action.objects.create(
        key="sms-task",
        account=tina.account_parties.get().account,
        party=tina,
        role="primary",
        policy="ny-residential",
        policy_version=1,
        step="text",
        action="notice",
        channel="sms",
        status="task",
        run_on=MARCH_2,
        created_at=dj_timezone.now(),
    )
    provider = FileSmsProvider(tmp_path / "sms")
    # when texts are sent at 10:00 and again at 11:00
    first = texts_send(
        on=MARCH_2, provider=provider, now=lambda: datetime(2026, 3, 2, 10, 0, tzinfo=NY)
    )
    second = texts_send(
        on=MARCH_2, provider=provider, now=lambda: datetime(2026, 3, 2, 11, 0, tzinfo=NY)
    )
    # then one JSON line was written, with the opt-out words, and the task is closed
    assert (first.sent, second.sent) == (["sms-task"], [])
    [line] = [
        json.loads(text)
        for f in (tmp_path / "sms").iterdir()
        for text in f.read_text().splitlines()
    ]
    assert line["to"] == "+12125550101"
    assert line["body"].startswith(f"{account}: a balance")
    assert line["body"].endswith("Reply STOP to opt out of texts.")
    assert OutboundSms.objects.get().status == "sent"
    assert Action.objects.get(key="sms-task").status == "closed"
    assert TimelineEvent.objects.get(kind="sms.sent").detail["to"] == "+12125550101"
    # and the adapter, asked again for the same key (a send that died before it was recorded),
    # writes nothing more
    provider.send(key="sms-task", to="+12125550101", body="again")
    assert sum(len(f.read_text().splitlines()) for f in (tmp_path / "sms").iterdir()) == 1


def test_the_worklist_sees_a_party_as_the_run_does_consent_and_opt_outs_included(tina_lease):
    # given a text task and a call task for Tina, who never consented to texts
    tina_lease()
    tina = Party.objects.get(party_id="P-TINA")
    lease = tina.account_parties.get().account
    for key, channel in (("text-task", "sms"), ("call-task", "call")):
        Action.objects.create(
            key=key,
            account=lease,
            party=tina,
            role="primary",
            policy="ny-residential",
            policy_version=1,
            step=channel,
            action="notice",
            channel=channel,
            status="task",
            run_on=MARCH_2,
            created_at=dj_timezone.now(),
        )
    morning = datetime(2026, 3, 2, 10, 0, tzinfo=NY)

    def listed() -> list[str]:
        return sorted(
            w.kind for w in worklist(on=MARCH_2, now=morning) if w.kind in ("call", "text")
        )

    # then the text is not listed (the run would refuse it), the call is
    assert listed() == ["call"]
    # when she consents to texts, then opts out of calls
    Consent.objects.create(party=tina, channel="sms", granted=True, at=dj_timezone.now())
    assert listed() == ["call", "text"]
    Consent.objects.create(party=tina, channel="call", granted=False, at=dj_timezone.now())
    # then the call leaves her line: no coordinator is sent to call someone who said no
    assert listed() == ["text"]


def _zone_at_noon() -> str:
    """A fixed-offset zone where it is now about noon, so that the commands (which send now)
    are inside the contact hours whenever the test runs."""
    hour = datetime.now(ZoneInfo("UTC")).hour
    ahead = (12 - hour + 12) % 24 - 12  # -12 … +11
    return "Etc/GMT" + (f"-{ahead}" if ahead > 0 else f"+{-ahead}")


def test_mail_send_and_fetch_commands(tina_lease, smtp, tmp_path, settings, capsys):
    # given the run's reminder, Tina in a zone where it is noon now, and the settings
    account = tina_lease()
    Party.objects.filter(party_id="P-TINA").update(timezone=_zone_at_noon())
    cycle_run(on=MARCH_2)
    settings.EMAIL_URL = smtp.url
    settings.ARREARS_MAIL_FROM = f"rent@{DOMAIN}"
    maildir = tmp_path / "Maildir"
    settings.ARREARS_MAILDIR = str(maildir)
    # when the emails are sent, twice
    assert main(["mail", "send", "--date", "2026-03-02", "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["mail", "send", "--date", "2026-03-02"]) == 0
    # then the reminder went once
    assert first["sent"] == [reminder(account).key]
    assert first["documents"][reminder(account).key] == reminder(account).document
    assert capsys.readouterr().out.startswith("Emails: 0 sent")
    assert len(smtp.received) == 1
    # when Tina answers and a stranger writes, and the mailbox is fetched
    box = mailbox.Maildir(str(maildir), create=True)
    box.add(_reply(Outbound.objects.get(key=reminder(account).key), "I will pay on Friday."))
    box.add(_reply(Outbound(message_id="<not-ours@x>"), "Hello?", sender="sam@nowhere.example"))
    assert main(["mail", "fetch"]) == 0
    assert (
        capsys.readouterr().out == "Mail: 1 filed on accounts, 1 to triage, 0 bounce "
        "reports, 0 filed before.\n"
    )
    # then the triage list names the stranger's message, which Alice assigns
    assert main(["mail", "triage", "--format", "json"]) == 0
    [waiting] = json.loads(capsys.readouterr().out)
    assert waiting["from"] == "sam@nowhere.example"
    assert main(["mail", "assign", str(waiting["id"]), account]) == 0
    assert main(["mail", "triage"]) == 0
    assert "Nothing in triage." in capsys.readouterr().out


def test_mail_send_without_email_url_says_so(tina_lease, settings, capsys):
    tina_lease()
    settings.EMAIL_URL = ""
    assert main(["mail", "send"]) == 2
    assert "EMAIL_URL is not set" in capsys.readouterr().err


def test_a_statement_is_emailed_once_through_the_guard(
    tina_lease, smtp, tmp_path, monkeypatch, settings, capsys
):
    # given Tina in a zone where it is noon now, and the mail settings
    account = tina_lease()
    Party.objects.filter(party_id="P-TINA").update(timezone=_zone_at_noon())
    settings.EMAIL_URL = smtp.url
    settings.ARREARS_MAIL_FROM = f"rent@{DOMAIN}"
    monkeypatch.chdir(tmp_path)
    # when her statement is asked for by email, twice
    assert main(["statement", account, "--email"]) == 0
    assert main(["statement", account, "--email"]) == 0
    out = capsys.readouterr().out
    # then one email carried the statement PDF, and the second asking sent nothing
    assert "Statement emailed to tina@example.org (Message-ID <" in out
    assert "not sent again" in out
    [got] = smtp.received
    [pdf] = got.message.iter_attachments()
    assert pdf.get_filename() == f"statement-{account}-2026-03-07.pdf"
    assert "1,200.00" in pdf_text(pdf.get_content())
    # when Tina asks in writing that contact cease, and a statement as of March 6 is asked for
    hold_place(account_id=account, reason="cease", on=date(2026, 3, 7), actor="alice")
    assert main(["statement", account, "--as-of", "2026-03-06", "--email"]) == 2
    # then the guard refused it (15 USC §1692c(c)) and nothing more was sent
    assert "refused (hold:cease)" in capsys.readouterr().err
    assert len(smtp.received) == 1


def test_the_daily_run_sends_its_emails_when_email_url_is_set(tina_lease, smtp, settings, capsys):
    # given March's rent unpaid, Tina where it is noon now, and EMAIL_URL
    account = tina_lease()
    Party.objects.filter(party_id="P-TINA").update(timezone=_zone_at_noon())
    settings.EMAIL_URL = smtp.url
    # when the run of March 2 runs
    capsys.readouterr()
    assert main(["run", "--date", "2026-03-02", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # then its reminder was emailed, under the document the run's JSON names
    [entry] = [a for a in doc["actions"] if a["channel"] == "email"]
    key = reminder(account).key
    assert doc["emails"]["sent"] == [key]
    assert doc["emails"]["documents"][key] == entry["document"]
    assert len(smtp.received) == 1


def test_an_email_that_cannot_be_rendered_fails_alone(small_leases, smtp):
    # given three tenants' reminders, one of which cannot be rendered
    accounts = small_leases(3)
    cycle_run(on=MARCH_2)
    keys = sorted(Action.objects.filter(channel="email").values_list("key", flat=True))
    broken = keys[1]

    def render(row):
        if row.key == broken:
            raise ValidationError("template 'ny-rent-reminder' not found")
        return outbound_email_render(row)

    # when the emails are sent
    run = emails_send(
        on=MARCH_2,
        settings=parse_email_url(smtp.url),
        render=render,
        sender=Sender(f"rent@{DOMAIN}", "", DOMAIN),
        now=lambda: datetime(2026, 3, 2, 10, tzinfo=NY),
    )
    # then the other two went, and the broken one failed with its reason on the timeline
    assert sorted(run.report.sent) == [keys[0], keys[2]]
    assert run.report.failed == [broken]
    assert len(accounts) == 3
    row = Outbound.objects.get(key=broken)
    assert (row.status, row.error) == (
        "failed",
        "not rendered: template 'ny-rent-reminder' not found",
    )
    failed = Action.objects.get(key=broken)
    assert (failed.status, failed.reason) == (
        "failed",
        "email failed: not rendered: template 'ny-rent-reminder' not found",
    )
    assert TimelineEvent.objects.filter(kind="email.failed").count() == 1


def test_call_check_asks_the_guard_before_dialling(tina_lease, capsys):
    account = tina_lease()
    assert main(["call", "check", account, "--party", "P-TINA", "--at", "2026-03-05T07:59"]) == 2
    assert capsys.readouterr().out == (
        "Do not call: hours: 07:59 America/New_York is outside 08:00–21:00\n"
    )
    assert main(["call", "check", account, "--party", "P-TINA", "--at", "2026-03-05T08:00"]) == 0
    assert "may be called now" in capsys.readouterr().out
    # asking changes nothing
    assert not TimelineEvent.objects.filter(kind__startswith="call.").exists()
