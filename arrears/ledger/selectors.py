"""Reads of the book: aging as of any date (set-based), an account's ledger, lists for pages.

Aging as of D sums `OpenItemDelta` rows dated on or before D into buckets by due date, in one
aggregate query; when D is on or after the last posted date of the book, the `OpenItem` snapshot
gives the same answer from open items alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.fields import from_cents
from arrears.core.heap import collector_paused
from arrears.core.money import ZERO
from arrears.ledger import bulk
from arrears.ledger.aging import DEFAULT_BOUNDARIES, AgedLine, Buckets, CentsLine, Line, sum_lines
from arrears.ledger.allocation import CHARGE, RECEIPTS, REFUND, SIGN
from arrears.ledger.models import (
    Account,
    AccountParty,
    Allocation,
    OpenItem,
    OpenItemDelta,
    Party,
    Property,
    Transaction,
)

BY_CHOICES = ("account", "property", "portfolio")


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to make, 100,000 lines a report
class AgingRow:
    key: dict[str, str]
    line: Line


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    currency: str
    buckets: Buckets
    by: str
    rows: list[AgingRow]
    totals: Line

    @property
    def key_columns(self) -> list[str]:
        """The columns naming each line: an account and its property, a property, a portfolio."""
        return {
            "account": ["account_id", "property_id"],
            "property": ["property_id"],
            "portfolio": ["portfolio"],
        }[self.by]

    @property
    def list_name(self) -> str:
        """The key of the lines in the JSON object: accounts, properties or portfolios."""
        return {"account": "accounts", "property": "properties", "portfolio": "portfolios"}[self.by]

    def as_json(self) -> dict[str, Any]:
        """The JSON object of the spec: amounts as strings with two decimals."""
        labels = self.buckets.labels

        def amounts(line: Line) -> dict[str, str]:
            out = {label: f"{a:.2f}" for label, a in zip(labels, line.buckets, strict=True)}
            out["credit"] = f"{line.credit:.2f}"
            out["balance"] = f"{line.balance:.2f}"
            return out

        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "buckets": labels,
            self.list_name: [{**row.key, **amounts(row.line)} for row in self.rows],
            "totals": amounts(self.totals),
        }


def book_currencies(*, property_ids: Iterable[str] | None = None) -> list[str]:
    """The currencies of the book's accounts (of these properties), sorted; an empty book is in
    the default currency of an account."""
    accounts = Account.objects.all()
    if property_ids is not None:
        accounts = accounts.filter(property__property_id__in=list(property_ids))
    return sorted(set(accounts.values_list("currency", flat=True))) or [_default_currency()]


def _default_currency() -> str:
    return str(Account._meta.get_field("currency").default)


def aging_json(
    reports: Iterable[AgingReport],
    *,
    as_of: date,
    by: str,
    buckets: Buckets,
    currencies: Iterable[str],
) -> dict[str, Any] | list[dict[str, Any]]:
    """The aging as the interchange spec prints it: one object per currency of the book (an empty
    one for a currency with nothing open), and the object itself for a book in one currency, a
    list only for a book in several. The shape follows the book, never what happens to be open."""
    found = {r.currency: r for r in reports}
    empty = AgedLine(tuple([ZERO] * (len(buckets.boundaries) + 1)), ZERO)
    docs = [
        (found.get(c) or AgingReport(as_of, c, buckets, by, [], empty)).as_json()
        for c in sorted(set(currencies) | set(found) or {_default_currency()})
    ]
    return docs[0] if len(docs) == 1 else docs


def last_posted_on() -> date | None:
    return Transaction.objects.aggregate(last=Max("posted_on"))["last"]


def aging_report(
    *,
    as_of: date,
    by: str = "account",
    currency: str | None = None,
    buckets: tuple[int, ...] | Buckets = DEFAULT_BOUNDARIES,
    property_ids: Iterable[str] | None = None,
) -> list[AgingReport]:
    """Aging of the book as of a date, one report per currency (only `currency` if given).

    Accounts with nothing open are left out. Raises ValidationError for an unknown `by`.
    """
    if by not in BY_CHOICES:
        raise ValidationError(
            _("aging is by one of {choices}, not {by!r}"),
            code="aging_by_unknown",
            by=by,
            choices=", ".join(BY_CHOICES),
        )
    spec = buckets if isinstance(buckets, Buckets) else Buckets(tuple(buckets))
    with collector_paused():  # a line per account (core.heap: half the time at 10M)
        return _aging_reports(as_of, by, currency, spec, property_ids)


def _aging_reports(
    as_of: date,
    by: str,
    currency: str | None,
    spec: Buckets,
    property_ids: Iterable[str] | None,
) -> list[AgingReport]:
    lines = _account_lines(as_of, spec, currency, property_ids)
    per_currency: dict[str, list[tuple[dict[str, str], Line]]] = defaultdict(list)
    if by == "account":
        for (account_id, property_id, _portfolio, cur), line in lines:
            per_currency[cur].append(({"account_id": account_id, "property_id": property_id}, line))
    else:
        for (_account, property_id, portfolio, cur), line in lines:
            key = {"property_id": property_id} if by == "property" else {"portfolio": portfolio}
            per_currency[cur].append((key, line))
    width = len(spec.boundaries) + 1
    reports = []
    for cur in sorted(per_currency):
        rows = _roll_up(per_currency[cur], width) if by != "account" else per_currency[cur]
        aged = list(map(AgingRow, *zip(*rows, strict=True))) if rows else []
        totals = sum_lines([r.line for r in aged], width)
        reports.append(AgingReport(as_of, cur, spec, by, aged, totals))
    if currency and not reports:
        empty = AgedLine(tuple([ZERO] * width), ZERO)
        reports.append(AgingReport(as_of, currency, spec, by, [], empty))
    return reports


def _roll_up(
    rows: list[tuple[dict[str, str], Line]], width: int
) -> list[tuple[dict[str, str], Line]]:
    groups: dict[tuple[str, ...], list[Line]] = defaultdict(list)
    keys: dict[tuple[str, ...], dict[str, str]] = {}
    for key, line in rows:
        k = tuple(key.values())
        groups[k].append(line)
        keys[k] = key
    return [(keys[k], sum_lines(groups[k], width)) for k in sorted(groups)]


def _account_lines(
    as_of: date, spec: Buckets, currency: str | None, property_ids: Iterable[str] | None
) -> list[tuple[tuple[str, str, str, str], Line]]:
    """Per account: (account_id, property_id, portfolio, currency) and its aged line."""
    sums: list[str] = []
    params: list[Any] = []
    for low, high in spec.due_limits(as_of):
        cond = ["is_credit = ?"]
        params.append(False)
        if low is not None:
            cond.append("due_on >= ?")
            params.append(low.isoformat())
        if high is not None:
            cond.append("due_on <= ?")
            params.append(high.isoformat())
        sums.append(
            f"CAST(SUM(CASE WHEN {' AND '.join(cond)} THEN {{amount}} ELSE 0 END) AS BIGINT)"
        )
    # Whole cents as integers from the driver (a bigint's SUM is numeric, a Decimal each).
    sums.append("CAST(SUM(CASE WHEN is_credit = ? THEN {amount} ELSE 0 END) AS BIGINT)")
    params.append(True)
    last = last_posted_on()
    if last is None or as_of >= last:
        table, amount, where = OpenItem._meta.db_table, "amount", "1 = 1"
    else:
        table, amount, where = OpenItemDelta._meta.db_table, "delta", "on_date <= ?"
        params.append(as_of.isoformat())
    account_filter = []
    if currency:
        account_filter.append("a.currency = ?")
    if property_ids is not None:
        ids = list(property_ids) or [""]
        account_filter.append(f"p.property_id IN ({', '.join('?' * len(ids))})")
    columns = ", ".join(s.format(amount=amount) for s in sums)
    sql = (
        f"SELECT a.account_id, p.property_id, p.portfolio, a.currency, x.* FROM "
        f"(SELECT account_id AS pk, {columns} FROM {table} WHERE {where} GROUP BY account_id) x "
        f"JOIN {Account._meta.db_table} a ON a.id = x.pk "
        f"LEFT JOIN {Property._meta.db_table} p ON p.id = a.property_id"
    )
    if account_filter:
        sql += " WHERE " + " AND ".join(account_filter)
        if currency:
            params.append(currency)
        if property_ids is not None:
            params.extend(list(property_ids) or [""])
    # By property, then account, in code-point order on both databases: byte order (COLLATE
    # "C" on PostgreSQL, SQLite's own BINARY) is code-point order in UTF-8, whatever the
    # database's collation; and no locale-aware sort of every account id.
    c = ' COLLATE "C"' if bulk.is_postgres() else ""
    sql += f" ORDER BY COALESCE(p.property_id, ''){c}, a.account_id{c}"
    out: list[tuple[tuple[str, str, str, str], Line]] = []
    for account_id, property_id, portfolio, cur, _pk, *cents in _aggregate(sql, params):
        if any(cents):
            line = CentsLine(tuple(cents[:-1]), cents[-1])
            out.append(((account_id, property_id or "", portfolio or "", cur), line))
    return out


def _aggregate(sql: str, params: list[Any]) -> list[Any]:
    """Run an aging aggregate; on PostgreSQL with room to hash every account in memory."""
    if not bulk.is_postgres():
        return list(bulk.execute(sql, params))
    with transaction.atomic():
        bulk.execute("SET LOCAL work_mem = '256MB'")
        return list(bulk.execute(sql, params))


@dataclass(frozen=True)
class Paid:
    """An allocation seen from one side: the other transaction and the amount."""

    txn_id: str
    amount: Decimal
    on: date


@dataclass
class LedgerLine:
    txn_id: str
    posted_on: date
    type: str
    code: str
    amount: Decimal
    due_on: date | None
    reference: str
    memo: str
    balance: Decimal
    applies_to: str = ""
    reverses: str = ""
    open_amount: Decimal | None = None  # a charge's (a refund's) unpaid part as of the date
    unapplied: Decimal | None = None  # a payment's or credit's credit left as of the date
    paid_by: list[Paid] = field(default_factory=list)  # for a charge (a refund: its credits)
    paid: list[Paid] = field(default_factory=list)  # for a payment or credit
    reversed_on: date | None = None


@dataclass
class AccountLedger:
    account: Account
    as_of: date
    lines: list[LedgerLine]
    balance: Decimal
    aged: AgedLine
    buckets: Buckets
    parties: list[Any]


_LEDGER_FIELDS = (
    "id",
    "txn_id",
    "posted_on",
    "type",
    "code",
    "amount",
    "due_on",
    "reference",
    "memo",
    "applies_to",
    "reverses",
)


def account_get(*, account_id: str) -> Account:
    try:
        return Account.objects.select_related("property").get(account_id=account_id)
    except Account.DoesNotExist:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        ) from None


def party_of_account(account: Account, party_id: str | None) -> Party | None:
    """The party `party_id` names among the account's parties; None when none is named.

    Raises NotFoundError when it is not one of the account's parties."""
    if not party_id:
        return None
    link = (
        AccountParty.objects.filter(account=account, party__party_id=party_id)
        .select_related("party")
        .first()
    )
    if link is None:
        raise NotFoundError(
            _("{party_id!r} is not a party of account {account_id!r}"),
            code="party_not_of_account",
            party_id=party_id,
            account_id=account.account_id,
        )
    return link.party


