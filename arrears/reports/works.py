"""What collection work does: the notices sent and what followed each (`notices`), what each
coordinator did and what was paid after (`activity`), and, step by step, whether the accounts
sent a step paid more often than like accounts not sent it yet (`what-works`). Each is a report
of the registry over a period, one document per currency (docs/metrics.md, "Notices' outcomes,
coordinator activity and what works", defines every figure; `reports.works_sql` the shared
words: a notice sent, past due, paid within 14 days).

Invariants:
- Set-based: one statement per report and currency, whatever the number of accounts, notices
  or payments; Python adds the statement's grouped counts and cents into groups and turns cents
  into `Decimal` strings once per output line.
- A payment is counted once in each amount it is part of: two notices of one step to one
  account, or two contacts by one coordinator, that both precede it add it once to their line,
  and a group's or the document's total adds it once however many of its lines it follows.
- Scope is given, not decided here (`Ask.accounts`): a notice, a call, a promise or a plan
  counts when its account is one the reader may see.
- A report reads; nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.fields import from_cents
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action, ContactAttempt
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.plans.models import Plan, Promise
from arrears.reports import formulas
from arrears.reports.builtin import currencies_of
from arrears.reports.document import Chart, Column, Document, Series, Table
from arrears.reports.notice_days import LIVE_OUTCOME, kept, kept_sums, live
from arrears.reports.registry import Ask, register
from arrears.reports.scoped import scope_of
from arrears.reports.sqldates import month_of, plus_days
from arrears.reports.works_sql import (
    LETTER_WENT,
    WINDOW_DAYS,
    Statement,
    accounts,
    as_text,
    bytewise,
    earlier,
    greatest,
    json_text,
    least,
    literal,
    notices,
    paid_after,
    q,
    run,
    spans,
)

ALL = "ALL"
OUTCOMES = ("paid_full", "plan", "paid_part", "nothing")
_Row = tuple[str, str, str, str]  # policy, step, jurisdiction, channel
FEW = 30  # fewer compared accounts (treated or control) than this: the group is marked "few"
# An account's policy, for the comparison, is one the cycle recorded a step of for it in the 90
# days before the period or during it (any status: done, queued, refused…).
POLICY_DAYS = 90


def _money(cents: int) -> str:
    return f"{from_cents(cents):.2f}"


def _share(part: int, whole: int) -> str | None:
    return formulas.rate_text(formulas.share(part, whole))


def _rate(value: Fraction | None) -> str | None:
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{exact.quantize(formulas.RATE_PLACES, rounding=ROUND_HALF_UP)}"


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _period_text(ask: Ask) -> str:
    return _t("%(first)s to %(last)s") % {"first": ask.date_from, "last": ask.as_of}


def _documents(ask: Ask, build: Callable[[Ask, str], dict[str, Any]]) -> list[dict[str, Any]]:
    # a scope with no account (another company's manager) still gets a document, empty
    default = str(Account._meta.get_field("currency").default)
    return [build(ask, currency) for currency in currencies_of(ask) or [default]]


def _data(docs: list[dict[str, Any]]) -> Any:
    """As the metrics' JSON: the object itself for one currency, a list of one per currency."""
    return docs[0] if len(docs) == 1 else docs


def _group_key(by: str | None, day: str) -> str:
    """The SQL of a row's group, over `acc` (its account) and the column `day` (its day)."""
    return {
        None: "''",
        "property": "COALESCE(acc.property_id, '')",
        "portfolio": "COALESCE(acc.portfolio, '')",
        "coordinator": as_text("acc.account_id"),  # mapped to its coordinator in Python
        "month": month_of(day),
    }[by]


def _key_of(by: str | None, coordinators: Mapping[int, str] | None) -> Callable[[str], str]:
    if by is None:
        return lambda _g: ALL
    if by == "coordinator":
        found = coordinators or {}
        return lambda g: found.get(int(g), "") if g else ""
    return lambda g: g or ""


# notices ------------------------------------------------------------------------------------


def _counts(counts: Mapping[str, int], collected: int) -> dict[str, Any]:
    sent = sum(counts.get(o, 0) for o in OUTCOMES)
    out: dict[str, Any] = {"sent": sent}
    for outcome in OUTCOMES:
        out[outcome] = counts.get(outcome, 0)
    for outcome in OUTCOMES:
        out[f"{outcome}_share"] = _share(counts.get(outcome, 0), sent)
    out["collected"] = _money(collected)
    return out


