"""What a user may see: the one place where scoping is enforced.

Every page and API route asks these selectors, passing the user, and never queries accounts
directly:
- coordinators, controllers and admins see the whole book (an installation is one company);
- a property manager sees the accounts of the properties on their profile;
- an attorney sees the accounts referred to their firm (open referrals only);
- anyone else (no profile, inactive, anonymous) sees nothing.

`authorize(user, verb, account_id=None)` is the gate for a request: it raises NotSignedInError,
ForbiddenError (the role may not perform the verb) or NotFoundError (the account does not exist
or is out of the user's scope: the two are not told apart, so that scope does not leak).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Max, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.assigned import accounts_assigned, accounts_unassigned, assignment_list
from arrears.access.errors import ForbiddenError, NotSignedInError
from arrears.access.models import AuditEntry, Profile
from arrears.core import sql
from arrears.core.dates import book_zone
from arrears.core.errors import NotFoundError, ValidationError
from arrears.dunning.selectors import WorkItem, worklist
from arrears.dunning.standing import accounts_standing
from arrears.ledger import search
from arrears.ledger.models import Account, AccountParty, Property, Transaction
from arrears.ledger.search import SEARCH_LIMIT, Hit
from arrears.ledger.selectors import AgingReport, account_with_property, aging_report
from arrears.legal.models import Referral


def profile_of(user: Any) -> Profile | None:
    """The user's profile (cached on the user object for the request), or None."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if hasattr(user, "_arrears_profile_cache"):
        cached: Profile | None = user._arrears_profile_cache
        return cached
    if get_user_model().arrears_profile.is_cached(
        user
    ):  # read with the user (backends.ProfileBackend)
        profile = getattr(user, "arrears_profile", None)
    else:
        profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.role == permissions.MANAGER:
        profile.property_pks = list(profile.properties.values_list("pk", flat=True))  # type: ignore[attr-defined]
    user._arrears_profile_cache = profile
    return profile


def role_of(user: Any) -> str | None:
    profile = profile_of(user)
    return profile.role if profile else None


def can(user: Any, verb: str) -> bool:
    return permissions.allowed(role_of(user), verb)


def accounts_visible(user: Any) -> QuerySet[Account]:
    """The accounts `user` may see (an empty queryset for anyone without a role)."""
    profile = profile_of(user)
    if profile is None:
        return Account.objects.none()
    if permissions.sees_everything(profile.role):
        return Account.objects.all()
    if profile.role == permissions.MANAGER:
        return Account.objects.filter(property_id__in=profile.property_pks)  # type: ignore[attr-defined]
    if profile.role in permissions.FIRM_ROLES:
        referred = Referral.objects.filter(firm=profile.firm, withdrawn_on__isnull=True)
        return Account.objects.filter(pk__in=referred.values("account_id"))
    return Account.objects.none()


def _account_in_scope(user: Any, account_id: str) -> Account | None:
    """The account `account_id` names with its property, if `user` may see it: the scope is
    `accounts_visible`'s, the one statement of the rule, asked only of a role that does not see
    every account (the account is read by hand-written SQL: see `account_with_property`)."""
    account = account_with_property(account_id)
    if account is None:
        return None
    profile = profile_of(user)
    if profile is not None and permissions.sees_everything(profile.role):
        return account
    return account if accounts_visible(user).filter(pk=account.pk).exists() else None


def currencies_visible(user: Any) -> list[str]:
    """The currencies of the accounts `user` may see, sorted (the aging JSON's shape follows
    them: one object for one currency, a list for several)."""
    return sorted(set(accounts_visible(user).values_list("currency", flat=True)))


def properties_visible(user: Any) -> QuerySet[Property]:
    """The properties whose figures `user` may see: all, a manager's own, or an attorney's
    referred accounts' properties."""
    profile = profile_of(user)
    if profile is None:
        return Property.objects.none()
    if permissions.sees_everything(profile.role):
        return Property.objects.all()
    return Property.objects.filter(
        pk__in=accounts_visible(user).exclude(property=None).values("property_id")
    )


