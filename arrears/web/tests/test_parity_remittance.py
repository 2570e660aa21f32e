"""One act, one service, for an insurer's remittance (arrears.access.acts_remittance): Alice
imports Acme's 835 of March 20 (arrears.access.tests.test_remittance) through the command line
and the API, each on the same book and undone before the next (its own savepoint); each posts
the same entries, writes the same timeline rows, releases the same hold and writes the same
audit row, apart from who and how and the file's name (the path given, the upload's name).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from arrears.access.tests.people import cli, signed_in
from arrears.access.tests.test_remittance import FIRST
from arrears.access.tests.test_remittance import paula as paula
from arrears.dunning.models import Hold
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.web.tests.parity import OFFERED, audit_generic, audit_last, audit_since

pytestmark = pytest.mark.django_db

# The act and the interfaces its case runs it through (test_parity_table.py).
CASES = {"remittance.import": ("cli", "api")}


def _upload(people: dict[str, Any], tokens: dict[str, str], data: bytes) -> Any:
    upload = SimpleUploadedFile("acme-2026-03-20.835", data, content_type="application/edi-x12")
    return signed_in(people["alice"]).post(
        "/api/remittances", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}"
    )


def _through(interface: str, people: dict[str, Any], tokens: dict[str, str], capsys: Any) -> Any:
    if interface == "cli":
        words = ("--as", "alice", "remittance", "import", str(FIRST), "--format", "json")
        code, out, err = cli(capsys, *words)
        assert code == 0, err
        return json.loads(out)
    answer = _upload(people, tokens, FIRST.read_bytes())
    assert answer.status_code == 201, answer.content
    return answer.json()


def _rows() -> Any:
    entries = list(
        Transaction.objects.exclude(type="charge")
        .order_by("pk")
        .values_list("txn_id", "type", "code", "amount", "posted_on", "reference", "memo")
    )
    events = [
        (e.kind, e.summary, {k: v for k, v in e.detail.items() if k not in ("file", "hold")})
        for e in TimelineEvent.objects.filter(kind__startswith="remittance.").order_by("pk")
    ] + list(TimelineEvent.objects.filter(kind="hold.released").values_list("kind", "summary"))
    holds = list(Hold.objects.order_by("pk").values_list("note", "released_by"))
    return entries, events, holds


def test_the_command_and_the_api_post_the_same_remittance(
    paula: dict[str, int], people: dict[str, Any], tokens: dict[str, str], capsys: Any
) -> None:
    assert set(OFFERED["remittance.import"]) == set(CASES["remittance.import"])
    seen = {}
    for interface in CASES["remittance.import"]:
        last = audit_last()
        with transaction.atomic():
            answer = dict(_through(interface, people, tokens, capsys))
            answer.pop("file")
            audit = audit_generic(
                audit_since(last, "remittance.import"), "", set(), frozenset({"file"})
            )
            seen[interface] = (answer, _rows(), audit)
            transaction.set_rollback(True)
    assert seen["cli"] == seen["api"]
    answer, (entries, _events, holds), audit = seen["cli"]
    assert (answer["paid"], answer["adjusted"], answer["holds_released"]) == ("150.00", "30.00", 1)
    assert [e[1:4] for e in entries] == [("payment", "", 150), ("credit", "ADJ", 30)]
    assert holds[0][1] == "alice"
    assert [row["verb"] for row in audit] == ["remittance.import"]


def test_the_api_refuses_a_bad_file_and_a_manager(
    paula: dict[str, int], people: dict[str, Any], tokens: dict[str, str]
) -> None:
    bad = FIRST.read_bytes().replace(b"*200*150*20*", b"*200*155*20*")
    answer = _upload(people, tokens, bad)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "import_invalid"
    problems = body["extra"]["problems"]
    assert {k: problems[0][k] for k in ("file", "line", "column")} == {
        "file": "acme-2026-03-20.835",
        "line": 13,
        "column": "CLP04",
    }
    assert not Transaction.objects.exclude(type="charge").exists()
    upload = SimpleUploadedFile("a.835", FIRST.read_bytes())
    refused = signed_in(people["bob"]).post(
        "/api/remittances", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}"
    )
    assert refused.status_code == 403
    # and the same file twice: the second posts nothing
    assert _upload(people, tokens, FIRST.read_bytes()).status_code == 201
    again = _upload(people, tokens, FIRST.read_bytes()).json()
    assert (again["posted"], again["already_imported"]) == (0, 2)


def test_the_api_refuses_a_file_over_the_upload_limit(
    paula: dict[str, int], people: dict[str, Any], tokens: dict[str, str], settings: Any
) -> None:
    settings.ARREARS_UPLOAD_MAX_BYTES = 100
    answer = _upload(people, tokens, FIRST.read_bytes())
    assert (answer.status_code, answer.json()["code"]) == (422, "file_too_large")
    assert not Transaction.objects.exclude(type="charge").exists()