def account_party_links(account: Account) -> list[AccountParty]:
    """The account's parties (AccountParty rows, each with its party), by role then name: one
    hand-written query, as every account page reads them: the page's target needs it (1.5 M
    instructions against 3.2 M through the ORM, see core.sql)."""
    links = []
    for party in Party.objects.raw(
        f"SELECT p.*, {sql.joined_columns(AccountParty, 'ap', 'link__')}"
        f" FROM {sql.table(Party)} p JOIN {sql.table(AccountParty)} ap ON ap.party_id = p.id"
        " WHERE ap.account_id = %s ORDER BY ap.role, p.name, ap.id",
        [account.pk],
    ):
        link = sql.joined(AccountParty, party, "link__")
        assert isinstance(link, AccountParty)
        link.account, link.party = account, party
        links.append(link)
    return links


def account_ledger(
    *, account_id: str, as_of: date, buckets: Buckets | None = None, account: Account | None = None
) -> AccountLedger:
    """The account's entries posted by `as_of`, with running balance and what paid what
    (`account`: the account `account_id` names, when the caller has it already)."""
    from arrears.ledger.aging import age_open_items

    spec = buckets or Buckets()
    if account is None or account.account_id != account_id:
        account = account_get(account_id=account_id)
    txns = _ledger_entries(account, as_of)
    txn_ids = _txn_ids(txns)
    paid_by, paid = _allocations(account, as_of, txn_ids)
    lines, items = _ledger_lines(txns, txn_ids, paid_by, paid)
    balance = lines[-1].balance if lines else ZERO
    parties = account_party_links(account)
    aged = age_open_items(items, as_of, spec)
    return AccountLedger(account, as_of, lines, balance, aged, spec, parties)