def notices_outcomes(ask: Ask, currency: str) -> dict[str, Any]:
    """The notices sent in the period by the accounts in scope in `currency`, and what followed
    each within 14 days (docs/metrics.md)."""
    assert ask.date_from is not None  # registry.check
    first, last = ask.date_from, ask.as_of
    scope = scope_of(ask.accounts)
    stmt = Statement().add("WITH ")
    accounts(stmt, scope, currency)
    notices(stmt, first, last)
    # the kept notices (reports.notice_days) where still exact, the others' accounts live
    kept(stmt, first, last)
    live(stmt, first, last)
    kept_rows = kept_sums(
        stmt, first, last, _group_key(ask.by, "k.day"), by_month=ask.by == "month"
    )
    g = _group_key(ask.by, "nl.day")
    # `lp`: each live notice day's payments within 14 days, its ids what each line collected
    stmt.add(
        ", lpay AS (SELECT account_id, day, SUM(amount) AS cents FROM lp"
        " GROUP BY account_id, day)"
        f", o AS (SELECT {g} AS g, nl.policy, nl.step, nl.channel,"
        f" {LIVE_OUTCOME}"
        " AS outcome FROM nl JOIN acc ON acc.account_id = nl.account_id"
        " LEFT JOIN pd ON pd.account_id = nl.account_id AND pd.day = nl.day"
        " LEFT JOIN lpay ON lpay.account_id = nl.account_id AND lpay.day = nl.day"
        " LEFT JOIN pl ON pl.account_id = nl.account_id AND pl.day = nl.day)"
        f", paid AS (SELECT DISTINCT {g} AS g, nl.policy, nl.step, nl.channel, lp.id, lp.amount"
        " FROM nl JOIN acc ON acc.account_id = nl.account_id"
        " JOIN lp ON lp.account_id = nl.account_id AND lp.day = nl.day)"
        " SELECT 'n', g, policy, step, channel, outcome, COUNT(*) FROM o"
        " GROUP BY g, policy, step, channel, outcome"
        " UNION ALL SELECT 'l', g, policy, step, channel, '', SUM(amount) FROM paid"
        " GROUP BY g, policy, step, channel"
        " UNION ALL SELECT 'g', g, '', '', '', '', SUM(amount)"
        " FROM (SELECT DISTINCT g, id, amount FROM paid) x GROUP BY g"
        " UNION ALL SELECT 't', '', '', '', '', '', SUM(amount)"
        " FROM (SELECT DISTINCT id, amount FROM paid) x"
    )
    stmt.add(kept_rows)
    key_of = _key_of(ask.by, ask.coordinators)
    lines: dict[str, dict[tuple[str, str, str], dict[str, int]]] = defaultdict(dict)
    line_cents: dict[tuple[str, tuple[str, str, str]], int] = defaultdict(int)
    group_cents: dict[str, int] = defaultdict(int)
    total_cents = 0
    for kind, group, policy, step, channel, outcome, value in run(
        stmt.text, stmt.params, merge=False, sort=False
    ):
        key, line, amount = key_of(group), (policy, step, channel), int(value or 0)
        if kind == "n":
            counts = lines[key].setdefault(line, {})
            counts[outcome] = counts.get(outcome, 0) + amount
        elif kind == "l":
            line_cents[key, line] += amount
        elif kind == "g":
            group_cents[key] += amount
        else:
            total_cents += amount
    if ask.by is None:
        lines.setdefault(ALL, {})
    groups = []
    for key in sorted(lines):
        summed: dict[str, int] = defaultdict(int)
        steps = []
        for line in sorted(lines[key]):
            counts = lines[key][line]
            for outcome, n in counts.items():
                summed[outcome] += n
            policy, step, channel = line
            steps.append(
                {"policy": policy, "step": step, "channel": channel}
                | _counts(counts, line_cents[key, line])
            )
        groups.append({"key": key, **_counts(summed, group_cents[key]), "steps": steps})
    everything: dict[str, int] = defaultdict(int)
    for group in groups:
        for outcome in OUTCOMES:
            everything[outcome] += group[outcome]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "currency": currency,
        "window_days": WINDOW_DAYS,
        "groups": groups,
        "total": _counts(everything, total_cents),
    }


