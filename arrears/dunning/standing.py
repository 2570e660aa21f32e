"""Where accounts stand, read for a page of them at once (search's results): the balance open at
the end of the book and the collection stage, the step of its policy last taken, or "current".

Invariant: one query for any number of accounts (two subqueries per account row, each served by
an index on its account), so a page of results costs the same whatever it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, ExpressionWrapper, F, OuterRef, Subquery, Sum, When

from arrears.core.fields import MoneyField
from arrears.dunning.models import Action
from arrears.ledger.models import Account, OpenItem

CURRENT = "current"


@dataclass(frozen=True)
class Standing:
    currency: str
    balance: Decimal  # charges open less credit unapplied: negative when the account is in credit
    stage: str  # the policy's step last taken while a balance is owed ("" if none), or CURRENT


def accounts_standing(account_ids: Iterable[str]) -> dict[str, Standing]:
    """The standing of each account of `account_ids` (by account id), in one query. An account
    owing nothing is CURRENT whatever its past steps; one owing with no step taken yet has ""."""
    credit = ExpressionWrapper(-F("amount"), output_field=MoneyField())
    signed = Case(When(is_credit=True, then=credit), default=F("amount"))
    balance = (
        OpenItem.objects.filter(account_id=OuterRef("pk"))
        .values("account_id")
        .annotate(total=Sum(signed, output_field=MoneyField()))
        .values("total")
    )
    # A step refused by the guard was not taken: it does not move the account along.
    step = (
        Action.objects.filter(account_id=OuterRef("pk"))
        .exclude(status=Action.Status.REFUSED)
        .order_by("-run_on", "-id")
        .values("step")[:1]
    )
    rows = (
        Account.objects.filter(account_id__in=list(account_ids))
        .annotate(balance=Subquery(balance, output_field=MoneyField()), stage=Subquery(step))
        .values_list("account_id", "currency", "balance", "stage")
    )
    standing = {}
    for account_id, currency, owed, stage in rows:
        owed = owed if owed is not None else Decimal("0.00")
        standing[account_id] = Standing(currency, owed, (stage or "") if owed > 0 else CURRENT)
    return standing
