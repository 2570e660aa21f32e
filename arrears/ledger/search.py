"""The search over the book: accounts found by id, unit, a party's name, email or phone, or an
amount, within a scope the caller gives (the searcher's visible accounts).

Invariant: no account outside the scope given is returned. A name is compared by its fold
(`arrears.core.fold`: "garcia" finds "García"), the same function on both databases. On
PostgreSQL each query is served by an index of `ledger.0005_search_indexes` or
`ledger.0008_search_fold`; on SQLite the tables are scanned.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Case, Func, Q, QuerySet, TextField, Value, When

from arrears.core.dates import today
from arrears.core.fold import SQL_NAME, fold
from arrears.ledger.models import Account, AccountParty, OpenItem, Transaction


@dataclass(frozen=True)
class Hit:
    account_id: str
    property_id: str
    unit: str
    names: str
    why: str
    exact: bool = False  # the account named by its id, or by its unit
    # Where the account stands (`dunning.standing`), filled in by the scoped search.
    currency: str = ""
    balance: Decimal | None = None
    stage: str = ""


class Fold(Func):
    """`arrears_fold(x)`: `arrears.core.fold` in the database (a migration's function on
    PostgreSQL, the Python function itself on SQLite)."""

    function = SQL_NAME
    arity = 1
    output_field = TextField()


SEARCH_LIMIT = 50
SEARCH_ENTRY_DAYS = 183  # how far back an amount is looked for among the entries
BY_AMOUNT = ("open item", "rent", "entry")  # why an account was found by an amount


def account_search(*, q: str, within: QuerySet[Account], limit: int = SEARCH_LIMIT) -> list[Hit]:
    """Accounts of `within` matching `q`: a party's phone number (exactly, in any format), account
    id, unit, a party's name (accents and case aside), email or phone, or an amount (an open
    item's, the rent, or an entry's of the last six months). Best matches first, at most `limit`;
    the account of an exact id or unit is marked `exact`. `within` is the searcher's scope
    (`access.selectors.accounts_visible`): no account outside it is returned."""
    q = q.strip()
    if not q:
        return []
    found: dict[int, str] = {}

    def take(pks: Iterable[int], why: str) -> None:
        for pk in pks:
            if len(found) >= limit:
                return
            found.setdefault(pk, why)

    # The account named exactly, then accounts of that unit, then (after amounts and parties)
    # accounts whose id starts so: one query, ranked in the database.
    rank = Case(
        When(account_id__iexact=q, then=Value(0)),
        When(unit__iexact=q, then=Value(1)),
        default=Value(2),
    )
    phone = phone_number(q)
    if phone is not None:
        take(_by_phone(within, phone, limit), "phone")
    by_id = list(
        within.filter(Q(account_id__iexact=q) | Q(unit__iexact=q) | Q(account_id__istartswith=q))
        .annotate(rank=rank)
        .order_by("rank", "account_id")
        .values_list("pk", "rank")[: 3 * limit]
    )
    take((pk for pk, r in by_id if r == 0), "account")
    take((pk for pk, r in by_id if r == 1), "unit")
    amount = _amount(q)
    if amount is not None:
        for pks, why in _by_amount(within, amount, limit):
            take(pks, why)
    if "@" not in q or len(found) < limit:
        take(_by_party(within, q, limit), "party")
    take((pk for pk, r in by_id if r == 2), "account")
    exact = {pk for pk, r in by_id if r < 2}
    return _hits(found, exact)


def account_named(hits: list[Hit]) -> str | None:
    """The account `hits` name exactly, for the search page to open: the one whose id was typed,
    or the one account of the unit typed when no amount found others (a unit "1200" is not the
    rents of 1,200.00). None when no account, or several (a unit at several properties), is."""
    exact = [h for h in hits if h.exact]
    if len(exact) != 1:
        return None
    hit = exact[0]
    if hit.why == "account" or not any(h.why in BY_AMOUNT for h in hits if h is not hit):
        return hit.account_id
    return None


def phone_number(text: str) -> str | None:
    """`text` as the E.164 number the book keeps phones as ("(347) 555-0113", "347-555-0113" and
    "+13475550113" are all "+13475550113"; ten digits are a North American number), or None
    when it is not a phone number."""
    if any(c.isalpha() for c in text) or not set(text) <= set("0123456789+-(). "):
        return None
    digits = "".join(c for c in text if c.isdigit())
    if text.lstrip().startswith("+"):
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return None


def _by_phone(within: QuerySet[Account], phone: str, limit: int) -> QuerySet[AccountParty, int]:
    """The accounts of `within` with a party whose phone is `phone`."""
    links = AccountParty.objects.filter(party__phone=phone)
    if within.query.has_filters():
        links = links.filter(account__in=within)
    return links.values_list("account_id", flat=True).distinct().order_by("account_id")[:limit]


def _by_amount(
    within: QuerySet[Account], amount: Decimal, limit: int
) -> Iterator[tuple[Iterable[int], str]]:
    """The accounts of `within` with an open item of `amount`, then of that rent, then with an
    entry of it in the last months, each query with why it found them."""
    open_items = OpenItem.objects.filter(amount=str(amount)).values("account_id")
    yield within.filter(pk__in=open_items).values_list("pk", flat=True)[:limit], "open item"
    yield within.filter(rent=str(amount)).values_list("pk", flat=True)[:limit], "rent"
    # Entries of the last months only: on a book of millions of entries an amount is common, and
    # the (amount, posted_on) index keeps this a short range.
    recent = Transaction.objects.filter(
        amount=str(amount), posted_on__gte=today() - timedelta(days=SEARCH_ENTRY_DAYS)
    )
    yield (
        within.filter(pk__in=recent.values("account_id")).values_list("pk", flat=True)[:limit],
        "entry",
    )


def _by_party(within: QuerySet[Account], q: str, limit: int) -> QuerySet[AccountParty, int]:
    """The accounts of `within` with a party whose name holds `q` (both folded), whose email is
    `q`, or whose phone holds the last 7 digits of `q`."""
    digits = "".join(c for c in q if c.isdigit())
    party_q = Q(folded__contains=fold(q)) | Q(party__email__iexact=q)
    if len(digits) >= 7:
        party_q |= Q(party__phone__contains=digits[-7:])
    links = AccountParty.objects.annotate(folded=Fold("party__name")).filter(party_q)
    if within.query.has_filters():  # unfiltered, it is the whole book: no semi-join to plan
        links = links.filter(account__in=within)
    # In the book's order (the accounts' keys): the same results, in the same order, on both
    # databases (PostgreSQL's DISTINCT keeps no order of its own).
    return links.values_list("account_id", flat=True).distinct().order_by("account_id")[:limit]


def _hits(found: dict[int, str], exact: set[int]) -> list[Hit]:
    """Each account found, in the order found, with its parties' names (one row per party; an
    account without one comes once, its name None)."""
    accounts: dict[int, tuple[str, str, str]] = {}
    names: dict[int, list[tuple[str, str]]] = {}
    for pk, account_id, property_id, unit, role, name in Account.objects.filter(
        pk__in=found
    ).values_list(
        "pk",
        "account_id",
        "property__property_id",
        "unit",
        "account_parties__role",
        "account_parties__party__name",
    ):
        accounts[pk] = (account_id, property_id or "", unit)
        if name is not None:
            names.setdefault(pk, []).append((role, name))
    return [
        Hit(
            *accounts[pk],
            ", ".join(dict.fromkeys(n for _, n in sorted(names.get(pk, [])))),
            why,
            pk in exact,
        )
        for pk, why in found.items()
        if pk in accounts
    ]


def _amount(text: str) -> Decimal | None:
    cleaned = text.replace("$", "").replace(",", "").strip()
    if not cleaned or not any(c.isdigit() for c in cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value <= 0 or value != value.quantize(Decimal("0.01")) or value > Decimal("1e12"):
        return None
    return value