NOTICE_COLUMNS = (
    Column("key", _("group")),
    Column("policy", _("policy")),
    Column("step", _("step")),
    Column("channel", _("channel")),
    Column("sent", _("sent"), "int"),
    Column("paid_full", _("paid in full"), "int"),
    Column("plan", _("plan"), "int"),
    Column("paid_part", _("paid partly"), "int"),
    Column("nothing", _("nothing"), "int"),
    Column("paid_full_share", _("paid in full (share)"), "rate"),
    Column("plan_share", _("plan (share)"), "rate"),
    Column("paid_part_share", _("paid partly (share)"), "rate"),
    Column("nothing_share", _("nothing (share)"), "rate"),
    Column("collected", _("collected in 14 days"), "money"),
)


def _outcome_chart(doc: dict[str, Any], by: str | None) -> Chart:
    if by is not None:
        labels = [g["key"] or _t("(none)") for g in doc["groups"]]
        rows = doc["groups"]
    else:
        rows = [s for g in doc["groups"] for s in g["steps"]]
        labels = [f"{s['policy']} {s['step']} ({s['channel']})" for s in rows]
    names = {
        "paid_full": _t("paid in full"),
        "plan": _t("plan"),
        "paid_part": _t("paid partly"),
        "nothing": _t("nothing"),
    }
    return Chart(
        "stacked",
        _t("What followed the notices within 14 days (%(currency)s)")
        % {"currency": doc["currency"]},
        tuple(labels),
        tuple(Series(names[o], tuple(Decimal(r[o]) for r in rows)) for o in OUTCOMES),
        unit="count",
        description=_t(
            "Notices sent, by what followed each within 14 days: paid in full, a plan, paid "
            "partly, nothing."
        ),
    )


@register(
    "notices",
    _("Notices and what followed"),
    period=True,
    bys=("property", "portfolio", "coordinator", "month"),
    summary=_("the notices sent by step and channel, and what followed each within 14 days"),
)
def notices_report(ask: Ask) -> Document:
    docs = _documents(ask, notices_outcomes)
    tables = []
    for doc in docs:
        rows = [{"key": g["key"] or _t("(none)"), **s} for g in doc["groups"] for s in g["steps"]]
        total = {"key": _t("Total"), **doc["total"]}
        tables.append(
            Table(
                doc["currency"],
                NOTICE_COLUMNS,
                rows,
                total=total,
                note=_t(
                    "A payment that followed several notices counts once in the total collected."
                ),
            )
        )
    return Document(
        "notices",
        _t("Notices and what followed"),
        _period_text(ask),
        _data(docs),
        tuple(tables),
        tuple(_outcome_chart(doc, ask.by) for doc in docs),
    )


# activity -----------------------------------------------------------------------------------


