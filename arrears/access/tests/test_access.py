"""Roles, scopes, tokens, throttled sign-in and the audit trail."""

from __future__ import annotations

import io
import sys
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from arrears.access.errors import ForbiddenError, LockedOutError, NotSignedInError
from arrears.access.models import ApiToken, AuditEntry, Profile
from arrears.access.selectors import accounts_visible, authorize, worklist_visible
from arrears.access.services import act, login_check, token_issue, token_user
from arrears.access.tests.people import FIRM, OPERATOR, PASSWORD, TODAY
from arrears.cli import main
from arrears.core.errors import NotFoundError, ValidationError
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run, note_add
from arrears.ledger.models import Account, TimelineEvent

pytestmark = pytest.mark.django_db


def visible(user) -> set[str]:
    return set(accounts_visible(user).values_list("account_id", flat=True))


def test_each_role_sees_only_its_own_accounts(people):
    assert visible(people["alice"]) == {"A-TINA", "A-OSCAR"}
    assert visible(people["dave"]) == {"A-TINA", "A-OSCAR"}
    assert visible(people["bob"]) == {"A-TINA"}
    assert visible(people["carol"]) == {"A-OSCAR"}
    assert visible(people["mallory"]) == set()


def test_an_account_out_of_scope_is_not_found_as_if_it_did_not_exist(people):
    with pytest.raises(NotFoundError):
        authorize(people["bob"], "account.view", "A-OSCAR")
    with pytest.raises(NotFoundError):
        authorize(people["mallory"], "account.view", "A-TINA")
    assert authorize(people["bob"], "account.view", "A-TINA").account_id == "A-TINA"


def test_a_controller_reads_but_may_not_write_and_a_stranger_may_do_nothing(people):
    with pytest.raises(ForbiddenError):
        authorize(people["dave"], "note.add", "A-TINA")
    with pytest.raises(NotSignedInError):
        authorize(None, "account.view")
    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD)
    with pytest.raises(ForbiddenError):
        authorize(nobody, "account.view")


def test_a_change_through_act_writes_its_audit_row_with_the_timeline_row(people):
    # when bob adds a note on Tina's account
    act(
        user=people["bob"],
        verb="note.add",
        via="web",
        account_id="A-TINA",
        ip="10.0.0.5",
        detail={"text": "Tina called"},
        do=lambda a: note_add(account_id="A-TINA", text="Tina called", actor="bob", on=TODAY),
    )
    # then the note is on the timeline and the audit says who, how and from where
    assert (
        TimelineEvent.objects.filter(
            account__account_id="A-TINA", kind="note.added", actor="bob"
        ).count()
        == 1
    )
    entry = AuditEntry.objects.get(verb="note.add")
    assert (entry.username, entry.via, entry.account_id, entry.ip) == (
        "bob",
        "web",
        "A-TINA",
        "10.0.0.5",
    )


def test_a_refused_change_writes_nothing(people):
    before = TimelineEvent.objects.count()
    with pytest.raises(NotFoundError):
        act(
            user=people["bob"],
            verb="note.add",
            via="web",
            account_id="A-OSCAR",
            do=lambda a: note_add(account_id="A-OSCAR", text="x", actor="bob", on=TODAY),
        )
    with pytest.raises(ValidationError):
        act(
            user=people["alice"],
            verb="note.add",
            via="web",
            account_id="A-TINA",
            do=lambda a: note_add(account_id="A-TINA", text="  ", actor="alice", on=TODAY),
        )
    assert TimelineEvent.objects.count() == before
    assert not AuditEntry.objects.filter(verb="note.add").exists()


def test_the_worklist_shows_each_user_only_the_lines_of_their_accounts(people, tmp_path):
    # given Tina's March rent unpaid through the demand (printed for mailing) and its expiry
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    letters_print(on=date(2026, 3, 11), output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=TODAY, actor="cycle")
    # then the coordinator and Elm Court's manager see her line; the attorney and Mallory do not
    assert "A-TINA" in {w.account_id for w in worklist_visible(people["alice"], on=TODAY)}
    assert "A-TINA" in {w.account_id for w in worklist_visible(people["bob"], on=TODAY)}
    assert "A-TINA" not in {w.account_id for w in worklist_visible(people["carol"], on=TODAY)}
    assert worklist_visible(people["mallory"], on=TODAY) == []


