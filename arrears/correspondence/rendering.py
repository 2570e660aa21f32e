"""Rendering templates: the subject, the HTML and text bodies of a letter or an email.

A template is a company's latest stored version of its name and language (`Template`), else the
built-in file (version 0); a language with neither falls back to English. What is rendered
records the version it used, so what was sent can be shown again exactly.

For the mail sender: `message_render(...)` (any account, any template) and
`outbound_message(outbound)` (a queued email) return a `RenderedMessage` with `subject`, `text`
and `html`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist, engines
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError, NotFoundError
from arrears.correspondence.catalog import CATALOG, DEFAULT_LANGUAGE, language_for, spec_for
from arrears.correspondence.models import Template


class MissingFieldError(DomainError):
    """A letter would render with a merge field its template requires left empty; `extra` names
    the template and the field."""

    code = "merge_field_missing"


@dataclass(frozen=True)
class LoadedTemplate:
    name: str
    language: str
    version: int  # 0: the built-in file
    subject: Any  # compiled Django templates
    body: Any
    requires: tuple[str, ...] = ()  # merge fields that may not be empty (catalog.REQUIRES)


@dataclass(frozen=True)
class RenderedMessage:
    """A rendered letter or email: `html` is the whole document (letter page or email)."""

    subject: str
    text: str
    html: str
    body_html: str
    language: str
    template: str
    template_version: int
    context: dict[str, Any]


def _engine() -> Any:
    return engines["django"]


def template_load(
    name: str, language: str, cache: dict[Any, LoadedTemplate] | None = None
) -> LoadedTemplate:
    """The template to render `name` in `language` (see the module docstring); NotFoundError if
    the name is neither built in nor stored."""
    key = (name, language)
    if cache is not None and key in cache:
        return cache[key]
    loaded = _load(name, language)
    if cache is not None:
        cache[key] = loaded
    return loaded


def _load(name: str, language: str) -> LoadedTemplate:
    engine = _engine()
    for lang in dict.fromkeys((language, DEFAULT_LANGUAGE)):
        stored = Template.objects.filter(name=name, language=lang).order_by("-version").first()
        if stored is not None:
            # A stored version declares its own required fields, or keeps its name's.
            requires = (
                spec_for(name).requires if stored.requires is None else tuple(stored.requires)
            )
            return LoadedTemplate(
                name,
                lang,
                stored.version,
                engine.from_string(stored.subject),
                engine.from_string(stored.body),
                requires,
            )
        if name in CATALOG:
            try:
                body = engine.get_template(f"correspondence/{lang}/{name}.html")
            except TemplateDoesNotExist:
                continue
            subject = engine.from_string(CATALOG[name].subject.get(lang, name))
            return LoadedTemplate(name, lang, 0, subject, body, CATALOG[name].requires)
    raise NotFoundError(
        _("no template {template!r} (built in or stored)"),
        code="template_not_found",
        template=name,
    )


def company() -> dict[str, Any]:
    return dict(settings.ARREARS_COMPANY)


def _empty(value: Any) -> bool:
    # An amount of zero is empty too: a letter demanding or naming 0.00 says nothing true.
    if isinstance(value, Decimal):
        return value == 0
    return value is None or value == "" or value == [] or value == {}


def missing_fields(requires: Sequence[str], context: dict[str, Any]) -> list[str]:
    """The fields of `requires` (dotted paths into the merge fields) that are empty in
    `context`, in the order required."""
    missing = []
    for path in requires:
        value: Any = context
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
            if value is None:
                break
        if _empty(value):
            missing.append(path)
    return missing


def render_with(
    loaded: LoadedTemplate, context: dict[str, Any], *, letter: bool
) -> RenderedMessage:
    """Render a loaded template with merge fields: the letter page (letter=True) or the email.

    Raises MissingFieldError when a field the template requires is empty (catalog.REQUIRES):
    nothing renders "on or before , you are required…".
    """
    missing = missing_fields(loaded.requires, context)
    if missing:
        reference = context.get("reference") or ""
        wording = (
            _(
                "letter {reference}: template {template} requires {names}, empty for account "
                "{account_id}"
            )
            if reference
            else _("template {template} requires {names}, empty for account {account_id}")
        )
        raise MissingFieldError(
            wording,
            names=", ".join(missing),
            account_id=(context.get("account") or {}).get("account_id", ""),
            template=loaded.name,
            field=missing[0],
            fields=missing,
            reference=reference,
        )
    context = {**context, "language": loaded.language}
    subject = " ".join(loaded.subject.render(context).split())
    body_html = loaded.body.render(context)
    page = "correspondence/letter.html" if letter else "correspondence/email.html"
    html = (
        _engine()
        .get_template(page)
        .render(
            {**context, "subject": subject, "body": mark_safe(body_html)}  # noqa: S308 - our own render
        )
    )
    return RenderedMessage(
        subject,
        html_to_text(body_html),
        html,
        body_html,
        loaded.language,
        loaded.name,
        loaded.version,
        context,
    )


def message_render(
    *,
    account_id: str,
    template: str,
    on: date,
    party_id: str | None = None,
    language: str | None = None,
    amount: Decimal | None = None,
    deadline: date | None = None,
    delinquency: date | None = None,
    letter: bool = False,
    reference: str = "",
) -> RenderedMessage:
    """Render `template` for one party of an account as of `on`, for an email (or a letter page).

    The party is `party_id`, else the account's primary party; the language is `language`, else
    the party's preferred one (English when no template exists in it). Merge fields as in
    docs/templates.md; `amount` defaults to the total due (rent only for a rent demand).
    Returns a RenderedMessage: `subject`, `text` (plain-text body), `html` (the whole email, or
    the letter page with letter=True), `template_version` (0: built in). Raises NotFoundError for
    an unknown account, party or template.
    """
    from arrears.correspondence.selectors import context_for

    context = context_for(
        account_id=account_id,
        party_id=party_id,
        template=template,
        on=on,
        language=language,
        amount=amount,
        deadline=deadline,
        delinquency=delinquency,
        reference=reference,
    )
    loaded = template_load(template, context["language"])
    return render_with(loaded, context, letter=letter)


def outbound_message(outbound: Any, *, letter: bool = False) -> RenderedMessage:
    """Render a queued `Outbound` (a letter or an email) as its action asked for it."""
    from arrears.correspondence.selectors import outbound_contexts

    (context,) = outbound_contexts([outbound])
    return render_with(
        template_load(outbound.template, context["language"]), context, letter=letter
    )


def preview_deadline(template: str, on: date) -> date | None:
    """For a preview only: the template's nominal deadline counted in calendar days."""
    from datetime import timedelta

    days = spec_for(template).deadline_days
    return on + timedelta(days=days) if days else None


__all__ = ["RenderedMessage", "language_for", "message_render", "outbound_message"]


_BLOCKS = {"p", "div", "br", "tr", "h1", "h2", "h3", "li", "table"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "div", "table", "h1"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """The plain-text form of an HTML body: paragraphs apart, table rows one per line."""
    parser = _Text()
    parser.feed(html)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