def authorize(user: Any, verb: str, account_id: str | None = None) -> Account | None:
    """Check that `user` may perform `verb` (on `account_id`); returns the account if one is named.

    Raises NotSignedInError, ForbiddenError or NotFoundError; see the module docstring.
    """
    profile = profile_of(user)
    if profile is None:
        if getattr(user, "is_authenticated", False):
            raise ForbiddenError(_("this user has no role in Arrears"), code="forbidden")
        raise NotSignedInError(_("sign in first"), code="unauthenticated")
    if not permissions.allowed(profile.role, verb):
        raise ForbiddenError(
            _("the role {role} may not do this ({verb})"),
            code="forbidden",
            role=profile.role,
            verb=verb,
        )
    if account_id is None:
        return None
    account = _account_in_scope(user, account_id)
    if account is None:
        raise NotFoundError(_("no account {account_id!r}"), code="not_found", account_id=account_id)
    return account


WORKLIST_CACHE_SECONDS = 60


def book_state() -> tuple[int, int, int]:
    """Names the state of the book and of its collection: every change to an account's
    collection writes a timeline row in its transaction (DESIGN), transactions are only ever
    added, and every import that changes the book leaves a BookImport row."""
    from arrears.ledger.models import BookImport, TimelineEvent

    return (
        TimelineEvent.objects.aggregate(m=Max("id"))["m"] or 0,
        Transaction.objects.aggregate(m=Max("id"))["m"] or 0,
        BookImport.objects.aggregate(m=Max("id"))["m"] or 0,
    )


def _worklist(on: date, username: str | None) -> list[WorkItem]:
    """The whole book's worklist, computed once per state of the book (and for a minute at
    most, for what no timeline row records), then read from this process's cache."""
    # the language too: its lines are worded in the reader's (issue 15, item 8)
    state = (on.isoformat(), username or "", get_language(), *book_state())
    key = "worklist:" + ":".join(map(str, state))
    work: list[WorkItem] | None = cache.get(key)
    if work is None:
        work = worklist(on=on, user=username)
        cache.set(key, work, WORKLIST_CACHE_SECONDS)
    return work


def worklist_visible(user: Any, *, on: date, mine: bool = False) -> list[WorkItem]:
    """The day's worklist, only the lines of accounts `user` may see; with `mine`, only those
    of the accounts `user` works that day (theirs, and those of whoever they cover for:
    `assigned.accounts_assigned`)."""
    work = _worklist(on, getattr(user, "username", None))
    if not permissions.sees_everything(role_of(user)):
        ids = set(
            accounts_visible(user)
            .filter(account_id__in=[w.account_id for w in work])
            .values_list("account_id", flat=True)
        )
        work = [w for w in work if w.account_id in ids]
    return worklist_of(work, accounts_assigned(user, on)) if mine else work


WORKLIST_ASKED_BY_ID = 900  # below SQLite's oldest limit of parameters in one statement


def worklist_of(work: list[WorkItem], accounts: QuerySet[Account]) -> list[WorkItem]:
    """The lines of `work` on `accounts` (a queryset: one query), in their order. A short list
    asks for its own accounts only; a long one reads the set's ids whole (an IN list of
    thousands costs more than the ids)."""
    wanted = {w.account_id for w in work}
    if not wanted:
        return []
    if len(wanted) <= WORKLIST_ASKED_BY_ID:
        accounts = accounts.filter(account_id__in=sorted(wanted))
    ids = set(accounts.values_list("account_id", flat=True))
    return [w for w in work if w.account_id in ids]


def assignments_visible(user: Any, *, username: str = "", on: date | None = None) -> Any:
    """`assigned.assignment_list` (open on `on`, or all; of `username`, or everyone's), of the
    targets `user` may see: every one for a role that sees the whole book, else the accounts in
    scope, their properties, and the portfolios of those properties.
    Raises what `authorize(user, "assignment.view")` raises."""
    authorize(user, "assignment.view")
    rows = assignment_list(username=username, on=on)
    if permissions.sees_everything(role_of(user)):
        return rows
    places = properties_visible(user)
    return rows.filter(
        Q(account__in=accounts_visible(user))
        | Q(property__in=places)
        | Q(portfolio__in=places.exclude(portfolio="").values("portfolio"))
    )