def test_the_worklist_follows_the_book_at_once_though_it_is_cached(people, tmp_path):
    from arrears.access.tests.people import write_book
    from arrears.ledger.services import book_import

    # given Tina's line on the worklist, read once (and so cached)
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    letters_print(on=date(2026, 3, 11), output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=TODAY, actor="cycle")
    assert "A-TINA" in {w.account_id for w in worklist_visible(people["alice"], on=TODAY)}
    # when her payment comes in
    book_import(
        write_book(
            tmp_path / "payment",
            {
                "transactions": [
                    {
                        "txn_id": "T-TINA-PAY",
                        "account_id": "A-TINA",
                        "posted": "2026-03-26",
                        "type": "payment",
                        "amount": "1250.00",
                    }
                ]
            },
        )
    )
    # then her line is gone at once
    assert "A-TINA" not in {w.account_id for w in worklist_visible(people["alice"], on=TODAY)}


def test_a_token_is_stored_only_as_its_hash_and_finds_its_user(people):
    token = token_issue(username="alice", actor=OPERATOR, via="system")
    assert not ApiToken.objects.filter(digest=token).exists()
    assert token_user(token) == people["alice"]
    assert token_user(token + "x") is None


def test_sign_in_locks_after_repeated_failures_from_one_address(people, settings):
    settings.ARREARS_LOGIN_MAX_FAILURES = 3
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(3):
        response = client.post("/signin/", {"username": "alice", "password": "wrong-guess"})
        assert response.status_code == 401
    # the right password no longer helps from that address, for a while
    response = client.post("/signin/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 401
    assert "Too many failed sign-ins" in response.content.decode()
    with pytest.raises(LockedOutError):
        login_check(username="alice", ip="10.1.1.1")
    # another address is not locked
    other = Client(REMOTE_ADDR="10.2.2.2")
    assert other.post("/signin/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_every_form_needs_its_csrf_token(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["alice"])
    response = client.post("/accounts/A-TINA/notes/", {"text": "no token"})
    assert response.status_code == 403
    assert not TimelineEvent.objects.filter(kind="note.added").exists()


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def _cli(argv: list[str], stdin: str, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_arrears_user_add_reads_the_password_from_standard_input(
    book, fast_passwords, monkeypatch, capsys
):
    # given a book with no user yet, and the operator's login
    monkeypatch.setenv("LOGNAME", "ops")
    # when the operator adds the first user (no admin exists: no Arrears user to name)
    code, out, _ = _cli(
        ["user", "add", "bob", "--role", "manager", "--properties", "ELM,OAK"],
        f"{PASSWORD}\n",
        monkeypatch,
        capsys,
    )
    assert code == 0, out
    assert "User bob added: manager for ELM, OAK." in out
    bob = get_user_model().objects.get(username="bob")
    assert bob.check_password(PASSWORD)
    profile = Profile.objects.get(user=bob)
    assert sorted(profile.properties.values_list("property_id", flat=True)) == ["ELM", "OAK"]
    entry = AuditEntry.objects.get(verb="user.add")
    assert (entry.username, entry.via, entry.user) == ("system:ops", "system", None)


def test_arrears_user_add_refuses_a_missing_scope_a_weak_password_and_an_unknown_property(
    book, fast_passwords, monkeypatch, capsys
):
    code, _, err = _cli(
        ["user", "add", "carol", "--role", "attorney"], f"{PASSWORD}\n", monkeypatch, capsys
    )
    assert (code, err) == (2, "arrears user: an attorney or a paralegal needs a firm\n")
    code, _, err = _cli(
        ["user", "add", "bob", "--role", "manager", "--properties", "NOPE"],
        f"{PASSWORD}\n",
        monkeypatch,
        capsys,
    )
    assert (code, err) == (2, "arrears user: no property NOPE\n")
    code, _, err = _cli(
        ["user", "add", "dave", "--role", "controller"], "short\n", monkeypatch, capsys
    )
    assert code == 2
    assert "too short" in err
    assert not get_user_model().objects.exists()


def test_arrears_user_add_keeps_an_email_address_and_refuses_one_that_is_not(
    book, fast_passwords, monkeypatch, capsys
):
    monkeypatch.setenv("LOGNAME", "ops")
    argv = ["user", "add", "dana", "--role", "controller", "--email"]
    code, _, err = _cli([*argv, "dana@example"], f"{PASSWORD}\n", monkeypatch, capsys)
    assert (code, err) == (2, "arrears user: 'dana@example' is not an email address\n")
    assert not get_user_model().objects.exists()
    code, out, _ = _cli([*argv, "dana@example.org"], f"{PASSWORD}\n", monkeypatch, capsys)
    assert code == 0, out
    assert get_user_model().objects.get(username="dana").email == "dana@example.org"
    assert AuditEntry.objects.get(verb="user.add").detail["email"] == "dana@example.org"


def test_arrears_user_token_prints_a_token_that_opens_the_api(people, monkeypatch, capsys):
    code, out, _ = _cli(["--as", "erin", "user", "token", "dave"], "", monkeypatch, capsys)
    token = out.strip()
    assert code == 0
    response = Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert {a["account_id"] for a in response.json()} == {"A-TINA", "A-OSCAR"}


def test_arrears_user_password_reads_the_new_one_from_standard_input(people, monkeypatch, capsys):
    monkeypatch.setenv("ARREARS_USER", "erin")
    code, _, err = _cli(["user", "password", "dave"], "short\n", monkeypatch, capsys)
    assert code != 0
    assert "too short" in err
    code, out, _ = _cli(["user", "password", "dave"], "ledger-lamp-7731\n", monkeypatch, capsys)
    assert code == 0
    assert out.startswith("Password of dave changed")
    assert Client().login(username="dave", password="ledger-lamp-7731")
    assert not Client().login(username="dave", password=PASSWORD)


def test_arrears_user_revoke_refuses_the_token_from_then_on(people, monkeypatch, capsys):
    first, second = (
        token_issue(username="dave", actor=OPERATOR, via="system"),
        token_issue(username="dave", actor=OPERATOR, via="system"),
    )
    code, out, _ = _cli(["user", "tokens", "dave"], "", monkeypatch, capsys)
    assert code == 0
    assert out.count("in use") == 2
    assert first[:8] + "…" in out
    first_id = ApiToken.objects.get(hint=first[:8]).pk
    monkeypatch.setenv("ARREARS_USER", "erin")
    code, out, _ = _cli(
        ["user", "revoke", "dave", "--token", str(first_id)], "", monkeypatch, capsys
    )
    assert (code, out.strip()) == (0, "Revoked 1 API token of dave.")
    assert token_user(first) is None
    assert token_user(second) == people["dave"]
    # naming none is refused; --all revokes the rest
    code, _, err = _cli(["user", "revoke", "dave"], "", monkeypatch, capsys)
    assert code != 0
    assert "--all" in err
    code, out, _ = _cli(["user", "revoke", "dave", "--all"], "", monkeypatch, capsys)
    assert (code, out.strip()) == (0, "Revoked 1 API token of dave.")
    assert token_user(second) is None
    assert ApiToken.objects.filter(user=people["dave"]).count() == 2  # kept, both revoked
    assert AuditEntry.objects.filter(verb="token.revoke").count() == 2


def test_arrears_refer_lets_the_firm_see_the_account(people, monkeypatch, capsys):
    assert "A-TINA" not in visible(people["carol"])
    code, out, _ = _cli(
        ["refer", "A-TINA", "--firm", "Hale & Co", "--as", "alice", "--override", "urgent"],
        "",
        monkeypatch,
        capsys,
    )
    assert code == 0, out
    people["carol"].__dict__.pop("_arrears_profile_cache", None)
    assert "A-TINA" in visible(people["carol"])
    assert (
        TimelineEvent.objects.filter(account__account_id="A-TINA", kind="referral.made").count()
        == 1
    )


def test_arrears_user_add_exists_ok_leaves_an_existing_user_unchanged(people, monkeypatch, capsys):
    code, out, _ = _cli(
        ["user", "add", "alice", "--role", "admin", "--exists-ok"],
        "another-password-2026\n",
        monkeypatch,
        capsys,
    )
    assert (code, out) == (0, "User alice exists: unchanged.\n")
    assert Profile.objects.get(user__username="alice").role == "coordinator"
    code, _, err = _cli(
        ["--as", "erin", "user", "add", "alice", "--role", "admin"],
        "another-password-2026\n",
        monkeypatch,
        capsys,
    )
    assert (code, err) == (2, "arrears user: user 'alice' already exists\n")


def test_the_account_pages_read_of_scope_finds_what_accounts_visible_holds(people):
    """authorize reads the account with hand-written SQL (its scope as a condition of its own):
    for every role, it finds exactly the accounts accounts_visible holds, with their property."""
    from arrears.legal.models import Referral

    tina = Account.objects.get(account_id="A-TINA")
    Referral.objects.create(
        account=tina,
        firm=FIRM,
        referred_on=date(2026, 3, 1),
        referred_by="alice",
        withdrawn_on=date(2026, 3, 2),
    )
    every = list(Account.objects.values_list("account_id", flat=True))
    checked = 0
    for name, user in people.items():
        seen = visible(user)
        found = set()
        for account_id in every:
            try:
                account = authorize(user, "account.view", account_id)
            except NotFoundError:
                continue
            except ForbiddenError:
                break
            assert account.property == Account.objects.get(account_id=account_id).property
            found.add(account_id)
        else:
            assert found == seen, name
            checked += 1
    assert checked >= 5  # all but a role that may not view accounts at all