def _ledger_entries(account: Account, as_of: date) -> list[tuple[Any, ...]]:
    """The account's entries posted by `as_of` in book order, as tuples of `_LEDGER_FIELDS`."""
    # Tuples, not model instances, read by hand-written SQL: this is the account page's read, and
    # a long history is hundreds of rows; the page's target needs it (entries and allocations:
    # 2.7 M instructions an account against 7.4 M through the ORM, see core.sql). Amounts as cents.
    return [
        (*t[:5], from_cents(t[5]), *t[6:])
        for t in sql.rows(
            f"SELECT {sql.columns(Transaction, *_LEDGER_FIELDS)} FROM {sql.table(Transaction)}"
            " WHERE account_id = %s"
            " AND posted_on <= %s ORDER BY posted_on, id",
            [account.pk, sql.day(as_of)],
        )
    ]


def _txn_ids(txns: list[tuple[Any, ...]]) -> dict[int, str]:
    """The txn_id of each entry's key, and of each entry they name posted later (or elsewhere)."""
    txn_ids = {t[0]: t[1] for t in txns}
    elsewhere = {t[9] for t in txns if t[9] and t[9] not in txn_ids}
    elsewhere |= {t[10] for t in txns if t[10] and t[10] not in txn_ids}
    if elsewhere:  # an entry linked to one posted after `as_of` (or on another account)
        txn_ids.update(Transaction.objects.filter(pk__in=elsewhere).values_list("pk", "txn_id"))
    return txn_ids


