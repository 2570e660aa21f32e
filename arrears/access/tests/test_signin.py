"""Sign-ins are audited and kept, accepted or refused; throttling locks out guessing per name and
address and spraying per address; the client's address is REMOTE_ADDR unless a trusted proxy
says otherwise.

Alice (coordinator) signs in at Elm Court's office; an attacker at 203.0.113.66 tries one
password against many names.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from arrears.access.addresses import client_ip
from arrears.access.models import AuditEntry, LoginFailure
from arrears.access.services import token_revoke, user_active_set
from arrears.access.tests.people import OPERATOR, PASSWORD

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chromium/120"


def sign_in(client: Client, username: str, password: str, **extra: Any) -> int:
    response = client.post("/signin/", {"username": username, "password": password}, **extra)
    return response.status_code


def sign_ins() -> list[tuple[str, str, str, str]]:
    rows = AuditEntry.objects.filter(verb__in=["signin.ok", "signin.failed", "signout"])
    return [(e.verb, e.username, e.ip, e.detail.get("reason", "")) for e in rows.order_by("id")]


def test_every_sign_in_and_sign_out_is_audited_and_the_failures_are_kept(people):
    # given alice at the office, in her browser
    office = Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT=BROWSER)
    # when she mistypes her password, then signs in, then signs out
    assert sign_in(office, "alice", "wrong-guess") == 401
    assert LoginFailure.objects.count() == 1
    assert sign_in(office, "alice", PASSWORD) == 302
    assert office.post("/signout/").status_code == 302
    # then the failure, the sign-in and the sign-out are on the audit, with address and browser
    assert sign_ins() == [
        ("signin.failed", "alice", "192.0.2.10", "wrong name or password"),
        ("signin.ok", "alice", "192.0.2.10", ""),
        ("signout", "alice", "192.0.2.10", ""),
    ]
    assert {e.detail["user_agent"] for e in AuditEntry.objects.filter(verb__startswith="sign")} == {
        BROWSER
    }
    ok = AuditEntry.objects.get(verb="signin.ok")
    assert (ok.user, ok.via) == (people["alice"], "web")
    # and the failure counted for the lock is forgotten, its audit row kept
    assert not LoginFailure.objects.exists()
    assert AuditEntry.objects.filter(verb="signin.failed").count() == 1


def test_a_failed_sign_in_keeps_the_name_as_typed_and_the_browser_trimmed(people):
    # when someone types a name that is no user's, from a browser with a very long agent
    client = Client(REMOTE_ADDR="192.0.2.11", HTTP_USER_AGENT="x" * 5000)
    assert sign_in(client, "  Alice.Admin ", "guess") == 401
    # then the name is kept as typed (stripped), and the browser to 200 characters
    failed = AuditEntry.objects.get(verb="signin.failed")
    assert (failed.username, failed.user, len(failed.detail["user_agent"])) == (
        "Alice.Admin",
        None,
        200,
    )


def test_a_locked_out_try_is_audited_as_locked_and_not_counted(people, settings):
    settings.ARREARS_LOGIN_MAX_FAILURES = 2
    client = Client(REMOTE_ADDR="192.0.2.12")
    # given two failures of alice's name from one address
    sign_in(client, "alice", "guess-1")
    sign_in(client, "alice", "guess-2")
    # when she tries with the right password
    assert sign_in(client, "alice", PASSWORD) == 401
    # then the try is audited as refused by the lock, and adds no failure
    assert sign_ins()[-1] == ("signin.failed", "alice", "192.0.2.12", "locked (name)")
    assert LoginFailure.objects.count() == 2


def test_spraying_one_password_over_eleven_names_from_one_address_locks_the_address(people):
    # given the defaults: 5 failures a name, 10 an address, within 15 minutes
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    names = ["alice", "bob", "carol", "dave", "erin", "mallory", "frank", "grace", "heidi", "ivan"]
    # when the attacker tries one password against ten names, each once
    for name in names:
        assert sign_in(attacker, name, "Spring2026!") == 401
    # then the eleventh name is refused before its password is tried, even the right one
    response = attacker.post("/signin/", {"username": "judy", "password": "Spring2026!"})
    assert "Too many failed sign-ins" in response.content.decode()
    assert sign_in(attacker, "alice", PASSWORD) == 401
    assert sign_ins()[-1] == ("signin.failed", "alice", "203.0.113.66", "locked (address)")
    # and alice, from her own address, is not locked out
    assert sign_in(Client(REMOTE_ADDR="192.0.2.10"), "alice", PASSWORD) == 302


def test_the_address_limit_is_configured(people, settings):
    settings.ARREARS_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    attacker = Client(REMOTE_ADDR="203.0.113.67")
    for name in ("alice", "bob", "carol"):
        sign_in(attacker, name, "guess")
    assert sign_in(attacker, "erin", PASSWORD) == 401
    assert sign_ins()[-1][3] == "locked (address)"


def test_a_spoofed_forwarded_for_is_ignored_when_no_proxy_header_is_configured(people, settings):
    settings.ARREARS_LOGIN_MAX_FAILURES = 3
    # when an attacker sends a new X-Forwarded-For with each guess of alice's password
    for n in range(3):
        client = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert sign_in(client, "alice", f"guess-{n}") == 401
    # then every try is counted, and audited, under the connection's address
    spoofed = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert sign_in(spoofed, "alice", PASSWORD) == 401
    assert {row[2] for row in sign_ins()} == {"203.0.113.66"}
    assert sign_ins()[-1][3] == "locked (name)"


def test_a_configured_proxy_header_is_believed_only_from_a_trusted_proxy(people, settings):
    # given Arrears behind its load balancer at 10.0.0.5, which appends X-Forwarded-For
    settings.ARREARS_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.ARREARS_TRUSTED_PROXIES = ["10.0.0.5", "10.1.0.0/16"]
    # when alice signs in through it, her browser having sent a forged entry first
    through = Client(
        REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.10, 10.1.4.4"
    )
    assert sign_in(through, "alice", PASSWORD) == 302
    # and someone reaches Arrears directly, sending the same header
    direct = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert sign_in(direct, "alice", "guess") == 401
    # then the first is alice's address (the right-most not a trusted proxy); the second the
    # connection's, its header ignored
    assert [row[2] for row in sign_ins()] == ["192.0.2.10", "203.0.113.66"]


def test_the_client_address_read_from_a_proxy_header(settings):
    settings.ARREARS_TRUSTED_PROXY_HEADER = "X-Real-IP"
    settings.ARREARS_TRUSTED_PROXIES = ["10.0.0.5", "2001:db8::/32"]
    factory = RequestFactory()

    def ip(remote: str, header: str | None) -> str:
        extra = {"REMOTE_ADDR": remote}
        if header is not None:
            extra["HTTP_X_REAL_IP"] = header
        return client_ip(factory.get("/", **extra))

    assert ip("10.0.0.5", "192.0.2.10") == "192.0.2.10"
    assert ip("2001:db8::1", "2001:db8::2, 192.0.2.10, 2001:db8::7") == "192.0.2.10"
    assert ip("192.0.2.99", "192.0.2.10") == "192.0.2.99"  # not a trusted proxy
    assert ip("10.0.0.5", None) == "10.0.0.5"  # no header: the proxy stands for the client
    assert ip("10.0.0.5", "not-an-address") == "10.0.0.5"
    assert ip("10.0.0.5", "192.0.2.10:4431") == "10.0.0.5"
    settings.ARREARS_TRUSTED_PROXY_HEADER = ""
    assert ip("10.0.0.5", "192.0.2.10") == "10.0.0.5"


def test_a_revoked_or_deactivated_token_is_refused_with_an_audit_row(people, tokens):
    # given dave's token revoked, and bob deactivated
    token_revoke(username="dave", actor=OPERATOR, via="system")
    user_active_set(username="bob", active=False, actor=OPERATOR, via="system")
    # when each is used, and a token that was never issued
    for token in (tokens["dave"], tokens["bob"], "arr_never-issued"):
        response = Client(REMOTE_ADDR="198.51.100.7").get(
            "/api/accounts", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 401
    # then the two that once opened the API are on the audit, naming their users
    failed = AuditEntry.objects.filter(verb="signin.failed", via="api").order_by("id")
    assert [(e.username, e.ip, e.detail) for e in failed] == [
        ("dave", "198.51.100.7", {"reason": "token revoked", "token": tokens["dave"][:8]}),
        ("bob", "198.51.100.7", {"reason": "user inactive", "token": tokens["bob"][:8]}),
    ]
