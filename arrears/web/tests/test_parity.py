"""One act, one service: each act done through the command line, the pages and the API writes
the same rows (transactions, actions, outbound, timeline, audit, and the act's own rows),
apart from who did it and through which interface.

Three equal leases at Elm Court (Brooklyn NY), A-CLI, A-WEB and A-API, each with 1,200.00 of
March rent unpaid by its tenant (Rita Moreno, three times over). Alice (a coordinator) does
each act once on each lease, on March 26, 2026: on A-CLI by `arrears --as alice …`, on A-WEB
by posting the account page's form (htmx, as the page does), on A-API with her API token. An
act an interface does not offer (a referral has no form, a notice no command) is compared
between the others; `docs/architecture.md` lists which interface offers which act.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.tests.people import FIRM, TODAY, signed_in, write_book
from arrears.cli import main
from arrears.correspondence.models import Outbound
from arrears.disputes.models import Dispute
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.dunning.models import Action, Hold
from arrears.dunning.selectors import notice_choices
from arrears.dunning.services import hold_place
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.ledger.services import book_import
from arrears.legal.models import Referral
from arrears.plans.models import Plan, Promise

pytestmark = pytest.mark.django_db

INTERFACES = ("cli", "web", "api")
LEASE = {"cli": "A-CLI", "web": "A-WEB", "api": "A-API"}
TAG = {"cli": "CLI", "web": "WEB", "api": "API"}


def _leases(folder: Any) -> Any:
    book: dict[str, list[dict[str, str]]] = {
        "parties": [],
        "accounts": [],
        "account_parties": [],
        "transactions": [],
    }
    for tag in TAG.values():
        book["parties"].append(
            {
                "party_id": f"P-{tag}",
                "name": "Rita Moreno",
                "email": f"rita-{tag.lower()}@example.org",
                "phone": "+17185550110",
                "language": "en",
                "address": "1 Elm Street, Apt 4A",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11201",
                "country": "US",
            }
        )
        book["accounts"].append(
            {
                "account_id": f"A-{tag}",
                "property_id": "ELM",
                "unit": "4A",
                "kind": "residential_lease",
                "opened": "2025-06-01",
                "rent": "1200.00",
            }
        )
        book["account_parties"].append(
            {"account_id": f"A-{tag}", "party_id": f"P-{tag}", "role": "primary"}
        )
        book["transactions"].append(
            {
                "txn_id": f"RENT-A-{tag}",
                "account_id": f"A-{tag}",
                "posted": "2026-03-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-03-01",
            }
        )
    return write_book(folder, book)


@dataclass(frozen=True)
class Act:
    """An act, its set-up on a lease (what it acts on: a hold, a plan, a dispute), and how each
    interface does it: the command's arguments, the page's (URL, form), the API's (URL, body);
    None where the interface does not offer it."""

    name: str
    cli: Callable[[str, Any], list[str]] | None
    web: Callable[[str, Any], tuple[str, dict[str, Any]]] | None
    api: Callable[[str, Any], tuple[str, dict[str, Any]]] | None
    setup: Callable[[str], Any] = lambda account_id: None


def _hold(account_id: str) -> int:
    return hold_place(
        account_id=account_id, reason="manual", on=TODAY, actor="alice", note="wait"
    ).pk


def _plan(account_id: str) -> int:
    return plan_create(
        account_id=account_id,
        on=TODAY,
        actor="alice",
        start=TODAY.replace(month=4, day=1),
        installments=3,
    ).pk


def _dispute(account_id: str) -> int:
    return dispute_open(
        account_id=account_id,
        reason="I was charged for a month I had moved out",
        on=TODAY,
        actor="alice",
        charges=[f"RENT-{account_id}"],
    ).pk


def _notice(account_id: str) -> str:
    account = Account.objects.get(account_id=account_id)
    return notice_choices(account=account, on=TODAY).templates[0]


NOTE = "Rita says the rent comes with her paycheck on April 3"
RESOLVED = {"outcome": "partial", "amount": "50.00", "note": "the move-out was on March 3"}
ACTS = [
    Act(
        "note.add",
        cli=lambda a, _: ["note", a, NOTE],
        web=lambda a, _: (f"/accounts/{a}/notes/", {"text": NOTE}),
        api=lambda a, _: (f"/api/accounts/{a}/notes", {"text": NOTE}),
    ),
    Act(
        "hold.place",
        cli=lambda a, _: [
            *("hold", a, "--reason", "cease", "--until", "2026-04-30", "--note", NOTE)
        ],
        web=lambda a, _: (
            f"/accounts/{a}/holds/",
            {"reason": "cease", "until": "2026-04-30", "note": NOTE, "party_id": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/holds",
            {"reason": "cease", "until": "2026-04-30", "note": NOTE},
        ),
    ),
    Act(
        "hold.release",
        setup=_hold,
        cli=lambda a, hold: ["release", a, "--hold", str(hold)],
        web=lambda a, hold: (f"/accounts/{a}/holds/{hold}/release/", {}),
        api=lambda a, hold: (f"/api/accounts/{a}/holds/{hold}/release", {}),
    ),
    Act(
        "referral.make",
        cli=lambda a, _: ["refer", a, "--firm", FIRM, "--note", NOTE],
        web=None,  # the pages have no referral form
        api=lambda a, _: (f"/api/accounts/{a}/referrals", {"firm": FIRM, "note": NOTE}),
    ),
    Act(
        "call.log",
        cli=lambda a, _: [
            *("call", "log", a, "--party", f"P{a[1:]}", "--outcome", "promise"),
            *("--at", "2026-03-26T11:00", "--note", NOTE),
        ],
        web=lambda a, _: (
            f"/accounts/{a}/calls/",
            {"party_id": f"P{a[1:]}", "outcome": "promise", "at": "2026-03-26T11:00", "note": NOTE},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/calls",
            {"party_id": f"P{a[1:]}", "outcome": "promise", "at": "2026-03-26T11:00", "note": NOTE},
        ),
    ),
    Act(
        "promise.record",
        cli=lambda a, _: ["promise", "add", a, "--amount", "400.00", "--date", "2026-04-03"],
        web=lambda a, _: (
            f"/accounts/{a}/promises/",
            {"amount": "400.00", "promised_on": "2026-04-03", "party_id": "", "channel": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/promises",
            {"amount": "400.00", "promised_on": "2026-04-03"},
        ),
    ),
    Act(
        "plan.create",
        cli=lambda a, _: ["plan", "create", a, "--start", "2026-04-01", "--installments", "3"],
        web=lambda a, _: (
            f"/accounts/{a}/plans/",
            {"start": "2026-04-01", "installments": "3", "frequency": "monthly", "down": ""},
        ),
        api=lambda a, _: (f"/api/accounts/{a}/plans", {"start": "2026-04-01", "installments": 3}),
    ),
    Act(
        "plan.cancel",
        setup=_plan,
        cli=lambda a, plan: ["plan", "cancel", str(plan), "--reason", "she moved out"],
        web=lambda a, plan: (f"/accounts/{a}/plans/{plan}/cancel/", {"reason": "she moved out"}),
        api=lambda a, plan: (
            f"/api/accounts/{a}/plans/{plan}/cancel",
            {"reason": "she moved out"},
        ),
    ),
    Act(
        "dispute.open",
        cli=lambda a, _: [
            *("dispute", "open", a, "--charge", f"RENT-{a}", "--reason", "moved out")
        ],
        web=lambda a, _: (
            f"/accounts/{a}/disputes/",
            {"reason": "moved out", "charges": [f"RENT-{a}"], "party_id": "", "channel": ""},
        ),
        api=lambda a, _: (
            f"/api/accounts/{a}/disputes",
            {"reason": "moved out", "charges": [f"RENT-{a}"]},
        ),
    ),
    Act(
        "dispute.resolve",
        setup=_dispute,
        cli=lambda a, d: [
            *("dispute", "resolve", str(d), "--outcome", "partial", "--amount", "50.00"),
            *("--note", RESOLVED["note"]),
        ],
        web=lambda a, d: (f"/accounts/{a}/disputes/{d}/resolve/", RESOLVED),
        api=lambda a, d: (f"/api/accounts/{a}/disputes/{d}/resolve", RESOLVED),
    ),
    Act(
        "notice.send",
        setup=_notice,
        cli=None,  # no command sends a notice now: the daily run sends the policy's
        web=lambda a, t: (
            f"/accounts/{a}/notices/",
            {"template": t, "channel": "letter", "party_id": ""},
        ),
        api=lambda a, t: (f"/api/accounts/{a}/notices", {"template": t, "channel": "letter"}),
    ),
    Act(
        "statement.send",
        cli=lambda a, out: ["statement", a, "--output", str(out / f"statement-{a}.pdf")],
        web=lambda a, _: (f"/accounts/{a}/statement/", {}),
        api=lambda a, _: (f"/api/accounts/{a}/statement", {"email": False}),
    ),
]


def _do(interface: str, act: Act, account_id: str, given: Any, people: Any, token: str) -> None:
    if interface == "cli":
        assert act.cli is not None
        assert main(["--as", "alice", *act.cli(account_id, given)]) == 0
        return
    if interface == "web":
        assert act.web is not None
        url, form = act.web(account_id, given)
        response = signed_in(people["alice"]).post(url, form, HTTP_HX_REQUEST="true")
    else:
        assert act.api is not None
        url, body = act.api(account_id, given)
        response = Client().post(
            url,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    assert response.status_code in (200, 201), response.content.decode()[:500]
    if interface == "web":
        assert b'class="error"' not in response.content, response.content.decode()[:2000]


# What is not the act's: the rows' own ids and the links between them, when they were
# written, who wrote them and through which interface.
# A row's place in the whole book (`book_position`) is where the other leases' rows left it.
DROPPED = {"id", "at", "actor", "made_by", "created_by", "referred_by", "username", "via", "ip"}
DROPPED |= {"book_position"}
OWN_IDS = {"hold", "plan", "dispute", "promise", "referral", "letter", "outbound", "event"}
OWN_IDS |= {f"{name}_id" for name in OWN_IDS}
# A document's digest, and the short one in its name: of a document that names its lease.
DIGEST = re.compile(r"\b[0-9a-f]{10,64}\b")


def _generic(value: Any, tag: str, ids: set[int]) -> Any:
    """`value` with the lease's own names (A-CLI, P-CLI, rita-cli@…) and its rows' ids made
    generic."""
    if isinstance(value, dict):
        return {
            k: "N" if k in OWN_IDS and isinstance(v, int) else _generic(v, tag, ids)
            for k, v in value.items()
            if k not in DROPPED
            and not k.endswith("_at")
            and not (k.endswith("_id") and isinstance(v, int))
        }
    if isinstance(value, list):
        return [_generic(v, tag, ids) for v in value]
    if isinstance(value, str):
        text = value.replace(f"-{tag}", "-X").replace(f"-{tag.lower()}@", "-x@")
        text = DIGEST.sub("H", text)
        for n in sorted(ids, reverse=True):
            # an id in a key (dispute:12:answer), a letter's name (L12), a sentence (plan 12)
            named = rf"(:|#|\bL|\b[Hh]old |\b[Pp]lan |\b[Dd]ispute ){n}\b(?![.-]\d)"
            text = re.sub(rf"-{n}-", "-N-", re.sub(named, r"\1N", text))
        return text
    return value


def _rows(account_id: str, tag: str, verb: str) -> dict[str, Any]:
    """What the act wrote on one lease, made generic."""
    mine = {"account__account_id": account_id}
    tables: dict[str, Any] = {
        "transactions": Transaction.objects.filter(**mine),
        "actions": Action.objects.filter(**mine),
        "outbound": Outbound.objects.filter(**mine),
        "timeline": TimelineEvent.objects.filter(**mine),
        "holds": Hold.objects.filter(**mine),
        "promises": Promise.objects.filter(**mine),
        "plans": Plan.objects.filter(**mine),
        "disputes": Dispute.objects.filter(**mine),
        "referrals": Referral.objects.filter(**mine),
        "audit": AuditEntry.objects.filter(account_id=account_id, verb=verb),
    }
    rows = {name: list(query.order_by("id").values()) for name, query in tables.items()}
    own = ("holds", "plans", "disputes", "promises", "referrals", "outbound")
    ids = {r["id"] for name in own for r in rows[name]}
    return _generic(json.loads(json.dumps(rows, default=str)), tag, ids)


@pytest.fixture
def leases(people: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    book_import(_leases(tmp_path / "leases"))
    monkeypatch.delenv("ARREARS_USER", raising=False)


@pytest.mark.parametrize("act", ACTS, ids=[a.name for a in ACTS])
def test_an_act_done_by_the_cli_the_page_and_the_api_writes_the_same_rows(
    act: Act, leases: None, people: Any, tokens: Any, tmp_path: Any
) -> None:
    # given three equal leases, each with what the act works on
    offered = [i for i in INTERFACES if getattr(act, i) is not None]
    assert len(offered) >= 2, "an act of one interface has nothing to be compared with"
    given = {i: act.setup(LEASE[i]) for i in offered}
    if act.name == "statement.send":
        given["cli"] = tmp_path
    # when Alice does it once through each interface
    for interface in offered:
        _do(interface, act, LEASE[interface], given[interface], people, tokens["alice"])
    # then each lease has the same rows written, apart from who did it and through what
    rows = {i: _rows(LEASE[i], TAG[i], act.name) for i in offered}
    first = rows[offered[0]]
    assert first["audit"], f"{act.name} wrote no audit row"
    for interface in offered[1:]:
        for table, written in first.items():
            assert rows[interface][table] == written, f"{act.name}: {interface} {table}"
    # and the audit says who, through which interface
    vias = dict(
        AuditEntry.objects.filter(verb=act.name, account_id__in=LEASE.values()).values_list(
            "account_id", "via"
        )
    )
    assert vias == {LEASE[i]: i for i in offered}
