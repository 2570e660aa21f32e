"""`arrears report over-60`: the controller's monthly list of the balances more than 60 days past
due as of a day, by account, with each account's balance, last contact and collection stage.

Invariants:
- `over_60` is what `arrears aging --buckets 0,60` puts in its last bucket (61+) for the account
  as of the same day: the open charges due on or before D − 61, summed from the same open-item
  deltas in one aggregate per account; `balance` is that aging's balance (open charges less
  unapplied credit).
- An account is listed when its over_60 is more than zero; `total_over_60` is their sum.
- One currency: the JSON has no currency field, so a scope holding accounts in several
  currencies is refused unless one is named (ValidationError `currency_needed`).
- Scope is given (`accounts`, None for the whole book), as for the metrics.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.errors import ValidationError
from arrears.core.fields import from_cents
from arrears.dunning.standing import stages_on
from arrears.dunning.worklist_detail import last_contacts
from arrears.ledger.models import Account, OpenItemDelta, Property
from arrears.reports.scoped import aggregate, scope_of

OVER_DAYS = 60


def over_60(
    *, as_of: date, accounts: QuerySet[Account] | None = None, currency: str | None = None
) -> dict[str, Any]:
    """The accounts with more than 60 days past due as of `as_of` (module docstring), largest
    first, as the JSON the command and the API print. ValidationError when the accounts are in
    several currencies and `currency` names none."""
    scope_accounts = accounts if accounts is not None else Account.objects.all()
    held = sorted(set(scope_accounts.values_list("currency", flat=True)))
    if currency is None and len(held) > 1:
        raise ValidationError(
            _("the accounts are in several currencies ({currencies}): name one"),
            code="currency_needed",
            currencies=", ".join(held),
            field="currency",
        )
    if currency is not None:
        scope_accounts = scope_accounts.filter(currency=currency)
        accounts = scope_accounts
    scope = scope_of(accounts)
    # due on or before as_of − 61: the last bucket of boundaries (0, 60) (ledger.aging.Buckets)
    latest_due = sql.day(as_of - timedelta(days=OVER_DAYS + 1))
    over = "SUM(CASE WHEN is_credit = %s AND due_on <= %s THEN delta ELSE 0 END)"
    rows = aggregate(
        f"SELECT x.account_id, a.account_id, p.property_id, x.over_60, x.balance FROM"
        f" (SELECT account_id, {over} AS over_60,"
        " SUM(CASE WHEN is_credit = %s THEN -delta ELSE delta END) AS balance"
        f" FROM {sql.table(OpenItemDelta)} WHERE on_date <= %s{scope.on('account_id')}"
        f" GROUP BY account_id HAVING {over} > 0) x"
        f" JOIN {sql.table(Account)} a ON a.id = x.account_id"
        f" LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id",
        [False, latest_due, True, sql.day(as_of), *scope.params, False, latest_due],
    )
    found = [
        (pk, account_id, property_id or "", int(cents), int(balance))
        for pk, account_id, property_id, cents, balance in rows
    ]
    found.sort(key=lambda r: (-r[3], r[1]))
    pks = [r[0] for r in found]
    contacts = last_contacts(pks, until=as_of)
    stages = stages_on(pks, as_of)
    return {
        "as_of": as_of.isoformat(),
        "accounts": [
            {
                "account_id": account_id,
                "property_id": property_id,
                "over_60": f"{from_cents(cents):.2f}",
                "balance": f"{from_cents(balance):.2f}",
                "last_contact": contacts[pk][0].isoformat() if pk in contacts else None,
                "stage": stages.get(pk, ""),
            }
            for pk, account_id, property_id, cents, balance in found
        ],
        "total_over_60": f"{from_cents(sum(r[3] for r in found)):.2f}",
    }
