"""Case tracking on the pages (issue 17, items 4 and 7): the Cases page and a case's page with
its history and update form, a hearing on the coordinator's worklist, a firm's hearings as a
calendar file, the case on the manager's account page and the weekly digest of case news to
managers. On the workspace's cast (`people`): A-OSCAR (Oakland) is with Hale & Co, carol is its
attorney; A-TINA is at Elm Court, which bob manages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import escape
from icalendar import Calendar

from arrears.access.models import AuditEntry
from arrears.access.services import token_issue, user_add
from arrears.access.tests.people import FIRM, OPERATOR, PASSWORD, TODAY, signed_in
from arrears.cli import main
from arrears.dunning.worklist import worklist
from arrears.ledger.models import Account, TimelineEvent
from arrears.legal.models import CaseEvent, DigestSent, Firm, Referral
from arrears.legal.services import case_update, referral_make

pytestmark = pytest.mark.django_db
OTHER = "Other Firm LLP"


@pytest.fixture
def cast(people: Any) -> dict[str, Any]:
    """The cast, with Paula (Hale & Co's paralegal) and Otto (an attorney of another firm)."""
    paula = user_add(
        username="paula",
        password=PASSWORD,
        role="paralegal",
        firm=FIRM,
        actor=OPERATOR,
        via="system",
    )
    Firm.objects.create(name=OTHER, created_on=TODAY)
    otto = user_add(
        username="otto",
        password=PASSWORD,
        role="attorney",
        firm=OTHER,
        actor=OPERATOR,
        via="system",
    )
    return {**people, "paula": paula, "otto": otto}


def _oscar() -> Referral:
    return Referral.objects.get(account__account_id="A-OSCAR", firm=FIRM)


def _cli(capsys: Any, *words: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(words))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_paralegal_marks_the_case_filed_on_its_page_and_sees_no_money_statuses(
    cast: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    case = _oscar()
    paula = signed_in(cast["paula"])
    # given Paula on the Cases page: her firm's case is listed, with no firm filter to choose
    listed = paula.get("/cases/")
    assert listed.status_code == 200
    html = listed.content.decode()
    assert f'id="case-{case.pk}"' in html
    assert "A-OSCAR" in html
    assert 'name="firm"' not in html
    # and on the case's page the update form offers no status about money, nor a recall
    page = paula.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="admin-form case-update"' in page
    for code in ("filed", "hearing", "accepted", "closed"):
        assert f'value="{code}"' in page
    for code in ("judgment", "settled", "satisfied", "recalled"):
        assert f'value="{code}"' not in page
    assert 'name="amount"' not in page
    # when she marks it filed without the index number
    refused = paula.post(f"/cases/{case.pk}/update/", {"status": "filed", "on": "2026-03-26"})
    # then she is told beside the field, and nothing is written
    assert refused.status_code == 422
    assert "a filing needs its index number" in refused.content.decode()
    assert CaseEvent.objects.filter(case=case, status="filed").count() == 0
    # when she gives it
    done = paula.post(
        f"/cases/{case.pk}/update/",
        {
            "status": "filed",
            "on": "2026-03-26",
            "index_number": "RG-26-1001",
            "court": "Alameda County Superior Court",
            "note": "filed by e-filing",
        },
        follow=True,
    )
    # then the page says so and the history shows it, recorded by her through the web
    assert done.status_code == 200
    text = done.content.decode()
    assert "filed on 2026-03-26 recorded" in text
    assert "RG-26-1001" in text
    assert "Alameda County Superior Court" in text
    case.refresh_from_db()
    assert (case.status, case.index_number) == ("filed", "RG-26-1001")
    event = CaseEvent.objects.get(case=case, status="filed")
    assert (event.actor, event.note) == ("paula", "filed by e-filing")
    assert TimelineEvent.objects.filter(account=case.account, kind="case.filed").exists()
    assert AuditEntry.objects.filter(username="paula", verb="case.update", via="web").count() == 1
    # and a judgment posted by hand (the form does not offer it) is refused as hers to make
    money = paula.post(
        f"/cases/{case.pk}/update/", {"status": "judgment", "on": "2026-03-26", "amount": "950"}
    )
    assert money.status_code == 403
    assert "a paralegal does not record judgment" in money.content.decode()
    assert not CaseEvent.objects.filter(case=case, status="judgment").exists()


def test_a_mistake_on_the_case_page_is_worded_in_spanish(cast: Any, book_clock: Any) -> None:
    book_clock(TODAY)
    case = _oscar()
    carol = signed_in(cast["carol"])
    carol.cookies["django_language"] = "es"
    # when Carol records a judgment with no amount, and a day that is no date
    no_amount = carol.post(f"/cases/{case.pk}/update/", {"status": "judgment", "on": "2026-03-26"})
    bad_day = carol.post(f"/cases/{case.pk}/update/", {"status": "filed", "on": "2026-13-45"})
    # then each is said in Spanish beside its field, and nothing is written
    assert no_amount.status_code == bad_day.status_code == 422
    assert "No se puede" in no_amount.content.decode()
    assert "2026-13-45 no es una fecha" in bad_day.content.decode()
    assert CaseEvent.objects.filter(case=case).count() == 1  # the referral's own


def test_an_attorney_or_paralegal_signing_in_lands_on_their_firms_cases(cast: Any) -> None:
    # when Paula signs in from the sign-in page
    client = Client()
    signin = client.post("/signin/", {"username": "paula", "password": PASSWORD})
    # then she lands on the Cases page, where her work is; the coordinator on Today
    assert (signin.status_code, signin["Location"]) == (302, "/cases/")
    alice = Client().post("/signin/", {"username": "alice", "password": PASSWORD})
    assert alice["Location"] == "/today/"
    # and the header offers Cases
    assert 'href="/cases/"' in client.get("/cases/").content.decode()


def test_an_attorney_of_another_firm_gets_nothing_of_the_case_on_any_route(
    cast: Any, capsys: Any
) -> None:
    case = _oscar()
    case_update(
        case=case, status="hearing", on=TODAY + timedelta(days=5), actor="carol", today=TODAY
    )
    otto = signed_in(cast["otto"])
    token = token_issue(username="otto", actor=OPERATOR, via="system")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    # when Otto asks for Hale & Co's case through every route
    answers = {
        "page": otto.get(f"/cases/{case.pk}/").status_code,
        "update": otto.post(f"/cases/{case.pk}/update/", {"status": "closed"}).status_code,
        "calendar page": otto.get("/cases/calendar.ics", {"firm": FIRM}).status_code,
        "api case": api.get(f"/api/cases/{case.pk}").status_code,
        "api update": api.post(
            f"/api/cases/{case.pk}/updates", {"status": "closed"}, content_type="application/json"
        ).status_code,
        "api calendar": api.get("/api/cases/calendar.ics", {"firm": FIRM}).status_code,
    }
    # then each is not found, and the list and his own calendar hold nothing of it
    assert answers == dict.fromkeys(answers, 404)
    assert "A-OSCAR" not in otto.get("/cases/").content.decode()
    assert api.get("/api/cases").json() == []
    own = api.get("/api/cases/calendar.ics")
    assert own.status_code == 200
    assert Calendar.from_ical(own.content).walk("VEVENT") == []
    code, _out, err = _cli(capsys, "--as", "otto", "case", "calendar", "--firm", FIRM)
    assert code != 0
    assert "no firm is named" in err
    case.refresh_from_db()
    assert case.status == "hearing"


def test_a_hearing_within_the_week_is_on_the_worklist_until_it_is_past_or_the_case_ends(
    cast: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    # given A-TINA referred to Hale & Co: her collecting lines leave the worklist
    tina = Account.objects.get(account_id="A-TINA")
    case = referral_make(account=tina, firm=FIRM, on=TODAY, actor="alice")
    case_update(
        case=case,
        status="filed",
        on=TODAY,
        actor="carol",
        today=TODAY,
        index_number="LT-301/26",
        court="Kings County Housing Court",
    )
    kinds = {(w.account_id, w.kind) for w in worklist(on=TODAY)}
    assert not {k for a, k in kinds if a == "A-TINA"}
    # when the attorney sets a hearing 10 days ahead: not yet within the week
    hearing = TODAY + timedelta(days=10)
    case_update(case=case, status="hearing", on=hearing, actor="carol", today=TODAY)
    assert "hearing" not in {w.kind for w in worklist(on=TODAY)}
    # then 5 days before it the line is there, worded, in its tab
    lines = [w for w in worklist(on=hearing - timedelta(days=5)) if w.kind == "hearing"]
    assert [(w.account_id, w.tab, w.case_id) for w in lines] == [
        ("A-TINA", "hearings", str(case.pk))
    ]
    assert lines[0].reason == (
        f"Hearing on {hearing} at Kings County Housing Court, index LT-301/26, "
        f"case {case.pk} ({FIRM})"
    )
    # and on its day still; the day after, it is gone
    assert "hearing" in {w.kind for w in worklist(on=hearing)}
    assert "hearing" not in {w.kind for w in worklist(on=hearing + timedelta(days=1))}
    # when the case is closed before the hearing, its line leaves too
    case_update(case=case, status="closed", on=TODAY, actor="alice", today=TODAY)
    assert "hearing" not in {w.kind for w in worklist(on=hearing - timedelta(days=1))}


def test_the_coordinator_sees_the_hearing_line_on_the_today_page(cast: Any, book_clock: Any):
    book_clock(TODAY)
    case = _oscar()
    case_update(
        case=case,
        status="hearing",
        on=TODAY + timedelta(days=3),
        actor="carol",
        today=TODAY,
        court="Alameda County Superior Court",
    )
    page = signed_in(cast["alice"]).get("/today/", {"tab": "hearings"}).content.decode()
    assert 'data-kind="hearing"' in page
    assert f"Hearing on {TODAY + timedelta(days=3)} at Alameda County Superior Court" in page
    assert f'href="/cases/{case.pk}/"' in page


def _events(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_a_firms_calendar_holds_its_hearings_from_the_cli_the_page_and_the_api(
    cast: Any, tokens: Any, capsys: Any, tmp_path: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    case = _oscar()
    case_update(
        case=case,
        status="filed",
        on=TODAY,
        actor="carol",
        today=TODAY,
        index_number="RG-26-1001",
        court="Alameda County Superior Court",
    )
    first, second = date(2026, 4, 7), date(2026, 4, 21)
    case_update(case=case, status="hearing", on=first, actor="carol", today=TODAY)
    # when the calendar is asked for from the command line
    output = tmp_path / "hale.ics"
    code, _out, err = _cli(
        capsys, "--as", "alice", "case", "calendar", "--firm", FIRM, "--output", str(output)
    )
    assert code == 0, err
    # then it is an iCalendar file with the hearing as an all-day event
    (event,) = _events(output.read_bytes())
    assert event.decoded("dtstart") == first
    assert event.decoded("dtend") == first + timedelta(days=1)
    assert str(event["summary"]) == "Hearing: A-OSCAR, index RG-26-1001"
    assert str(event["location"]) == "Alameda County Superior Court"
    assert str(event["status"]) == "CONFIRMED"
    uid = str(event["uid"])
    assert uid.startswith(f"case-{case.pk}-hearing-20260407@")
    # when the hearing is moved to the 21st
    case_update(case=case, status="hearing", on=second, actor="carol", today=TODAY)
    # then Carol's download from the page and the API's file say the same: the 7th cancelled
    # (same UID), the 21st confirmed
    page = signed_in(cast["carol"]).get("/cases/calendar.ics")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}").get(
        "/api/cases/calendar.ics", {"firm": FIRM}
    )
    assert page.status_code == api.status_code == 200
    assert page["Content-Type"].startswith("text/calendar")
    assert 'filename="hearings-hale-co.ics"' in page["Content-Disposition"]
    assert page.content == api.content
    events = {str(e["uid"]): (e.decoded("dtstart"), str(e["status"])) for e in _events(api.content)}
    assert events[uid] == (first, "CANCELLED")
    assert (second, "CONFIRMED") in events.values()
    assert len(events) == 2
    # and a coordinator who names no firm is asked to choose one
    response = signed_in(cast["alice"]).get("/cases/calendar.ics")
    assert response.status_code == 422
    assert "Choose a firm for its hearings" in response.content.decode()


def test_the_manager_sees_the_referral_the_hearing_and_the_judgment_on_the_account_page(
    cast: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    tina = Account.objects.get(account_id="A-TINA")
    case = referral_make(account=tina, firm=FIRM, on=TODAY, actor="alice")
    bob = signed_in(cast["bob"])
    # given the referral: Bob, Elm Court's manager, sees it on the account page and on Cases
    page = bob.get("/accounts/A-TINA/").content.decode()
    assert f"Referred to {escape(FIRM)}: case {case.pk}, sent to the firm" in page
    assert f'id="case-{case.pk}"' in bob.get("/cases/").content.decode()
    # when a hearing is set and a judgment entered
    case_update(
        case=case,
        status="hearing",
        on=TODAY + timedelta(days=12),
        actor="carol",
        today=TODAY,
        court="Kings County Housing Court",
    )
    case_update(
        case=case, status="judgment", on=TODAY, actor="carol", today=TODAY, amount=Decimal("1200")
    )
    # then his page says both
    page = bob.get("/accounts/A-TINA/").content.decode()
    assert f"Hearing on {TODAY + timedelta(days=12)} at Kings County Housing Court" in page
    assert "Judgment of 1,200.00 on 2026-03-26" in page
    # and A-OSCAR, not his building, is not his to see
    assert bob.get("/accounts/A-OSCAR/").status_code == 404
    assert bob.get(f"/cases/{_oscar().pk}/").status_code == 404


@pytest.fixture
def smtp(settings: Any) -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a loopback port, set as EMAIL_URL."""
    from arrears.correspondence.tests import smtp_server

    handler = smtp_server.Recorder()
    controller = smtp_server.start(handler)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


def test_the_weekly_digest_tells_each_manager_of_their_buildings_cases_once(
    cast: Any, smtp: Any, capsys: Any, book_clock: Any
) -> None:
    get_user_model().objects.filter(username="bob").update(email="bob@elm.example")
    get_user_model().objects.filter(username="mallory").update(email="mallory@other.example")
    book_clock(TODAY)
    # given A-TINA (Elm Court) referred, filed and a hearing set in the week
    tina = Account.objects.get(account_id="A-TINA")
    case = referral_make(account=tina, firm=FIRM, on=TODAY, actor="alice")
    case_update(
        case=case, status="filed", on=TODAY, actor="carol", today=TODAY, index_number="LT-301/26"
    )
    case_update(case=case, status="hearing", on=date(2026, 4, 9), actor="carol", today=TODAY)
    # when the digest is sent at the end of the day (an hour later)
    book_clock(date(2026, 3, 27))
    code, out, err = _cli(capsys, "--as", "alice", "case", "digest", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    # then Bob got one email of his building's case; Mallory, whose building has none, nothing
    assert (report["week"], report["sent"], report["quiet"]) == ("2026-W13", ["bob"], ["mallory"])
    (mail,) = smtp.received
    assert mail.rcpt_tos == ["bob@elm.example"]
    message = mail.message
    assert message["Subject"] == "Cases on your buildings, week 2026-W13: 1 with news"
    body = message.get_content()
    assert "Elm Court (ELM)" in body
    assert f"A-TINA, unit 3B: case {case.pk} with {FIRM}" in body
    assert "2026-03-26: referred (sent to the firm), balance 1,200.00" in body
    assert "2026-03-26: filed, index number LT-301/26" in body
    assert "hearing set for 2026-04-09" in body
    assert "A-OSCAR" not in body
    row = DigestSent.objects.get(username="bob")
    assert (row.week, row.cases, row.message_id) == ("2026-W13", [case.pk], message["Message-ID"])
    assert row.sent_at is not None
    # when it runs again in the same ISO week, with more news
    case_update(
        case=case,
        status="judgment",
        on=date(2026, 3, 27),
        actor="carol",
        today=date(2026, 3, 27),
        amount=Decimal("1200"),
    )
    code, out, err = _cli(capsys, "--as", "alice", "case", "digest", "--format", "json")
    # then nothing is sent twice
    assert code == 0, err
    assert json.loads(out)["already"] == ["bob"]
    assert len(smtp.received) == 1
    # and the next week's digest tells of the judgment only, from where the last one ended
    book_clock(date(2026, 4, 3))
    code, out, err = _cli(capsys, "--as", "alice", "case", "digest", "--format", "json")
    assert (code, json.loads(out)["sent"]) == (0, ["bob"])
    later = smtp.received[1].message.get_content()
    assert "2026-03-27: judgment, amount 1200.00" in later
    assert "filed" not in later
    assert DigestSent.objects.filter(username="bob").count() == 2
    assert AuditEntry.objects.filter(verb="case.digest", username="alice").count() == 3


def test_the_digest_is_sent_by_the_company_only(cast: Any, smtp: Any, capsys: Any) -> None:
    code, _out, err = _cli(capsys, "--as", "carol", "case", "digest")
    assert code != 0
    assert "may not" in err
    assert smtp.received == []