def _allocations(
    account: Account, as_of: date, txn_ids: dict[int, str]
) -> tuple[dict[int, list[Paid]], dict[int, list[Paid]]]:
    """What paid each charge and what each payment or credit paid, as of `as_of`."""
    paid_by: dict[int, list[Paid]] = defaultdict(list)
    paid: dict[int, list[Paid]] = defaultdict(list)
    for charge_pk, source_pk, cents, made_on in sql.rows(
        f"SELECT charge_id, source_id, amount, made_on FROM {sql.table(Allocation)}"
        " WHERE account_id = %s AND made_on <= %s AND (undone_on IS NULL OR undone_on > %s)"
        " ORDER BY made_on, id",
        [account.pk, sql.day(as_of), sql.day(as_of)],
    ):
        amount = from_cents(cents)
        paid_by[charge_pk].append(Paid(txn_ids[source_pk], amount, made_on))
        paid[source_pk].append(Paid(txn_ids[charge_pk], amount, made_on))
    return paid_by, paid


def _ledger_lines(
    txns: list[tuple[Any, ...]],
    txn_ids: dict[int, str],
    paid_by: dict[int, list[Paid]],
    paid: dict[int, list[Paid]],
) -> tuple[list[LedgerLine], list[tuple[bool, date | None, Decimal]]]:
    """The ledger's lines with their running balance, and the open items they leave."""
    reversed_on = {t[10]: t[2] for t in txns if t[10]}
    balance = ZERO
    lines = []
    items: list[tuple[bool, date | None, Decimal]] = []
    for pk, txn_id, posted_on, type_, code, amount, due_on, ref, memo, applies, reverses in txns:
        balance += SIGN[type_] * amount
        line = LedgerLine(txn_id, posted_on, type_, code, amount, due_on, ref, memo, balance)
        line.applies_to = txn_ids[applies] if applies else ""
        line.reverses = txn_ids[reverses] if reverses else ""
        if type_ in (CHARGE, REFUND):
            line.paid_by = paid_by.get(pk, [])
            line.open_amount = amount - sum((p.amount for p in line.paid_by), ZERO)
            if line.open_amount:
                # A refund is owed again only when the credit it paid out is reversed.
                items.append((False, due_on or posted_on, line.open_amount))
        elif type_ in RECEIPTS:
            line.paid = paid.get(pk, [])
            line.reversed_on = reversed_on.get(pk)
            left = amount - sum((p.amount for p in line.paid), ZERO)
            line.unapplied = ZERO if line.reversed_on else left
            if line.unapplied:
                items.append((True, None, line.unapplied))
        lines.append(line)
    return lines, items


def property_list() -> list[Property]:
    """Every property by its id, each with `account_count`, its number of accounts."""
    return list(Property.objects.annotate(account_count=Count("accounts")).order_by("property_id"))


class OpenItemRow(NamedTuple):  # a tuple: a run over the book builds one per open item
    account_pk: int
    txn_id: str
    is_credit: bool
    code: str
    due_on: date | None
    posted_on: date
    amount: Decimal