def coordinator_activity(ask: Ask, currency: str) -> dict[str, Any]:
    """Per coordinator (who recorded it), property or month: calls logged, contacts, promises
    taken, plans made in the period, and what was paid within 14 days of a contact."""
    assert ask.date_from is not None  # registry.check
    first, last = ask.date_from, ask.as_of
    by = ask.by or "coordinator"
    scope = scope_of(ask.accounts)
    event, attempt = sql.table(TimelineEvent), sql.table(ContactAttempt)
    on = q("on")
    stmt = Statement().add("WITH ")
    accounts(stmt, scope, currency)
    stmt.add(
        ", ev AS (SELECT e.account_id, e.actor AS who, e.{on} AS day, 1 AS calls,"
        " CASE WHEN EXISTS (SELECT 1 FROM {attempt} c WHERE c.account_id = e.account_id"
        " AND c.at = e.at AND c.channel = 'call' AND c.conversation = %s) THEN 1 ELSE 0 END"
        " AS contacts, 0 AS promises, 0 AS plans FROM {event} e"
        " WHERE e.kind = 'call.logged' AND e.{on} >= %s AND e.{on} <= %s"
        " UNION ALL SELECT e.account_id, e.actor, e.{on}, 0, 1, 0, 0 FROM {event} e"
        " WHERE e.kind = 'email.answered' AND e.{on} >= %s AND e.{on} <= %s"
        " UNION ALL SELECT o.account_id, {by_hand}, o.run_on, 0, 1, 0, 0 FROM {outbound} o"
        " WHERE o.step = 'by-hand' AND o.status IN ({went}) AND o.run_on >= %s"
        " AND o.run_on <= %s"
        " UNION ALL SELECT account_id, made_by, made_on, 0, 0, 1, 0 FROM {promise}"
        " WHERE made_on >= %s AND made_on <= %s"
        " UNION ALL SELECT account_id, created_by, made_on, 0, 0, 0, 1 FROM {plan}"
        " WHERE made_on >= %s AND made_on <= %s)".format(
            on=on,
            attempt=attempt,
            event=event,
            by_hand=json_text("o.detail", "by_hand"),
            outbound=sql.table(Outbound),
            went=", ".join(["%s"] * (len(LETTER_WENT) + 2)),
            promise=sql.table(Promise),
            plan=sql.table(Plan),
        ),
        True,
        *(sql.day(first), sql.day(last)) * 2,
        *LETTER_WENT,
        "sent",
        "bounced",
        *(sql.day(first), sql.day(last)) * 3,
    )
    g = "COALESCE(ev.who, '')" if by == "coordinator" else _group_key(by, "ev.day")
    stmt.add(
        f", e2 AS (SELECT {g} AS g, ev.* FROM ev JOIN acc ON acc.account_id = ev.account_id)"
        ", c AS (SELECT DISTINCT g, account_id, day FROM e2 WHERE contacts = 1)"
        ", paid AS (SELECT DISTINCT c.g, t.id, t.amount FROM c"
        f"{paid_after('c.account_id', 'c.day', (first, last))})"
        " SELECT 'n', g, SUM(calls), SUM(contacts), SUM(promises), SUM(plans) FROM e2 GROUP BY g"
        " UNION ALL SELECT 'g', g, SUM(amount), 0, 0, 0 FROM paid GROUP BY g"
        " UNION ALL SELECT 't', '', SUM(amount), 0, 0, 0"
        " FROM (SELECT DISTINCT id, amount FROM paid) x"
    )
    lines: dict[str, list[int]] = {}
    collected: dict[str, int] = defaultdict(int)
    total = 0
    for kind, key, a, b, c, d in run(stmt.text, stmt.params):
        if kind == "n":
            lines[key or ""] = [int(a or 0), int(b or 0), int(c or 0), int(d or 0)]
        elif kind == "g":
            collected[key or ""] += int(a or 0)
        else:
            total = int(a or 0)
    groups = [
        {
            "key": key,
            "calls": v[0],
            "contacts": v[1],
            "promises": v[2],
            "plans": v[3],
            "collected_after_contact": _money(collected[key]),
        }
        for key, v in sorted(lines.items())
    ]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "currency": currency,
        "by": by,
        "window_days": WINDOW_DAYS,
        "groups": groups,
        "total": {
            "calls": sum(x["calls"] for x in groups),
            "contacts": sum(x["contacts"] for x in groups),
            "promises": sum(x["promises"] for x in groups),
            "plans": sum(x["plans"] for x in groups),
            "collected_after_contact": _money(total),
        },
    }


ACTIVITY_COLUMNS = (
    Column("key", _("group")),
    Column("calls", _("calls logged"), "int"),
    Column("contacts", _("contacts"), "int"),
    Column("promises", _("promises taken"), "int"),
    Column("plans", _("plans made"), "int"),
    Column("collected_after_contact", _("paid within 14 days of a contact"), "money"),
)


@register(
    "activity",
    _("Coordinator activity"),
    period=True,
    bys=("coordinator", "property", "month"),
    summary=_(
        "calls, contacts, promises and plans per coordinator, and what was paid after a contact"
    ),
)
def activity_report(ask: Ask) -> Document:
    docs = _documents(ask, coordinator_activity)
    tables, charts = [], []
    for doc in docs:
        rows = [{**g, "key": g["key"] or _t("(none)")} for g in doc["groups"]]
        tables.append(
            Table(
                doc["currency"],
                ACTIVITY_COLUMNS,
                rows,
                total={"key": _t("Total"), **doc["total"]},
                note=_t(
                    "Contacts: calls that reached someone, notices sent by hand and emails "
                    "answered. A payment after contacts by two people counts once in the total."
                ),
            )
        )
        labels = tuple(r["key"] for r in rows)
        charts.append(
            Chart(
                "bars",
                _t("Work done (%(currency)s)") % {"currency": doc["currency"]},
                labels,
                (
                    Series(_t("calls logged"), tuple(Decimal(g["calls"]) for g in rows)),
                    Series(_t("contacts"), tuple(Decimal(g["contacts"]) for g in rows)),
                    Series(_t("promises taken"), tuple(Decimal(g["promises"]) for g in rows)),
                    Series(_t("plans made"), tuple(Decimal(g["plans"]) for g in rows)),
                ),
                unit="count",
                description=_t("Calls, contacts, promises and plans of each group."),
            )
        )
    return Document(
        "activity",
        _t("Coordinator activity"),
        _period_text(ask),
        _data(docs),
        tuple(tables),
        tuple(charts),
    )


