"""The Jinja2 environment of the workspace's busiest pages (the account page and its parts).

Django's template language renders a node at a time through several layers of calls; Jinja2
compiles a template to Python, several times faster on the account page (the README's
benchmarks). The rarer pages stay in Django's language, and the layout every page shares is one
Jinja2 template (`web/layout.html`, rendered by `layout` below): a Jinja page renders in it
directly, a Django page through the `{% layout %}` tag of `web/base.html`.

What the templates have: `_()` and `ngettext()` (Django's translations, so `makemessages` finds
`{{ _("…") }}` like a Django template's), `url(name, *args)`, `static(path)`, the filters `amount`,
`day` and `moment` (`web.templatetags.amounts`), Django's `request`, and `csrf_field`
(the account page's context: one CSRF field for all its forms).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import engines
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language, gettext, ngettext
from django_htmx.jinja import htmx_script
from jinja2 import Environment
from markupsafe import Markup

from arrears.access.permissions import allowed
from arrears.access.selectors import role_of
from arrears.web.labels import label
from arrears.web.templatetags.amounts import amount, day, moment


def url(name: str, *args: Any) -> str:
    return _url(get_script_prefix(), name, args)


@lru_cache(maxsize=4096)
def _url(prefix: str, name: str, args: tuple[Any, ...]) -> str:
    """Reversing costs tens of microseconds, and the account page names each of its forms' URLs
    twice (`action` and `hx-post`): the same name and arguments give the same URL."""
    return reverse(name, args=args)


_translated: dict[str, Callable[[str], str]] = {}


def translator(language: str) -> Callable[[str], str]:
    """Django's gettext for `language`, kept per message: a page asks for some 80 strings, and
    each of Django's lookups goes through the active language's thread-local and its catalogs.
    The catalogs are read once per process, as Django's own are."""
    found = _translated.get(language)
    if found is None:
        texts: dict[str, str] = {}

        def found(message: str) -> str:
            text = texts.get(message)
            if text is None:
                text = texts[message] = gettext(message)  # the active language is `language`
            return text

        _translated[language] = found
    return found


def translated(message: str) -> str:
    return translator(get_language())(message)


def page_helpers() -> dict[str, Any]:
    """`_` and `url` bound to the request's language and script prefix, for a whole page's
    render: each lookup of either in a thread-local costs a few microseconds, and a page makes
    some 150."""
    prefix = get_script_prefix()
    return {"_": translator(get_language()), "url": lambda name, *args: _url(prefix, name, args)}


def environment(**options: Any) -> Environment:
    options.pop("autoescape", None)  # always on: every value a page shows is escaped
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(translated, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals["_"] = translated  # called directly, not through the extension's alias
    env.globals.update({"url": url, "static": static, "htmx_script": htmx_script})
    env.filters.update({"amount": amount, "day": day, "moment": moment, "label": label})
    return env


def csrf_token(request: HttpRequest) -> str:
    """One CSRF token for all of a page's forms: each call of Django's get_token masks the secret
    anew (the layout has two forms and the account page seven)."""
    token: str | None = getattr(request, "_page_csrf_token", None)
    if token is None:
        token = request._page_csrf_token = get_token(request)  # type: ignore[attr-defined]
    return token


def csrf_field(request: HttpRequest, token: str | None = None) -> Markup:
    return Markup('<input type="hidden" name="csrfmiddlewaretoken" value="{}">').format(
        csrf_token(request) if token is None else token
    )


def layout(request: HttpRequest, *, title: str, content: str, token: str | None = None) -> str:
    """The page: `title` and `content` (both already escaped) in the layout every page shares;
    its forms carry `token` (a Django page's own, which may be the placeholder of a kept page:
    web.pagecache), or the request's."""
    token = csrf_token(request) if token is None else token
    template = engines["jinja2"].env.get_template("web/layout.html")  # type: ignore[attr-defined]
    helpers = page_helpers()
    role = role_of(getattr(request, "user", None))
    return template.render(
        **helpers,
        request=request,
        title=Markup(title),  # noqa: S704 - escaped by the template that made it
        content=Markup(content),  # noqa: S704 - the same
        csrf_token=token,
        csrf_input=csrf_field(request, token),
        role=role,
        may_refunds=allowed(role, "refund.list"),  # the header's Refunds link
        may_cases=allowed(role, "case.view"),  # the header's Cases link
        may_reports=allowed(role, "report.view"),  # the header's Reports link
        may_bank=allowed(role, "bank.review"),  # the header's Bank link (the review queue)
        language=get_language(),
        languages=[(code, helpers["_"](name)) for code, name in settings.LANGUAGES],
    )