def open_items_as_of(
    *,
    as_of: date,
    account_pks: Iterable[int] | None = None,
    account_range: tuple[int, int] | None = None,
) -> list[OpenItemRow]:
    """Every open charge and unapplied credit as of a date, set-based (one query).

    With `account_pks`, only those accounts'; with `account_range` (lo, hi), only those whose key
    is in it (a range, not a list of thousands of keys: the run's chunks). Reads the open-item
    snapshot when the date is on or after the last posted date of the book, the deltas otherwise.
    """
    last = last_posted_on()
    txn = Transaction._meta.db_table
    params: list[Any] = []
    if last is None or as_of >= last:
        inner = (
            f"SELECT account_id, item_id, is_credit, amount AS open FROM "
            f"{OpenItem._meta.db_table} WHERE 1 = 1"
        )
    else:
        inner = (
            f"SELECT account_id, item_id, is_credit, SUM(delta) AS open FROM "
            f"{OpenItemDelta._meta.db_table} WHERE on_date <= ?"
        )
        params.append(as_of.isoformat())
    ids = None if account_pks is None else list(account_pks)
    if ids is not None:
        if not ids:
            return []
        inner += f" AND account_id IN ({', '.join(str(int(pk)) for pk in ids)})"
    if account_range is not None:
        inner += f" AND account_id BETWEEN {int(account_range[0])} AND {int(account_range[1])}"
    if "SUM(" in inner:
        inner += " GROUP BY account_id, item_id, is_credit"
    sql = (
        f"SELECT x.account_id, t.txn_id, x.is_credit, t.code, t.due_on, t.posted_on, x.open "
        f"FROM ({inner}) x JOIN {txn} t ON t.id = x.item_id WHERE x.open <> 0 "
        f"ORDER BY x.account_id, t.due_on, t.posted_on, t.id"
    )
    # A range of a few thousand accounts' open items is a few thousand lookups of their
    # transactions by key; PostgreSQL's default costs choose a hash join over every transaction
    # instead (648 ms against 172 ms for a chunk of 2,000 accounts of the 1M-transaction bench
    # book), so inside a transaction the range's query is planned without hash or merge joins.
    steer = account_range is not None and bulk.is_postgres() and connection.in_atomic_block
    if steer:
        bulk.execute("SET LOCAL enable_hashjoin = off")
        bulk.execute("SET LOCAL enable_mergejoin = off")
    rows = bulk.execute(sql, params)
    if steer:  # (a failed query dooms the transaction, and its settings with it)
        bulk.execute("SET LOCAL enable_hashjoin = on")
        bulk.execute("SET LOCAL enable_mergejoin = on")
    return [_open_item(*row) for row in rows]


def _open_item(
    pk: int, txn_id: str, is_credit: Any, code: str, due: Any, posted: Any, cents: Any
) -> OpenItemRow:
    """An open item from its row; SQLite's raw cursor gives dates as text."""
    if isinstance(posted, str):
        posted = date.fromisoformat(posted)
        due = date.fromisoformat(due) if due else None
    if due is None and not is_credit:  # a refund owed again: due on its own date
        due = posted
    return OpenItemRow(pk, txn_id, bool(is_credit), code, due, posted, from_cents(int(cents)))


def property_get(*, property_id: str) -> Property:
    """One property; NotFoundError if there is none."""
    found = Property.objects.filter(property_id=property_id).first()
    if found is None:
        raise NotFoundError(
            _("no property {property_id!r}"), code="property_not_found", property_id=property_id
        )
    return found


def account_with_property(account_id: str) -> Account | None:
    """The account `account_id` names, with its property, whoever asks (the caller applies the
    user's scope: access.selectors). Hand-written (core.sql) because every request of an account
    page makes it: through the ORM's select_related it cost about 1 ms of Python a page, and the
    account page missed its target (p95 < 150 ms, 20 clients, bench/web.py) with it."""
    found = list(
        Account.objects.raw(
            f"SELECT a.*, {sql.joined_columns(Property, 'p', 'property__')}"
            f" FROM {sql.table(Account)} a LEFT JOIN {sql.table(Property)} p"
            " ON p.id = a.property_id WHERE a.account_id = %s",
            [account_id],
        )
    )
    if not found:
        return None
    account = found[0]
    account.property = sql.joined(Property, account, "property__")  # type: ignore[assignment]
    return account
