"""The account's record kept up to date from the desk: a party's contact points changed with
the old ones kept on the timeline, a new address tried again after returned mail, values
checked; consent to texts granted and withdrawn, and the daily run's text step following it.

Tina Ortiz rents 3B at Elm Court (A-TINA), Greg Ortiz guarantees it; Alice is the coordinator,
Bob Elm Court's manager; today is March 26, 2026.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from arrears.access import acts
from arrears.access.acting import By
from arrears.access.errors import ForbiddenError
from arrears.access.tests.people import TODAY, signed_in
from arrears.cli import main
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.models import ReturnedMail
from arrears.dunning.addressee import _guard, addressee
from arrears.dunning.models import CompanyPolicy, Consent, PolicyOverride
from arrears.dunning.services import cycle_run
from arrears.ledger.models import Account, Party, TimelineEvent

pytestmark = pytest.mark.django_db


def alice(people: Any) -> By:
    return By(people["alice"], "cli")


def test_a_new_phone_and_address_keep_the_old_ones_on_the_timeline(people: Any) -> None:
    # given Tina's contact points as imported
    # when Alice types her new phone as people type it, and her new address
    done = acts.party_update(
        by=alice(people),
        party_id="P-TINA",
        changes={"phone": "(347) 555-0113", "address": "5 Oak Lane", "postal_code": "11215"},
    )
    # then the party has them, the phone in E.164
    tina = Party.objects.get(party_id="P-TINA")
    assert (tina.phone, tina.address, tina.postal_code) == ("+13475550113", "5 Oak Lane", "11215")
    # and the timeline of her account says what was there before
    (event,) = TimelineEvent.objects.filter(kind="party.updated")
    assert event.account.account_id == "A-TINA"
    assert event.detail["old"] == {
        "phone": "+12125550101",
        "address": "12 Elm Street, Apt 3B",
        "postal_code": "11201",
    }
    assert event.detail["new"]["phone"] == "+13475550113"
    assert done.changed["address"] == ("12 Elm Street, Apt 3B", "5 Oak Lane")
    # and a change that changes nothing writes nothing
    again = acts.party_update(
        by=alice(people), party_id="P-TINA", changes={"phone": "+13475550113"}
    )
    assert again.changed == {}
    assert TimelineEvent.objects.filter(kind="party.updated").count() == 1


def _returned(people: Any) -> None:
    account = Account.objects.get(account_id="A-TINA")
    tina = Party.objects.get(party_id="P-TINA")
    ReturnedMail.objects.create(
        party=tina,
        account=account,
        address_key="12 ELM STREET APT 3B BROOKLYN NY 11201",
        address="12 Elm Street, Apt 3B\nBrooklyn, NY 11201",
        returned_on=TODAY,
        recorded_by="alice",
        recorded_at="2026-03-26T12:00:00Z",
    )


def test_a_new_mailing_address_clears_the_returned_mail_flag(people: Any) -> None:
    # given a letter to Tina came back from 12 Elm Street
    _returned(people)
    account = Account.objects.get(account_id="A-TINA")
    tina = Party.objects.get(party_id="P-TINA")
    at = addressee(account, tina, TODAY_NOON())
    assert _guard(at, "letter", TODAY_NOON()).rule == "channel:mail returned undeliverable"
    # when Alice records her new address
    done = acts.party_update(
        by=alice(people), party_id="P-TINA", changes={"address": "5 Oak Lane, Apt 2"}
    )
    # then letters go to it again, and the timeline says the mark no longer applies
    assert done.returned_mail_cleared
    tina.refresh_from_db()
    assert _guard(addressee(account, tina, TODAY_NOON()), "letter", TODAY_NOON()).allowed
    event = TimelineEvent.objects.get(kind="party.updated")
    assert event.detail["returned_mail_cleared"] is True
    assert "returned-mail" in event.summary


def TODAY_NOON() -> Any:  # noqa: N802
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime(2026, 3, 26, 12, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"email": "tina at example"}, "party_email_invalid", "email"),
        ({"phone": "555-0113"}, "party_phone_invalid", "phone"),
        ({"timezone": "America/Brooklyn"}, "party_timezone_unknown", "timezone"),
        ({"language": "spanish!"}, "party_language_invalid", "language"),
        ({"language": ""}, "party_language_invalid", "language"),
        ({"name": "Someone Else"}, "party_field_unknown", "name"),
    ],
)
def test_a_contact_point_that_is_not_one_is_refused_and_changes_nothing(
    people: Any, changes: dict[str, str], code: str, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        acts.party_update(by=alice(people), party_id="P-TINA", changes=changes)
    assert (refused.value.code, refused.value.extra["field"]) == (code, field)
    assert Party.objects.get(party_id="P-TINA").email == "tina@example.org"
    assert not TimelineEvent.objects.filter(kind="party.updated").exists()


def test_a_manager_may_not_change_a_party_and_a_party_of_another_account_is_not_found(
    people: Any,
) -> None:
    with pytest.raises(ForbiddenError):
        acts.party_update(by=By(people["bob"], "web"), party_id="P-TINA", changes={"city": "X"})
    with pytest.raises(NotFoundError):
        acts.party_update(
            by=alice(people), party_id="P-OSCAR", changes={"city": "X"}, account_id="A-TINA"
        )
    assert Party.objects.get(party_id="P-OSCAR").city == "Oakland"


TEXTS_POLICY = """
name = "ny-residential-texts"
version = 1
jurisdiction = "US-NY"
account_kinds = ["residential_lease"]

