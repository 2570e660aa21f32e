"""The demo's report subscriptions (`demo.subscriptions`): made once, for the coordinator and
the controller the Makefile adds and a manager of The Marlowe and Fulton Commons made here."""

from __future__ import annotations

import pytest

from arrears.access.services import SystemActor, user_add
from arrears.demo.subscriptions import demo_subscriptions
from arrears.ledger.models import Property
from arrears.reports.models import Subscription

pytestmark = pytest.mark.django_db


def test_the_demo_subscribes_its_controller_coordinator_and_a_manager_once(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # given the demo's buildings and its coordinator and controller (as `make demo` adds them)
    for code, name in (("MAR", "The Marlowe"), ("FUL", "Fulton Commons")):
        Property.objects.create(property_id=code, name=name, state="NY", country="US")
    for username, role in (("demo", "coordinator"), ("dana", "controller")):
        user_add(
            username=username,
            password="arrears-demo-2026",
            role=role,
            actor=SystemActor("pytest"),
            via="system",
        )
    # when the demo's subscriptions are made, twice
    lines = demo_subscriptions(coordinator="demo", controller="dana", login="pytest")
    again = demo_subscriptions(coordinator="demo", controller="dana", login="pytest")
    # then the manager was added, each has one subscription as PDF, and the second did nothing
    assert lines[0] == "user sam.reed added (manager of MAR, FUL)"
    made = {s.recipients[0]: (s.every, s.format) for s in Subscription.objects.all()}
    assert made == {
        "dana": ("monthly:1", "pdf"),
        "demo": ("daily", "pdf"),
        "sam.reed": ("weekly:mon", "pdf"),
    }
    assert Subscription.objects.get(every="monthly:1").report == "over-60"
    assert again == []