# what works ---------------------------------------------------------------------------------


def _bucket(days: str) -> str:
    return (
        f"CASE WHEN {days} <= 30 THEN '1-30' WHEN {days} <= 60 THEN '31-60'"
        f" WHEN {days} <= 90 THEN '61-90' ELSE '91+' END"
    )


def what_works(ask: Ask, currency: str) -> dict[str, Any]:
    """For each policy step, jurisdiction and channel: the share of the accounts sent it that
    paid within 14 days, against the share of like accounts not sent it yet that day (same day,
    policy, jurisdiction and past-due bucket), weighted as the sent ones are (docs/metrics.md)."""
    assert ask.date_from is not None  # registry.check
    first, last = ask.date_from, ask.as_of
    scope = scope_of(ask.accounts)
    act = sql.table(Action)
    stmt = Statement().add("WITH ")
    accounts(stmt, scope, currency)
    # the notices from 13 days before the period: a sending then keeps an account out of the
    # controls of the period's first days
    notices(stmt, earlier(first, WINDOW_DAYS - 1), last)
    spans(stmt, first, last)
    jurisdiction = bytewise(
        "(CASE WHEN acc.country IS NULL OR acc.country = '' THEN ''"
        " WHEN acc.state IS NULL OR acc.state = '' THEN acc.country"
        " ELSE acc.country || '-' || UPPER(acc.state) END)"
    )
    first_lit, last_lit = literal(first), literal(last)
    txn = sql.table(Transaction)
    stmt.add(
        ", pol AS (SELECT x.account_id, x.policy FROM {act} x"
        " JOIN acc ON acc.account_id = x.account_id WHERE x.run_on >= %s AND x.run_on <= %s"
        " UNION SELECT account_id, policy FROM n)"
        ", aj AS (SELECT account_id, {jurisdiction} AS jur FROM acc)"
        # The days [s, e] of the period each open charge is past due and open at the start
        # of (due_on < D, open_from < D, open_until none or >= D)
        ", sa AS (SELECT account_id, due_on, {sa_s} AS s, COALESCE(open_until, {last}) AS e"
        " FROM spans)"
        # The days D an account paid within the 14 days from (`paid_after`): a payment on P
        # not reversed by D + 13 counts for D in [P - 13, P], before its reversal's day - 13
        ", rv AS (SELECT reverses_id, MIN(posted_on) AS on_day FROM {txn}"
        " WHERE type = 'reversal' AND reverses_id IS NOT NULL GROUP BY reverses_id)"
        ", pp AS (SELECT tx.account_id, {p_s} AS s, {p_e} AS e FROM {txn} tx"
        " LEFT JOIN rv ON rv.reverses_id = tx.id WHERE tx.type = 'payment'"
        " AND tx.posted_on >= {first} AND tx.posted_on <= {paid_last}"
        " AND tx.account_id IN (SELECT account_id FROM acc))"
        # Each account's state day by day, in one sorted pass: level k (1 … 4) is held on a
        # day by the charges then open and at least 1, 31, 61, 91 days past due, level 0 by
        # the payments that day counts as paid after; each interval is +1 on its first day
        # and -1 the day after its last, summed per account and day, then in date order: the
        # bucket is the highest level held (the oldest charge's), paid is level 0 held. The
        # period's notices (q = 1, after their day's events, holding nothing) read their
        # account's state on their day in the same pass.
        ", ev AS (SELECT account_id, s AS day, 1 AS lvl, 1 AS v FROM sa WHERE s <= e"
        " UNION ALL SELECT account_id, {e1}, 1, -1 FROM sa WHERE s <= e"
        "{levels}"
        " UNION ALL SELECT account_id, s, 0, 1 FROM pp WHERE s <= e"
        " UNION ALL SELECT account_id, {e1}, 0, -1 FROM pp WHERE s <= e)"
        ", ec AS (SELECT account_id, day, 0 AS q, {level_sums}, '' AS policy, '' AS step,"
        " '' AS channel FROM ev GROUP BY account_id, day"
        " UNION ALL SELECT account_id, day, 1, 0, 0, 0, 0, 0, policy, step, channel FROM n"
        " WHERE day >= {first})"
        ", st AS (SELECT account_id, day, q, policy, step, channel, {level_runs} FROM ec)"
        ", sv AS MATERIALIZED (SELECT account_id, day, q, policy, step, channel,"
        " CASE WHEN n4 > 0 THEN 4 WHEN n3 > 0 THEN 3 WHEN n2 > 0 THEN 2 WHEN n1 > 0 THEN 1"
        " ELSE 0 END AS bucket, CASE WHEN n0 > 0 THEN 1 ELSE 0 END AS paid FROM st)"
        # the days an account's state changed, and so its segments [s, e] in a bucket,
        # paid or not (after the last change, on `last` + 1 at the latest, it is in none)
        ", sc AS (SELECT account_id, day, bucket, paid,"
        " LAG(bucket) OVER (PARTITION BY account_id ORDER BY day) AS was_bucket,"
        " LAG(paid) OVER (PARTITION BY account_id ORDER BY day) AS was_paid FROM sv"
        " WHERE q = 0)"
        ", sg AS (SELECT account_id, day AS s, {lead_e} AS e, bucket, paid FROM sc"
        " WHERE was_bucket IS NULL OR was_bucket <> bucket OR was_paid <> paid)"
        ", seg AS MATERIALIZED (SELECT sg.account_id, aj.jur, s, e, bucket, paid FROM sg"
        " JOIN aj ON aj.account_id = sg.account_id WHERE bucket > 0)".format(
            act=act,
            jurisdiction=jurisdiction,
            last=last_lit,
            first=first_lit,
            sa_s=greatest(plus_days(greatest("due_on", "open_from"), 1), first_lit),
            e1=plus_days("e", 1),
            levels="".join(
                f" UNION ALL SELECT account_id, {start}, {level}, 1 FROM sa WHERE {start} <= e"
                f" UNION ALL SELECT account_id, {plus_days('e', 1)}, {level}, -1 FROM sa"
                f" WHERE {start} <= e"
                for level, start in (
                    (2, greatest("s", plus_days("due_on", 31))),
                    (3, greatest("s", plus_days("due_on", 61))),
                    (4, greatest("s", plus_days("due_on", 91))),
                )
            ),
            level_sums=", ".join(
                f"SUM(CASE WHEN lvl = {k} THEN v ELSE 0 END) AS c{k}" for k in range(5)
            ),
            level_runs=", ".join(
                f"SUM(c{k}) OVER (PARTITION BY account_id ORDER BY day"
                f", q ROWS UNBOUNDED PRECEDING) AS n{k}"
                for k in range(5)
            ),
            lead_e=plus_days("LEAD(day) OVER (PARTITION BY account_id ORDER BY day)", -1),
            txn=txn,
            p_s=greatest(plus_days("tx.posted_on", -(WINDOW_DAYS - 1)), first_lit),
            p_e=least(
                least("tx.posted_on", last_lit),
                f"COALESCE({plus_days('rv.on_day', -WINDOW_DAYS)}, tx.posted_on)",
            ),
            paid_last=literal(last + timedelta(days=WINDOW_DAYS - 1)),
        ),
        sql.day(earlier(first, POLICY_DAYS)),
        sql.day(last),
    )
    # the days an account was sent a step of a policy in the 13 days before or that day:
    # each sending's days [d, d + 13] less those of the one before it (all as long, so no
    # earlier one reaches further), within the period: disjoint pieces
    stmt.add(
        ", rd AS (SELECT DISTINCT account_id, policy, step, day FROM n)"
        ", rl AS (SELECT account_id, policy, step, day, LAG(day) OVER (PARTITION BY"
        " account_id, {part} ORDER BY day) AS before FROM rd)"
        ", ri AS (SELECT account_id, policy, step, {r_s} AS s, {r_e} AS e FROM rl)".format(
            part=", ".join(bytewise(c) for c in ("policy", "step")),
            r_s=greatest(
                greatest("day", first_lit),
                f"COALESCE({plus_days('before', WINDOW_DAYS)}, day)",
            ),
            r_e=least(plus_days("day", WINDOW_DAYS - 1), last_lit),
        )
    )

    # Each stratum's eligible accounts (E: of the policy, in the bucket that day) and those
    # of them sent the step in the 13 days before or that day (R), each also as paid within
    # 14 days: the segments of E, and those of R (a sending's days met with the segments),
    # turned into +1 at their start and -1 the day after their end, summed per stratum; the
    # count on a day is the running sum up to it.
    stmt.add(
        ", iv AS (SELECT 'E' AS kind, pol.policy, '' AS step, seg.jur, seg.bucket,"
        " seg.s, seg.e, seg.paid FROM seg JOIN pol ON pol.account_id = seg.account_id"
        " UNION ALL SELECT 'R', ri.policy, ri.step, seg.jur, seg.bucket, {gs}, {ls},"
        " seg.paid FROM ri JOIN seg ON seg.account_id = ri.account_id"
        " AND ri.s <= seg.e AND seg.s <= ri.e AND ri.s <= ri.e)"
        ", de AS (SELECT kind, policy, step, jur, bucket, day, SUM(de) AS de, SUM(dp) AS dp"
        " FROM (SELECT kind, policy, step, jur, bucket, s AS day, 1 AS de, paid AS dp"
        " FROM iv UNION ALL SELECT kind, policy, step, jur, bucket, {e1iv}, -1, -paid"
        " FROM iv) z GROUP BY kind, policy, step, jur, bucket, day)"
        # the treated: each notice of the period to an account past due that day
        ", tr AS (SELECT sv.policy, sv.step, sv.channel, aj.jur, sv.day, sv.bucket,"
        " COUNT(*) AS cnt, SUM(sv.paid) AS paid FROM sv"
        " JOIN aj ON aj.account_id = sv.account_id WHERE sv.q = 1 AND sv.bucket > 0"
        " GROUP BY sv.policy, sv.step, sv.channel, aj.jur, sv.day, sv.bucket)"
        ", qy AS (SELECT 'E' AS kind, policy, '' AS step, jur, bucket, day FROM tr"
        " UNION SELECT 'R', policy, step, jur, bucket, day FROM tr)"
        ", cum AS (SELECT kind, policy, step, jur, bucket, day, q,"
        " SUM(de) OVER (PARTITION BY {part} ORDER BY day, q ROWS UNBOUNDED PRECEDING) AS ce,"
        " SUM(dp) OVER (PARTITION BY {part} ORDER BY day, q ROWS UNBOUNDED PRECEDING) AS cp"
        " FROM (SELECT kind, policy, step, jur, bucket, day, 0 AS q, de, dp FROM de"
        " UNION ALL SELECT kind, policy, step, jur, bucket, day, 1, 0, 0 FROM qy) z)"
        ", cq AS (SELECT * FROM cum WHERE q = 1)"
        " SELECT 'u', policy, step, channel, jur, day, bucket, 1, cnt, paid FROM tr"
        " UNION ALL SELECT 'u', tr.policy, tr.step, tr.channel, tr.jur, tr.day, tr.bucket, 0,"
        " ce.ce - cr.ce, ce.cp - cr.cp FROM tr"
        " JOIN cq ce ON ce.kind = 'E' AND ce.policy = tr.policy AND ce.jur = tr.jur"
        " AND ce.bucket = tr.bucket AND ce.day = tr.day"
        " JOIN cq cr ON cr.kind = 'R' AND cr.policy = tr.policy AND cr.step = tr.step"
        " AND cr.jur = tr.jur AND cr.bucket = tr.bucket AND cr.day = tr.day"
        " UNION ALL SELECT 's', n.policy, n.step, n.channel, aj.jur, NULL, 0, 1,"
        " COUNT(*), 0 FROM n JOIN aj ON aj.account_id = n.account_id WHERE n.day >= %s"
        " GROUP BY n.policy, n.step, n.channel, aj.jur".format(
            gs=greatest("ri.s", "seg.s"),
            ls=least("ri.e", "seg.e"),
            e1iv=plus_days("e", 1),
            part=", ".join(bytewise(c) for c in ("kind", "policy", "step", "jur")) + ", bucket",
        ),
        sql.day(first),
    )
    sent: dict[_Row, int] = defaultdict(int)
    # per row, per stratum (day, bucket): [treated, treated paid, controls, controls paid]
    strata: dict[_Row, dict[tuple[Any, str], list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0, 0, 0])
    )
    for kind, policy, step, channel, where, day, bucket, treated, n, paid in run(
        stmt.text, stmt.params, merge=False, sort=False
    ):
        row = (policy, step, where, channel)
        if kind == "s":
            sent[row] += int(n)
            continue
        cell = strata[row][str(day)[:10], bucket]
        offset = 0 if int(treated) else 2
        cell[offset] += int(n)
        cell[offset + 1] += int(paid or 0)
    groups = [_compared(row, sent[row], strata.get(row, {})) for row in sorted(sent)]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "currency": currency,
        "window_days": WINDOW_DAYS,
        "few_below": FEW,
        "groups": groups,
    }


