"""One act, one service, for the acts that are not on one lease: the admin's changes to users and
their API tokens (the command line and the admin's pages; the API has none), the import of a
book and the daily run (the command line and the API; the pages have neither), the closing of a
month and its reopening (all three). Each interface writes the same rows, apart from who did it
and through which interface.

Erin (the admin) changes one user through each interface: nina-CLI by `arrears --as erin user …`,
nina-WEB on the admin's pages. She imports a new lease through each: A-NEW-CLI from
`import-CLI.zip` by `arrears --as erin import`, A-NEW-API from `import-API.zip` uploaded to
`POST /api/imports`. Alice (a coordinator) runs the day, and its dry run, through each, and
Dave (the controller) closes February, and reopens it, through the command line, the periods
page and the API: each on the same book, each change undone before the next (its own
savepoint). No EMAIL_URL is set, as the command sends the run's emails at once when there is
one and the API never does (docs/architecture.md, "Where the interfaces still differ").
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from arrears.access.models import ApiToken, Profile
from arrears.access.services import period_close, token_issue, user_add
from arrears.access.tests.people import FIRM, OPERATOR, TODAY, signed_in, write_book
from arrears.cli import main
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action, ContactAttempt, Hold, RunLog
from arrears.ledger.models import (
    Account,
    AccountParty,
    BookImport,
    OpenItem,
    Party,
    PeriodEvent,
    TimelineEvent,
    Transaction,
)
from arrears.ledger.services import book_import
from arrears.legal.models import Firm, Meeting, Referral
from arrears.moveout.models import Refund
from arrears.moveout.refunds import refund_approve, refunds_propose
from arrears.moveout.services import moveout_record
from arrears.reports.models import Subscription
from arrears.web.tests.parity import (
    INTERFACES,
    OFFERED,
    TAG,
    audit_generic,
    audit_last,
    audit_since,
    generic,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "hudson-yards-rent-2026"


def _pk(username: str) -> int:
    return int(get_user_model().objects.get(username=username).pk)


def _nina(username: str) -> int:
    """Nina, a coordinator, with two API tokens: the id of the first."""
    user_add(
        username=username,
        password="nina-first-password-2026",
        role="coordinator",
        actor=OPERATOR,
        via="system",
    )
    token_issue(username=username, actor=OPERATOR, via="system")
    token_issue(username=username, actor=OPERATOR, via="system")
    return int(ApiToken.objects.filter(user__username=username).order_by("id")[0].pk)


@dataclass(frozen=True)
class UserAct:
    """An admin's change to a user, through the command (its arguments, and what it reads on
    standard input) and the page (its URL and form); `setup` makes the user first."""

    name: str
    cli: Callable[[str, Any], list[str]]
    web: Callable[[str, Any], tuple[str, dict[str, Any]]]
    stdin: str = ""
    setup: Callable[[str], Any] = lambda username: None


TWICE = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
USER_ACTS = [
    UserAct(
        "user.add",
        cli=lambda u, _: ["user", "add", u, "--role", "manager", "--properties", "ELM"],
        web=lambda u, _: (
            "/admin/users/",
            {"username": u, **TWICE, "role": "manager", "properties": ["ELM"], "firm": ""},
        ),
        stdin=NEW_PASSWORD + "\n",
    ),
    UserAct(
        "user.password",
        setup=_nina,
        cli=lambda u, _: ["user", "password", u],
        web=lambda u, _: (f"/admin/users/{_pk(u)}/password/", TWICE),
        stdin=NEW_PASSWORD + "\n",
    ),
    UserAct(
        "token.issue",
        setup=_nina,
        cli=lambda u, _: ["user", "token", u],
        web=lambda u, _: (f"/admin/users/{_pk(u)}/token/", {}),
    ),
    UserAct(
        "token.revoke",
        setup=_nina,
        cli=lambda u, token: ["user", "revoke", u, "--token", str(token)],
        web=lambda u, token: (f"/admin/users/{_pk(u)}/tokens/{token}/revoke/", {}),
    ),
]

# Each act of this module and the interfaces its case runs it through (`test_parity_table`
# holds them to the table of acts).
CASES = {
    **{a.name: ("cli", "web") for a in USER_ACTS},
    "import": ("cli", "api"),
    "run": ("cli", "api"),
}


def _user_rows(username: str, tag: str, audit: list[dict[str, Any]]) -> dict[str, Any]:
    """The user as the act left them (their password: the new one or not), their role and
    scope, their tokens, and the act's audit rows, made generic."""
    user = get_user_model().objects.get(username=username)
    profile = Profile.objects.get(user=user)
    tokens = ApiToken.objects.filter(user=user).order_by("id")
    rows = {
        "user": {
            "name": user.username,  # `username` is the actor's, which `generic` leaves out
            "active": user.is_active,
            "staff": user.is_staff,
            "superuser": user.is_superuser,
            "password_is_new": user.check_password(NEW_PASSWORD),
        },
        "profile": {
            "role": profile.role,
            "firm": profile.firm,
            "properties": sorted(profile.properties.values_list("property_id", flat=True)),
        },
        "tokens": [
            {"revoked": t.revoked_at is not None, "used": t.last_used_at is not None}
            for t in tokens
        ],
    }
    ids = {t.pk for t in tokens}
    return {**generic(rows, tag, ids), "audit": audit_generic(audit, tag, ids)}


