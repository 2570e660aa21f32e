"""Pages: parse → authorize → one selector or service → render.

Every page asks `arrears.access` who may see what (`authorize`, `accounts_visible` and the scoped
selectors); every change goes through `access.services.act`, which writes the audit row. A page
for someone not signed in redirects to the sign-in page; a role that may not use a page gets 403;
an account out of the user's scope is not found (404), the same as one that does not exist.

Pages: `/` the portfolio (aging by property, drill-down, filters, 12-month chart, CSV/XLSX
export), `/today/` the coordinator's day, `/accounts/<id>/` an account, `/search/`, and
`/signin/`, `/signout/`. Partial updates (htmx) return the fragment they replace.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_http_methods, require_POST

from arrears.access import acts
from arrears.access.addresses import client_ip
from arrears.access.assigned import account_coordinator
from arrears.access.errors import ForbiddenError, LockedOutError, NotSignedInError
from arrears.access.permissions import FIRM_ROLES
from arrears.access.selectors import (
    WORKLIST_CACHE_SECONDS,
    account_parties,
    account_search,
    accounts_visible,
    aging_visible,
    authorize,
    book_state,
    can,
    properties_visible,
    role_of,
)
from arrears.access.services import (
    login_check,
    login_failed,
    login_succeeded,
    logout_record,
)
from arrears.banking.selectors import cash_only
from arrears.core.busy import busy_error
from arrears.core.cells import safe_cell
from arrears.core.dates import in_calendar, now, today
from arrears.core.errors import DomainError, NotFoundError
from arrears.correspondence.uploads import DOCUMENT_KINDS
from arrears.dunning.models import Hold
from arrears.dunning.selectors import activity_get, notice_choices
from arrears.ledger.aging import sum_lines
from arrears.ledger.models import Account, Transaction
from arrears.ledger.search import account_named
from arrears.ledger.selectors import AgingReport, AgingRow
from arrears.ledger.selectors import account_ledger as ledger_of
from arrears.ledger.xlsx import aging_xlsx
from arrears.legal.selectors import writeoffs_summary
from arrears.moveout.refunds import refunds_of
from arrears.moveout.selectors import inspection_offer_state
from arrears.moveout.services import deposit_show
from arrears.web.actions import action_context
from arrears.web.chart import Bar, stacked_svg
from arrears.web.jinja import csrf_field, layout, page_helpers
from arrears.web.labels import label
from arrears.web.pagecache import cached_render
from arrears.web.parties import party_rows
from arrears.web.rates import rate_chart
from arrears.web.selectors import aging_trend, collection_trend, standing_read
from arrears.web.standing import account_standing, hold_word
from arrears.web.today import today_context
from arrears.web.wording import error_words, refusal_words

LEDGER_PAGE = 50
ACTIVITY = 100  # the latest timeline events and actions shown; ?all=1 shows every one


def _as_of(request: HttpRequest) -> date:
    text = request.GET.get("as_of", "")
    try:
        value = date.fromisoformat(text) if text else today()
    except ValueError:
        return today()
    return value if date(1900, 1, 1) <= value <= date(2200, 12, 31) else today()


def _ip(request: HttpRequest) -> str:
    return client_ip(request)


def _agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def page(
    verb: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """The gate of a page: signed in, and the user's role may perform `verb`."""

    def wrap(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                authorize(request.user, verb)
                return view(request, *args, **kwargs)
            except NotSignedInError:
                if _htmx(request):
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = reverse("web:signin")
                    return response
                return redirect_to_login(request.get_full_path(), reverse("web:signin"))
            except ForbiddenError as exc:
                return render(request, "web/refused.html", {"message": exc.message}, status=403)
            except NotFoundError as exc:
                raise Http404(exc.message) from None

        return inner

    return wrap


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page (config/urls.py: handler500), except for a database too busy to take a
    write (arrears.core.busy): a 503 that says nothing was written and when to try again, with
    Retry-After; a fragment for htmx. Whatever raised it, a view or a middleware (a session's
    save), it is the exception being handled here."""
    busy = busy_error(sys.exc_info()[1])
    if busy is None:
        return defaults.server_error(request)
    seconds = busy.extra["retry_after"]
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse(busy.as_dict(), status=503)
    else:
        message = ngettext(
            "The book is busy with another change (an import or a run may hold it) and nothing "
            "was written: try again in %(seconds)s second.",
            "The book is busy with another change (an import or a run may hold it) and nothing "
            "was written: try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
        # rendered without the request: its context processors would read the database
        body = get_template("web/busy.html").render(
            {"message": message, "fragment": _htmx(request)}
        )
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(seconds)
    return response


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or reverse("web:today")
    if not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:today")
    error = ""
    username = request.POST.get("username", "").strip()
    if request.method == "POST":
        # Every try is audited, accepted or refused (signin.ok, signin.failed), and kept.
        ip, agent = _ip(request), _agent(request)
        try:
            login_check(username=username, ip=ip)
            user = authenticate(
                request, username=username, password=request.POST.get("password", "")
            )
            if user is None:
                login_failed(username=username, ip=ip, user_agent=agent)
                error = _("The user name or the password is wrong.")
            else:
                login_succeeded(user=user, username=username, ip=ip, user_agent=agent)
                login(request, user)
                return redirect(_landing(user, target))
        except LockedOutError as exc:
            login_failed(username=username, ip=ip, user_agent=agent, locked=exc.extra["lock"])
            error = _("Too many failed sign-ins: try again later.")
    status = 200 if not error else 401
    return render(
        request,
        "web/signin.html",
        {"error": error, "next": target, "username": username},
        status=status,
    )


def _landing(user: Any, target: str) -> str:
    """Where a sign-in lands: where it was going, except that a firm's attorney or paralegal
    sent to the Today page (the default) lands on their firm's cases, where their work is."""
    if target == reverse("web:today") and role_of(user) in FIRM_ROLES:
        return reverse("web:cases")
    return target


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        logout_record(user=request.user, ip=_ip(request), user_agent=_agent(request))
    logout(request)
    return redirect("web:signin")


def _filters(request: HttpRequest) -> dict[str, Any]:
    try:
        bucket = int(request.GET.get("bucket", "") or 0)
    except ValueError:
        bucket = 0
    # No floor unless one is typed: the totals count the accounts in credit too, as `arrears
    # aging` does (a floor of 0 left them out, and the page's total over the CLI's).
    min_balance: Decimal | None
    try:
        typed = request.GET.get("min_balance", "").strip()
        min_balance = Decimal(typed) if typed else None
    except InvalidOperation:
        min_balance = None
    status = request.GET.get("status", "")
    return {
        "property": request.GET.get("property", "").strip(),
        "bucket": max(bucket, 0),
        "min_balance": min_balance,
        "status": status if status in ("open", "closed") else "",
    }


def _filtered(request: HttpRequest, as_of: date, f: dict[str, Any]) -> list[AgingReport]:
    """The aging by account, scoped to the user and narrowed by the page's filters."""
    reports = aging_visible(
        request.user,
        as_of=as_of,
        by="account",
        property_ids=[f["property"]] if f["property"] else None,
    )
    closed: set[str] = set()
    if f["status"]:
        closed = set(
            accounts_visible(request.user)
            .filter(closed_on__isnull=False, closed_on__lte=as_of)
            .values_list("account_id", flat=True)
        )
    out = []
    for report in reports:
        rows = []
        for row in report.rows:
            line = row.line
            if f["bucket"] and sum(line.buckets[f["bucket"] :], Decimal(0)) <= 0:
                continue
            if f["min_balance"] is not None and line.balance < f["min_balance"]:
                continue
            if f["status"] == "open" and row.key["account_id"] in closed:
                continue
            if f["status"] == "closed" and row.key["account_id"] not in closed:
                continue
            rows.append(row)
        width = len(report.buckets.boundaries) + 1
        out.append(
            AgingReport(
                report.as_of,
                report.currency,
                report.buckets,
                "account",
                rows,
                sum_lines([r.line for r in rows], width),
            )
        )
    return out


def _by_property(report: AgingReport) -> AgingReport:
    members: dict[str, list[AgingRow]] = defaultdict(list)
    for row in report.rows:
        members[row.key["property_id"]].append(row)
    width = len(report.buckets.boundaries) + 1
    rows = [
        AgingRow({"property_id": p}, sum_lines([a.line for a in accounts], width))
        for p, accounts in sorted(members.items())
    ]
    return AgingReport(
        report.as_of, report.currency, report.buckets, "property", rows, report.totals
    )


@page("portfolio.view")
def portfolio(request: HttpRequest) -> HttpResponse:
    as_of = _as_of(request)
    f = _filters(request)
    reports = _filtered(request, as_of, f)
    level = "account" if f["property"] else request.GET.get("level", "property")
    shown = reports if level == "account" else [_by_property(r) for r in reports]
    export = request.GET.get("export", "")
    if export in ("csv", "xlsx"):
        return _export(shown, export, as_of)
    names = dict(properties_visible(request.user).values_list("property_id", "name"))
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "web/portfolio.html",
        {
            "as_of": as_of,
            "reports": shown,
            "level": level,
            "f": f,
            "names": names,
            "properties": sorted(names.items()),
            "query": query.urlencode(),
            "labels": reports[0].buckets.labels if reports else [],
        },
    )