def _compared(
    row: tuple[str, str, str, str], sent: int, strata: Mapping[Any, list[int]]
) -> dict[str, Any]:
    """One step's comparison: exact matching on the stratum (day, bucket; the row fixes policy,
    step, jurisdiction and channel), the controls' share of each stratum weighted by its
    treated accounts (the average effect on the treated)."""
    treated = treated_paid = controls = controls_paid = unmatched = past_due = 0
    expected = Fraction(0)
    for t, t_paid, c, c_paid in strata.values():
        past_due += t
        if not t:
            continue
        if not c:
            unmatched += t
            continue
        treated += t
        treated_paid += t_paid
        controls += c
        controls_paid += c_paid
        expected += Fraction(t * c_paid, c)
    treated_share = Fraction(treated_paid, treated) if treated else None
    control_share = expected / treated if treated else None
    lift = (
        treated_share - control_share
        if treated_share is not None and control_share is not None
        else None
    )
    policy, step, where, channel = row
    return {
        "key": " / ".join(part or "-" for part in row),
        "policy": policy,
        "step": step,
        "jurisdiction": where,
        "channel": channel,
        "sent": sent,
        "not_past_due": sent - past_due,
        "unmatched": unmatched,
        "treated": treated,
        "treated_paid": treated_paid,
        "treated_share": _rate(treated_share),
        "controls": controls,
        "controls_paid": controls_paid,
        "control_share": _rate(control_share),
        "lift": _rate(lift),
        "few": treated < FEW or controls < FEW,
    }