@pytest.mark.parametrize("act", USER_ACTS, ids=[a.name for a in USER_ACTS])
def test_a_change_to_a_user_made_by_the_cli_and_the_page_writes_the_same_rows(
    act: UserAct, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a user for each interface (or, to add one, a name)
    assert set(OFFERED[act.name]) == set(CASES[act.name])
    users = {i: f"nina-{TAG[i]}" for i in CASES[act.name]}
    given = {i: act.setup(users[i]) for i in users}
    audit = {}
    # when Erin makes the change through the command line
    last = audit_last()
    monkeypatch.setattr(sys, "stdin", io.StringIO(act.stdin))
    assert main(["--as", "erin", *act.cli(users["cli"], given["cli"])]) == 0
    audit["cli"] = audit_since(last, act.name)
    # and through the admin's pages
    last = audit_last()
    url, form = act.web(users["web"], given["web"])
    response = signed_in(people["erin"]).post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    audit["web"] = audit_since(last, act.name)
    # then both users are changed alike, and the audit says who, through which interface
    rows = {i: _user_rows(users[i], TAG[i], audit[i]) for i in users}
    assert rows["cli"]["audit"], f"{act.name} wrote no audit row"
    for table, written in rows["cli"].items():
        assert rows["web"][table] == written, f"{act.name}: web {table}"
    vias = {i: [(row["username"], row["via"]) for row in audit[i]] for i in users}
    assert vias == {"cli": [("erin", "cli")], "web": [("erin", "web")]}


def _new_lease(folder: Path, tag: str) -> bytes:
    """A book of one new lease at Elm Court, A-NEW-<tag>, zipped: what an admin imports."""
    book = {
        "parties": [
            {
                "party_id": f"P-NEW-{tag}",
                "name": "Hector Alvarez",
                "email": f"hector-{tag.lower()}@example.org",
                "phone": "+17185550177",
                "language": "es",
                "address": "1 Elm Street, Apt 5C",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11201",
                "country": "US",
            }
        ],
        "accounts": [
            {
                "account_id": f"A-NEW-{tag}",
                "property_id": "ELM",
                "unit": "5C",
                "kind": "residential_lease",
                "opened": "2026-03-01",
                "rent": "1350.00",
            }
        ],
        "account_parties": [
            {"account_id": f"A-NEW-{tag}", "party_id": f"P-NEW-{tag}", "role": "primary"}
        ],
        "transactions": [
            {
                "txn_id": f"RENT-A-NEW-{tag}-03",
                "account_id": f"A-NEW-{tag}",
                "posted": "2026-03-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1350.00",
                "due": "2026-03-01",
            },
            {
                "txn_id": f"PAY-A-NEW-{tag}-03",
                "account_id": f"A-NEW-{tag}",
                "posted": "2026-03-05",
                "type": "payment",
                "code": "PAYMENT",
                "amount": "500.00",
            },
        ],
    }
    csvs = write_book(folder / tag, book)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for path in sorted(csvs.iterdir()):
            archive.write(path, path.name)
    return data.getvalue()


def _lease_rows(tag: str, audit: list[dict[str, Any]], imports: list[Any]) -> dict[str, Any]:
    """The imported lease's rows, the import's record and its audit rows, made generic."""
    mine = {"account__account_id": f"A-NEW-{tag}"}
    tables: dict[str, Any] = {
        "accounts": Account.objects.filter(account_id=f"A-NEW-{tag}"),
        "parties": Party.objects.filter(party_id=f"P-NEW-{tag}"),
        "account_parties": AccountParty.objects.filter(**mine),
        "transactions": Transaction.objects.filter(**mine),
        "open_items": OpenItem.objects.filter(**mine),
        "timeline": TimelineEvent.objects.filter(**mine),
    }
    rows = {name: list(query.order_by("id").values()) for name, query in tables.items()}
    rows["imports"] = imports
    written = generic(json.loads(json.dumps(rows, default=str)), tag, set())
    return {**written, "audit": audit_generic(audit, tag, set())}


def test_an_import_by_the_cli_and_by_the_api_writes_the_same_rows(
    people: Any, tokens: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a new lease's book for each interface, as a .zip (the upload takes no folder)
    assert set(OFFERED["import"]) == set(CASES["import"])
    monkeypatch.chdir(tmp_path)
    for tag in ("CLI", "API"):
        (tmp_path / f"import-{tag}.zip").write_bytes(_new_lease(tmp_path / "books", tag))
    audit, imports = {}, {}
    # when Erin imports one by the command line, the other by the API
    last, since = audit_last(), BookImport.objects.count()
    assert main(["--as", "erin", "import", "import-CLI.zip"]) == 0
    audit["cli"] = audit_since(last, "import")
    imports["cli"] = list(BookImport.objects.order_by("id").values()[since:])
    last, since = audit_last(), BookImport.objects.count()
    upload = SimpleUploadedFile("import-API.zip", (tmp_path / "import-API.zip").read_bytes())
    response = Client().post(
        "/api/imports", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {tokens['erin']}"
    )
    assert response.status_code == 201, response.content.decode()[:500]
    audit["api"] = audit_since(last, "import")
    imports["api"] = list(BookImport.objects.order_by("id").values()[since:])
    assert response.json()["summary"].startswith("Imported import-API.zip:")
    # then each lease is written alike, and the import says what file it came from
    rows = {i: _lease_rows(TAG[i], audit[i], imports[i]) for i in ("cli", "api")}
    assert rows["cli"]["transactions"], "the import wrote no transaction"
    assert rows["cli"]["audit"], "the import wrote no audit row"
    for table, written in rows["cli"].items():
        assert rows["api"][table] == written, f"import: api {table}"
    vias = {i: [(row["username"], row["via"]) for row in audit[i]] for i in ("cli", "api")}
    assert vias == {"cli": [("erin", "cli")], "api": [("erin", "api")]}


@dataclass(frozen=True)
class BookAct:
    """An act on the whole book, done by `who` through each interface that offers it (the
    command's arguments, the page's URL and form, the API's route and body), each on the book
    as `setup` left it: its own savepoint, undone after. `writes` names a table the act must
    write to (none: it writes only its audit row)."""

    name: str
    verb: str
    who: str
    cli: list[str]
    web: tuple[str, dict[str, Any]] | None = None
    api: tuple[str, dict[str, Any]] | None = None
    writes: str = ""
    setup: Callable[[], Any] = lambda: None
    # what the page answers on success: a redirect, or the file it downloads (200)
    web_status: int = 302
    # the audit detail's keys the interfaces say differently on purpose (where a file went)
    differs: frozenset[str] = frozenset()


def _february_closed() -> Any:
    return period_close(month=date(2026, 2, 1), on=TODAY, actor=OPERATOR, via="system")


DAY = TODAY.isoformat()
REOPENED = "a February rent payment came in late"
BOOK_ACTS = [
    BookAct(
        "run",
        "run.real",
        "alice",
        cli=["run", "--date", DAY],
        api=("/api/runs", {"date": DAY, "dry_run": False}),
        writes="actions",
    ),
    BookAct(
        "run",
        "run.dry",
        "alice",
        cli=["run", "--date", DAY, "--dry-run"],
        api=("/api/runs", {"date": DAY, "dry_run": True}),
    ),
    BookAct(
        "period.close",
        "period.close",
        "dave",
        cli=["period", "close", "2026-02"],
        web=("/periods/", {"act": "close", "month": "2026-02"}),
        api=("/api/periods/close", {"month": "2026-02"}),
        writes="periods",
    ),
    BookAct(
        "period.reopen",
        "period.reopen",
        "dave",
        setup=_february_closed,
        cli=["period", "reopen", "2026-02", "--reason", REOPENED],
        web=("/periods/", {"act": "reopen", "month": "2026-02", "reason": REOPENED}),
        api=("/api/periods/reopen", {"month": "2026-02", "reason": REOPENED}),
        writes="periods",
    ),
]


def _credit_proposed() -> str:
    """Tina pays 1,500.00 on March 20th on her 1,200.00 and moves out that day: a credit of
    300.00, proposed as a refund (`{refund}` in an act's arguments is its id). (An open lease's
    credit is rent paid ahead, not a refund.)"""
    book_import(
        write_book(
            Path(tempfile.mkdtemp(prefix="parity-refund-")),
            {
                "transactions": [
                    {
                        "txn_id": "T-TINA-OVER",
                        "account_id": "A-TINA",
                        "posted": "2026-03-20",
                        "type": "payment",
                        "amount": "1500.00",
                    }
                ]
            },
        )
    )
    moveout_record(account_id="A-TINA", on=date(2026, 3, 20), actor="alice", today=TODAY)
    (made,) = refunds_propose(today=TODAY, actor="system:pytest")
    return made.refund_id


def _refund_approved() -> str:
    refund_id = _credit_proposed()
    refund_approve(refund_id=refund_id, on=TODAY, actor="dave", today=TODAY)
    return refund_id


REFUND = "{refund}"
BOOK_ACTS += [
    BookAct(
        "refund.approve",
        "refund.approve",
        "dave",
        setup=_credit_proposed,
        cli=["refund", "approve", REFUND],
        web=(f"/refunds/{REFUND}/approve/", {}),
        api=(f"/api/refunds/{REFUND}/approve", {}),
        writes="refunds",
    ),
    BookAct(
        "refund.reject",
        "refund.reject",
        "dave",
        setup=_credit_proposed,
        cli=["refund", "reject", REFUND, "--reason", "paid by check already"],
        web=(f"/refunds/{REFUND}/reject/", {"reason": "paid by check already"}),
        api=(f"/api/refunds/{REFUND}/reject", {"reason": "paid by check already"}),
        writes="refunds",
    ),
    BookAct(
        "refund.export",
        "refund.export",
        "dave",
        setup=_refund_approved,
        cli=[
            "refund",
            "export",
            "--output",
            str(Path(tempfile.gettempdir()) / "parity-payables.csv"),
        ],
        web=("/refunds/export/", {}),
        api=("/api/refunds/export", {}),
        writes="refunds",
        web_status=200,
        differs=frozenset({"output"}),
    ),
]
BOOK_ACTS += [
    BookAct(
        "firm.add",
        "firm.add",
        "erin",
        cli=[
            *("firm", "add", "Stone & Reyes LLP", "--kind", "law", "--contingency", "30"),
            *("--flat-fee", "150.00", "--jurisdiction", "NY", "--email", "cases@stonereyes.test"),
        ],
        api=(
            "/api/firms",
            {
                "name": "Stone & Reyes LLP",
                "kind": "law",
                "contingency_percent": "30",
                "flat_fee": "150.00",
                "jurisdictions": ["NY"],
                "email": "cases@stonereyes.test",
            },
        ),
        writes="firms",
    ),
]
CASE = "{case}"


def _oscars_case() -> str:
    return str(Referral.objects.get(account__account_id="A-OSCAR").pk)


BOOK_ACTS += [
    BookAct(
        "minutes.record",
        "minutes.record",
        "alice",
        setup=_oscars_case,
        cli=[
            *("legal", "minutes", "--firm", FIRM, "--month", "2026-03", "--on", "2026-03-26"),
            *("--case", f"{CASE}:the tenant asks for an adjournment"),
        ],
        web=(
            "/cases/agenda/minutes/",
            {
                "firm": FIRM,
                "month": "2026-03",
                "held_on": "2026-03-26",
                f"minutes-{CASE}": "the tenant asks for an adjournment",
            },
        ),
        writes="meetings",
    ),
]
SUBSCRIPTION = "{subscription}"


def _bobs_subscription(active: bool = True) -> str:
    """Bob's over-60, weekly on Mondays, as the operator subscribed him (paused: not active)."""
    from arrears.access.acting import By
    from arrears.access.acts_subscriptions import subscription_add, subscription_change

    made = subscription_add(
        by=By(OPERATOR, "system"),
        report="over-60",
        recipients=["bob"],
        every="weekly:mon",
        format="csv",
    )
    if not active:
        subscription_change(by=By(OPERATOR, "system"), subscription_id=made.pk, active=False)
    return str(made.pk)


SUBSCRIBED = "/reports/subscriptions/"
BOOK_ACTS += [
    BookAct(
        "subscription.add",
        "subscription.add",
        "dave",
        cli=[
            *("subscription", "add", "over-60", "--to", "alice,bob"),
            *("--every", "monthly:1", "--format", "csv"),
        ],
        web=(
            SUBSCRIBED,
            {"report": "over-60", "to": "alice,bob", "every": "monthly:1", "format": "csv"},
        ),
        api=(
            "/api/subscriptions",
            {"report": "over-60", "to": ["alice", "bob"], "every": "monthly:1", "format": "csv"},
        ),
        writes="subscriptions",
    ),
    BookAct(
        "subscription.change",
        "subscription.change",
        "bob",
        setup=_bobs_subscription,
        cli=["subscription", "pause", SUBSCRIPTION],
        web=(f"{SUBSCRIBED}{SUBSCRIPTION}/pause/", {}),
        api=(f"/api/subscriptions/{SUBSCRIPTION}/pause", {}),
        writes="subscriptions",
    ),
    BookAct(
        "subscription.change",
        "subscription.change",
        "dave",
        setup=lambda: _bobs_subscription(active=False),
        cli=["subscription", "resume", SUBSCRIPTION],
        web=(f"{SUBSCRIBED}{SUBSCRIPTION}/resume/", {}),
        api=(f"/api/subscriptions/{SUBSCRIPTION}/resume", {}),
        writes="subscriptions",
    ),
    BookAct(
        "subscription.remove",
        "subscription.remove",
        "dave",
        setup=_bobs_subscription,
        cli=["subscription", "remove", SUBSCRIPTION],
        web=(f"{SUBSCRIBED}{SUBSCRIPTION}/remove/", {}),
        api=(f"/api/subscriptions/{SUBSCRIPTION}/remove", {}),
        writes="subscriptions",
    ),
]
CASES |= {a.name: tuple(i for i in INTERFACES if getattr(a, i) is not None) for a in BOOK_ACTS}


def _book_rows(
    audit: list[dict[str, Any]], differs: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Every row these acts may write, over the whole book, and its audit rows, made generic."""
    tables: dict[str, Any] = {
        "transactions": Transaction.objects.all(),
        "actions": Action.objects.all(),
        "outbound": Outbound.objects.all(),
        "timeline": TimelineEvent.objects.all(),
        "holds": Hold.objects.all(),
        "attempts": ContactAttempt.objects.all(),
        "runs": RunLog.objects.all(),
        "periods": PeriodEvent.objects.all(),
        "refunds": Refund.objects.all(),
        "firms": Firm.objects.all(),
        "meetings": Meeting.objects.all(),
        "subscriptions": Subscription.objects.all(),
    }
    rows = {name: list(query.order_by("id").values()) for name, query in tables.items()}
    ids = {r["id"] for name in ("outbound", "holds") for r in rows[name]}
    written = generic(json.loads(json.dumps(rows, default=str)), "", ids)
    return {**written, "audit": audit_generic(audit, "", ids, differs)}


def _through(interface: str, act: BookAct, people: Any, tokens: Any, made: Any) -> None:
    def fill(text: str) -> str:
        if not isinstance(made, str):
            return text
        return text.replace(REFUND, made).replace(CASE, made).replace(SUBSCRIPTION, made)

    if interface == "cli":
        assert main(["--as", act.who, *[fill(word) for word in act.cli]]) == 0
        return
    if interface == "web":
        assert act.web is not None
        url, form = act.web
        filled = {fill(k): fill(v) if isinstance(v, str) else v for k, v in form.items()}
        response = signed_in(people[act.who]).post(fill(url), filled)
        assert response.status_code == act.web_status, response.content.decode()[:2000]
        return
    assert act.api is not None
    url, body = act.api
    url = fill(url)
    response = Client().post(
        url,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens[act.who]}",
    )
    assert response.status_code in (200, 201), response.content.decode()[:500]


@pytest.mark.parametrize("act", BOOK_ACTS, ids=[a.verb for a in BOOK_ACTS])
def test_an_act_on_the_book_writes_the_same_rows_through_each_interface(
    act: BookAct, people: Any, tokens: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the book, on March 26, with no EMAIL_URL: the command's run sends no email either
    assert set(OFFERED[act.name]) == set(CASES[act.name])
    settings.EMAIL_URL = ""
    monkeypatch.delenv("ARREARS_USER", raising=False)
    made = act.setup()
    rows = {}
    # when the act is done through each interface, each on the book as it was
    for interface in CASES[act.name]:
        with transaction.atomic():
            last = audit_last()
            _through(interface, act, people, tokens, made)
            audit = audit_since(last, act.verb)
            rows[interface] = _book_rows(audit, act.differs)
            assert [(row["username"], row["via"]) for row in audit] == [(act.who, interface)]
            transaction.set_rollback(True)
    # then each wrote the same rows
    first, *others = CASES[act.name]
    assert rows[first]["audit"], f"{act.verb} wrote no audit row"
    if act.writes:
        assert rows[first][act.writes], f"{act.verb} wrote no {act.writes}"
    for interface in others:
        for table, written in rows[first].items():
            assert rows[interface][table] == written, f"{act.verb}: {interface} {table}"
