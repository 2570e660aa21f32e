"""The acts on bank files (arrears.banking): importing one, and the review queue's decisions
(assign to an account, split across accounts, not ours). Offered by `arrears bank …`, the
review page and `/api/bank/…`. A coordinator, a controller or an admin; a decision that posts
to an account checks the actor's scope on that account (each account of a split)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from arrears.access import permissions
from arrears.access.acting import By, money_text, run_act
from arrears.access.selectors import authorize
from arrears.access.services import SystemActor
from arrears.banking import services as banking
from arrears.banking.models import BankLine
from arrears.core.dates import today
from arrears.core.files import Readable, read_at_most
from arrears.ledger.selectors import account_get

BANK_ROLES = [permissions.COORDINATOR, permissions.CONTROLLER, permissions.ADMIN]
permissions.register("bank.import", BANK_ROLES)
permissions.register("bank.review", BANK_ROLES)


def bank_file_read(stream: Readable) -> bytes:
    """A bank file's bytes as an upload or the command gives them, read up to the largest
    imported (ARREARS_BANK_FILE_MAX_BYTES): a larger one is refused before it fills the memory."""
    return read_at_most(stream, int(settings.ARREARS_BANK_FILE_MAX_BYTES))


def bank_import(
    *, by: By, data: bytes, name: str, file_format: str = "auto"
) -> banking.ImportResult:
    """Import a bank file whole (`banking.services.bank_import`); `name` is the file as given."""
    return run_act(
        by,
        "bank.import",
        detail={"file": name[:200], "file_format": file_format},
        do=lambda _a: banking.bank_import(
            data=data, name=name, file_format=file_format, actor=by.name, today=today()
        ),
    )


def review_assign(*, by: By, line_id: int, account_id: str, note: str = "") -> BankLine:
    """Post a review line as a payment to `account_id` (`banking.services.review_assign`)."""
    return run_act(
        by,
        "bank.review",
        account_id=account_id,
        detail={"line": line_id, "decision": "assign", "note": note[:200]},
        do=lambda account: banking.review_assign(
            line_id=line_id, account=account, actor=by.name, today=today(), note=note
        ),
    )


def _scoped(by: By, account_id: str) -> Any:
    if isinstance(by.actor, SystemActor):
        return account_get(account_id=account_id)
    return authorize(by.actor, "bank.review", account_id)


def review_split(
    *, by: By, line_id: int, parts: list[tuple[str, Decimal]], note: str = ""
) -> BankLine:
    """Post a review line as payments to several accounts (`banking.services.review_split`)."""

    def do(_a: Any) -> BankLine:
        accounts = [(_scoped(by, account_id), amount) for account_id, amount in parts]
        return banking.review_split(
            line_id=line_id, parts=accounts, actor=by.name, today=today(), note=note
        )

    return run_act(
        by,
        "bank.review",
        detail={
            "line": line_id,
            "decision": "split",
            "parts": [[a[:64], money_text(m) if m.is_finite() else ""] for a, m in parts],
            "note": note[:200],
        },
        do=do,
    )


def review_not_ours(*, by: By, line_id: int, note: str) -> BankLine:
    """Mark a review line not ours (`banking.services.review_not_ours`)."""
    return run_act(
        by,
        "bank.review",
        detail={"line": line_id, "decision": "not_ours", "note": note[:200]},
        do=lambda _a: banking.review_not_ours(line_id=line_id, actor=by.name, note=note),
    )


def review_queue(*, user: Any) -> list[BankLine]:
    """The lines waiting for a decision, for a user who may decide them (a read: not audited)."""
    if not isinstance(user, SystemActor):
        authorize(user, "bank.review")
    from arrears.banking.selectors import review_list

    return list(review_list())


def line_json(line: BankLine) -> dict[str, Any]:
    """A bank line as the command's and the API's JSON show it."""
    return {
        "id": line.pk,
        "kind": line.kind,
        "status": line.status,
        "bank_account": line.bank_account,
        "reference": line.reference,
        "posted_on": line.posted_on.isoformat(),
        "amount": f"{line.amount:.2f}",
        "payer_name": line.payer_name,
        "payer_account": line.payer_account,
        "text": line.text,
        "return_code": line.return_code,
        "suggested_account": line.account.account_id if line.account else None,
        "rule": line.rule,
        "confidence": str(line.confidence) if line.confidence is not None else None,
        "txn_ids": line.txn_ids,
        "note": line.note,
    }
