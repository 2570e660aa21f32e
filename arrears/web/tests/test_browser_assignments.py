"""Accounts belong to coordinators, in a real browser (Chromium, as test_browser.py): on March 5,
2026, Alice has Elm Court and Bea Oak Terrace; Alice's Today is her own list, with everyone's a
choice away; Bob, Elm Court's manager, gives Elm Court to Bea on the assignments page, and Tina's
line moves from Alice's list to Bea's (issue 15, item 2). Screenshots land in
test-artifacts/screens/."""

from __future__ import annotations

from typing import Any

import pytest

from arrears.access.assignments import Target, assignment_set
from arrears.access.models import AuditEntry
from arrears.access.tests.desk import DAY
from arrears.ledger.models import TimelineEvent
from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def worklist_ids(tab: Any) -> list[str]:
    if not tab.locator("#worklist").count():
        return []
    return tab.locator("#worklist tbody tr td:first-child a").all_inner_texts()


def test_a_coordinator_sees_her_own_list_and_a_manager_moves_a_property_to_another(
    live_server,
    browser,  # noqa: F811
    page,  # noqa: F811
    desk,
):
    base = live_server.url
    assignment_set(username="alice", target=Target("property", "ELM"), on=DAY, actor="erin")
    assignment_set(username="bea", target=Target("property", "OAK"), on=DAY, actor="erin")
    # given Alice on her Today: her own accounts, by default
    sign_in(page, base, "alice")
    scope = page.locator("#worklist-scope select[name=scope]")
    assert scope.input_value() == "mine"
    assert worklist_ids(page) == ["A-TINA"]
    shot(page, "today-mine")
    # when she asks for everyone's, Olive's line (Bea's) shows too
    scope.select_option("everyone")
    page.locator("#worklist-scope button[type=submit]").click()
    page.wait_for_url(f"{base}/today/?scope=everyone")
    assert sorted(worklist_ids(page)) == ["A-OLIVE", "A-TINA"]
    # and Tina's account names her coordinator
    page.goto(f"{base}/accounts/A-TINA/")
    assert page.locator("#coordinator").inner_text() == "Coordinator: alice"
    shot(page, "account-coordinator")
    # when Bob, Elm Court's manager, gives Elm Court to Bea on the assignments page
    bobs = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    bob = bobs.new_page()
    bob.set_default_timeout(10_000)
    sign_in(bob, base, "bob", then="/assignments/")
    form = bob.locator("#assign-form")
    form.locator("select[name=user]").select_option("bea")
    form.locator("select[name=kind]").select_option("property")
    form.locator("input[name=code]").fill("ELM")
    form.locator("button[type=submit]").click()
    bob.locator("p.ok").get_by_text("Property ELM assigned to bea.").wait_for()
    assert "bea" in bob.locator("#assignments").inner_text()
    shot(bob, "assignments")
    bobs.close()
    # then Tina's line has left Alice's list
    page.goto(f"{base}/today/?scope=mine")
    assert worklist_ids(page) == []
    assert "Nothing on the worklist" in page.content()
    # (with no account of her own left, her Today shows everyone's, so that nothing is hidden)
    page.goto(f"{base}/today/")
    assert page.locator("#worklist-scope select[name=scope]").input_value() == "everyone"
    # and is on Bea's, with Olive's
    beas = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    bea = beas.new_page()
    bea.set_default_timeout(10_000)
    sign_in(bea, base, "bea")
    assert sorted(worklist_ids(bea)) == ["A-OLIVE", "A-TINA"]
    shot(bea, "today-mine-after-reassignment")
    beas.close()
    # and on Tina's timeline and the audit log, by Bob through the page
    event = TimelineEvent.objects.filter(kind="assignment.changed").order_by("id").last()
    assert event is not None
    assert (event.actor, event.summary) == ("bob", "coordinator: bea (property ELM); was alice")
    audit = AuditEntry.objects.get(verb="assignment.add")
    assert (audit.username, audit.via) == ("bob", "web")
