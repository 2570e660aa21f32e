"""The admin's pages: users and roles, properties, policies, templates, the audit log (role
`admin` only).

Each page is gated by its verb (`admin.users`, `admin.properties`, `admin.policies`,
`admin.templates`) through `views.page`; each change goes through a service that authorizes the
change's own verb (`user.add`, `policy.add`, …) and writes the audit row in the same transaction
(`access.services`, or `act` around the dunning and correspondence services the CLI uses). A
refused or failed change writes nothing; its error is shown beside the field it is about
(`extra["field"]`), status 422. A change that succeeds redirects (POST-redirect-GET) with a line
saying what was done; an API token is kept in the session until the next page shows it, once.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import available_timezones

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arrears.access import permissions
from arrears.access.selectors import (
    AUDIT_COLUMNS,
    AUDIT_VIAS,
    audit_cells,
    audit_list,
    authorize,
    user_get,
    user_list,
)
from arrears.access.services import (
    act,
    property_change,
    token_issue,
    token_revoke,
    tokens_of,
    user_active_set,
    user_add,
    user_change,
    user_password_set,
)
from arrears.core.cells import safe_row
from arrears.core.dates import today
from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.correspondence.catalog import CATALOG, LANGUAGES
from arrears.correspondence.pdfs import letter_pdf
from arrears.correspondence.rendering import message_render
from arrears.correspondence.selectors import template_versions
from arrears.correspondence.services import template_add, template_names
from arrears.dunning.policy import PolicyError
from arrears.dunning.selectors import (
    policy_get,
    policy_overrides,
    policy_versions,
    preview_deadline,
)
from arrears.dunning.services import company_policies, policy_add, policy_assign
from arrears.ledger.selectors import property_get, property_list
from arrears.web.views import _ip, page

ISSUED = "arrears_issued_token"  # the session key of a token just issued
POLICY_FILE_LIMIT = 256 * 1024


def _errors(exc: DomainError | PolicyError, default: str = "form") -> dict[str, str]:
    """The error keyed by the field it is about; a refusal is not a field's error: re-raised."""
    if isinstance(exc, PolicyError):
        return {default: str(exc)}
    if exc.kind in ("forbidden", "unauthenticated"):
        raise exc
    field = exc.extra.get("field") or ("account_id" if "account_id" in exc.extra else default)
    return {str(field): exc.message}


def _form(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=422 if context.get("errors") else 200)


@require_GET
@page("admin.users")
def admin_home(request: HttpRequest) -> HttpResponse:
    return redirect("web:admin_users")


def _scope_fields(request: HttpRequest) -> dict[str, Any]:
    return {
        "role": request.POST.get("role", ""),
        "properties": request.POST.getlist("properties"),
        "firm": request.POST.get("firm", "")[:200],
        # None when the form has no such field: the address is then left as it is.
        "email": None if "email" not in request.POST else request.POST["email"][:254],
    }


def _choices() -> dict[str, Any]:
    return {"roles": permissions.ROLES, "all_properties": property_list()}


