"""The acts that keep an account's record up to date from the desk: a party's contact points,
consent to texts and autodialled calls, a document added to the account's history.

Part of `arrears.access.acts` (which re-exports them: `acts.party_update`, …), kept in a module
of its own for the size of that one. Each act, as every act there, authorizes its actor, runs
one domain service and writes its audit row (`run_act`). A party's acts are audited on the
party, not an account (a party may be on several); the page and the API, which act from an
account, first check that the party is the account's (`account_id`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.access.acting import By, run_act
from arrears.core.dates import today
from arrears.core.errors import NotFoundError
from arrears.correspondence import uploads
from arrears.correspondence.archive import sha256_of
from arrears.correspondence.contacts import ContactChanged
from arrears.correspondence.contacts import party_update as contacts_update
from arrears.correspondence.uploads import DocumentAdded, plain_filename
from arrears.dunning.consent import consent_record
from arrears.dunning.models import Consent
from arrears.ledger.models import AccountParty


def _party_of(account_id: str | None, party_id: str) -> None:
    if account_id is None:
        return
    if not AccountParty.objects.filter(
        account__account_id=account_id, party__party_id=party_id
    ).exists():
        raise NotFoundError(
            _("{party_id!r} is not a party of account {account_id!r}"),
            code="party_not_of_account",
            party_id=party_id,
            account_id=account_id,
        )


def party_update(
    *,
    by: By,
    party_id: str,
    changes: dict[str, str | None],
    account_id: str | None = None,
) -> ContactChanged:
    """Change a party's contact points (`correspondence.contacts.party_update`): the old
    values on the timeline of each of its accounts, a new address tried again after returned
    mail. `changes`: field → new value (None: unchanged)."""
    asked = {k: v for k, v in changes.items() if v is not None}

    def do(_account: Any) -> ContactChanged:
        _party_of(account_id, party_id)
        return contacts_update(party_id=party_id, changes=asked, actor=by.name, on=today())

    return run_act(
        by,
        "party.update",
        detail={
            "party_id": party_id[:64],
            "changes": {k: v.strip()[:300] for k, v in asked.items()},
        },
        do=do,
    )


def _consent(
    by: By,
    verb: str,
    *,
    party_id: str,
    channel: str,
    how: str,
    words: str,
    at: datetime | None,
    account_id: str | None,
) -> Consent:
    words = words[:2000]

    def do(_account: Any) -> Consent:
        _party_of(account_id, party_id)
        return consent_record(
            party_id=party_id,
            channel=channel,
            granted=verb == "consent.grant",
            how=how,
            words=words,
            actor=by.name,
            on=today(),
            at=at,
        )

    detail = {"party_id": party_id[:64], "channel": channel[:20], "how": how[:20], "words": words}
    return run_act(by, verb, detail=detail, do=do)


def consent_grant(
    *,
    by: By,
    party_id: str,
    channel: str,
    how: str,
    words: str,
    at: datetime | None = None,
    account_id: str | None = None,
) -> Consent:
    """A party's prior express consent to texts or autodialled calls (`channel` sms or
    autodial), how it was given and the words agreed to (`dunning.consent.consent_record`;
    47 USC §227(b)(1)(A))."""
    return _consent(
        by,
        "consent.grant",
        party_id=party_id,
        channel=channel,
        how=how,
        words=words,
        at=at,
        account_id=account_id,
    )


def consent_withdraw(
    *,
    by: By,
    party_id: str,
    channel: str,
    how: str,
    words: str = "",
    at: datetime | None = None,
    account_id: str | None = None,
) -> Consent:
    """A party withdraws consent to texts or autodialled calls, by any reasonable means
    (`dunning.consent.consent_record`; 47 CFR §64.1200(a)(10))."""
    return _consent(
        by,
        "consent.withdraw",
        party_id=party_id,
        channel=channel,
        how=how,
        words=words,
        at=at,
        account_id=account_id,
    )


def document_add(
    *, by: By, account_id: str, data: bytes, filename: str, title: str, kind: str = "other"
) -> DocumentAdded:
    """A file added to the account's history (`correspondence.uploads.document_add`): checked
    by its bytes, archived once by its SHA-256, named on the timeline with its kind (what the
    referral checklists look for: a lease, a proof of service…)."""
    kind = kind or "other"
    detail = {
        "title": " ".join(title.split())[:200],
        "kind": kind[:40],
        "filename": plain_filename(filename),
        "sha256": sha256_of(data),
        "size": len(data),
    }
    return run_act(
        by,
        "document.add",
        account_id=account_id,
        detail=detail,
        do=lambda _a: uploads.document_add(
            account_id=account_id,
            data=data,
            filename=filename,
            title=title,
            actor=by.name,
            on=today(),
            kind=kind,
        ),
    )
