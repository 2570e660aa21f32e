"""The assignments page, the account's coordinator and the Today page's worklist scopes: Erin
(the admin) gives Elm Court to Alice; Alice's Today is her own accounts, with everyone's, the
unassigned ones and another coordinator's a choice away."""

from __future__ import annotations

from typing import Any

import pytest

from arrears.access.models import Assignment, Coverage
from arrears.access.tests.people import signed_in
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db


def lines(page: Any) -> set[str]:
    """The account ids of the Today page's worklist lines."""
    html = page.content.decode()
    if 'id="worklist"' not in html:
        return set()
    table = html.split('id="worklist"', 1)[1].split("</table>", 1)[0]
    return {part.split('"', 1)[0].strip("/").split("/")[-1] for part in table.split('href="')[1:]}


def test_an_admin_assigns_a_property_and_removes_it_on_the_assignments_page(desk):
    erin = signed_in(desk["erin"])
    # when Erin gives Elm Court to Alice
    response = erin.post(
        "/assignments/", {"user": "alice", "kind": "property", "code": "ELM"}, follow=True
    )
    # then the page says so and lists it
    html = response.content.decode()
    assert response.status_code == 200
    assert "Property ELM assigned to alice." in html
    assert 'id="assignments"' in html
    assert Assignment.objects.get(ended_on=None).user.username == "alice"
    # and Tina's account page names her coordinator
    page = erin.get("/accounts/A-TINA/").content.decode()
    assert '<span id="coordinator">Coordinator: <strong>alice</strong></span>' in page
    olive = erin.get("/accounts/A-OLIVE/").content.decode()
    assert '<span id="coordinator">Coordinator: no one</span>' in olive
    # when she removes it, it is no one's
    response = erin.post("/assignments/remove/", {"kind": "property", "code": "ELM"}, follow=True)
    assert "Property ELM is no longer alice&#x27;s." in response.content.decode()
    assert not Assignment.objects.filter(ended_on=None).exists()
    assert TimelineEvent.objects.filter(kind="assignment.changed").count() == 2


def test_a_coordinator_is_refused_giving_accounts_to_another_and_the_page_says_why(desk):
    alice = signed_in(desk["alice"])
    response = alice.post("/assignments/", {"user": "bea", "kind": "property", "code": "ELM"})
    assert response.status_code == 403
    assert "may change only their own accounts" in response.content.decode()
    unknown = alice.post("/assignments/", {"user": "alice", "kind": "property", "code": "NOPE"})
    assert unknown.status_code == 422
    assert "no property &#x27;NOPE&#x27;" in unknown.content.decode()
    assert not Assignment.objects.exists()
    # and an attorney sees none of it
    assert signed_in(desk["carol"]).get("/assignments/").status_code == 403


def test_a_coverage_added_and_ended_on_the_page(desk):
    erin = signed_in(desk["erin"])
    erin.post("/assignments/", {"user": "alice", "kind": "portfolio", "code": "NYC"})
    form = {"out": "alice", "backup": "bea", "from": "2026-03-05", "to": "2026-03-09", "note": ""}
    response = erin.post("/assignments/coverage/", form, follow=True)
    assert "bea covers for alice from 2026-03-05 to 2026-03-09." in response.content.decode()
    coverage = Coverage.objects.get()
    page = erin.get("/accounts/A-TINA/").content.decode()
    assert "alice</strong> (out; bea covers until 2026-03-09)" in page
    reversed_ = erin.post("/assignments/coverage/", {**form, "to": "2026-03-04"})
    assert reversed_.status_code == 422
    response = erin.post(f"/assignments/coverage/{coverage.pk}/end/", follow=True)
    assert "alice is back: bea no longer covers from 2026-03-05." in response.content.decode()


def test_today_is_the_coordinators_own_list_by_default_with_the_others_a_choice_away(desk):
    signed_in(desk["erin"]).post(
        "/assignments/", {"user": "alice", "kind": "property", "code": "ELM"}
    )
    alice = signed_in(desk["alice"])
    # then Alice's Today is her own accounts
    mine = alice.get("/today/")
    assert '<option value="mine" selected>' in mine.content.decode()
    assert lines(mine) == {"A-TINA"}
    # and everyone's, the unassigned, and Bea's (none) are a choice away
    assert lines(alice.get("/today/", {"scope": "everyone"})) == {"A-TINA", "A-OLIVE"}
    assert lines(alice.get("/today/", {"scope": "unassigned"})) == {"A-OLIVE"}
    assert lines(alice.get("/today/", {"scope": "user:bea"})) == set()
    # and Erin, an admin, sees everyone's by default and may pick Alice's
    erin = signed_in(desk["erin"])
    assert lines(erin.get("/today/")) == {"A-TINA", "A-OLIVE"}
    assert lines(erin.get("/today/", {"scope": "user:alice"})) == {"A-TINA"}


def test_the_scope_and_the_coordinator_are_said_in_spanish(desk):
    signed_in(desk["erin"]).post(
        "/assignments/", {"user": "alice", "kind": "property", "code": "ELM"}
    )
    alice = signed_in(desk["alice"])
    today = alice.get("/today/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Lista de trabajo de" in today
    assert '<option value="mine" selected>Mis cuentas</option>' in today
    account = alice.get("/accounts/A-TINA/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<span id="coordinator">Coordinador: <strong>alice</strong></span>' in account
    page = alice.get("/assignments/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Fuera de la oficina" in page
