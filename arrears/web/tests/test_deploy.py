"""A production deployment as the README documents it (issue 13, item 4): Django's deployment
checks find nothing, and the server answers only by HTTPS, with HSTS and Secure cookies.

The settings are the README's own: the `sh` block under "### In production", read from the file,
so the documentation and the test cannot drift apart. Its secret is replaced by a random one and
its database by an SQLite file (checking settings connects to no database).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from arrears.web.tests.test_serve import ARREARS, _free_port, wait_serving

ROOT = Path(__file__).resolve().parents[3]


def documented_production() -> dict[str, str]:
    """The variables of the README's production block, as NAME: value."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"### In production\n.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README.md has no production block"
    found = {}
    for line in block.group(1).splitlines():
        name, _, value = line.split("#", 1)[0].strip().partition("=")
        if name:
            found[name] = value
    return found


def _environment(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARREARS_", "SECURE_"))}
    env.pop("DEBUG", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(documented_production())
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_settings_pass_the_deployment_checks(tmp_path):
    # given: the README's production settings
    env = _environment(tmp_path)
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "SECURE_COOKIES"} <= set(documented_production())
    # when: Django's deployment checks run, any warning failing them
    done = _check_deploy(env)
    # then: nothing to say
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_the_deployment_checks_fail_without_https_or_with_debug(tmp_path):
    # given: the same settings without SECURE_COOKIES, and with DEBUG on
    env = _environment(tmp_path, SECURE_COOKIES=None, DEBUG="1")
    # when
    done = _check_deploy(env)
    # then: the checks fail, naming HSTS, the redirect, both cookies and DEBUG
    assert done.returncode != 0
    for warning in ("W004", "W008", "W012", "W016", "W018"):
        assert f"security.{warning}" in done.stderr, warning


def _get(
    port: int, path: str, headers: dict[str, str], source: str = "127.0.0.1"
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_a_production_server_behind_a_proxy_answers_by_https_only(tmp_path):
    # given: `arrears serve` with the production settings, behind a proxy ending TLS on this
    # machine (ARREARS_TRUSTED_PROXY=127.0.0.1)
    env = _environment(tmp_path)
    subprocess.run([ARREARS, "init"], env=env, check=True, capture_output=True)
    host = documented_production()["ALLOWED_HOSTS"].split(",")[0]
    port = _free_port()
    server = subprocess.Popen(
        [ARREARS, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_serving(server, port)
        # when: a request comes by plain HTTP, and one by HTTPS (the proxy says so)
        plain = _get(port, "/signin/", {"Host": host})
        secure = _get(port, "/signin/", {"Host": host, "X-Forwarded-Proto": "https"})
        # and one claims HTTPS from another address than the proxy's
        claimed = _get(port, "/signin/", {"Host": host, "X-Forwarded-Proto": "https"}, "127.0.0.2")
    finally:
        server.terminate()
        server.wait(timeout=20)
    # then: the plain one is sent to HTTPS, and so is the one not from the proxy
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://{host}/signin/"
    assert claimed.status == 301
    # and the HTTPS one is served with HSTS for a year, on subdomains too, and a Secure cookie
    assert secure.status == 200
    hsts = secure.headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    cookie = secure.headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=")
    assert "; Secure" in cookie
    assert "frame-ancestors 'none'" in secure.headers["Content-Security-Policy"]
