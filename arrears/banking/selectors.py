"""Reads of banking: the book as the matching rules see it, and the review queue."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django.db.models import BigIntegerField, Case, F, QuerySet, Sum, When

from arrears.banking.models import BankLine, CashOnly
from arrears.core.fold import fold
from arrears.ledger.models import Account, AccountParty, OpenItem

if TYPE_CHECKING:  # the rules (and rapidfuzz) load with an import, not with every page
    from arrears.banking.matching import MatchBook


def match_book() -> MatchBook:
    """The whole book as the rules read it, in four queries (docstring of MatchBook)."""
    from arrears.banking.matching import MatchBook

    numbers: dict[str, int] = {}
    units: dict[str, list[int]] = defaultdict(list)
    for pk, account_id, unit in Account.objects.filter(closed_on__isnull=True).values_list(
        "pk", "account_id", "unit"
    ):
        numbers[account_id.upper()] = pk
        if unit.strip():
            units[fold(unit.strip())].append(pk)
    names: dict[str, list[int]] = defaultdict(list)
    for account_pk, name in AccountParty.objects.filter(
        role__in=[AccountParty.Role.PRIMARY, AccountParty.Role.CO_OBLIGOR],
        account__closed_on__isnull=True,
    ).values_list("account_id", "party__name"):
        folded = " ".join(fold(name).split())
        if folded and account_pk not in names[folded]:
            names[folded].append(account_pk)
    open_amounts: dict[int, list[int]] = defaultdict(list)
    for account_pk, owed in (
        OpenItem.objects.values("account_id")
        .annotate(
            owed=Sum(
                Case(
                    When(is_credit=True, then=-F("amount")),
                    default=F("amount"),
                    output_field=BigIntegerField(),
                )
            )
        )
        .values_list("account_id", "owed")
    ):
        if owed and owed > 0:
            open_amounts[int(owed)].append(account_pk)  # cents, as the database holds them
    payer_accounts = dict(
        BankLine.objects.exclude(payer_account="")
        .filter(account__isnull=False, kind=BankLine.Kind.CREDIT)
        .exclude(status=BankLine.Status.NOT_OURS)
        .order_by("pk")
        .values_list("payer_account", "account_id")
    )
    return MatchBook(
        account_numbers=numbers,
        units=dict(units),
        names=dict(names),
        open_amounts=dict(open_amounts),
        payer_accounts=payer_accounts,
        name_choices=list(names),
    )


def review_list() -> QuerySet[BankLine]:
    """The lines waiting for a coordinator's decision, oldest first."""
    return (
        BankLine.objects.filter(status=BankLine.Status.REVIEW)
        .select_related("account", "file")
        .order_by("posted_on", "pk")
    )


def cash_only(account: Account) -> CashOnly | None:
    """The account's "cash only" flag in force, or None."""
    return CashOnly.objects.filter(account=account, until__isnull=True).order_by("-since").first()
