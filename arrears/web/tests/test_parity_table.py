"""The table of acts and the interfaces that offer them (`parity.OFFERED`, the table of
docs/architecture.md) is the truth about the code: every page that takes a POST, every API route
that writes and every command is in it (or said to be no act), everything in it exists, and
every act offered by more than one interface has a parity case over exactly those interfaces.
A route or command added for an act without its parity case fails here.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from arrears.cli import build_parser
from arrears.web import urls as web_urls
from arrears.web.tests.parity import INTERFACES, NOT_YET_MOVED, OFFERED
from arrears.web.tests.test_parity import ACTS
from arrears.web.tests.test_parity_bank import CASES as BANK_CASES
from arrears.web.tests.test_parity_book import CASES
from arrears.web.tests.test_parity_goals import CASES as GOAL_CASES
from arrears.web.tests.test_parity_remittance import CASES as REMITTANCE_CASES

pytestmark = pytest.mark.django_db

# What takes a POST, or is a command, and is no act on the book: a sign-in, a read asked by
# POST (a plan proposed, a notice previewed: nothing is written), a page that reads whatever
# the method, a read, or the operator's work on the database and the server.
NOT_ACTS = {
    "web": {
        *("web:signin", "web:signout", "web:account_plan_propose", "web:account_notice_preview"),
        *("web:portfolio", "web:portfolio_chart", "web:today", "web:search", "web:ledger"),
        *("web:search_suggest", "web:account_deposit_statement_preview"),
    },
    "api": {"POST /api/accounts/{account_id}/plan-proposals"},
    "cli": {
        *("init", "serve", "demo", "worker", "scheduler"),
        *("export", "aging", "ledger", "timeline", "worklist", "analysis"),
        *("policy list", "policy show", "user tokens", "audit list", "promise rate"),
        *("plan propose", "plan show", "plan agreement", "letters list"),
        *("template preview", "template list", "mail triage", "call check", "period list"),
        *("assignments", "coverage list", "deposit show"),
        *("firm list", "case show", "case list", "legal agenda", "case calendar"),
        *("settlement show", "settlement list"),
        *("report metrics", "report over-60"),  # reads of arrears.reports, not acts
        "subscription list",
        "bank review list",  # a read of the review queue
        "goal list",
        # the operator's: the daily aging snapshots, derived from the book (also built by `run`)
        "report snapshots build",
    },
}


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> Iterator[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(words)
        return
    for name, sub in subs[0].choices.items():
        yield from _commands(sub, (*words, name))


def _takes_post(pattern: URLPattern) -> bool:
    """Whether the page answers a POST with anything but 405 (asked by no one signed in, with
    made-up ids: the method is checked first)."""
    kwargs = {
        name: 1 if converter.__class__.__name__ == "IntConverter" else "A-TINA"
        for name, converter in pattern.pattern.converters.items()
    }
    url = reverse(f"web:{pattern.name}", kwargs=kwargs)
    return bool(Client().post(url).status_code != 405)


def _offered() -> dict[str, set[str]]:
    """What each interface offers now: pages that take a POST (by URL name), API routes that
    are not GET (method and path, as the API's OpenAPI schema says), commands (their
    words)."""
    routes = Client().get("/api/openapi.json").json()["paths"]
    return {
        "web": {
            f"web:{p.name}"
            for p in web_urls.urlpatterns
            if isinstance(p, URLPattern) and _takes_post(p)
        },
        "api": {
            f"{method.upper()} {path}"
            for path, methods in routes.items()
            for method in methods
            if method != "get"
        },
        "cli": set(_commands(build_parser())),
    }


def test_every_page_route_and_command_that_acts_is_in_the_table_and_nothing_else() -> None:
    # given what the pages, the API and the command line offer now
    offered = _offered()
    # then each of them is an act of the table, or no act at all
    for interface in INTERFACES:
        tabled = {r for routes in OFFERED.values() for r in routes.get(interface, ())}
        unknown = offered[interface] - tabled - NOT_ACTS[interface]
        assert not unknown, f"{interface}: not in parity.OFFERED (an act?): {sorted(unknown)}"
        # and every act the table names is offered
        missing = tabled - offered[interface]
        assert not missing, f"{interface}: in the table, but offered no longer: {sorted(missing)}"


def _cases() -> dict[str, set[str]]:
    """The parity cases: each act and the interfaces its case runs it through."""
    cases = {a.name: {i for i in INTERFACES if getattr(a, i) is not None} for a in ACTS}
    cases |= {name: set(interfaces) for name, interfaces in GOAL_CASES.items()}
    cases |= {name: set(interfaces) for name, interfaces in REMITTANCE_CASES.items()}
    cases |= {name: set(interfaces) for name, interfaces in BANK_CASES.items()}
    return cases | {name: set(interfaces) for name, interfaces in CASES.items()}


def test_every_act_of_more_than_one_interface_has_a_parity_case_over_each_of_them() -> None:
    # given the acts of the table and the parity cases
    cases = _cases()
    for act, routes in OFFERED.items():
        interfaces = set(routes)
        if act in NOT_YET_MOVED:
            # then an act whose interfaces each still call `act` themselves has no case yet
            assert act not in cases, f"{act} has a parity case: take it off NOT_YET_MOVED"
        elif len(interfaces) > 1:
            # then an act of several interfaces is compared across all of them
            assert cases.get(act) == interfaces, f"{act}: offered by {sorted(interfaces)}"
        else:
            # and an act of one interface has nothing to be compared with
            assert act not in cases, f"{act} is offered by {sorted(interfaces)} only"
    assert set(cases) <= set(OFFERED), "a parity case of an act not in the table"