WORKS_COLUMNS = (
    Column("policy", _("policy")),
    Column("step", _("step")),
    Column("jurisdiction", _("jurisdiction")),
    Column("channel", _("channel")),
    Column("sent", _("sent"), "int"),
    Column("treated", _("compared"), "int"),
    Column("treated_share", _("paid after it (share)"), "rate"),
    Column("controls", _("controls"), "int"),
    Column("control_share", _("controls paid (share)"), "rate"),
    Column("lift", _("lift"), "rate"),
    Column("sample", _("sample")),
)


@register(
    "what-works",
    _("What works"),
    period=True,
    summary=_(
        "per policy step: the share that paid within 14 days, against like accounts not sent it yet"
    ),
)
def what_works_report(ask: Ask) -> Document:
    docs = _documents(ask, what_works)
    tables, charts = [], []
    for doc in docs:
        rows = [{**g, "sample": _t("few") if g["few"] else ""} for g in doc["groups"]]
        tables.append(
            Table(
                doc["currency"],
                WORKS_COLUMNS,
                rows,
                note=_t(
                    "An observational comparison, not a randomized trial: the controls are "
                    "accounts of the same policy, jurisdiction and past-due bucket not sent the "
                    "step yet that day. Few: under 30 accounts compared on either side."
                ),
            )
        )
        charts.append(
            Chart(
                "bars",
                _t("Paid within 14 days: sent the step, and not sent it yet (%(currency)s)")
                % {"currency": doc["currency"]},
                tuple(g["key"] for g in rows),
                (
                    Series(_t("sent the step"), tuple(_number(g["treated_share"]) for g in rows)),
                    Series(_t("not sent it yet"), tuple(_number(g["control_share"]) for g in rows)),
                ),
                unit="share",
                description=_t(
                    "For each step, the share of the accounts sent it that paid within 14 "
                    "days, beside the share of like accounts not sent it yet."
                ),
            )
        )
    return Document(
        "what-works",
        _t("What works"),
        _period_text(ask),
        _data(docs),
        tuple(tables),
        tuple(charts),
    )
