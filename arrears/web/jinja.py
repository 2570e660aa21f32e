"""The Jinja2 environment of the workspace's busiest pages (the account page and its parts).

Django's template language renders a node at a time through several layers of calls; Jinja2
compiles a template to Python. On the account page (a 50-line ledger, the timeline, the forms) that
is the difference between about 5 ms and under 1 ms a page, and the page must answer in 150 ms under
20 clients on two cores. The layout (`web/base.html`) and the rarer pages stay in Django's language.

What the templates have: `_()` and `ngettext()` (Django's translations, so `makemessages` finds
`{{ _("…") }}` like a Django template's), `url(name, *args)`, `static(path)`, the filters `amount`,
`day` and `moment` (`web.templatetags.amounts`), Django's `request`, and `csrf_field`
(the account page's context: one CSRF field for all its forms).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext, ngettext
from jinja2 import Environment

from arrears.web.templatetags.amounts import amount, day, moment


def url(name: str, *args: Any) -> str:
    return _url(get_script_prefix(), name, args)


@lru_cache(maxsize=4096)
def _url(prefix: str, name: str, args: tuple[Any, ...]) -> str:
    """Reversing costs tens of microseconds, and the account page names each of its forms' URLs
    twice (`action` and `hx-post`): the same name and arguments give the same URL."""
    return reverse(name, args=args)


def environment(**options: Any) -> Environment:
    options.pop("autoescape", None)  # always on: every value a page shows is escaped
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals.update({"url": url, "static": static})
    env.filters.update({"amount": amount, "day": day, "moment": moment})
    return env
