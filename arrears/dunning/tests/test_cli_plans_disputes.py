"""`arrears promise|plan|dispute|analysis` on a real book (both databases): their output, their
JSON and their errors. Alice types the commands; today is March 7, 2026 (ARREARS_TODAY)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.dunning.services import cycle_run
from arrears.ledger.models import Transaction
from arrears.plans.models import Plan, Promise


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_propose_create_show_and_cancel(tina_lease, capsys, tmp_path: Path):
    account = tina_lease(rent="1000.00")
    code, out, _ = run(
        capsys,
        "plan",
        "propose",
        account,
        "--income",
        "3500",
        "--obligations",
        "200",
        "--format",
        "json",
    )
    proposal = json.loads(out)
    # 40% of 3,500.00 is 1,400.00, less 200.00 and the rent of 1,000.00: 200.00 a month
    assert (code, proposal["monthly_room"], proposal["installments"]) == (0, "200.00", 5)
    assert proposal["feasible"] is True

    code, out, _ = run(
        capsys,
        "plan",
        "create",
        account,
        "--installments",
        "3",
        "--frequency",
        "monthly",
        "--start",
        "2026-04-01",
        "--format",
        "json",
    )
    doc = json.loads(out)
    assert code == 0
    assert [i["amount"] for i in doc["installments"]] == ["333.34", "333.33", "333.33"]
    plan_id = doc["plan_id"]

    code, out, _ = run(capsys, "plan", "show", str(plan_id))
    assert code == 0
    assert "installment 1  2026-04-01  333.34" in out

    pdf = tmp_path / "plan-es.pdf"
    code, _, _ = run(
        capsys, "plan", "agreement", str(plan_id), "--language", "es", "--output", str(pdf)
    )
    assert "Acuerdo de plan de pagos" in pdf_text(pdf.read_bytes())

    code, _, err = run(
        capsys, "plan", "create", account, "--installments", "2", "--start", "2026-04-01"
    )
    assert code == 2
    assert "already has an active plan" in err

    code, out, _ = run(capsys, "plan", "cancel", str(plan_id), "--reason", "moved out")
    assert code == 0
    assert Plan.objects.get(pk=plan_id).status == "cancelled"
    code, _, err = run(capsys, "plan", "cancel", str(plan_id), "--reason", "again")
    assert (code, err.strip()) == (
        2,
        f"arrears plan: plan {plan_id} is cancelled, not active: nothing to cancel",
    )


def test_promise_add_and_the_kept_rate(tina_lease, capsys):
    account = tina_lease()
    code, out, _ = run(
        capsys,
        "promise",
        "add",
        account,
        "--amount",
        "600.00",
        "--date",
        "2026-03-12",
        "--party",
        "P-TINA",
    )
    assert code == 0
    promise = Promise.objects.get()
    assert out.startswith(f"Promise {promise.pk} recorded on A-TINA: 600.00 by 2026-03-12")
    assert (promise.made_by, promise.party.party_id) == ("alice", "P-TINA")
    code, _, err = run(
        capsys, "promise", "add", account, "--amount", "600.00", "--date", "2026-03-01"
    )
    assert code == 2
    assert "before today" in err
    code, out, _ = run(capsys, "promise", "rate", "--format", "json")
    assert json.loads(out) == []


def test_dispute_open_resolve_and_the_analysis_in_three_formats(tina_lease, capsys, tmp_path):
    account = tina_lease()
    cycle_run(on=date(2026, 3, 7))
    fee = Transaction.objects.get(code="LATE").txn_id
    code, out, _ = run(
        capsys,
        "dispute",
        "open",
        account,
        "--charge",
        fee,
        "--reason",
        "paid on time",
        "--party",
        "P-TINA",
    )
    assert code == 0
    assert "50.00 held until it is resolved" in out
    dispute_id = out.split()[1]
    code, _, err = run(capsys, "dispute", "open", account, "--charge", "NOPE", "--reason", "x")
    assert (code, err.strip()) == (2, "arrears dispute: 'NOPE' is not a charge of account A-TINA")

    code, out, _ = run(
        capsys, "dispute", "resolve", dispute_id, "--outcome", "upheld", "--note", "bank statement"
    )
    assert code == 0
    assert "upheld; credit 50.00" in out

    code, out, _ = run(
        capsys,
        "analysis",
        account,
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-07",
        "--format",
        "json",
    )
    doc = json.loads(out)
    assert [e["type"] for e in doc["entries"]] == ["charge", "charge", "credit"]
    assert doc["closing_balance"] == "1200.00"
    pdf, xlsx = tmp_path / "a.pdf", tmp_path / "a.xlsx"
    assert run(capsys, "analysis", account, "--format", "pdf", "--output", str(pdf))[0] == 0
    assert "Check of the figures" in pdf_text(pdf.read_bytes())
    assert run(capsys, "analysis", account, "--format", "xlsx", "--output", str(xlsx))[0] == 0
    assert load_workbook(xlsx).sheetnames == ["Entries", "Open items", "Check"]


def test_the_commands_parse_before_django_is_set_up():
    # The console script builds its parser first: a part's register() may not touch the ORM.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    for command in ("promise", "plan", "dispute", "analysis"):
        script = "import sys; from arrears.cli import main; sys.exit(main(sys.argv[1:]))"
        done = subprocess.run(
            [sys.executable, "-c", script, command, "--help"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert command in done.stdout