[[steps]]
key = "text-reminder"
days_past_due = 25
within_days = 10
codes = ["RENT"]
per = "charge"
action = "notice"
channel = "sms"
template = "ny-rent-reminder-text"
audience = ["primary"]
"""


def test_after_a_grant_the_runs_text_step_is_allowed_and_after_a_withdrawal_refused(
    people: Any,
) -> None:
    # given Tina's lease follows a policy that texts a reminder, and no consent on record
    CompanyPolicy.objects.create(name="ny-residential-texts", version=1, body=TEXTS_POLICY)
    PolicyOverride.objects.create(
        account=Account.objects.get(account_id="A-TINA"), policy="ny-residential-texts"
    )
    first = cycle_run(on=TODAY)
    tinas = [b for b in first.blocked if b["account_id"] == "A-TINA"]
    assert [(b["step"], b["rule"]) for b in tinas] == [
        ("text-reminder", "channel:no consent to texts")
    ]
    # when Alice records the consent Tina gave in writing
    words = "I agree to receive texts about my rent account at (212) 555-0101."
    acts.consent_grant(
        by=alice(people), party_id="P-TINA", channel="sms", how="written", words=words
    )
    # then the next run's text step is allowed: a task to send it
    later = cycle_run(on=TODAY + timedelta(days=1))
    assert [(a["step"], a["channel"]) for a in later.actions] == [("text-reminder", "sms")]
    event = TimelineEvent.objects.get(kind="consent.granted")
    assert (event.detail["how"], event.detail["words"]) == ("written", words)
    assert event.actor == "alice"
    # when Tina withdraws it by a reply, the guard refuses texts again
    acts.consent_withdraw(by=alice(people), party_id="P-TINA", channel="sms", how="reply")
    tina = Party.objects.get(party_id="P-TINA")
    account = Account.objects.get(account_id="A-TINA")
    assert _guard(addressee(account, tina, TODAY_NOON()), "sms", TODAY_NOON()).rule == (
        "channel:opted out"
    )
    # and both rows stay on record, the latest winning
    assert list(Consent.objects.filter(party=tina).values_list("granted", "how")) == [
        (True, "written"),
        (False, "reply"),
    ]


def test_a_grant_without_the_words_or_in_the_future_is_refused(people: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        acts.consent_grant(
            by=alice(people), party_id="P-TINA", channel="sms", how="verbal", words=""
        )
    assert refused.value.code == "consent_words_missing"
    with pytest.raises(ValidationError) as refused:
        acts.consent_grant(
            by=alice(people), party_id="P-TINA", channel="fax", how="verbal", words="yes"
        )
    assert refused.value.code == "consent_channel_unknown"
    assert not Consent.objects.exists()


def test_the_page_saves_a_partys_phone_and_shows_a_refusal_beside_its_form(people: Any) -> None:
    client = signed_in(people["alice"])
    # when Alice saves Greg's new phone from his row's form
    response = client.post(
        "/accounts/A-TINA/parties/P-GREG/",
        {"phone": "(518) 555-0142", "email": "greg@example.org", "language": "en"},
    )
    # then she is back on the account, Greg's row saying so, his phone formatted
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Contact points of Greg Ortiz saved" in page
    assert '<a href="tel:+15185550142">(518) 555-0142</a>' in page
    # when she types a time zone that is none
    refused = client.post("/accounts/A-TINA/parties/P-GREG/", {"timezone": "Albany"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "&#39;Albany&#39; is not a known time zone" in html
    assert 'name="timezone" value="Albany" list="us-zones" aria-invalid="true"' in html


def test_the_api_patches_a_party_and_records_consent(people: Any, tokens: Any) -> None:
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")
    response = api.patch(
        "/api/parties/P-TINA",
        json.dumps({"email": "tina.ortiz@example.org", "language": "es"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == {"email": ["tina@example.org", "tina.ortiz@example.org"]}
    bad = api.post(
        "/api/parties/P-TINA", json.dumps({"phone": "call me"}), content_type="application/json"
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "party_phone_invalid")
    granted = api.post(
        "/api/parties/P-TINA/consents",
        json.dumps({"channel": "autodial", "how": "web", "words": "Yes, call me."}),
        content_type="application/json",
    )
    assert granted.status_code == 201, granted.content
    assert granted.json()["granted"] is True
    bob = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}")
    assert (
        bob.patch("/api/parties/P-TINA", "{}", content_type="application/json").status_code == 403
    )


def test_the_command_line_changes_a_party_and_withdraws_consent(
    people: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["--as", "alice", "party", "update", "P-GREG", "--timezone", "America/New_York"]) == 0
    )
    assert "P-GREG timezone: (none) -> America/New_York" in capsys.readouterr().out
    assert (
        main(
            [
                "--as",
                "alice",
                "consent",
                "withdraw",
                "P-GREG",
                "--channel",
                "sms",
                "--how",
                "verbal",
            ]
        )
        == 0
    )
    assert Consent.objects.get().granted is False
    assert main(["--as", "alice", "party", "update", "P-GREG", "--email", "nope"]) == 2
    assert "is not an email address" in capsys.readouterr().err
    assert date(2026, 3, 26) == TODAY


def test_an_import_records_consent_from_its_x_consent_column_once(
    people: Any, tmp_path: Any
) -> None:
    from arrears.access.tests.people import BOOK, write_book

    # given parties.csv with Tina's written consent to texts in the x_consent_sms column
    words = "I agree to texts about my account"
    parties = [dict(p) for p in BOOK["parties"]]
    parties[0]["x_consent_sms"] = f"granted;2026-03-02;written;{words}"
    parties[1]["x_consent_sms"] = ""
    folder = write_book(tmp_path / "again", {"parties": parties})
    erin = By(people["erin"], "cli")
    # when the book is imported, twice
    acts.book_import(by=erin, path=folder, name="again")
    acts.book_import(by=erin, path=folder, name="again")
    # then Tina's consent is on record once, with its words, and on her account's timeline
    (consent,) = Consent.objects.all()
    assert (consent.party.party_id, consent.channel, consent.granted) == ("P-TINA", "sms", True)
    assert (consent.how, consent.words, consent.at.date()) == ("written", words, date(2026, 3, 2))
    assert TimelineEvent.objects.filter(kind="consent.granted").count() == 1


def test_an_import_with_a_consent_cell_that_says_none_is_refused_with_its_line(
    people: Any, tmp_path: Any
) -> None:
    from arrears.access.tests.people import BOOK, write_book
    from arrears.ledger.interchange.errors import BookImportError

    parties = [dict(p) for p in BOOK["parties"]]
    parties[1]["x_consent_autodial"] = "granted;2026-03-02;by smoke signal;yes"
    folder = write_book(tmp_path / "bad", {"parties": parties})
    with pytest.raises(BookImportError) as refused:
        acts.book_import(by=By(people["erin"], "cli"), path=folder, name="bad")
    assert "x_consent_autodial" in str(refused.value)
    assert "line 3" in str(refused.value) or ":3" in str(refused.value)
    assert not Consent.objects.exists()


def test_a_letters_row_records_its_article_number_and_refuses_a_wrong_one_beside_it(
    people: Any, tmp_path: Any
) -> None:
    from arrears.correspondence.certified import usps_check_digit
    from arrears.correspondence.models import Outbound
    from arrears.dunning.reissue import letters_print

    # given Tina's certified late notice printed on March 11
    cycle_run(on=date(2026, 3, 11))
    letters_print(on=date(2026, 3, 11), output=tmp_path / "print", actor="alice", workers=1)
    letter = Outbound.objects.filter(channel="certified_letter", status="rendered").first()
    assert letter is not None
    payload = "9407111898765400001"
    digit = usps_check_digit(payload)
    client = signed_in(people["alice"])
    # when Alice types the number with a wrong check digit on its row (no script: the page)
    wrong = client.post(
        "/letters/mailed/",
        {
            "on": "2026-03-11",
            "letter": f"L{letter.pk}",
            "article_number": payload + str((digit + 1) % 10),
        },
    )
    # then it is refused beside that row's field, and nothing is recorded
    assert wrong.status_code == 422
    html = wrong.content.decode()
    assert f"Wrong check digit: the last digit should be {digit}." in html
    assert f'id="article-error-{letter.pk}" role="alert"' in html
    letter.refresh_from_db()
    assert letter.status == "rendered"
    # when she types the right one, it is recorded mailed
    right = client.post(
        "/letters/mailed/",
        {"on": "2026-03-11", "letter": f"L{letter.pk}", "article_number": payload + str(digit)},
    )
    assert right.status_code == 302
    letter.refresh_from_db()
    assert (letter.status, letter.article_number) == ("mailed", payload + str(digit))
