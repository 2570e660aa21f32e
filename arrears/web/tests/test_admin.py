"""The admin's pages, as Erin (company A's admin) uses them: users and roles, properties,
policies and templates; and everyone else refused every one of them, changing nothing."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from arrears.access.models import ApiToken, AuditEntry, Profile
from arrears.access.services import token_issue
from arrears.access.tests.people import OPERATOR, PASSWORD, TODAY
from arrears.correspondence.models import Template
from arrears.dunning.models import CompanyPolicy, PolicyOverride
from arrears.dunning.policy import BUILT_IN
from arrears.ledger.models import Property, TimelineEvent
from arrears.web.tests.test_sweep import _fill, _web_routes

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "hudson-yards-ledger-77"
NY = (BUILT_IN / "ny-residential.toml").read_text(encoding="utf-8")


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, path: str, status: int = 200, **kw) -> str:
    response = client.get(path, **kw)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


def error_beside(html: str, field: str) -> str:
    """The error shown inside the fieldset, or else the label, of the form field `field`."""
    for box in ("fieldset", "label"):
        for inside in re.findall(rf"<{box}[^>]*>(.*?)</{box}>", html, re.S):
            found = re.search(r'<span class="error" role="alert">([^<]*)</span>', inside)
            if f'name="{field}"' in inside and found:
                return found.group(1)
    raise AssertionError(f"no error beside {field}")


def test_an_admin_adds_a_property_manager_who_can_then_sign_in(people):
    erin = as_(people["erin"])
    # given the list of users
    html = page(erin, "/admin/users/")
    assert "mallory" in html
    assert "Hale &amp; Co" in html
    # when Erin adds Frank, manager of Oak Terrace
    response = erin.post(
        "/admin/users/",
        {
            "username": "frank",
            "role": "manager",
            "properties": ["OAK"],
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    # then the page redirects to the list, which names him, and says so
    assert response.status_code == 302
    assert response["Location"] == "/admin/users/"
    html = page(erin, "/admin/users/")
    assert "User frank added." in html
    assert re.search(r">frank</a></td><td>manager</td><td>OAK</td>", html)
    profile = Profile.objects.get(user__username="frank")
    assert (profile.role, [p.property_id for p in profile.properties.all()]) == ("manager", ["OAK"])
    audit = AuditEntry.objects.get(verb="user.add", username="erin")
    assert (audit.via, audit.detail["username"], audit.detail["properties"]) == (
        "web",
        "frank",
        ["OAK"],
    )
    # and Frank signs in and sees Oak Terrace's account, not Elm Court's
    frank = Client()
    assert (
        frank.post("/signin/", {"username": "frank", "password": NEW_PASSWORD}).status_code == 302
    )
    assert frank.get("/accounts/A-OSCAR/").status_code == 200
    assert frank.get("/accounts/A-TINA/").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"password_again": "something-else-entirely"}, "password_again", "not the same"),
        ({"password": "12345678901", "password_again": "12345678901"}, "password", "numeric"),
        ({"role": "manager"}, "properties", "a property manager needs properties"),
        ({"role": "attorney"}, "firm", "an attorney or a paralegal needs a firm"),
        ({"properties": ["ELM"]}, "properties", "only a property manager"),
        ({"username": "alice"}, "username", "already exists"),
        ({"username": "no spaces please"}, "username", "Enter a valid username"),
    ],
)
def test_a_user_the_form_cannot_add_shows_why_beside_the_field_and_adds_no_one(
    people, data, field, says
):
    erin = as_(people["erin"])
    form = {
        "username": "frank",
        "role": "coordinator",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **data,
    }
    # when Erin submits it
    response = erin.post("/admin/users/", form)
    # then the page says why beside the field, keeps what she typed, and nothing is written
    assert response.status_code == 422
    html = response.content.decode()
    assert says in error_beside(html, field)
    assert f'value="{form["username"]}"' in html
    assert not Profile.objects.filter(user__username="frank").exists()
    assert not AuditEntry.objects.filter(via="web").exists()


def test_an_admin_changes_a_managers_properties_and_the_audit_row_says_what_was_before(people):
    erin = as_(people["erin"])
    bob = people["bob"]
    html = page(erin, f"/admin/users/{bob.pk}/")
    assert 'value="ELM" checked' in html
    # when Erin gives Bob Oak Terrace as well
    response = erin.post(
        f"/admin/users/{bob.pk}/", {"role": "manager", "properties": ["ELM", "OAK"]}
    )
    # then he sees Oscar's account on his next request
    assert response.status_code == 302
    assert as_(bob).get("/accounts/A-OSCAR/").status_code == 200
    audit = AuditEntry.objects.get(verb="user.change")
    assert audit.detail["before"] == {"role": "manager", "properties": ["ELM"], "firm": ""}
    assert audit.detail["after"] == {"role": "manager", "properties": ["ELM", "OAK"], "firm": ""}
    # and a change the role does not allow is refused beside the field
    response = erin.post(f"/admin/users/{bob.pk}/", {"role": "coordinator", "firm": "Hale & Co"})
    assert response.status_code == 422
    assert "only an attorney" in error_beside(response.content.decode(), "firm")
    assert Profile.objects.get(user=bob).role == "manager"


def test_the_last_admin_cannot_demote_or_deactivate_herself(people):
    erin = as_(people["erin"])
    me = people["erin"]
    response = erin.post(f"/admin/users/{me.pk}/", {"role": "coordinator"})
    assert response.status_code == 422
    assert "last active admin" in error_beside(response.content.decode(), "role")
    response = erin.post(f"/admin/users/{me.pk}/active/", {"active": "0"})
    assert response.status_code == 422
    assert "cannot deactivate yourself" in response.content.decode()
    assert Profile.objects.get(user=me).role == "admin"
    me.refresh_from_db()
    assert me.is_active
    assert not AuditEntry.objects.filter(via="web").exists()


def test_a_deactivated_user_is_signed_out_refused_by_the_api_and_can_be_reactivated(people, tokens):
    erin = as_(people["erin"])
    alice = people["alice"]
    alices_session = as_(alice)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['alice']}"}
    assert alices_session.get("/today/").status_code == 200
    # when Erin deactivates Alice
    response = erin.post(f"/admin/users/{alice.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    # then her open session is signed out, her token refused, her password no longer works
    assert alices_session.get("/today/").status_code == 302
    assert Client().get("/api/accounts", **bearer).status_code == 401
    signin = Client().post("/signin/", {"username": "alice", "password": PASSWORD})
    assert signin.status_code == 401
    html = page(erin, "/admin/users/")
    assert re.search(r'<tr class="inactive"><td><a href="[^"]+">alice</a>', html)
    # and she is not deleted: reactivated, she works again
    erin.post(f"/admin/users/{alice.pk}/active/", {"active": "1"})
    assert Client().get("/api/accounts", **bearer).status_code == 200
    # and the audit has it all: her refused sign-in and token too
    verbs = list(AuditEntry.objects.filter(via="web").order_by("id").values_list("verb", flat=True))
    assert verbs == ["user.deactivate", "signin.failed", "user.reactivate"]
    refused = AuditEntry.objects.get(via="api", verb="signin.failed")
    assert (refused.username, refused.detail["reason"]) == ("alice", "user inactive")


def test_an_api_token_is_shown_once_and_works(people):
    erin = as_(people["erin"])
    dave = people["dave"]
    # when Erin issues Dave a token
    response = erin.post(f"/admin/users/{dave.pk}/token/")
    assert response["Location"] == f"/admin/users/{dave.pk}/"
    # then the next page shows it, once, and it is not kept in a cache
    shown = erin.get(f"/admin/users/{dave.pk}/")
    assert "no-cache" in shown["Cache-Control"]
    token = re.search(r'<code id="token">(arr_[^<]+)</code>', shown.content.decode()).group(1)
    again = page(erin, f"/admin/users/{dave.pk}/")
    assert token not in again
    assert f"<code>{token[:8]}…</code>" in again  # only its first characters, to tell it apart
    # and it reads the API as Dave; only its digest is stored
    response = Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert not ApiToken.objects.filter(digest=token).exists()
    audit = AuditEntry.objects.get(verb="token.issue")
    assert (audit.username, audit.via, audit.detail) == ("erin", "web", {"username": "dave"})


def test_an_admin_sets_a_new_password_and_the_users_other_sessions_end(people):
    erin = as_(people["erin"])
    dave = people["dave"]
    daves_browser = Client()
    assert daves_browser.login(username="dave", password=PASSWORD)
    assert daves_browser.get("/today/").status_code == 200
    # a weak one, or two that differ, are refused and change nothing
    url = f"/admin/users/{dave.pk}/password/"

    def twice(first: str, second: str) -> dict[str, str]:
        return {"password": first, "password_again": second}

    weak = erin.post(url, twice("12345678901", "12345678901"))
    assert weak.status_code == 422
    assert "entirely numeric" in weak.content.decode()
    differ = erin.post(url, twice("ledger-lamp-7731", "ledger-lamp-7732"))
    assert differ.status_code == 422
    assert daves_browser.get("/today/").status_code == 200
    assert not AuditEntry.objects.filter(verb="user.password").exists()
    # when Erin sets a new one
    response = erin.post(url, twice("ledger-lamp-7731", "ledger-lamp-7731"))
    assert response["Location"] == f"/admin/users/{dave.pk}/"
    # then Dave's open session is signed out, the old password fails and the new one works
    assert daves_browser.get("/today/").status_code == 302
    assert not Client().login(username="dave", password=PASSWORD)
    assert Client().login(username="dave", password="ledger-lamp-7731")
    audit = AuditEntry.objects.get(verb="user.password")
    assert (audit.username, audit.detail) == ("erin", {"username": "dave"})
    assert "ledger-lamp" not in str(audit.detail)


def test_an_admin_revokes_one_api_token_and_the_others_still_work(people):
    erin = as_(people["erin"])
    dave = people["dave"]
    first, second = (
        token_issue(username="dave", actor=OPERATOR, via="system"),
        token_issue(username="dave", actor=OPERATOR, via="system"),
    )
    revoked = ApiToken.objects.get(hint=first[:8])
    html = page(erin, f"/admin/users/{dave.pk}/")
    assert html.count('class="inline token-revoke-form"') == 2
    # when Erin revokes the first
    response = erin.post(f"/admin/users/{dave.pk}/tokens/{revoked.pk}/revoke/")
    assert response["Location"] == f"/admin/users/{dave.pk}/"
    # then it is refused, the second still reads the API, and the row is kept with its date
    assert Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    revoked.refresh_from_db()
    assert revoked.revoked_at is not None
    assert page(erin, f"/admin/users/{dave.pk}/").count('class="inline token-revoke-form"') == 1
    audit = AuditEntry.objects.get(verb="token.revoke")
    assert (audit.username, audit.detail) == ("erin", {"username": "dave", "token": revoked.pk})
    # revoking it again, or another user's token through Dave's page, is refused and changes nothing
    again = erin.post(f"/admin/users/{dave.pk}/tokens/{revoked.pk}/revoke/")
    assert again.status_code == 422
    assert "revoked already" in again.content.decode()
    alices = ApiToken.objects.get(
        hint=token_issue(username="alice", actor=OPERATOR, via="system")[:8]
    )
    assert erin.post(f"/admin/users/{dave.pk}/tokens/{alices.pk}/revoke/").status_code == 422
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1
    # and only an admin may revoke
    alice = as_(people["alice"])
    other = ApiToken.objects.get(hint=second[:8])
    assert alice.post(f"/admin/users/{dave.pk}/tokens/{other.pk}/revoke/").status_code == 403
    assert AuditEntry.objects.filter(verb="token.revoke").count() == 1


def test_an_admin_renames_a_property_and_sets_its_time_zone(people):
    erin = as_(people["erin"])
    html = page(erin, "/admin/properties/")
    assert re.search(
        r">ELM</a></td><td>Elm Court</td>.*?<td>NY / US</td><td>from the state</td>"
        r'<td class="num">1</td>',
        html,
    )
    # when Erin renames Elm Court and gives it New York's zone
    response = erin.post(
        "/admin/properties/ELM/",
        {
            "name": "Elm Court Apartments",
            "address": "12 Elm Street",
            "timezone": "America/New_York",
        },
    )
    assert response["Location"] == "/admin/properties/"
    elm = Property.objects.get(property_id="ELM")
    assert (elm.name, elm.address, elm.timezone) == (
        "Elm Court Apartments",
        "12 Elm Street",
        "America/New_York",
    )
    audit = AuditEntry.objects.get(verb="property.change")
    assert audit.detail["before"] == {"name": "Elm Court", "address": "", "timezone": ""}
    assert audit.detail["after"]["timezone"] == "America/New_York"
    # and a zone that does not exist, or no name, is refused beside the field
    for data, field in (
        ({"name": "Elm", "timezone": "America/Gotham"}, "timezone"),
        ({"name": " "}, "name"),
    ):
        response = erin.post("/admin/properties/ELM/", data)
        assert response.status_code == 422
        assert error_beside(response.content.decode(), field)
    assert Property.objects.get(property_id="ELM").name == "Elm Court Apartments"
    assert AuditEntry.objects.filter(verb="property.change").count() == 1
    assert erin.get("/admin/properties/NOPE/").status_code == 404


def test_an_admin_names_a_propertys_owner_and_its_letters_say_it(people):
    from arrears.correspondence.rendering import message_render

    erin = as_(people["erin"])
    # when Erin names Elm Court's owner of record
    response = erin.post(
        "/admin/properties/ELM/",
        {"name": "Elm Court", "address": "", "timezone": "", "owner_name": "Elm Court Owner LLC"},
    )
    assert response["Location"] == "/admin/properties/"
    # then it is kept, audited, and Tina's late notice names it beside the managing agent
    assert Property.objects.get(property_id="ELM").owner_name == "Elm Court Owner LLC"
    audit = AuditEntry.objects.get(verb="property.change")
    assert audit.detail["after"] == {"owner_name": "Elm Court Owner LLC"}
    message = message_render(
        account_id="A-TINA", template="ny-late-rent-notice", on=TODAY, letter=True
    )
    assert "Elm Court Owner LLC" in message.html


def test_an_admin_reads_the_policies_and_one_policys_file(people):
    erin = as_(people["erin"])
    html = page(erin, "/admin/policies/")
    for name in ("ny-residential", "ca-residential", "b2b-net30", "post-move-out"):
        assert f">{name}</a>" in html
    html = page(erin, "/admin/policies/ny-residential/")
    assert "ny-residential v3" in html
    assert "after 5 days of grace" in html
    assert "late-notice" in html
    assert "name = &quot;ny-residential&quot;" in html  # its TOML
    assert erin.get("/admin/policies/no-such-policy/").status_code == 404


def test_an_admin_uploads_a_new_version_of_a_policy_which_is_then_in_force(people):
    erin = as_(people["erin"])
    text = NY.replace("\ngrace_days_exclusive = 5\n", "\ngrace_days_exclusive = 6\n", 1)
    assert text != NY
    # when Erin pastes the changed file
    response = erin.post("/admin/policies/", {"text": text})
    # then it is stored as v4 (after the built-in's v3), in force, and audited with its name and
    # version
    assert response["Location"] == "/admin/policies/ny-residential/?version=4"
    html = page(erin, response["Location"])
    assert "Policy ny-residential v4 stored." in html
    assert "ny-residential v4" in html
    assert "after 6 days of grace" in html
    assert CompanyPolicy.objects.get().version == 4
    audit = AuditEntry.objects.get(verb="policy.add")
    assert (audit.detail["name"], audit.detail["version"], audit.via) == (
        "ny-residential",
        4,
        "web",
    )
    # and the same file uploaded as a file is the next version
    upload = SimpleUploadedFile("ny.toml", text.encode(), content_type="application/toml")
    assert erin.post("/admin/policies/", {"file": upload}).status_code == 302
    assert list(CompanyPolicy.objects.values_list("version", flat=True).order_by("version")) == [
        4,
        5,
    ]
    html = page(erin, "/admin/policies/ny-residential/?version=3")
    assert "grace_days_exclusive = 5" in html


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('name = "ny-residential"\n[[steps]\nkey = "x"', "not valid TOML"),
        (
            'name = "x"\n[[steps]]\nkey = "a"\naction = "notice"\nchannel = "letter"\n',
            "x, step a: a notice needs a channel and a template",
        ),
        (
            'name = "x"\n[[steps]]\nkey = "a"\naction = "fee"\nfee_fixed = 50.0\n',
            'fee_fixed must be a string like "50.00"',
        ),
        ("", "Paste a policy"),
    ],
)
def test_a_policy_file_that_does_not_load_shows_the_loaders_error_and_stores_nothing(
    people, text, says
):
    erin = as_(people["erin"])
    response = erin.post("/admin/policies/", {"text": text})
    assert response.status_code == 422
    html = response.content.decode()
    assert says.replace('"', "&quot;") in error_beside(html, "text")
    assert not CompanyPolicy.objects.exists()
    assert not AuditEntry.objects.filter(via="web").exists()


def test_an_admin_assigns_an_account_a_policy_of_its_own_and_clears_it(people):
    erin = as_(people["erin"])
    # when Erin makes Tina's account follow the B2B policy
    response = erin.post(
        "/admin/policy-overrides/", {"account_id": "A-TINA", "policy": "b2b-net30"}
    )
    assert response["Location"] == "/admin/policies/"
    assert PolicyOverride.objects.get().policy == "b2b-net30"
    html = page(erin, "/admin/policies/")
    assert "A-TINA follows policy b2b-net30." in html
    assert re.search(r">A-TINA</a></td><td>b2b-net30</td>", html)
    audit = AuditEntry.objects.get(verb="policy.assign")
    assert (audit.account_id, audit.detail) == ("A-TINA", {"policy": "b2b-net30"})
    # then clears it: back to its property's
    erin.post("/admin/policy-overrides/", {"account_id": "A-TINA"})
    assert not PolicyOverride.objects.exists()
    events = TimelineEvent.objects.filter(kind="policy.assigned").order_by("id")
    assert [e.detail["policy"] for e in events] == ["b2b-net30", None]
    # and an account or a policy that does not exist is said beside its field
    response = erin.post(
        "/admin/policy-overrides/", {"account_id": "A-NOBODY", "policy": "b2b-net30"}
    )
    assert "no account" in error_beside(response.content.decode(), "account_id")
    response = erin.post("/admin/policy-overrides/", {"account_id": "A-TINA", "policy": "nope"})
    assert "no policy" in error_beside(response.content.decode(), "policy")
    assert AuditEntry.objects.filter(verb="policy.assign").count() == 2


def test_an_admin_saves_a_company_version_of_a_template_and_previews_it(people):
    erin = as_(people["erin"])
    html = page(erin, "/admin/templates/")
    assert re.search(r"<td>ny-late-rent-notice</td><td><a [^>]+>built in</a></td>", html)
    path = "/admin/templates/ny-late-rent-notice/es/"
    html = page(erin, path)
    assert "Aviso de renta no recibida" in html  # the built-in subject, in the form
    # when Erin saves a Spanish version of her own
    response = erin.post(
        path,
        {
            "subject": "Renta pendiente ({{ account.account_id }})",
            "body": "<p>Estimado inquilino: su renta no ha llegado.</p>",
        },
    )
    # then it is version 1, in force, audited
    assert response["Location"] == path
    row = Template.objects.get()
    assert (row.name, row.language, row.version, row.created_by) == (
        "ny-late-rent-notice",
        "es",
        1,
        "erin",
    )
    assert AuditEntry.objects.get(verb="template.add").detail["version"] == 1
    assert re.search(
        r"<td>ny-late-rent-notice</td><td><a [^>]+>built in</a></td><td><a [^>]+>"
        r"company v1</a>",
        page(erin, "/admin/templates/"),
    )
    # and the preview for Tina's account renders it
    html = page(erin, path, data={"account_id": "A-TINA"})
    assert "Renta pendiente (A-TINA)" in html
    assert "su renta no ha llegado" in html
    pdf = erin.get(path, {"account_id": "A-TINA", "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # and an account that does not exist is said beside the field
    response = erin.get(path, {"account_id": "A-NOBODY"})
    assert response.status_code == 422
    assert "no account" in error_beside(response.content.decode(), "account_id")


def test_a_template_that_does_not_compile_is_refused_and_nothing_is_stored(people):
    erin = as_(people["erin"])
    response = erin.post(
        "/admin/templates/ny-rent-demand/en/", {"subject": "Demand", "body": "<p>{% if %}</p>"}
    )
    assert response.status_code == 422
    assert "does not compile" in error_beside(response.content.decode(), "body")
    assert not Template.objects.exists()
    assert not AuditEntry.objects.filter(via="web").exists()
    assert erin.get("/admin/templates/ny-rent-demand/fr/").status_code == 404


def _admin_paths(people) -> list[str]:
    ids = {
        "user_id": people["alice"].pk,
        "token_id": ApiToken.objects.get(
            hint=token_issue(username="alice", actor=OPERATOR, via="system")[:8]
        ).pk,
    }
    ids.update(dict.fromkeys(("hold_id", "plan_id", "dispute_id", "document_id", "inbound_id"), 0))
    return [_fill(r, ids) for r in _web_routes() if r.startswith("admin/")]


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave"])
def test_everyone_but_an_admin_is_refused_every_admin_page_and_change(people, who):
    client = as_(people[who])
    paths = _admin_paths(people)
    assert len(paths) >= 10, paths
    upload = {
        "text": NY.replace("version = 2", "version = 5"),
        "username": "frank",
        "role": "admin",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "name": "Mine",
        "active": "0",
        "account_id": "A-TINA",
        "policy": "b2b-net30",
        "subject": "x",
        "body": "x",
    }
    for path in paths:
        for method in ("get", "post"):
            response = getattr(client, method)(path, upload)
            assert response.status_code in (403, 405), (who, method, path, response.status_code)
            if response.status_code == 403:
                assert "Not allowed" in response.content.decode()
    # and nothing changed
    assert not AuditEntry.objects.filter(via="web").exists()
    assert not CompanyPolicy.objects.exists()
    assert not Template.objects.exists()
    assert not PolicyOverride.objects.exists()
    assert Profile.objects.get(user=people["alice"]).role == "coordinator"
    assert Property.objects.get(property_id="ELM").name == "Elm Court"
    assert "/admin/" not in page(client, "/today/")


def test_only_an_admin_sees_the_admin_link_and_the_pages_speak_spanish(people):
    erin = as_(people["erin"])
    assert 'href="/admin/users/"' in page(erin, "/today/")
    assert 'href="/admin/users/"' not in page(as_(people["alice"]), "/today/")
    assert page(erin, "/admin/", status=302) == ""
    html = page(erin, "/admin/users/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Añadir un usuario" in html
    assert "Contraseña otra vez" in html


def test_an_admin_gives_a_user_an_email_address_and_a_wrong_one_is_refused(people):
    erin = as_(people["erin"])
    bob = people["bob"]
    scope = {"role": "manager", "properties": ["ELM"]}
    # when Erin gives Bob an address where his report subscriptions are to go
    response = erin.post(f"/admin/users/{bob.pk}/", {**scope, "email": " bob@example.org "})
    # then it is kept, trimmed, shown in the list of users, and the audit row says before and after
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"
    assert "<td>bob@example.org</td>" in page(erin, "/admin/users/")
    audit = AuditEntry.objects.get(verb="user.change")
    assert (audit.detail["before"]["email"], audit.detail["after"]["email"]) == (
        "",
        "bob@example.org",
    )
    # and an address that is not one is refused beside the field, the one before kept
    response = erin.post(f"/admin/users/{bob.pk}/", {**scope, "email": "bob at example"})
    assert response.status_code == 422
    assert "is not an email address" in error_beside(response.content.decode(), "email")
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"
