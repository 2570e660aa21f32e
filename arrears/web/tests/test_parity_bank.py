"""One act, one service, for bank files (arrears.access.acts_bank): Alice imports a statement
and decides its review lines (assign one, split one, mark one not ours) through the command
line, the review page (its upload form, then its decision forms) and the API,
each on the same book and undone before the next (its own savepoint); each writes the same bank
lines, payments, timeline rows and audit rows, apart from who and how (and the file's name, the
path or the upload's; the line's own id)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from arrears.access.services import SystemActor, token_issue
from arrears.access.tests.people import cli, signed_in
from arrears.banking.models import BankLine
from arrears.banking.tests.make import bai2
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.web.tests.parity import OFFERED, audit_generic, audit_last, audit_since

pytestmark = pytest.mark.django_db

# The bank's acts and the interfaces their cases run them through (test_parity_table.py).
CASES = {
    "bank.import": ("cli", "web", "api"),
    "bank.review.assign": ("cli", "web", "api"),
    "bank.review.split": ("cli", "web", "api"),
    "bank.review.not_ours": ("cli", "web", "api"),
}

STATEMENT = bai2(
    "16,165,50000,,P-1,,RENT A-TINA/",
    "16,165,95000,,P-2,,UNIT 12/",
    "16,165,1000,,P-3,,TWO TENANTS/",
    "16,165,77,,P-4,,INTEREST/",
)


def _through(interface: str, people: dict[str, Any], capsys: Any, path: Path) -> None:
    ids = {
        line.reference: line.pk
        for line in BankLine.objects.all()  # none yet: looked up after the import
    }
    if interface == "web":  # the page's upload form, then its decisions
        page = signed_in(people["alice"])
        upload = SimpleUploadedFile(path.name, path.read_bytes())
        answer = page.post("/bank/import/", {"file": upload, "file_format": "auto"})
        assert answer.status_code == 302, answer.content.decode()[-2000:]
        ids = dict(BankLine.objects.values_list("reference", "pk"))
        assert page.get("/bank/review/").status_code == 200
        for url, form in (
            (f"/bank/review/{ids['P-2']}/assign/", {"account_id": "A-OSCAR"}),
            (f"/bank/review/{ids['P-3']}/split/", {"parts": "A-TINA 6.00\nA-OSCAR:4"}),
            (f"/bank/review/{ids['P-4']}/not-ours/", {"note": "interest"}),
        ):
            answer = page.post(url, form)
            assert answer.status_code == 302, answer.content.decode()[-2000:]
        return
    if interface == "cli":
        assert cli(capsys, "--as", "alice", "bank", "import", str(path))[0] == 0
        ids = dict(BankLine.objects.values_list("reference", "pk"))
        review = ("--as", "alice", "bank", "review")
        assert cli(capsys, *review, "assign", str(ids["P-2"]), "A-OSCAR")[0] == 0
        words = ("split", str(ids["P-3"]), "A-TINA:6.00", "A-OSCAR:4.00")
        assert cli(capsys, *review, *words)[0] == 0
        assert cli(capsys, *review, "not-ours", str(ids["P-4"]), "--note", "interest")[0] == 0
        return
    token = token_issue(username="alice", actor=SystemActor("pytest"), via="system")
    client: Any = signed_in(people["alice"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    answer = client.post("/api/bank/imports", {"file": upload}, **auth)
    assert answer.status_code == 201, answer.content
    ids = dict(BankLine.objects.values_list("reference", "pk"))

    def post(url: str, body: dict[str, Any]) -> None:
        reply = client.post(url, json.dumps(body), content_type="application/json", **auth)
        assert reply.status_code == 200, reply.content

    post(f"/api/bank/review/{ids['P-2']}/assign", {"account_id": "A-OSCAR"})
    parts = [{"account_id": "A-TINA", "amount": "6.00"}, {"account_id": "A-OSCAR", "amount": "4"}]
    post(f"/api/bank/review/{ids['P-3']}/split", {"parts": parts})
    post(f"/api/bank/review/{ids['P-4']}/not-ours", {"note": "interest"})


def test_the_command_and_the_api_import_and_decide_the_same(
    people: dict[str, Any], capsys: Any, tmp_path: Path
) -> None:
    for name in CASES:
        assert set(OFFERED[name]) == set(CASES[name])
    path = tmp_path / "statement.bai2"
    path.write_bytes(STATEMENT)
    seen = {}
    for interface in ("cli", "web", "api"):
        last = audit_last()
        with transaction.atomic():
            _through(interface, people, capsys, path)
            lines = list(
                BankLine.objects.order_by("reference").values_list(
                    "reference", "status", "account__account_id", "rule", "txn_ids", "note"
                )
            )
            payments = list(
                Transaction.objects.filter(type="payment")
                .order_by("txn_id")
                .values_list("txn_id", "account__account_id", "amount", "reference")
            )
            timeline = list(
                TimelineEvent.objects.filter(kind__startswith="bank.")
                .order_by("kind", "summary")
                .values_list("account__account_id", "kind", "summary", "actor")
            )
            rows = audit_since(last, "bank.import") + audit_since(last, "bank.review")
            seen[interface] = (
                lines,
                payments,
                timeline,
                audit_generic(rows, "", set(), frozenset({"file", "line"})),
            )
            transaction.set_rollback(True)
    assert seen["cli"] == seen["web"] == seen["api"]
    lines, payments, _timeline, rows = seen["cli"]
    assert [(ln[0], ln[1]) for ln in lines] == [
        ("P-1", "auto"),
        ("P-2", "assigned"),
        ("P-3", "split"),
        ("P-4", "not_ours"),
    ]
    assert len(payments) == 4  # P-1, P-2, and P-3's two parts
    assert [r["detail"].get("decision", "import") for r in rows] == [
        "import",
        "assign",
        "split",
        "not_ours",
    ]
