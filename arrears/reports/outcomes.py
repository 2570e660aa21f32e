"""What collection achieved over a period, as reports of the registry (docs/metrics.md, "Payment
speed, recovery, promises and disputes"): `payment-speed` (the charges due in the period paid
within 5 and 30 days of their due date), `recovery` (what the cases referred and the balances
written off in the period recovered, net of the firms' fees), `promises` (the promise-kept rate
and the plans kept or broken) and `disputes` (opened in the period, by outcome, and the days to
resolve them); each for the whole book or by property, portfolio, coordinator, dunning policy or
calendar month (`reports.grouped`).

Invariants:
- Set-based: each report is one or two aggregate queries over the book, grouped in SQL by the
  group (or by account, for coordinator and policy), whatever the book's size; the recovery's
  are one row per case and per write-off (few), whose fees are the legal part's own formula
  (`legal.schedule.recovery`, a contingency rounded per case).
- As of `to`: nothing after the period's last day is read (a charge whose 30-day window ends
  after it is not measured for 30 days yet; a recovery after it is not counted).
- Amounts are whole cents summed in SQL (a decimal column cast to cents first), turned into
  decimal strings once per group; rates are 4-place decimal strings (`formulas.share`), `null`
  when their denominator is zero; amounts of two currencies are never added (one object per
  currency, as the metrics).
- The promise-kept rate is the plans part's (`plans.selectors.promises_settled`, `KeptRate`),
  never a second statement of it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.fields import from_cents
from arrears.disputes.models import Dispute
from arrears.ledger.models import OpenItemDelta, Transaction
from arrears.legal.models import Firm, Referral, Settlement, WriteOff
from arrears.legal.schedule import recovery
from arrears.plans.models import Plan, Promise
from arrears.plans.selectors import KeptRate, promises_settled
from arrears.reports.builtin import METRIC_COLUMNS, in_currency
from arrears.reports.document import Column, Document, Table
from arrears.reports.grouped import (
    BYS,
    bars,
    by_currency,
    cents,
    document_data,
    first_keys,
    fold,
    joins,
    key_sql,
    money,
    namer,
    period,
    several,
    share,
    subtitle,
    table_rows,
)
from arrears.reports.registry import Ask, register
from arrears.reports.scoped import Scope, aggregate, scope_of
from arrears.reports.sqldates import days_between, plus_days

WINDOWS = (5, 30)  # days after the due date
# A recovery after a write-off reinstates what it pays as a charge of this code, paid at once
# (docs/legal.md, "Settlements and write-offs"): bookkeeping, not a bill, so not measured.
WRITEOFF_RECOVERY = "WOR"
DAYS_PLACES = Decimal("0.01")
GROUP = METRIC_COLUMNS[0]  # the metrics' own "group" column: one label to translate
assert GROUP.key == "key"


# -- payment speed ----------------------------------------------------------------------------

# Per group: the charges due and their amount, then for each window the charges measured (their
# window ended by `to`) and those paid within it, each by count and by amount.
CHARGES, AMOUNT = 0, 1
SPEED_WIDTH = 2 + 4 * len(WINDOWS)


def _speed_rows(scope: Scope, ask: Ask) -> list[tuple[Any, ...]]:
    """(currency, SQL key, charges, amount, then per window: measured, measured amount, paid,
    paid amount). A charge's open amount on a day is the sum of its open-item deltas up to that
    day (the aging's), so it is paid within N days when that sum is zero on its due date + N
    and it was booked by then; read over the deltas of the charges due in the period only.
    The write-off recoveries' charges (`WRITEOFF_RECOVERY`) are left out."""
    first, last = period(ask)
    inner = ", ".join(
        f"SUM(CASE WHEN d.on_date <= {plus_days('t.due_on', n)} THEN d.delta ELSE 0 END)"
        f" AS open_{n}"
        for n in WINDOWS
    )
    outer = []
    for n in WINDOWS:
        end = plus_days("c.due_on", n)
        measured = f"{end} <= %s"
        paid = f"{measured} AND c.posted_on <= {end} AND c.open_{n} = 0"
        outer += [
            f"SUM(CASE WHEN {measured} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {measured} THEN c.amount ELSE 0 END)",
            f"SUM(CASE WHEN {paid} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {paid} THEN c.amount ELSE 0 END)",
        ]
    to = sql.day(last)
    return aggregate(
        f"SELECT a.currency, {key_sql(ask.by, 'c.due_on')}, COUNT(*), SUM(c.amount),"
        f" {', '.join(outer)} FROM"
        f" (SELECT t.id, t.account_id, t.amount, t.due_on, t.posted_on, {inner}"
        f" FROM {sql.table(Transaction)} t LEFT JOIN {sql.table(OpenItemDelta)} d"
        " ON d.item_id = t.id AND d.is_credit = %s AND d.due_on >= %s AND d.due_on <= %s"
        " WHERE t.type = %s AND t.code <> %s AND t.due_on >= %s AND t.due_on <= %s"
        f"{scope.on('t.account_id')}"
        " GROUP BY t.id, t.account_id, t.amount, t.due_on, t.posted_on) c"
        f"{joins('c')} GROUP BY 1, 2",
        [
            *[to] * 4 * len(WINDOWS),
            False,
            sql.day(first),
            to,
            "charge",
            WRITEOFF_RECOVERY,
            sql.day(first),
            to,
            *scope.params,
        ],
    )


def _speed_group(key: str, v: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "charges": v[CHARGES], "amount": money(v[AMOUNT])}
    for i, n in enumerate(WINDOWS):
        measured, measured_amount, paid, paid_amount = v[2 + 4 * i : 6 + 4 * i]
        out |= {
            f"measured_{n}": measured,
            f"measured_{n}_amount": money(measured_amount),
            f"paid_{n}": paid,
            f"paid_{n}_amount": money(paid_amount),
            f"share_{n}": share(paid, measured),
            f"share_{n}_amount": share(paid_amount, measured_amount),
        }
    return out


SPEED_COLUMNS = (
    GROUP,
    Column("charges", _("charges due"), "int"),
    Column("amount", _("amount due"), "money"),
    *(
        column
        for n in WINDOWS
        for column in (
            Column(f"measured_{n}", format_lazy(_("measured at {n} days"), n=n), "int"),
            Column(f"share_{n}", format_lazy(_("paid within {n} days, by count"), n=n), "rate"),
            Column(
                f"share_{n}_amount", format_lazy(_("paid within {n} days, by amount"), n=n), "rate"
            ),
        )
    ),
)


@register(
    "payment-speed",
    _("Payment speed"),
    period=True,
    bys=BYS,
    summary=_(
        "the share of the charges due in a period paid within 5 and 30 days of their due date"
    ),
)
def payment_speed_report(ask: Ask) -> Document:
    scope = scope_of(in_currency(ask))
    sums = by_currency(ask, _speed_rows(scope, ask), namer(ask, scope), SPEED_WIDTH)
    docs, tables, charts = [], [], []
    for currency, groups in sums.items():
        lines = [_speed_group(key, groups[key]) for key in sorted(groups)]
        docs.append(document_data(ask, lines, currency))
        tables.append(
            Table(
                currency,
                SPEED_COLUMNS,
                table_rows(lines),
                note=_t(
                    "A charge is paid within N days when nothing of it is open on its due date"
                    " + N; it is measured once that day is in the period."
                ),
            )
        )
        charts.append(
            bars(
                _t("Paid within 5 and 30 days (%(currency)s, by amount)") % {"currency": currency},
                lines,
                tuple((_t("within %(n)s days") % {"n": n}, f"share_{n}_amount") for n in WINDOWS),
                _t("The share of the amount due paid within 5 and within 30 days, per group."),
            )
        )
    return Document(
        "payment-speed",
        _t("Payment speed"),
        subtitle(ask),
        several(docs),
        tuple(tables),
        tuple(charts),
    )


# -- recovery ---------------------------------------------------------------------------------

(
    CASES,
    REFERRED,
    RECOVERED,
    FEES,
    NET,
    FORGIVEN,
    WRITEOFFS,
    WRITTEN_OFF,
    WO_RECOVERED,
    WO_FEES,
    WO_NET,
) = range(11)
RECOVERY_WIDTH = 11


def _case_rows(scope: Scope, ask: Ask) -> list[tuple[Any, ...]]:
    """Per case referred in the period: (currency, SQL key, balance referred, the firm's
    contingency in hundredths of a percent, its flat fee, what the settlements paid forgave by
    `to`, what the case recovered by `to`), all whole cents. What it recovered is
    `legal.selectors.recovered_between`'s: the payments posted on the account from the day of
    the referral to the day the case ended (or `to`, if earlier), less the reversals of payments
    posted then."""
    first, last = period(ask)
    txn, to = sql.table(Transaction), sql.day(last)
    # Per case, a subquery through the account's posting-date index (txn_account_order): a join
    # of the cases to the transactions read every payment of the period of the whole book
    # (a hash join, 45 of the query's 46 ms at 1,000 accounts / 100,000 transactions).
    recovered = (
        "SELECT SUM(CASE WHEN t.type = %s THEN t.amount ELSE -t.amount END)"
        f" FROM {txn} t LEFT JOIN {txn} v ON v.id = t.reverses_id"
        " WHERE t.account_id = r.account_id AND t.posted_on >= r.referred_on"
        " AND t.posted_on <= %s AND (r.withdrawn_on IS NULL OR t.posted_on <= r.withdrawn_on)"
        " AND (t.type = %s OR (t.type = %s AND v.type = %s))"
    )
    forgiven = (
        f"SELECT SUM({cents('s.forgiven')}) FROM {sql.table(Settlement)} s"
        " WHERE s.case_id = r.id AND s.status = %s AND s.status_on <= %s"
    )
    return aggregate(
        f"SELECT a.currency, {key_sql(ask.by, 'r.referred_on')}, r.id,"
        f" {cents('r.balance_referred')}, {cents('f.contingency_percent')},"
        f" {cents('f.flat_fee')}, COALESCE(({forgiven}), 0), COALESCE(({recovered}), 0)"
        f" FROM {sql.table(Referral)} r{joins('r')}"
        f" LEFT JOIN {sql.table(Firm)} f ON f.name = r.firm"
        f" WHERE r.referred_on >= %s AND r.referred_on <= %s{scope.on('r.account_id')}",
        [
            "paid",
            to,
            "payment",
            to,
            "payment",
            "reversal",
            "payment",
            sql.day(first),
            to,
            *scope.params,
        ],
    )


def _writeoff_rows(scope: Scope, ask: Ask) -> list[tuple[Any, ...]]:
    """Per write-off made in the period: (currency, SQL key, amount written off, the contingency
    of its case's firm (none without a case), what was recovered after it by `to`), whole
    cents. A recovery is a `WOR` charge named after the write-off (`legal.settlements`:
    `<its txn_id>-r<m>`), which the payment it recovers paid."""
    first, last = period(ask)
    return aggregate(
        f"SELECT a.currency, {key_sql(ask.by, 'w.written_off_on')}, w.id,"
        f" MAX({cents('w.amount')}), MAX({cents('f.contingency_percent')}),"
        " COALESCE(SUM(t.amount), 0)"
        f" FROM {sql.table(WriteOff)} w{joins('w')}"
        f" LEFT JOIN {sql.table(Referral)} r ON r.id = w.case_id"
        f" LEFT JOIN {sql.table(Firm)} f ON f.name = r.firm"
        f" LEFT JOIN {sql.table(Transaction)} t ON t.account_id = w.account_id"
        " AND t.type = %s AND t.code = %s AND t.posted_on <= %s"
        " AND substr(t.txn_id, 1, length(w.txn_id) + 2) = w.txn_id || %s"
        f" WHERE w.written_off_on >= %s AND w.written_off_on <= %s{scope.on('w.account_id')}"
        " GROUP BY 1, 2, 3",
        [
            "charge",
            WRITEOFF_RECOVERY,
            sql.day(last),
            "-r",
            sql.day(first),
            sql.day(last),
            *scope.params,
        ],
    )


def _fees(recovered: int, percent_hundredths: int, flat_fee: int) -> int:
    """The firm's fees on what a case recovered, in cents: the legal part's formula."""
    got = recovery(
        from_cents(recovered),
        percent=from_cents(percent_hundredths),
        flat_fee=from_cents(flat_fee),
    )
    return int(got.fees * 100)


def _recovery_vectors(scope: Scope, ask: Ask) -> list[tuple[Any, ...]]:
    """(currency, SQL key, the recovery's vector) per case and per write-off."""
    rows: list[tuple[Any, ...]] = []
    for currency, key, _pk, referred, percent, flat, forgiven, recovered in _case_rows(scope, ask):
        v = [0] * RECOVERY_WIDTH
        got = int(recovered or 0)
        fees = _fees(got, int(percent), int(flat))
        v[CASES], v[REFERRED], v[RECOVERED] = 1, int(referred), got
        v[FEES], v[NET], v[FORGIVEN] = fees, got - fees, int(forgiven)
        rows.append((currency, key, *v))
    for currency, key, _pk, amount, percent, recovered in _writeoff_rows(scope, ask):
        v = [0] * RECOVERY_WIDTH
        got = int(recovered or 0)
        fees = _fees(got, int(percent), 0)  # the flat fee is the case's, counted with it
        v[WRITEOFFS], v[WRITTEN_OFF], v[WO_RECOVERED] = 1, int(amount), got
        v[WO_FEES], v[WO_NET] = fees, got - fees
        rows.append((currency, key, *v))
    return rows


def _recovery_group(key: str, v: list[int]) -> dict[str, Any]:
    return {
        "key": key,
        "cases": v[CASES],
        "balance_referred": money(v[REFERRED]),
        "recovered": money(v[RECOVERED]),
        "fees": money(v[FEES]),
        "net_recovered": money(v[NET]),
        "forgiven": money(v[FORGIVEN]),
        "recovery_rate": share(v[RECOVERED], v[REFERRED]),
        "net_recovery_rate": share(v[NET], v[REFERRED]),
        "writeoffs": v[WRITEOFFS],
        "written_off": money(v[WRITTEN_OFF]),
        "writeoff_recovered": money(v[WO_RECOVERED]),
        "writeoff_fees": money(v[WO_FEES]),
        "writeoff_net_recovered": money(v[WO_NET]),
        "writeoff_recovery_rate": share(v[WO_RECOVERED], v[WRITTEN_OFF]),
        "writeoff_net_recovery_rate": share(v[WO_NET], v[WRITTEN_OFF]),
    }


RECOVERY_COLUMNS = (
    GROUP,
    Column("cases", _("cases referred"), "int"),
    Column("balance_referred", _("balance referred"), "money"),
    Column("recovered", _("recovered"), "money"),
    Column("fees", _("fees"), "money"),
    Column("net_recovered", _("net recovered"), "money"),
    Column("forgiven", _("forgiven by settlements"), "money"),
    Column("net_recovery_rate", _("net recovery rate"), "rate"),
    Column("writeoffs", _("write-offs"), "int"),
    Column("written_off", _("written off"), "money"),
    Column("writeoff_net_recovered", _("net recovered after write-off"), "money"),
    Column("writeoff_net_recovery_rate", _("net write-off recovery rate"), "rate"),
)


@register(
    "recovery",
    _("Recovery"),
    period=True,
    bys=BYS,
    summary=_(
        "what the cases referred and the balances written off in a period recovered, net of fees"
    ),
)
def recovery_report(ask: Ask) -> Document:
    scope = scope_of(in_currency(ask))
    sums = by_currency(ask, _recovery_vectors(scope, ask), namer(ask, scope), RECOVERY_WIDTH)
    docs, tables, charts = [], [], []
    for currency, groups in sums.items():
        lines = [_recovery_group(key, groups[key]) for key in sorted(groups)]
        docs.append(document_data(ask, lines, currency))
        tables.append(
            Table(
                currency,
                RECOVERY_COLUMNS,
                table_rows(lines),
                note=_t(
                    "Cases referred and balances written off in the period; what they recovered"
                    " up to its last day, less the firms' fees, over the balance."
                ),
            )
        )
        charts.append(
            bars(
                _t("Net recovery rate (%(currency)s)") % {"currency": currency},
                lines,
                (
                    (_t("referred"), "net_recovery_rate"),
                    (_t("written off"), "writeoff_net_recovery_rate"),
                ),
                _t("What was recovered net of fees over the balance referred or written off."),
            )
        )
    return Document(
        "recovery",
        _t("Recovery"),
        subtitle(ask),
        several(docs),
        tuple(tables),
        tuple(charts),
    )


# -- promises and plans -----------------------------------------------------------------------

KEPT, BROKEN, PLANS_COMPLETED, PLANS_BROKEN = range(4)


def _promise_rows(scope: Scope, ask: Ask) -> list[tuple[Any, ...]]:
    """(SQL key, kept, broken, 0, 0) of the promises the kept rate counts
    (`plans.selectors.promises_settled`, compiled into the statement), grouped by the day each
    was settled; then (SQL key, 0, 0, completed, broken) of the plans that ended in the period
    so, grouped by the day each ended."""
    first, last = period(ask)
    settled, params = promises_settled(since=first, until=last).values("pk").query.sql_with_params()
    promises = aggregate(
        f"SELECT {key_sql(ask.by, 'pr.settled_on')},"
        " SUM(CASE WHEN pr.status = %s THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN pr.status = %s THEN 1 ELSE 0 END), 0, 0"
        f" FROM {sql.table(Promise)} pr{joins('pr')}"
        f" WHERE pr.id IN ({settled}){scope.on('pr.account_id')} GROUP BY 1",
        ["kept", "broken", *params, *scope.params],
    )
    plans = aggregate(
        f"SELECT {key_sql(ask.by, 'pl.ended_on')}, 0, 0,"
        " SUM(CASE WHEN pl.status = %s THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN pl.status = %s THEN 1 ELSE 0 END)"
        f" FROM {sql.table(Plan)} pl{joins('pl')}"
        " WHERE pl.status IN (%s, %s) AND pl.ended_on >= %s AND pl.ended_on <= %s"
        f"{scope.on('pl.account_id')} GROUP BY 1",
        [
            "completed",
            "broken",
            "completed",
            "broken",
            sql.day(first),
            sql.day(last),
            *scope.params,
        ],
    )
    return promises + plans


def _promise_group(key: str, v: list[int]) -> dict[str, Any]:
    promises = KeptRate(key, v[KEPT], v[BROKEN]).as_json()
    return {
        "key": key,
        "promises_kept": promises["kept"],
        "promises_broken": promises["broken"],
        "promise_kept_rate": promises["rate"],
        "plans_completed": v[PLANS_COMPLETED],
        "plans_broken": v[PLANS_BROKEN],
        "plan_kept_rate": share(v[PLANS_COMPLETED], v[PLANS_COMPLETED] + v[PLANS_BROKEN]),
    }


PROMISE_COLUMNS = (
    GROUP,
    Column("promises_kept", _("promises kept"), "int"),
    Column("promises_broken", _("promises broken"), "int"),
    Column("promise_kept_rate", _("promise-kept rate"), "rate"),
    Column("plans_completed", _("plans kept"), "int"),
    Column("plans_broken", _("plans broken"), "int"),
    Column("plan_kept_rate", _("plan-kept rate"), "rate"),
)


@register(
    "promises",
    _("Promises and plans kept"),
    period=True,
    bys=BYS,
    summary=_("the promises kept and broken in a period, and the payment plans kept or broken"),
)
def promises_report(ask: Ask) -> Document:
    scope = scope_of(in_currency(ask))
    groups = fold(_promise_rows(scope, ask), namer(ask, scope), 4, first_keys(ask))
    lines = [_promise_group(key, groups[key]) for key in sorted(groups)]
    table = Table(
        _t("Promises and plans"),
        PROMISE_COLUMNS,
        table_rows(lines),
        note=_t(
            "Promises settled (kept or broken) in the period, and plans that ended in it paid in"
            " full or broken; open ones do not count yet."
        ),
    )
    chart = bars(
        _t("Kept rate"),
        lines,
        ((_t("promises"), "promise_kept_rate"), (_t("plans"), "plan_kept_rate")),
        _t("The share of the promises and of the plans settled in the period that were kept."),
    )
    return Document(
        "promises",
        _t("Promises and plans kept"),
        subtitle(ask),
        document_data(ask, lines, None),
        (table,),
        (chart,),
    )


# -- disputes ---------------------------------------------------------------------------------

OPENED, UPHELD, PARTIAL, REJECTED, DAYS = range(5)
OUTCOMES = ("upheld", "partial", "rejected")
assert set(OUTCOMES) == set(Dispute.Outcome.values)


def _dispute_rows(scope: Scope, ask: Ask) -> list[tuple[Any, ...]]:
    """(SQL key, opened, upheld, partly upheld, rejected, days to resolve summed) of the
    disputes opened in the period, each outcome and its days counted when it was resolved by
    `to`, grouped by the day each was opened."""
    first, last = period(ask)
    resolved = "d.resolved_on IS NOT NULL AND d.resolved_on <= %s"
    outcomes = ", ".join(
        f"SUM(CASE WHEN {resolved} AND d.outcome = %s THEN 1 ELSE 0 END)" for _o in OUTCOMES
    )
    to = sql.day(last)
    return aggregate(
        f"SELECT {key_sql(ask.by, 'd.opened_on')}, COUNT(*), {outcomes},"
        f" SUM(CASE WHEN {resolved} THEN {days_between('d.resolved_on', 'd.opened_on')}"
        " ELSE 0 END)"
        f" FROM {sql.table(Dispute)} d{joins('d')}"
        f" WHERE d.opened_on >= %s AND d.opened_on <= %s{scope.on('d.account_id')} GROUP BY 1",
        [
            *(p for outcome in OUTCOMES for p in (to, outcome)),
            to,
            sql.day(first),
            to,
            *scope.params,
        ],
    )


def _mean_days(total: int, count: int) -> str | None:
    if count <= 0:
        return None
    return f"{(Decimal(total) / count).quantize(DAYS_PLACES, rounding=ROUND_HALF_UP)}"


def _dispute_group(key: str, v: list[int]) -> dict[str, Any]:
    resolved = v[UPHELD] + v[PARTIAL] + v[REJECTED]
    return {
        "key": key,
        "opened": v[OPENED],
        "upheld": v[UPHELD],
        "partial": v[PARTIAL],
        "rejected": v[REJECTED],
        "open": v[OPENED] - resolved,
        "resolved": resolved,
        "upheld_rate": share(v[UPHELD] + v[PARTIAL], resolved),
        "days_to_resolve": _mean_days(v[DAYS], resolved),
    }


DISPUTE_COLUMNS = (
    GROUP,
    Column("opened", _("opened"), "int"),
    Column("upheld", _("upheld"), "int"),
    Column("partial", _("partly upheld"), "int"),
    Column("rejected", _("rejected"), "int"),
    Column("open", _("still open"), "int"),
    Column("upheld_rate", _("upheld rate"), "rate"),
    Column("days_to_resolve", _("days to resolve"), "days"),
)


@register(
    "disputes",
    _("Disputes"),
    period=True,
    bys=BYS,
    summary=_("the disputes opened in a period by outcome, and the days taken to resolve them"),
)
def disputes_report(ask: Ask) -> Document:
    scope = scope_of(in_currency(ask))
    groups = fold(_dispute_rows(scope, ask), namer(ask, scope), 5, first_keys(ask))
    lines = [_dispute_group(key, groups[key]) for key in sorted(groups)]
    table = Table(
        _t("Disputes"),
        DISPUTE_COLUMNS,
        table_rows(lines),
        note=_t(
            "Disputes opened in the period, by their outcome on its last day; the days to"
            " resolve are the mean over those resolved by then."
        ),
    )
    chart = bars(
        _t("Disputes upheld"),
        lines,
        ((_t("upheld, wholly or partly"), "upheld_rate"),),
        _t("The share of the disputes resolved that were upheld, wholly or partly."),
    )
    return Document(
        "disputes",
        _t("Disputes"),
        subtitle(ask),
        document_data(ask, lines, None),
        (table,),
        (chart,),
    )
