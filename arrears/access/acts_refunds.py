"""The acts of refunds of credit balances (arrears.moveout.refunds), offered by
arrears.access.acts: who may, in one transaction with its audit row. A controller or an admin
approves, rejects and exports (money leaves the company); a coordinator, a property's manager
(their properties' refunds), a controller and an admin list them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from arrears.access import permissions
from arrears.access.acting import By, run_act
from arrears.access.selectors import accounts_visible, role_of
from arrears.access.services import SystemActor
from arrears.core.dates import today
from arrears.moveout import refunds
from arrears.moveout.models import Refund


def refund_list(
    *, by: By, late: bool = False, status: str = ""
) -> tuple[list[Refund], list[Refund]]:
    """Propose a refund of every credit balance found (idempotent: `refunds.refunds_propose`;
    only for a user who sees the whole book), then list the refunds `by` may see; with `late`,
    those late or due within 3 days. Returns (the refunds listed, the proposals made or revised
    now)."""
    day = today()

    whole_book = isinstance(by.actor, SystemActor) or permissions.sees_everything(role_of(by.actor))

    def do(_account: Any) -> tuple[list[Refund], list[Refund]]:
        # Proposals are made over the whole book: only by whoever sees the whole book. A
        # property's manager lists their properties' refunds and writes nothing on the others.
        made = refunds.refunds_propose(today=day, actor=by.name) if whole_book else []
        scope = None if isinstance(by.actor, SystemActor) else accounts_visible(by.actor)
        listed = refunds.refund_list(accounts=scope, today=day, late=late, status=status)
        return listed, made

    return run_act(by, "refund.list", detail={"late": late, "status": status[:10]}, do=do)


def refund_approve(*, by: By, refund_id: str, on: date | None = None) -> Refund:
    """Approve a refund: its `refund` entry is posted (`refunds.refund_approve`)."""
    day = on or today()
    return run_act(
        by,
        "refund.approve",
        account_id=refunds.refund_account_id(refund_id),
        detail={"refund_id": refund_id[:40], "on": day.isoformat()},
        do=lambda _account: refunds.refund_approve(
            refund_id=refund_id, on=day, actor=by.name, today=today()
        ),
    )


def refund_reject(*, by: By, refund_id: str, reason: str) -> Refund:
    """Reject a refund, saying why (`refunds.refund_reject`)."""
    return run_act(
        by,
        "refund.reject",
        account_id=refunds.refund_account_id(refund_id),
        detail={"refund_id": refund_id[:40], "reason": reason[:500]},
        do=lambda _account: refunds.refund_reject(
            refund_id=refund_id, reason=reason, actor=by.name, today=today()
        ),
    )


def refunds_export(*, by: By, output: Path, to: str = "") -> refunds.Export:
    """Write the approved refunds not yet exported to the payables CSV `output`, each once.
    `to` says where the file goes, for the audit row, when `output` is a temporary file (the
    page's download, the API's answer); the command line's is the path it writes."""
    return run_act(
        by,
        "refund.export",
        detail={"output": (to or str(output))[:300]},
        do=lambda _account: refunds.refunds_export(output=output, actor=by.name, today=today()),
    )


def refund_batch(*, by: By, batch: str, output: Path, to: str = "") -> refunds.Export:
    """Write an exported batch's payables CSV again (`refunds.refund_batch`): nothing changes in
    the book, but the file pays people, so it is audited as an export (`to`: as above)."""
    return run_act(
        by,
        "refund.export",
        detail={"output": (to or str(output))[:300], "batch": batch[:40]},
        do=lambda _account: refunds.refund_batch(batch=batch, output=output),
    )
