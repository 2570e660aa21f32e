"""Firms and the cases referred to them (arrears.legal), through the command line and the API:
a firm added, a referral to a firm that does not exist refused naming it, the run holding every
step of a referred account with rule `referred`, a case's steps recorded by the firm's users (a
paralegal nothing about money), another firm's users seeing nothing, a recall giving the
account back to the cycle. On the workspace's cast (`people`): A-OSCAR is with Hale & Co."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from arrears.access.services import user_add
from arrears.access.tests.people import (
    FIRM,
    OPERATOR,
    PASSWORD,
    TODAY,
    attorney_of_another_firm,
    cli,
)
from arrears.dunning.models import Action
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent
from arrears.legal.models import CaseEvent, Firm, Referral

pytestmark = pytest.mark.django_db


def _api(token: str, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    if method == "get":
        return client.get(url)
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_a_firm_is_added_with_its_terms_and_a_referral_to_an_unknown_firm_is_refused(
    people: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    # when the admin adds an agency with a 30% contingency
    code, out, err = cli(
        capsys,
        *("--as", "erin", "firm", "add", "Northgate Recovery", "--kind", "agency"),
        *("--contingency", "30", "--jurisdiction", "ca", "--format", "json"),
    )
    assert code == 0, err
    assert json.loads(out) == {
        "name": "Northgate Recovery",
        "kind": "agency",
        "contingency_percent": "30.00",
        "flat_fee": "0.00",
        "advances_court_costs": False,
        "jurisdictions": ["CA"],
        "email": "",
    }
    # then a second firm of the same name is refused
    code, _out, err = cli(capsys, "--as", "erin", "firm", "add", "northgate recovery")
    assert code == 2
    assert "exists already" in err
    # and a coordinator may not add one
    code, _out, err = cli(capsys, "--as", "alice", "firm", "add", "Other LLP")
    assert code == 2
    assert Firm.objects.filter(name="Other LLP").count() == 0
    # and a referral to a firm that does not exist is refused, naming it, and nothing is written
    code, _out, err = cli(capsys, "--as", "alice", "refer", "A-TINA", "--firm", "Nobody & Co")
    assert (code, err) == (2, "arrears refer: no firm is named Nobody & Co\n")
    assert not Referral.objects.filter(account__account_id="A-TINA").exists()
    # and the agency, which takes California only, is refused a New York lease
    code, _out, err = cli(
        capsys, "--as", "alice", "refer", "A-TINA", "--firm", "Northgate Recovery"
    )
    assert code == 2
    assert "does not take cases in NY" in err


def test_a_referred_account_is_held_by_the_run_until_its_case_is_recalled(
    people: Any, capsys: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    # given A-TINA referred to Hale & Co (JSON: the contract's keys)
    code, out, err = cli(
        capsys,
        *("--as", "alice", "refer", "A-TINA", "--firm", FIRM, "--format", "json"),
        *("--override", "the firm has the lease and the notices already"),
    )
    assert code == 0, err
    made = json.loads(out)
    assert set(made) == {"account_id", "firm", "case_id", "packet", "missing", "documents"}
    assert (made["account_id"], made["firm"]) == ("A-TINA", FIRM)
    case = Referral.objects.get(pk=made["case_id"])
    assert case.balance_referred == Decimal("1200.00")
    # when the run runs for the next days
    for day in (date(2026, 3, 27), date(2026, 4, 8)):
        cycle_run(on=day)
    # then every step of A-TINA was refused with rule `referred`, none done
    tina = Action.objects.filter(account__account_id="A-TINA")
    assert tina.exists()
    assert set(tina.values_list("status", "rule")) == {("refused", "referred")}
    # when the coordinator recalls the case
    book_clock(date(2026, 4, 8))
    code, out, err = cli(
        capsys,
        *("--as", "alice", "case", "update", str(case.pk), "--status", "recalled"),
        *("--on", "2026-04-08", "--note", "the tenant came in to pay"),
    )
    assert code == 0, err
    case.refresh_from_db()
    assert (case.status, case.withdrawn_on) == ("recalled", date(2026, 4, 8))
    # then the next run takes the account up again: something is not refused as referred
    cycle_run(on=date(2026, 4, 9))
    later = Action.objects.filter(account__account_id="A-TINA", run_on=date(2026, 4, 9))
    assert later.exclude(rule="referred").exists()


def test_the_firms_users_record_its_steps_and_another_firms_see_nothing(
    people: Any, capsys: Any, tokens: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    case = Referral.objects.get(account__account_id="A-OSCAR", firm=FIRM)
    user_add(
        username="paula",
        password=PASSWORD,
        role="paralegal",
        firm=FIRM,
        actor=OPERATOR,
        via="system",
    )
    attorney_of_another_firm("otto")
    # when the firm's paralegal marks it filed with an index number
    code, out, err = cli(
        capsys,
        *("--as", "paula", "case", "update", str(case.pk), "--status", "filed"),
        *("--index-number", "RG26-0101", "--court", "Alameda County Superior Court"),
        *("--on", "2026-03-26", "--format", "json"),
    )
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["status"], shown["index_number"]) == ("filed", "RG26-0101")
    # then a filing with no index number at all is refused
    other = Referral.objects.create(
        account=case.account, firm="Other Firm LLP", referred_on=TODAY, referred_by="alice"
    )
    code, _out, err = cli(
        capsys, "--as", "alice", "case", "update", str(other.pk), "--status", "filed"
    )
    assert (code, err) == (2, "arrears case: a filing needs its index number\n")
    # and the paralegal may not record a judgment (money), the attorney may
    code, _out, err = cli(
        capsys,
        *("--as", "paula", "case", "update", str(case.pk), "--status", "judgment"),
        *("--amount", "950.00"),
    )
    assert code == 2
    assert "paralegal" in err
    # a hearing ahead is on the case, dated ahead
    code, _out, err = cli(
        capsys,
        *("--as", "carol", "case", "update", str(case.pk), "--status", "hearing"),
        *("--on", "2026-04-15"),
    )
    assert code == 0, err
    case.refresh_from_db()
    assert case.hearing_on == date(2026, 4, 15)
    # and every change is an event and a timeline line
    assert list(
        CaseEvent.objects.filter(case=case).order_by("pk").values_list("status", flat=True)
    ) == [
        "sent",
        "filed",
        "hearing",
    ]
    assert TimelineEvent.objects.filter(account=case.account, kind="case.hearing").exists()
    # and an attorney of another firm sees none of it: 404 on the case, nothing in the list
    for token_of in ("otto",):
        token = tokens_for(token_of)
        assert _api(token, "get", f"/api/cases/{case.pk}").status_code == 404
        assert _api(token, "get", "/api/cases").json() == [
            r for r in _api(token, "get", "/api/cases").json() if r["firm"] == "Other Firm LLP"
        ]
        answer = _api(token, "post", f"/api/cases/{case.pk}/updates", {"status": "closed"})
        assert answer.status_code == 404
    code, _out, err = cli(capsys, "--as", "otto", "case", "show", str(case.pk))
    assert (code, err) == (2, f"arrears case: no case {case.pk}\n")
    # while the firm's attorney reads it through the API
    answer = _api(tokens["carol"], "get", f"/api/cases/{case.pk}")
    assert answer.status_code == 200
    assert answer.json()["hearing_on"] == "2026-04-15"


def tokens_for(username: str) -> str:
    from arrears.access.services import token_issue

    return token_issue(username=username, actor=OPERATOR, via="system")