WORKLIST_SCOPES = ("mine", "everyone", "unassigned", "user")


@dataclass(frozen=True)
class WorklistScope:
    """Whose lines of the worklist are shown: the user's own ("mine"), everyone's in the user's
    scope, the lines of accounts assigned to no one, or one user's (`username`)."""

    kind: str
    username: str = ""
    default: bool = False  # the user's default, none being asked

    def lines(self, user: Any, work: list[WorkItem], on: date) -> list[WorkItem]:
        """The lines of `work` (the day's, as `user` sees it) this scope shows."""
        if self.kind == "everyone":
            return work
        if self.kind == "unassigned":
            return worklist_of(work, accounts_unassigned(on))
        whose = user if self.kind == "mine" else user_active(username=self.username)
        if whose is None:
            return []
        return worklist_of(work, accounts_assigned(whose, on))


def worklist_scope(user: Any, *, on: date, kind: str = "", username: str = "") -> WorklistScope:
    """The scope asked for (`kind`, with `username` for one user's), else the user's default: a
    coordinator's own accounts when she has some that day, everyone's otherwise (a manager, an
    admin, an installation that assigns no one)."""
    if kind == "user" and username:
        return WorklistScope("user", username[:150])
    if kind in ("mine", "everyone", "unassigned"):
        return WorklistScope(kind)
    if (
        permissions.allowed(role_of(user), "worklist.own")
        and not permissions.allowed(role_of(user), "assignment.others")
        and accounts_assigned(user, on).exists()
    ):
        return WorklistScope("mine", default=True)
    return WorklistScope("everyone", default=True)


def aging_visible(
    user: Any, *, as_of: date, by: str = "account", property_ids: list[str] | None = None
) -> list[AgingReport]:
    """The aging as of `as_of`, over the accounts `user` may see (optionally some properties)."""
    role = role_of(user)
    if role is None:
        return []
    if permissions.sees_everything(role):
        return aging_report(as_of=as_of, by=by, property_ids=property_ids)
    mine = list(properties_visible(user).values_list("property_id", flat=True))
    if property_ids is not None:
        mine = [p for p in mine if p in set(property_ids)]
    if not mine:
        return []
    if role == permissions.MANAGER:
        return aging_report(as_of=as_of, by=by, property_ids=mine)
    # An attorney: the referred accounts only, rolled up as asked.
    from arrears.ledger.aging import sum_lines
    from arrears.ledger.selectors import AgingRow

    ids = set(accounts_visible(user).values_list("account_id", flat=True))
    reports = []
    for report in aging_report(as_of=as_of, by="account", property_ids=mine):
        rows = [r for r in report.rows if r.key["account_id"] in ids]
        if by != "account":
            groups: dict[str, list[Any]] = {}
            field = "property_id" if by == "property" else "portfolio"
            portfolio = dict(Property.objects.values_list("property_id", "portfolio"))
            for r in rows:
                k = (
                    r.key["property_id"]
                    if by == "property"
                    else portfolio.get(r.key["property_id"], "")
                )
                groups.setdefault(k, []).append(r.line)
            width = len(report.buckets.boundaries) + 1
            rows = [AgingRow({field: k}, sum_lines(v, width)) for k, v in sorted(groups.items())]
        totals = sum_lines([r.line for r in rows], len(report.buckets.boundaries) + 1)
        reports.append(AgingReport(report.as_of, report.currency, report.buckets, by, rows, totals))
    return reports


