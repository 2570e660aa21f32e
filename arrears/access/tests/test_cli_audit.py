"""Every change from the command line is audited as the same change on the pages, by a named
Arrears user (`--as`, ARREARS_USER) whose role is enforced as on the pages; system jobs run
without one are recorded as the operator (`system:<login>`), never as a bare "cli".

Company A's cast (alice the coordinator, bob the manager of Elm Court, erin the admin) works on
Tina's lease at Elm Court (A-TINA) on March 26, 2026; the operator's OS login is `ops`.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.services import user_active_set
from arrears.access.tests.people import OPERATOR, PASSWORD, TODAY, signed_in
from arrears.cli import main
from arrears.dunning.models import Action, Hold
from arrears.dunning.services import hold_place
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's login, and no Arrears user named in the environment."""
    monkeypatch.setenv("LOGNAME", "ops")
    monkeypatch.setenv("USER", "ops")
    monkeypatch.delenv("ARREARS_USER", raising=False)


def cli(capsys: Any, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out = capsys.readouterr()
    return code, out.out, out.err


def audit_rows() -> list[dict[str, Any]]:
    """The audit rows of the story's acts (the cast was added by the operator, system:pytest)."""
    rows = AuditEntry.objects.exclude(username=OPERATOR.username).order_by("id")
    return list(rows.values("username", "user_id", "via", "verb", "account_id", "ip", "detail"))


def on_the_page_then_undone(client: Any, path: str, data: dict[str, Any]) -> dict[str, Any]:
    """The audit row the page writes for the act, then the act undone (a savepoint), so that
    the command line does the same act on the same book."""
    with transaction.atomic():
        response = client.post(path, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, response.content.decode()[:400]
        (row,) = audit_rows()
        transaction.set_rollback(True)
    assert not audit_rows()
    return row


def a_hold() -> int:
    hold = hold_place(
        account_id="A-TINA",
        reason="manual",
        on=TODAY,
        actor="alice",
        until=None,
        party_id=None,
        note="",
    )
    return hold.pk


def a_plan() -> int:
    from arrears.dunning import commitments

    plan = commitments.plan_create(
        account_id="A-TINA", on=TODAY, actor="alice", start=TODAY.replace(day=30), installments=3
    )
    return plan.pk


# (page path, the page's form, the same act on the command line, what must exist before)
SAME_ACTS = {
    "note.add": (
        "/accounts/A-TINA/notes/",
        {"text": "Tina called: pays Friday"},
        ["note", "A-TINA", "Tina called: pays Friday"],
        None,
    ),
    "hold.place": (
        "/accounts/A-TINA/holds/",
        {"reason": "manual", "until": "2026-04-30", "note": "checking the lease"},
        [
            "hold",
            "A-TINA",
            "--reason",
            "manual",
            "--until",
            "2026-04-30",
            "--note",
            "checking the lease",
        ],
        None,
    ),
    "hold.release": (
        "/accounts/A-TINA/holds/{id}/release/",
        {},
        ["release", "A-TINA", "--hold", "{id}"],
        a_hold,
    ),
    "call.log": (
        "/accounts/A-TINA/calls/",
        {
            "party_id": "P-TINA",
            "outcome": "no-answer",
            "note": "rang twice",
            "at": "2026-03-26T10:15",
        },
        [
            "call",
            "log",
            "A-TINA",
            "--party",
            "P-TINA",
            "--outcome",
            "no-answer",
            "--note",
            "rang twice",
            "--at",
            "2026-03-26T10:15",
        ],
        None,
    ),
    "promise.record": (
        "/accounts/A-TINA/promises/",
        {"amount": "300.00", "promised_on": "2026-04-03", "party_id": "P-TINA", "channel": "phone"},
        [
            "promise",
            "add",
            "A-TINA",
            "--amount",
            "300.00",
            "--date",
            "2026-04-03",
            "--party",
            "P-TINA",
            "--channel",
            "phone",
        ],
        None,
    ),
    "plan.create": (
        "/accounts/A-TINA/plans/",
        {
            "start": "2026-04-10",
            "installments": "3",
            "frequency": "monthly",
            "down": "0",
            "installment_amount": "",
            "party_id": "",
        },
        [
            "plan",
            "create",
            "A-TINA",
            "--start",
            "2026-04-10",
            "--installments",
            "3",
            "--frequency",
            "monthly",
            "--down",
            "0",
        ],
        None,
    ),
    "plan.cancel": (
        "/accounts/A-TINA/plans/{id}/cancel/",
        {"reason": "she moved out"},
        ["plan", "cancel", "{id}", "--reason", "she moved out"],
        a_plan,
    ),
    "dispute.open": (
        "/accounts/A-TINA/disputes/",
        {
            "reason": "March was paid in cash",
            "charges": ["T-TINA-03"],
            "party_id": "P-TINA",
            "channel": "phone",
        },
        [
            "dispute",
            "open",
            "A-TINA",
            "--charge",
            "T-TINA-03",
            "--reason",
            "March was paid in cash",
            "--party",
            "P-TINA",
            "--channel",
            "phone",
        ],
        None,
    ),
}


@pytest.mark.parametrize("verb", list(SAME_ACTS))
def test_an_act_from_the_command_line_is_audited_as_the_same_act_on_the_page(people, capsys, verb):
    # given alice, and what the act needs
    path, form, argv, before = SAME_ACTS[verb]
    made = before() if before else None
    path = path.replace("{id}", str(made))
    argv = [a.replace("{id}", str(made)) for a in argv]
    # when she does it on the account page (then undone), and the same from the command line
    on_the_page = on_the_page_then_undone(signed_in(people["alice"]), path, form)
    code, out, err = cli(capsys, "--as", "alice", *argv)
    # then both wrote the same audit row, but for the interface and the address
    assert code == 0, (out, err)
    (from_the_cli,) = audit_rows()
    assert on_the_page["verb"] == verb
    assert (on_the_page["via"], on_the_page["ip"]) == ("web", "127.0.0.1")
    assert (from_the_cli["via"], from_the_cli["ip"]) == ("cli", "")
    for row in (on_the_page, from_the_cli):
        del row["via"], row["ip"]
    assert from_the_cli == on_the_page
    assert from_the_cli["username"] == "alice"
    assert from_the_cli["user_id"] == people["alice"].pk


def test_a_change_without_a_named_user_is_refused_and_says_how_to_name_one(people, capsys):
    # when someone adds a note from the command line, naming no Arrears user
    code, _, err = cli(capsys, "note", "A-TINA", "Called")
    # then it is refused, saying how to name one, and nothing is written
    assert code == 2
    assert "--as USER" in err
    assert "ARREARS_USER" in err
    assert not TimelineEvent.objects.filter(kind="note.added").exists()
    assert not audit_rows()


def test_the_user_is_named_before_or_after_the_command_or_by_arrears_user(
    people, capsys, monkeypatch
):
    # when alice adds notes naming herself three ways
    assert cli(capsys, "--as", "alice", "note", "A-TINA", "one")[0] == 0
    assert cli(capsys, "note", "A-TINA", "two", "--as", "alice")[0] == 0
    monkeypatch.setenv("ARREARS_USER", "alice")
    assert cli(capsys, "note", "A-TINA", "three")[0] == 0
    # and --as wins over ARREARS_USER
    assert cli(capsys, "note", "A-TINA", "four", "--as", "bob")[0] == 0
    # then each note is hers (and the last bob's), on the timeline and in the audit
    actors = list(
        TimelineEvent.objects.filter(kind="note.added")
        .order_by("id")
        .values_list("actor", flat=True)
    )
    assert actors == ["alice", "alice", "alice", "bob"]
    assert [r["username"] for r in audit_rows()] == ["alice", "alice", "alice", "bob"]
    assert {r["via"] for r in audit_rows()} == {"cli"}


def test_an_unknown_or_deactivated_user_is_refused(people, capsys):
    # given dave, deactivated
    user_active_set(username="dave", active=False, actor=OPERATOR, via="system")
    # when a command names someone who is no user, or dave
    code, _, err = cli(capsys, "--as", "zed", "note", "A-TINA", "x")
    assert (code, err) == (2, "arrears note: no active Arrears user 'zed' (named by --as)\n")
    code, _, err = cli(capsys, "--as", "dave", "note", "A-TINA", "x")
    # then both are refused, and nothing is written
    assert (code, err) == (2, "arrears note: no active Arrears user 'dave' (named by --as)\n")
    assert not TimelineEvent.objects.filter(kind="note.added").exists()


def test_a_manager_cannot_do_from_the_command_line_what_the_pages_refuse_her(people, capsys):
    # when bob, manager of Elm Court, places a hold, and notes an account out of his scope
    code, _, err = cli(capsys, "--as", "bob", "hold", "A-TINA", "--reason", "manual")
    assert (code, err) == (2, "arrears hold: the role manager may not do this (hold.place)\n")
    code, _, err = cli(capsys, "--as", "bob", "note", "A-OSCAR", "x")
    assert (code, err) == (2, "arrears note: no account 'A-OSCAR'\n")
    # then nothing is written; and the note the pages allow him goes through
    assert not Hold.objects.exists()
    assert not audit_rows()
    assert cli(capsys, "--as", "bob", "note", "A-TINA", "the super says hi")[0] == 0
    assert audit_rows()[0]["username"] == "bob"


def test_the_daily_run_without_a_user_is_recorded_as_the_operator(people, capsys):
    # when the operator's cron runs the day's run, naming no user
    code, _, err = cli(capsys, "run", "--date", "2026-03-26")
    # then it runs, and the audit names the operator's login, through the system
    assert code == 0, err
    (row,) = audit_rows()
    assert (row["username"], row["user_id"], row["via"], row["verb"]) == (
        "system:ops",
        None,
        "system",
        "run.real",
    )
    assert row["detail"] == {"date": "2026-03-26", "dry_run": False}
    assert not AuditEntry.objects.filter(username="cli").exists()


def test_a_system_job_with_a_user_named_is_authorized_as_that_user(people, capsys, tmp_path):
    from arrears.access.tests.people import write_book

    # when bob (a manager) asks for the day's run, and alice (a coordinator) imports a book
    code, _, err = cli(capsys, "--as", "bob", "run", "--date", "2026-03-26")
    assert (code, err) == (2, "arrears run: the role manager may not do this (run.real)\n")
    folder = write_book(tmp_path / "again")
    code, _, err = cli(capsys, "--as", "alice", "import", str(folder))
    assert (code, err) == (2, "arrears import: the role coordinator may not do this (import)\n")
    # then neither ran; alice's run does, as hers
    assert not Action.objects.exists()
    assert not audit_rows()
    assert cli(capsys, "--as", "alice", "run", "--date", "2026-03-26")[0] == 0
    (row,) = audit_rows()
    assert (row["username"], row["via"], row["verb"]) == ("alice", "cli", "run.real")
    assert Action.objects.exists()
    assert set(TimelineEvent.objects.values_list("actor", flat=True)) == {"alice"}


def test_users_are_an_admins_change_once_an_admin_exists(book, fast_passwords, capsys):
    # given a book with no user: the operator adds the first admin
    code, _, err = cli(capsys, "user", "add", "erin", "--role", "admin", stdin=f"{PASSWORD}\n")
    assert code == 0, err
    # when the operator adds another user without naming the admin
    code, _, err = cli(
        capsys, "user", "add", "alice", "--role", "coordinator", stdin=f"{PASSWORD}\n"
    )
    # then it is refused: users are an admin's change now
    assert code == 2
    assert "--as USER" in err
    # and erin adds her, as herself; alice may not add users
    code, _, err = cli(
        capsys,
        "--as",
        "erin",
        "user",
        "add",
        "alice",
        "--role",
        "coordinator",
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, err
    code, _, err = cli(capsys, "--as", "alice", "user", "token", "alice")
    assert (code, err) == (2, "arrears user: the role coordinator may not do this (token.issue)\n")
    rows = [(r["username"], r["via"], r["verb"], r["detail"]["username"]) for r in audit_rows()]
    assert rows == [
        ("system:ops", "system", "user.add", "erin"),
        ("erin", "cli", "user.add", "alice"),
    ]


def test_no_service_acts_for_a_bare_cli(people, capsys):
    # when the run, a note and a user's token are made from the command line
    cli(capsys, "run", "--date", "2026-03-26")
    cli(capsys, "--as", "alice", "note", "A-TINA", "x")
    cli(capsys, "--as", "erin", "user", "token", "dave")
    # then no row names "cli" as its user, on the timeline or in the audit
    assert len(audit_rows()) == 3
    assert not AuditEntry.objects.filter(username__in=["cli", ""]).exists()
    assert not TimelineEvent.objects.filter(actor="cli").exists()


def test_an_admin_lists_the_audit_log_with_filters_as_a_table_json_or_csv(people, capsys):
    # given notes by alice and bob, and a failed sign-in under a name that is a formula
    cli(capsys, "--as", "alice", "note", "A-TINA", "one")
    cli(capsys, "--as", "bob", "note", "A-TINA", "two")
    Client().post("/signin/", {"username": '=HYPERLINK("http://x")', "password": "guess"})
    # when erin lists the notes as JSON, newest first
    code, out, err = cli(
        capsys, "--as", "erin", "audit", "list", "--verb", "note", "--format", "json"
    )
    assert code == 0, err
    listed = json.loads(out)
    assert [(e["user"], e["verb"], e["detail"]["text"]) for e in listed] == [
        ("bob", "note.add", "two"),
        ("alice", "note.add", "one"),
    ]
    # and filtered by user, as a table
    code, out, _ = cli(capsys, "--as", "erin", "audit", "list", "--user", "alice")
    assert "note.add" in out
    assert "bob" not in out
    # and the sign-ins as CSV, where the typed name cannot run as a formula
    code, out, _ = cli(
        capsys, "--as", "erin", "audit", "list", "--verb", "signin", "--format", "csv"
    )
    lines = out.splitlines()
    assert lines[0] == "at,user,via,verb,account_id,ip,detail"
    assert "'=HYPERLINK" in lines[1]
    assert "signin.failed" in lines[1]


def test_only_an_admin_lists_the_audit_log(people, capsys):
    code, _, err = cli(capsys, "--as", "alice", "audit", "list")
    assert (code, err) == (2, "arrears audit: the role coordinator may not do this (admin.audit)\n")
    code, _, err = cli(capsys, "audit", "list")
    assert code == 2
    assert "--as USER" in err
    code, _, err = cli(
        capsys, "--as", "erin", "audit", "list", "--since", "2026-03-27", "--until", "2026-03-26"
    )
    assert code == 2
    assert "before it starts" in err
