"""Referral readiness: what the referral checklist (arrears.legal.checklists) asks of an account
and what its book holds of each item, read for many accounts at once (the worklist's referral
lines) or for one (`arrears refer --check`, the Refer form, the case file).

Held by: the letters and emails that went out (correspondence's outbound rows, with their
mailing), the documents added by hand with their kind (the timeline's `document.added` rows), the
plans (plans), whether the account has a guarantor, and the property's `x_registration_required`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.utils.translation import get_language

from arrears.correspondence.models import Outbound
from arrears.ledger.models import Account, AccountParty, TimelineEvent
from arrears.legal import services as legal
from arrears.legal.checklists import (
    Facts,
    ItemState,
    Letter,
    Readiness,
    Upload,
    checklist_for,
    evaluate,
)
from arrears.plans.models import Plan

# What a letter went out as, for the checklist: a letter handed to the post (returned or not:
# service by mail is complete on mailing) or an email the server took.
WENT_OUT = ("mailed", "returned", "sent")
EMAIL_STEP = "referral"  # the outbound row of a case file emailed to its firm (not a letter)
TRUE_WORDS = ("1", "true", "yes", "y", "x")


def _registration_required(account: Account) -> bool:
    extra = (account.property.extra if account.property is not None else None) or {}
    value = extra.get("x_registration_required", extra.get("registration_required", ""))
    return str(value).strip().lower() in TRUE_WORDS


def facts_of(accounts: Sequence[Account]) -> dict[int, Facts]:
    """What the checklist asks of each account, read for all of them at once (four queries)."""
    pks = [a.pk for a in accounts]
    letters: dict[int, list[Letter]] = defaultdict(list)
    rows = (
        Outbound.objects.filter(account_id__in=pks, status__in=WENT_OUT, document__isnull=False)
        .exclude(step=EMAIL_STEP)
        .select_related("document", "party")
        .order_by("pk")
    )
    for o in rows:
        assert o.document is not None
        letters[o.account_id].append(
            Letter(
                outbound_id=o.pk,
                template=o.template,
                channel=o.channel,
                status=o.status,
                document=o.document.name,
                sha256=o.document.sha256,
                party=o.party.name if o.party else o.recipient,
                role=o.role,
                dated_on=o.dated_on,
                mailed_on=o.mailed_on,
                article_number=o.article_number,
            )
        )
    uploads: dict[int, list[Upload]] = defaultdict(list)
    events = (
        TimelineEvent.objects.filter(account_id__in=pks, kind="document.added")
        .order_by("pk")
        .values_list("account_id", "on", "detail")
    )
    for account_pk, on, detail in events:
        if not detail.get("document") or not detail.get("sha256"):
            continue
        uploads[account_pk].append(
            Upload(
                kind=detail.get("kind") or "other",
                title=detail.get("title", ""),
                document=detail["document"],
                sha256=detail["sha256"],
                content_type=detail.get("content_type", ""),
                added_on=on,
            )
        )
    guarantors = set(
        AccountParty.objects.filter(account_id__in=pks, role="guarantor").values_list(
            "account_id", flat=True
        )
    )
    plans: dict[int, list[str]] = defaultdict(list)
    for account_pk, status in Plan.objects.filter(account_id__in=pks).values_list(
        "account_id", "status"
    ):
        plans[account_pk].append(status)
    return {
        a.pk: Facts(
            letters=tuple(letters[a.pk]),
            uploads=tuple(uploads[a.pk]),
            guarantor=a.pk in guarantors,
            plans=len(plans[a.pk]),
            plans_broken=plans[a.pk].count("broken"),
            registration=_registration_required(a),
        )
        for a in accounts
    }


def readiness_of(accounts: Sequence[Account]) -> dict[int, Readiness]:
    """Each account's checklist, evaluated on its book."""
    facts = facts_of(accounts)
    return {
        a.pk: evaluate(
            checklist_for(
                state=a.property.state if a.property is not None else "", account_kind=a.kind
            ),
            facts[a.pk],
        )
        for a in accounts
    }


def referral_checklist(account: Account, firm: str = "") -> Readiness:
    """What the referral checklist of `account` asks and what its book holds of each item.
    With `firm`, the firm must exist (NotFoundError naming it otherwise)."""
    if firm:
        legal.firm_named(firm)
    return readiness_of([account])[account.pk]


def referral_missing(accounts: Sequence[Account]) -> dict[str, list[str]]:
    """The titles (in the active language) of what each account's referral lacks, by account id:
    what the worklist's Refer form shows."""
    language = get_language() or "en"
    return {
        a.account_id: [i.title_in(language) for i in r.missing]
        for a, r in zip(accounts, readiness_of(accounts).values(), strict=True)
    }


def _source_json(state: ItemState) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if state.generated:
        out.append({"source": "generated", "what": state.generated})
    for letter in state.letters:
        out.append(
            {
                "source": "letter",
                "letter_id": letter.outbound_id,
                "template": letter.template,
                "channel": letter.channel,
                "to": letter.party,
                "mailed_on": letter.mailed_on.isoformat() if letter.mailed_on else None,
                "article_number": letter.article_number or None,
                "document": letter.document,
                "sha256": letter.sha256,
            }
        )
    for upload in state.uploads:
        out.append(
            {
                "source": "upload",
                "kind": upload.kind,
                "title": upload.title,
                "document": upload.document,
                "sha256": upload.sha256,
            }
        )
    return out


def checklist_json(account: Account, readiness: Readiness, firm: str = "") -> dict[str, Any]:
    """The checklist as `arrears refer --check --format json` and the API print it."""
    language = get_language() or "en"
    return {
        "account_id": account.account_id,
        "firm": firm or None,
        "checklist": readiness.checklist.key,
        "title": readiness.checklist.title_in(language),
        "law": readiness.checklist.law,
        "ready": not readiness.missing,
        "missing": [i.key for i in readiness.missing],
        "items": [
            {
                "key": s.item.key,
                "title": s.item.title_in(language),
                "law": s.item.law or None,
                "applies": s.applies,
                "held": s.held,
                "missing": s.missing,
                "uploads": list(s.item.uploads),
                "sources": _source_json(s),
            }
            for s in readiness.items
        ],
    }