def account_search(user: Any, *, q: str, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """`ledger.search.account_search` within the accounts `user` may see (`accounts_visible`),
    each hit with its balance and stage (`dunning.standing`, one query for them all)."""
    hits = search.account_search(q=q, within=accounts_visible(user), limit=limit)
    standing = accounts_standing(h.account_id for h in hits)
    return [
        replace(h, **standing[h.account_id].__dict__) if h.account_id in standing else h
        for h in hits
    ]


@dataclass(frozen=True)
class PartyView:
    """A party of an account as the workspace shows it: role, contact points and consent."""

    party_id: str
    name: str
    role: str
    email: str
    phone: str
    address: str
    language: str
    timezone: str
    consent: dict[str, bool]
    # the contact points as kept (the edit form's fields) and the row's key (call history)
    pk: int = 0
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


def account_parties(account: Account, links: list[AccountParty] | None = None) -> list[PartyView]:
    """The account's parties, primary first, each with its latest consent per channel (`links`:
    the account's AccountParty rows with their parties, when the caller has them already)."""
    from arrears.dunning.models import Consent

    if links is None:
        links = list(
            account.account_parties.select_related("party").order_by("role", "party__name")
        )
    links = list(links)
    consent: dict[int, dict[str, bool]] = {}
    party_pks = [link.party_id for link in links]
    # The latest word per channel wins. Hand-written SQL, read on every account view: the account
    # page's target needs it (0.3 M instructions against 1.8 M through the ORM, see core.sql).
    if party_pks:
        marks = ", ".join(["%s"] * len(party_pks))
        for party_pk, channel, granted in sql.rows(
            f"SELECT party_id, channel, granted FROM {sql.table(Consent)}"
            f" WHERE party_id IN ({marks}) ORDER BY at, id",
            party_pks,
        ):
            consent.setdefault(party_pk, {})[channel] = bool(granted)
    order = {"primary": 0, "co_obligor": 1, "guarantor": 2}
    links.sort(key=lambda link: (order.get(link.role, 9), link.party.name))
    out = []
    for link in links:
        p = link.party
        address = ", ".join(x for x in (p.address, p.city, p.state, p.postal_code) if x)
        out.append(
            PartyView(
                p.party_id,
                p.name,
                link.role,
                p.email,
                p.phone,
                address,
                p.language,
                p.timezone,
                consent.get(p.pk, {}),
                p.pk,
                p.address,
                p.city,
                p.state,
                p.postal_code,
                p.country,
            )
        )
    return out


def document_visible(user: Any, *, account_id: str, name: str) -> Any:
    """The archived document `name` of account `account_id`, if `user` may see that account and
    the document is the account's (named on its timeline or its outbound mail); returns the
    `correspondence.Document`. Raises what `authorize` raises, or NotFoundError: a document of
    another account, or none, is not found (scope does not leak)."""
    from arrears.correspondence.models import Document, Outbound
    from arrears.ledger.models import TimelineEvent

    account = authorize(user, "document.view", account_id)
    document = Document.objects.filter(name=name).first() if name else None
    if document is not None and (
        TimelineEvent.objects.filter(account=account, detail__document=name).exists()
        or Outbound.objects.filter(account=account, document=document).exists()
    ):
        return document
    raise NotFoundError(
        _("no document {name!r} on account {account_id!r}"),
        code="document_not_found",
        name=name,
        account_id=account_id,
    )


def letters_visible(user: Any, *, on: date | None = None) -> QuerySet[Any]:
    """Letters (plain and certified) of the accounts `user` may see, of day `on` (or every day),
    newest first. Raises what `authorize(user, "letters.view")` raises."""
    from arrears.correspondence.models import Outbound

    authorize(user, "letters.view")
    rows = Outbound.objects.filter(channel__in=("letter", "certified_letter"))
    if not permissions.sees_everything(role_of(user)):
        rows = rows.filter(account__in=accounts_visible(user))
    if on is not None:
        rows = rows.filter(run_on=on)
    return rows.select_related("account", "party", "document").order_by("-run_on", "id")


def user_list() -> list[Any]:
    """Every user, by name, with `arrears_profile` and its properties loaded (None: no role)."""
    from django.contrib.auth import get_user_model

    users: list[Any] = list(get_user_model().objects.order_by("username"))
    profiles = {p.user_id: p for p in Profile.objects.prefetch_related("properties")}
    for user in users:
        user.profile = profiles.get(user.pk)
    return users


def user_get(*, user_id: int) -> Any:
    """One user, with `profile` as in `user_list`; NotFoundError if there is none."""
    from django.contrib.auth import get_user_model

    user: Any = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError(_("no user #{user_id}"), code="user_not_found", user_id=user_id)
    user.profile = Profile.objects.prefetch_related("properties").filter(user=user).first()
    return user


def user_active(*, username: str) -> Any | None:
    """The active user named `username` (exactly), or None."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username, is_active=True).first()


def admin_exists() -> bool:
    """Whether an active user has the role admin (until one does, the command line's operator
    adds the first users; see `arrears.cli.acting`)."""
    return Profile.objects.filter(role=permissions.ADMIN, user__is_active=True).exists()


AUDIT_VIAS = ("web", "api", "cli", "system")
AUDIT_COLUMNS = ("at", "user", "via", "verb", "account_id", "ip", "detail")


def audit_cells(entry: AuditEntry) -> list[str]:
    """An audit entry as the text of AUDIT_COLUMNS (the exports' and the command's rows): the
    time in ISO 8601 (UTC), the detail as JSON."""
    import json

    return [
        entry.at.isoformat(),
        entry.username,
        entry.via,
        entry.verb,
        entry.account_id,
        entry.ip,
        json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
    ]


def audit_list(
    user: Any,
    *,
    username: str = "",
    verb: str = "",
    via: str = "",
    account_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The audit entries matching every filter given, newest first: the pages', the API's and
    the command line's one read of the log (the admin's only).

    `username` is a user's name exactly (or a name typed at a failed sign-in, or
    `system:<login>`); `verb` is a verb or the start of one up to a dot (`user` finds
    `user.add` and `user.change`, `signin` both sign-in verbs); `since` and `until` are days in
    the book's time zone, both included. Raises what `authorize(user, "admin.audit")` raises, or
    ValidationError (`extra["field"]`) for a `via` that is none of AUDIT_VIAS, a `since` after
    `until`, or a NUL character in a text.
    """
    authorize(user, "admin.audit")
    for field, text in (("user", username), ("verb", verb), ("account_id", account_id)):
        if "\x00" in text:  # PostgreSQL text holds no NUL: say so rather than fail the query
            raise ValidationError(
                _("{field} holds a NUL character"), code="audit_filter_nul", field=field
            )
    rows = AuditEntry.objects.all()
    if username:
        rows = rows.filter(username=username)
    if verb:
        rows = rows.filter(Q(verb=verb) | Q(verb__startswith=verb.rstrip(".") + "."))
    if via:
        if via not in AUDIT_VIAS:
            raise ValidationError(
                _("via is one of {choices}"),
                code="audit_via_unknown",
                choices=", ".join(AUDIT_VIAS),
                field="via",
                via=via,
            )
        rows = rows.filter(via=via)
    if account_id:
        rows = rows.filter(account_id=account_id)
    if since and until and since > until:
        raise ValidationError(
            _("the range ends ({until}) before it starts ({since})"),
            code="audit_range_reversed",
            until=until.isoformat(),
            since=since.isoformat(),
            field="until",
        )
    zone = book_zone()
    if since:
        rows = rows.filter(at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until and until < date.max:
        next_day = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
        rows = rows.filter(at__lt=next_day)
    return rows.order_by("-at", "-id")


FIRMS_CACHE_SECONDS = 60


def firm_names() -> list[str]:
    """The law firms the book knows (its attorneys' firms), for the referral form's list; kept a
    minute (the account page asks on every view, and its target counts every query)."""
    firms: list[str] | None = cache.get("access:firms")
    if firms is None:
        firms = sorted(
            set(Profile.objects.exclude(firm="").values_list("firm", flat=True).distinct()[:200])
        )
        cache.set("access:firms", firms, FIRMS_CACHE_SECONDS)
    return firms
