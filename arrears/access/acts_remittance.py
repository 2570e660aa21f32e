"""The act of importing an insurer's remittance (an X12 835 file: `arrears.banking.remittance`),
offered by `arrears remittance import` and `POST /api/remittances`: who may (a coordinator, a
controller, an admin: those who see the whole book, since a file pays many accounts), in one
transaction with its audit row.

The claims a payer answered release their insurance holds here, where both parts may be called
(`banking` is below `dunning`, which owns holds): an active manual hold on the claim's account
whose note names the claim, by its patient control number or the payer's claim number, as the
`patient` policy says to place it ("claim 123 pending with the insurer", docs/policies.md).
"""

from __future__ import annotations

import hashlib
import re

from arrears.access import permissions
from arrears.access.acting import By, run_act
from arrears.banking.remittance import Release, RemittanceImported
from arrears.banking.remittance import remittance_import as _remittance_import
from arrears.core.dates import today
from arrears.dunning import services as dunning
from arrears.dunning.models import Hold

permissions.register(
    "remittance.import", [permissions.COORDINATOR, permissions.CONTROLLER, permissions.ADMIN]
)


def _names(note: str, claim: str) -> bool:
    """Whether a hold's note names `claim` as a whole word (C-1 is not C-10)."""
    return bool(claim) and re.search(rf"(?<![\w-]){re.escape(claim)}(?![\w-])", note) is not None


def _holds_released(releases: list[Release], actor: str) -> list[int]:
    released = []
    for release in releases:
        holds = Hold.objects.filter(
            account__account_id=release.account_id,
            reason=Hold.Reason.MANUAL,
            released_at__isnull=True,
        ).order_by("pk")
        for hold in holds:
            if _names(hold.note, release.claim) or _names(hold.note, release.payer_claim):
                dunning.hold_release(
                    account_id=release.account_id, hold_id=hold.pk, actor=actor, on=today()
                )
                released.append(hold.pk)
    return released


def remittance_import(*, by: By, data: bytes, name: str) -> RemittanceImported:
    """Post an 835 file (`banking.remittance.remittance_import`), all or nothing, and release
    the insurance holds of the claims it answers; `name` is the file as the user named it."""

    def do(_account: object) -> RemittanceImported:
        done = _remittance_import(data=data, file=name, actor=by.name, today=today())
        done.released_holds = _holds_released(done.releases, by.name)
        return done

    return run_act(
        by,
        "remittance.import",
        detail={"file": name[:200], "sha256": hashlib.sha256(data).hexdigest()},
        do=do,
    )
