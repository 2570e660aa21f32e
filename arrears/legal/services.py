"""Writes of the legal part: referring an account to a firm.

Every referral is written with its timeline row in one transaction. The interfaces reach these
services through `access.services.act`, which authorizes the actor and writes the audit row.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.ledger.models import Account, TimelineEvent
from arrears.legal.models import Referral


def referral_make(*, account: Account, firm: str, on: date, actor: str, note: str = "") -> Referral:
    """Refer an account to a firm (its attorneys then see it); written on the timeline.

    Raises ValidationError without a firm, or when the account is already with that firm.
    """
    firm = firm.strip()
    if not firm:
        raise ValidationError(
            _("a referral names a firm"), code="referral_firm_missing", field="firm"
        )
    with transaction.atomic():
        if Referral.objects.filter(account=account, firm=firm, withdrawn_on__isnull=True).exists():
            raise ValidationError(
                _("{account_id} is already referred to {firm}"),
                code="referral_exists",
                account_id=account.account_id,
                firm=firm,
            )
        referral = Referral.objects.create(
            account=account, firm=firm, referred_on=on, referred_by=actor, note=note
        )
        TimelineEvent.objects.create(
            account=account,
            at=timezone.now(),
            on=on,
            kind="referral.made",
            actor=actor,
            summary=f"referred to {firm}",
            detail={"referral": referral.pk, "firm": firm, "note": note},
        )
    return referral