def _export(reports: list[AgingReport], kind: str, as_of: date) -> HttpResponse:
    name = f"aging-{as_of.isoformat()}"
    if kind == "xlsx":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "aging.xlsx"
            aging_xlsx(reports, path)
            body = path.read_bytes()
        response = HttpResponse(
            body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    for report in reports:
        keys = report.key_columns
        writer.writerow(["as_of", "currency", *keys, *report.buckets.labels, "credit", "balance"])
        for row in [*report.rows, AgingRow({keys[0]: "TOTAL"}, report.totals)]:
            writer.writerow(
                [
                    as_of.isoformat(),
                    report.currency,
                    *[safe_cell(row.key.get(k, "")) for k in keys],
                    *[f"{a:.2f}" for a in row.line.buckets],
                    f"{row.line.credit:.2f}",
                    f"{row.line.balance:.2f}",
                ]
            )
    return response


@page("portfolio.view")
def portfolio_chart(request: HttpRequest) -> HttpResponse:
    """The aging at each of the last 12 month ends, buckets stacked, as an SVG (an htmx part)."""
    as_of = _as_of(request)
    prop = request.GET.get("property", "").strip()
    points = aging_trend(user=request.user, as_of=as_of, property_ids=[prop] if prop else None)
    rates = collection_trend(user=request.user, as_of=as_of, property_ids=[prop] if prop else None)
    charts = []
    for currency in sorted({p.currency for p in points} | set(rates)):
        mine = [p for p in points if p.currency == currency]
        bars = [Bar(date_format(p.on, "M y"), tuple(p.buckets)) for p in mine]  # "mar 26" in es
        title = _("Aging at each month end (%(currency)s)") % {"currency": currency}
        series = [label(b) for b in mine[-1].labels] if mine else []
        svg = stacked_svg(bars, series, title=title, currency=currency) if mine else ""
        charts.append(
            {
                "aging": mark_safe(svg),  # noqa: S308 - every text in it is escaped by stacked_svg
                **rate_chart(rates.get(currency, []), currency),
            }
        )
    return render(request, "web/_chart.html", {"charts": charts})


@page("worklist.view")
def today_page(request: HttpRequest) -> HttpResponse:
    """The day: rendered once per state of the book (every change to an account's collection
    writes a timeline row, every entry is a new transaction row, every import a BookImport row),
    day, user scope and language, for a minute at most (as the worklist it shows)."""
    on = _as_of(request)

    def context() -> dict[str, Any]:
        return today_context(request, on)

    return cached_render(
        request, "web/today.html", book_state(), context, seconds=WORKLIST_CACHE_SECONDS
    )


def _may_have_refunds(account: Account, ledger: Any) -> bool:
    """Whether the account may have a refund record: a refund is proposed of a credit balance,
    and once paid leaves a `refund` entry in the ledger. (A proposal withdrawn or rejected on an
    account whose credit is gone is not shown: the page reads nothing for it, as for most.)"""
    return bool(
        ledger.balance < 0 or any(line.type == Transaction.Type.REFUND for line in ledger.lines)
    )


def _may_have_writeoffs(ledger: Any) -> bool:
    """Whether the account's ledger holds a write-off (a `WO` credit)."""
    return any(line.type == Transaction.Type.CREDIT and line.code == "WO" for line in ledger.lines)


def _account_context(request: HttpRequest, account_id: str) -> dict[str, Any]:
    account = authorize(request.user, "account.view", account_id)
    assert account is not None
    as_of = _as_of(request)
    everything = request.GET.get("all") == "1"
    ledger = ledger_of(account_id=account_id, as_of=as_of, account=account)
    pages = max(1, -(-len(ledger.lines) // LEDGER_PAGE))
    try:
        number = int(request.GET.get("page", "") or pages)
    except ValueError:
        number = pages
    number = min(max(number, 1), pages)
    lines = ledger.lines[(number - 1) * LEDGER_PAGE : number * LEDGER_PAGE]
    on = today()
    choices = notice_choices(account=account, on=on)
    activity = activity_get(account=account, limit=None if everything else ACTIVITY)
    parties = account_parties(account, ledger.parties)
    flags = standing_read(account.pk)
    return {
        "account": account,
        "ledger": ledger,
        "lines": lines,
        "page": number,
        "pages": pages,
        "page_range": range(1, pages + 1),
        "parties": parties,
        "party_rows": party_rows(
            account, parties, activity.holds, now(), choices.policy, commitments=flags.may_hold()
        ),
        "activity": activity,
        "standing": account_standing(
            account=account,
            ledger=ledger,
            activity=activity,
            policy=choices.policy,
            on=on,
            language=get_language(),
            flags=flags,
        ),
        "today": on,
        "coordinator": account_coordinator(account, on),
        # paid in certified funds only after too many returned payments (arrears.banking)
        "cash_only": cash_only(account),
        # a moved-out account's deposit: its clock and disposition (small reads, for the
        # accounts that moved out holding a deposit only: the page has a p95 target)
        "deposit": deposit_show(account_id=account_id, account=account)
        if account.closed_on and (account.deposit_held or 0) > 0
        else None,
        # a lease ending on a day to come: its pre-move-out inspection offer (one small read, for
        # those accounts only)
        "inspection": inspection_offer_state(account, on)
        if account.closed_on and account.closed_on > on and (account.deposit_held or 0) > 0
        else None,
        # its refunds' state (arrears.moveout.refunds): one small read, only for an account that
        # may have one (a credit balance, a refund in its ledger), none for the rest
        "refunds": refunds_of(account.pk) if _may_have_refunds(account, ledger) else [],
        # its write-offs (arrears.legal.settlements): one small read, only for an account with a
        # `WO` credit in its ledger, or for one who may write it off
        "writeoffs": writeoffs_summary(account)
        if _may_have_writeoffs(ledger) or can(request.user, "writeoff.post")
        else None,
        "reasons": Hold.Reason.values,
        "can_note": can(request.user, "note.add"),
        "may_refunds": can(request.user, "refund.list"),
        "can_hold": can(request.user, "hold.place"),
        "can_record": can(request.user, "party.update"),
        "document_kinds": list(DOCUMENT_KINDS.items()),
        "as_of_param": request.GET.get("as_of", ""),
        "csrf_field": csrf_field(request),  # once: each form's field costs a new masked token
        **action_context(request.user, account, choices, parties),
    }


def jinja_page(
    request: HttpRequest, name: str, context: dict[str, Any], *, title: str, status: int = 200
) -> HttpResponse:
    """A page whose body is a Jinja2 template (the busiest pages: see arrears/web/jinja.py), in
    the layout every page shares (web/layout.html)."""
    body = get_template(name, using="jinja2").render({**context, **page_helpers()}, request)
    return HttpResponse(layout(request, title=escape(title), content=body), status=status)


def account_html(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    title = f"{context['account'].account_id} · Arrears"
    return jinja_page(request, "web/account.html", context, title=title, status=status)


@page("account.view")
def account_page(request: HttpRequest, account_id: str) -> HttpResponse:
    context = _account_context(request, account_id)
    if _htmx(request) and request.GET.get("part") == "ledger":
        return render(request, "web/_ledger.html", context)
    context["notice"] = " ".join(str(m) for m in messages.get_messages(request))
    return account_html(request, context)


def back_to(request: HttpRequest) -> str:
    """The Today page a worklist line's form came from (its `next`), if it is one."""
    back = request.POST.get("next", "")
    return back if back.startswith(reverse("web:today")) and "//" not in back else ""


def _after_change(
    request: HttpRequest,
    account_id: str,
    error: str = "",
    *,
    notice: str = "",
    confirm: dict[str, Any] | None = None,
) -> HttpResponse:
    """What a form of the account page answers: with htmx, a refusal fills the message region
    alone (422, the form stays as typed) and a success the actions and activity, the message
    region beside them (out of band); without, the page (422) or a redirect to it."""
    if not error and back_to(request):  # a form of a worklist line: back to the list
        if notice:
            messages.success(request, notice)
        return redirect(back_to(request))
    if _htmx(request):
        if error:
            said = {"error": error, "confirm": confirm, "csrf_field": csrf_field(request)}
            response = render(request, "web/_messages.html", said, status=422)
            response["HX-Retarget"] = "#messages"
            response["HX-Reswap"] = "innerHTML"
            return response
        context = _account_context(request, account_id)
        context.update(notice=notice, oob=True)
        return render(request, "web/_activity.html", context)
    if error:
        context = _account_context(request, account_id)
        context.update(error=error, confirm=confirm)
        return account_html(request, context, status=422)
    if notice:
        messages.success(request, notice)
    return redirect("web:ledger", account_id=account_id)


def _confirm(request: HttpRequest, exc: DomainError) -> dict[str, Any] | None:
    """The form that sends the same request again confirmed, for a question (a promise above
    the balance, a statutory notice)."""
    if not exc.code.endswith("_needs_confirmation"):
        return None
    fields = [
        (name, value)
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", "confirm")
        for value in request.POST.getlist(name)
    ]
    label = _("Send it") if exc.code.startswith("notice") else _("Save anyway")
    return {"url": request.path, "fields": fields, "label": label}


def by(request: HttpRequest) -> acts.By:
    """The signed-in user acting through the pages, from the request's address."""
    return acts.By(request.user, "web", _ip(request))


def change(
    request: HttpRequest,
    account_id: str,
    verb: str,
    do: Callable[[], Any],
    check: Callable[[Any], str] | None = None,
    *,
    doing: str = "",
    said: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """Run one act on the account (`do`, which calls `arrears.access.acts`) and answer with the
    activity fragment (or the page); the user is authorized for `verb` on the account before
    the form is read, so a refusal comes first. An error is worded for the page
    (`web.wording`: `doing` is what was asked, "log this call"); a success says `said(result)`."""
    authorize(request.user, verb, account_id)
    try:
        result = do()
    except (ForbiddenError, NotFoundError):
        raise
    except DomainError as exc:
        words = error_words(exc, doing or _("do this"))
        return _after_change(request, account_id, words, confirm=_confirm(request, exc))
    error = check(result) if check else ""
    notice = said(result) if said else _("Done.")
    return _after_change(request, account_id, error, notice="" if error else notice)


def refusal_text(rule: str, reason: str, doing: str = "") -> str:
    return refusal_words(rule, reason, doing or _("do this"))


@require_POST
@page("account.view")
def account_note(request: HttpRequest, account_id: str) -> HttpResponse:
    text = request.POST.get("text", "")
    return change(
        request,
        account_id,
        "note.add",
        lambda: acts.note_add(by=by(request), account_id=account_id, text=text),
        doing=_("add this note"),
        said=lambda _e: _("Note added."),
    )


@require_POST
@page("account.view")
def account_hold(request: HttpRequest, account_id: str) -> HttpResponse:
    try:
        until_text = request.POST.get("until", "")
        until = date.fromisoformat(until_text) if until_text else None
    except ValueError:
        until = date.min
    if until is not None and not in_calendar(until):  # 9999-12-31: no end, mistyped
        return _after_change(request, account_id, _("The end date is not a date."))
    return change(
        request,
        account_id,
        "hold.place",
        lambda: acts.hold_place(
            by=by(request),
            account_id=account_id,
            reason=request.POST.get("reason", ""),
            until=until,
            party_id=request.POST.get("party_id", "") or None,
            note=request.POST.get("note", ""),
        ),
        doing=_("place this hold"),
        said=lambda h: _("Hold placed: %(why)s.") % {"why": hold_word(h.reason)},
    )


@require_POST
@page("account.view")
def account_release(request: HttpRequest, account_id: str, hold_id: int) -> HttpResponse:
    return change(
        request,
        account_id,
        "hold.release",
        lambda: acts.hold_release(by=by(request), account_id=account_id, hold_id=hold_id),
        doing=_("release this hold"),
        said=lambda _h: _("Hold released."),
    )


@page("search")
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    hits = account_search(request.user, q=q) if q.strip() else []
    named = account_named(hits)
    # The account typed exactly opens, when the search is asked for (not while typing).
    if named is not None and not _htmx(request):
        return redirect("web:ledger", named)
    context = {"q": q, "hits": hits}
    if _htmx(request):
        return render(request, "web/_search_results.html", context)
    return jinja_page(request, "web/search.html", context, title=_("Search") + " · Arrears")


SUGGESTIONS = 8  # the header box's type-ahead: a few accounts, the full search one Enter away


@page("search")
def search_suggest(request: HttpRequest) -> HttpResponse:
    """The header box's suggestions as it is typed in: up to SUGGESTIONS accounts, as links."""
    q = request.GET.get("q", "")[:200]
    hits = account_search(request.user, q=q, limit=SUGGESTIONS) if q.strip() else []
    return render(request, "web/_suggestions.html", {"q": q, "hits": hits})
