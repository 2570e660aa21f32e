"""`arrears assign`, `unassign`, `assignments`, `coverage` and `worklist --user`: Erin (the admin)
gives Elm Court to Alice, Bea covers for Alice while she is out, and each one's worklist is
their own."""

from __future__ import annotations

import json

import pytest

from arrears.access.models import Assignment, Coverage
from arrears.cli import main
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def worklist_of(capsys: pytest.CaptureFixture[str], *argv: str) -> set[str]:
    status, out, err = run(capsys, "worklist", "--format", "json", *argv)
    assert status == 0, err
    return {w["account_id"] for w in json.loads(out)["items"]}


def test_an_admin_assigns_a_property_and_the_coordinators_worklist_is_her_own(desk, capsys):
    # when Erin gives Elm Court to Alice
    status, out, _ = run(capsys, "--as", "erin", "assign", "alice", "--property", "ELM")
    assert status == 0
    assert out == "Property ELM assigned to alice.\n"
    # then Alice's worklist holds Tina's lease, the unassigned one Olive's, the whole book both
    assert worklist_of(capsys, "--user", "alice") == {"A-TINA"}
    assert worklist_of(capsys, "--unassigned") == {"A-OLIVE"}
    assert worklist_of(capsys) == {"A-TINA", "A-OLIVE"}
    # and the list of assignments says so
    status, out, _ = run(capsys, "assignments", "--format", "json")
    [row] = json.loads(out)
    assert (row["user"], row["kind"], row["target"], row["assigned_by"]) == (
        "alice",
        "property",
        "ELM",
        "erin",
    )
    status, out, _ = run(capsys, "assignments", "--user", "bea")
    assert out == "No one is assigned accounts on 2026-03-05.\n"
    # and Tina's timeline has the change
    event = TimelineEvent.objects.get(account__account_id="A-TINA", kind="assignment.changed")
    assert (event.summary, event.actor) == ("coordinator: alice (property ELM)", "erin")


def test_a_backup_covers_the_days_given_and_a_coordinator_may_not_assign_others(desk, capsys):
    assert main(["--as", "erin", "assign", "alice", "--portfolio", "NYC"]) == 0
    capsys.readouterr()
    # when Alice, out on March 5 and 6, asks Bea to cover
    status, out, err = run(
        capsys,
        *("--as", "alice", "coverage", "add", "alice", "--backup", "bea"),
        *("--from", "2026-03-05", "--to", "2026-03-06", "--note", "out of office"),
    )
    assert status == 0, err
    coverage = Coverage.objects.get()
    assert out == f"Coverage #{coverage.pk}: bea covers for alice from 2026-03-05 to 2026-03-06.\n"
    # then Bea's worklist holds Alice's accounts those days, and not after
    assert worklist_of(capsys, "--user", "bea") == {"A-TINA"}
    assert worklist_of(capsys, "--user", "bea", "--date", "2026-03-07") == set()
    status, out, _ = run(capsys, "coverage", "list", "--format", "json")
    assert [(c["out"], c["backup"], c["note"]) for c in json.loads(out)] == [
        ("alice", "bea", "out of office")
    ]
    # and Alice may not give Oak Terrace to Bea (exit 2, nothing written)
    status, _, err = run(capsys, "--as", "alice", "assign", "bea", "--property", "OAK")
    assert status == 2
    assert "may change only their own accounts" in err
    assert not Assignment.objects.filter(property__property_id="OAK").exists()
    # and a reversed range is said in the command's own words
    status, _, err = run(
        capsys,
        *("--as", "erin", "coverage", "add", "bea", "--backup", "alice"),
        *("--from", "2026-03-09", "--to", "2026-03-08"),
    )
    assert (status, err) == (2, "arrears coverage: --to 2026-03-08 is before --from 2026-03-09\n")
    # and when Alice is back, the coverage ends
    status, out, _ = run(capsys, "--as", "alice", "coverage", "end", str(coverage.pk))
    assert out == f"Coverage #{coverage.pk} ended: alice is back from 2026-03-05.\n"
    assert worklist_of(capsys, "--user", "bea") == set()


def test_unassign_gives_the_account_back_to_the_broader_assignment(desk, capsys):
    assert main(["--as", "erin", "assign", "alice", "--property", "ELM"]) == 0
    assert main(["--as", "erin", "assign", "bea", "--account", "A-TINA"]) == 0
    capsys.readouterr()
    assert worklist_of(capsys, "--user", "bea") == {"A-TINA"}
    status, out, _ = run(capsys, "--as", "erin", "unassign", "--account", "A-TINA")
    assert (status, out) == (0, "Account A-TINA is no longer bea's.\n")
    assert worklist_of(capsys, "--user", "alice") == {"A-TINA"}
    status, _, err = run(capsys, "worklist", "--user", "nobody")
    assert status == 2
    assert "nobody" in err