@never_cache
@require_http_methods(["GET", "POST"])
@page("admin.users")
def admin_users(request: HttpRequest) -> HttpResponse:
    """The users with role, properties, firm and whether active; the form to add one."""
    form: dict[str, Any] = {"role": permissions.COORDINATOR, "properties": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {"username": request.POST.get("username", "")[:200], **_scope_fields(request)}
        password = request.POST.get("password", "")
        if password != request.POST.get("password_again", ""):
            errors = {"password_again": _("The two passwords are not the same.")}
        else:
            try:
                user_add(**form, password=password, actor=request.user, via="web", ip=_ip(request))
            except DomainError as exc:
                errors = _errors(exc)
            else:
                messages.success(request, _("User %(name)s added.") % {"name": form["username"]})
                return redirect("web:admin_users")
    context = {"users": user_list(), "form": form, "errors": errors, **_choices()}
    return _form(request, "web/admin_users.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@page("admin.users")
def admin_user(request: HttpRequest, user_id: int) -> HttpResponse:
    """One user: change the role and scope; deactivate or reactivate; issue and revoke API
    tokens."""
    user = user_get(user_id=user_id)
    errors: dict[str, str] = {}
    form = _scope_form(user)
    if request.method == "POST":
        form = _scope_fields(request)
        try:
            user_change(
                username=user.username, **form, actor=request.user, via="web", ip=_ip(request)
            )
        except DomainError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("User %(name)s changed.") % {"name": user.username})
            return redirect("web:admin_users")
    return _user_page(request, user, form=form, errors=errors)


def _scope_form(user: Any) -> dict[str, Any]:
    profile = user.profile
    if profile is None:
        return {"role": "", "firm": "", "properties": [], "email": user.email}
    return {
        "email": user.email,
        "role": profile.role,
        "firm": profile.firm,
        "properties": [p.property_id for p in profile.properties.all()],
    }


def _user_page(request: HttpRequest, user: Any, **context: Any) -> HttpResponse:
    issued = request.session.pop(ISSUED, None)
    token = issued["token"] if issued and issued.get("user_id") == user.pk else ""
    tokens = tokens_of(username=user.username)
    context = {"shown": user, "token": token, "tokens": tokens, **_choices(), **context}
    return _form(request, "web/admin_user.html", context)


@require_POST
@page("admin.users")
def admin_user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    user = user_get(user_id=user_id)
    active = request.POST.get("active") == "1"
    try:
        user_active_set(
            username=user.username, active=active, actor=request.user, via="web", ip=_ip(request)
        )
    except DomainError as exc:
        return _user_page(request, user, form=_scope_form(user), errors=_errors(exc, "active"))
    said = _("User %(name)s reactivated.") if active else _("User %(name)s deactivated.")
    messages.success(request, said % {"name": user.username})
    return redirect("web:admin_user", user_id=user.pk)


@require_POST
@page("admin.users")
def admin_user_token(request: HttpRequest, user_id: int) -> HttpResponse:
    user = user_get(user_id=user_id)
    token = token_issue(username=user.username, actor=request.user, via="web", ip=_ip(request))
    # Kept in the (server-side) session for the next page only: shown once, never in a URL.
    request.session[ISSUED] = {"user_id": user.pk, "token": token}
    return redirect("web:admin_user", user_id=user.pk)


@require_POST
@page("admin.users")
def admin_user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    user = user_get(user_id=user_id)
    password = request.POST.get("password", "")
    if password != request.POST.get("password_again", ""):
        errors = {"password_again": _("The two passwords are not the same.")}
        return _user_page(request, user, form=_scope_form(user), errors=errors)
    try:
        user_password_set(
            username=user.username,
            password=password,
            actor=request.user,
            via="web",
            ip=_ip(request),
        )
    except DomainError as exc:
        return _user_page(request, user, form=_scope_form(user), errors=_errors(exc, "password"))
    messages.success(
        request,
        _("Password of %(name)s changed: their other sessions end.") % {"name": user.username},
    )
    return redirect("web:admin_user", user_id=user.pk)


@require_POST
@page("admin.users")
def admin_user_token_revoke(request: HttpRequest, user_id: int, token_id: int) -> HttpResponse:
    user = user_get(user_id=user_id)
    try:
        token_revoke(
            username=user.username,
            token_id=token_id,
            actor=request.user,
            via="web",
            ip=_ip(request),
        )
    except DomainError as exc:
        return _user_page(request, user, form=_scope_form(user), errors=_errors(exc, "token"))
    messages.success(
        request,
        _("API token %(id)s of %(name)s revoked: it is refused from now on.")
        % {"id": token_id, "name": user.username},
    )
    return redirect("web:admin_user", user_id=user.pk)


@require_GET
@page("admin.properties")
def admin_properties(request: HttpRequest) -> HttpResponse:
    return render(request, "web/admin_properties.html", {"properties": property_list()})


@require_http_methods(["GET", "POST"])
@page("admin.properties")
def admin_property(request: HttpRequest, property_id: str) -> HttpResponse:
    """A property's name, street address, time zone and owner of record; the rest comes from the
    book's import."""
    prop = property_get(property_id=property_id)
    form = {
        "name": prop.name,
        "address": prop.address,
        "timezone": prop.timezone,
        "owner_name": prop.owner_name,
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {f: request.POST.get(f, "")[:400] for f in form}
        try:
            property_change(
                property_id=property_id, **form, actor=request.user, via="web", ip=_ip(request)
            )
        except DomainError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Property %(id)s saved.") % {"id": property_id})
            return redirect("web:admin_properties")
    context = {"prop": prop, "form": form, "errors": errors, "zones": sorted(available_timezones())}
    return _form(request, "web/admin_property.html", context)


def _policies_page(request: HttpRequest, **context: Any) -> HttpResponse:
    context = {
        "versions": policy_versions(),
        "in_force": sorted(company_policies()),
        "overrides": policy_overrides(),
        "errors": {},
        "form": {},
        **context,
    }
    return _form(request, "web/admin_policies.html", context)


def _policy_text(request: HttpRequest, typed: str) -> tuple[str, str]:
    """The uploaded file's text (and its name), else what was typed; PolicyError if neither
    holds a policy or the file is not UTF-8 text."""
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size is not None and upload.size > POLICY_FILE_LIMIT:
            raise PolicyError(
                _("%(file)s: a policy file is at most 256 KB") % {"file": upload.name}
            )
        try:
            return upload.read().decode("utf-8"), str(upload.name)
        except UnicodeDecodeError:
            raise PolicyError(_("%(file)s: not UTF-8 text") % {"file": upload.name}) from None
    if not typed.strip():
        raise PolicyError(_("Paste a policy (TOML) or choose its file."))
    return typed, "policy"


@require_http_methods(["GET", "POST"])
@page("admin.policies")
def admin_policies(request: HttpRequest) -> HttpResponse:
    """The policies' versions (built in and the company's), which is in force, the accounts with
    a policy of their own; the forms to upload a version (checked by the CLI's loader) and to
    assign a policy to an account."""
    if request.method == "GET":
        return _policies_page(request)
    typed = request.POST.get("text", "")[:POLICY_FILE_LIMIT]
    try:
        text, source = _policy_text(request, typed)
        detail: dict[str, Any] = {
            "source": source[:100],
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }

        def store(_account: Any) -> Any:
            # `act` writes `detail` after this runs: the name and version stored go in it.
            row = policy_add(text=text, source=source)
            detail.update(name=row.name, version=row.version)
            return row

        row = act(
            user=request.user,
            verb="policy.add",
            via="web",
            ip=_ip(request),
            detail=detail,
            do=store,
        )
    except (DomainError, PolicyError) as exc:
        return _policies_page(request, errors=_errors(exc, "text"), form={"text": typed})
    messages.success(
        request,
        _("Policy %(name)s v%(version)s stored.") % {"name": row.name, "version": row.version},
    )
    return redirect(reverse("web:admin_policy", args=[row.name]) + f"?version={row.version}")


@require_GET
@page("admin.policies")
def admin_policy(request: HttpRequest, policy: str) -> HttpResponse:
    """One version of a policy (`?version=N`, else the one in force): its steps and its TOML."""
    try:
        version = int(request.GET.get("version", "") or 0) or None
    except ValueError:
        version = None
    shown = policy_get(name=policy, version=version)
    versions = [v for v in policy_versions() if v.policy.name == policy]
    return render(request, "web/admin_policy.html", {"shown": shown, "versions": versions})


@require_POST
@page("admin.policies")
def admin_policy_assign(request: HttpRequest) -> HttpResponse:
    """Make an account follow a policy of its own, or (no policy named) its property's again."""
    account_id = request.POST.get("account_id", "").strip()[:64]
    name = request.POST.get("policy", "").strip()[:64] or None
    actor = request.user.get_username()
    try:
        if not account_id:
            raise NotFoundError(_("Name the account."), code="account_missing", field="account_id")
        act(
            user=request.user,
            verb="policy.assign",
            via="web",
            account_id=account_id,
            ip=_ip(request),
            detail={"policy": name},
            do=lambda _a: policy_assign(
                account_id=account_id, policy=name, actor=actor, on=today()
            ),
        )
    except DomainError as exc:
        return _policies_page(
            request,
            errors=_errors(exc, "policy"),
            assign={"account_id": account_id, "policy": name or ""},
        )
    said = (
        _("%(account)s follows policy %(policy)s.")
        if name
        else _("%(account)s follows its property's policy again.")
    )
    messages.success(request, said % {"account": account_id, "policy": name})
    return redirect("web:admin_policies")


@require_GET
@page("admin.templates")
def admin_templates(request: HttpRequest) -> HttpResponse:
    """Every template with, per language, the version in force (0: the built-in file)."""
    rows: dict[str, dict[str, int]] = {}
    for name, language, version in template_names():
        rows.setdefault(name, {})[language] = version
    table = [
        (
            name,
            CATALOG[name].law if name in CATALOG else "",
            [(lang, rows[name].get(lang)) for lang in LANGUAGES],
        )
        for name in sorted(rows)
    ]
    return render(request, "web/admin_templates.html", {"rows": table, "languages": LANGUAGES})


def _preview(request: HttpRequest, template: str, language: str) -> dict[str, Any]:
    """The template in force rendered for the account asked for (its primary party), as the
    CLI's `template preview` renders it: {"message": …} or {"errors": {"account_id": …}}."""
    account_id = request.GET.get("account_id", "").strip()[:64]
    if not account_id:
        return {}
    try:
        authorize(request.user, "admin.templates", account_id)
        on = today()
        message = message_render(
            account_id=account_id,
            template=template,
            on=on,
            language=language,
            deadline=preview_deadline(account_id=account_id, template=template, on=on),
            letter=request.GET.get("format") == "pdf",
            reference="preview",
        )
    except DomainError as exc:
        return {"errors": _errors(exc, "account_id")}
    return {"message": message}


@require_http_methods(["GET", "POST"])
@page("admin.templates")
def admin_template(request: HttpRequest, template: str, language: str) -> HttpResponse:
    """A template in one language: its versions, one shown (`?version=N`, else the one in
    force), the form to save a company version, and a preview for an account (`?account_id=`,
    `&format=pdf` for the letter)."""
    if language not in LANGUAGES:
        raise NotFoundError(f"no language {language!r}", code="language_not_found")
    versions = template_versions(name=template, language=language)
    try:
        wanted = int(request.GET.get("version", "") or versions[0].version)
    except ValueError:
        wanted = versions[0].version
    shown = next((v for v in versions if v.version == wanted), versions[0])
    form = {"subject": shown.subject, "body": shown.body}
    context: dict[str, Any] = {
        "template": template,
        "language": language,
        "versions": versions,
        "shown": shown,
        "errors": {},
    }
    if request.method == "POST":
        form = {
            "subject": request.POST.get("subject", "")[:300],
            "body": request.POST.get("body", "")[:200_000],
        }
        saved = _template_save(request, template, language, form)
        if isinstance(saved, dict):
            context["errors"] = saved
        else:
            return saved
    else:
        context.update(_preview(request, template, language))
        message = context.get("message")
        if message is not None and request.GET.get("format") == "pdf":
            response = HttpResponse(letter_pdf(message.html), content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="{template}-{language}.pdf"'
            return response
    context["form"] = form
    context["account_id"] = request.GET.get("account_id", "")[:64]
    return _form(request, "web/admin_template.html", context)


def _template_save(
    request: HttpRequest, template: str, language: str, form: dict[str, str]
) -> HttpResponse | dict[str, str]:
    """Store the form as the template's next company version: a redirect, or the errors."""
    actor = request.user.get_username()
    detail: dict[str, Any] = {"template": template, "language": language}

    def store(_account: Any) -> Any:
        # `act` writes `detail` after this runs: the version stored goes in it.
        row = template_add(name=template, language=language, actor=actor, **form)
        detail["version"] = row.version
        return row

    try:
        row = act(
            user=request.user,
            verb="template.add",
            via="web",
            ip=_ip(request),
            detail=detail,
            do=store,
        )
    except DomainError as exc:
        return _errors(exc, "body")
    messages.success(
        request,
        _("Template %(name)s [%(language)s] v%(version)s stored.")
        % {"name": template, "language": language, "version": row.version},
    )
    return redirect("web:admin_template", template=template, language=language)


AUDIT_PAGE = 50
AUDIT_FILTERS = ("user", "verb", "via", "account_id", "since", "until")


def _not_a_date(text: str, field: str) -> ValidationError:
    return ValidationError(
        _("Not a date (YYYY-MM-DD): %(text)s") % {"text": text[:40]},
        code="date_invalid",
        field=field,
    )


def _audit_day(form: dict[str, str], field: str) -> date | None:
    text = form[field]
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise _not_a_date(text, field) from None
    if not date(1900, 1, 1) <= value <= date(2200, 12, 31):
        raise _not_a_date(text, field)
    return value


class _Echo:
    """A file that hands back what is written to it: csv.writer's rows, streamed."""

    def write(self, value: str) -> str:
        return value


def _audit_csv(rows: Any) -> StreamingHttpResponse:
    """Every entry the filters keep, as CSV; a name typed at a sign-in (or any text) that starts
    like a formula gets an apostrophe (`core.cells`)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(AUDIT_COLUMNS)
        for entry in rows.iterator():
            yield writer.writerow(safe_row(audit_cells(entry)))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{today().isoformat()}.csv"'
    return response


@never_cache
@require_GET
@page("admin.audit")
def admin_audit(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The audit log, newest first: every change (pages, API, command line, system jobs) and
    every sign-in, failed sign-in and sign-out; filtered by user, verb (or its start: `signin`),
    via, account and days; 50 a page; `?export=csv` gives all the filters keep."""
    form = {f: request.GET.get(f, "").strip()[:150] for f in AUDIT_FILTERS}
    errors: dict[str, str] = {}
    try:
        rows = audit_list(
            request.user,
            username=form["user"],
            verb=form["verb"],
            via=form["via"],
            account_id=form["account_id"],
            since=_audit_day(form, "since"),
            until=_audit_day(form, "until"),
        )
    except ValidationError as exc:
        errors = _errors(exc)
        rows = None
    if rows is not None and request.GET.get("export") == "csv":
        return _audit_csv(rows)
    entries = None
    if rows is not None:
        entries = Paginator(rows, AUDIT_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    context = {
        "form": form,
        "errors": errors,
        "entries": entries,
        "vias": AUDIT_VIAS,
        "query": query.urlencode(),
    }
    return _form(request, "web/admin_audit.html", context)
