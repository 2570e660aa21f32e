"""`arrears serve`: gunicorn's master and its workers, started as the command is, on a free port
against a book in a temporary SQLite file; the workers found through Linux's /proc."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ARREARS = Path(sys.executable).parent / "arrears"
PROC = Path("/proc/self/task").exists()  # Linux's /proc, to find the workers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_serving(server: subprocess.Popen, port: int) -> None:
    """Until `server` answers on `port`, whatever it answers (30 s at most; its stderr piped,
    shown if it does not)."""
    deadline = time.monotonic() + 30
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/signin/")
            connection.getresponse().read()
            return
        except OSError:
            assert time.monotonic() < deadline, server.stderr.read1().decode()
            time.sleep(0.2)
        finally:
            connection.close()


def _started(
    tmp_path: Path, more: dict[str, str] | None = None, options: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, int]:
    """`arrears serve --workers 2` (and `options`) on a free port, answering."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'book.sqlite3'}",
        "SECRET_KEY": "a-test-key-" + "x" * 40,
        **(more or {}),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([ARREARS, "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [ARREARS, "serve", "--port", str(port), "--workers", "2", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_serving(server, port)
    return server, port


def _stopped(server: subprocess.Popen) -> str:
    """Stop the server (SIGTERM, gunicorn's graceful stop); what it wrote to stderr."""
    server.terminate()
    _out, err = server.communicate(timeout=40)
    return err.decode()


def workers(server: subprocess.Popen, n: int, other_than: set[int] = frozenset()) -> set[int]:
    """The master's `n` worker processes, once it has `n` and none of `other_than` (20 s at
    most: a worker replaced is forked again at once)."""
    deadline = time.monotonic() + 20
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    while True:
        pids = {int(pid) for pid in children.read_text().split()}
        if len(pids) == n and not pids & other_than:
            return pids
        assert time.monotonic() < deadline, (pids, other_than)
        time.sleep(0.1)


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_serve_answers_pages_and_stops_with_its_workers(tmp_path):
    server, port = _started(tmp_path)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin/", timeout=5) as r:
            assert r.status == 200
            assert r.headers["Server"] == "gunicorn"  # no version said
        for _ in range(10):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/today/", timeout=5) as r:
                assert r.url.endswith("/signin/?next=/today/")
        # the static files, as whitenoise serves them
        page = _get(port, "/signin/")[1]
        css = re.search(r'href="(/static/[^"]+\.css)"', page).group(1)
        assert _get(port, css)[0] == 200
        pids = workers(server, 2) if PROC else set()
    finally:
        server.terminate()  # gunicorn's graceful stop
        out, _err = server.communicate(timeout=40)
    assert server.returncode == 0
    # it said where it served, as a URL to open
    said = out.decode()
    assert f"Serving Arrears on http://127.0.0.1:{port}/ with 2 worker(s)" in said, said
    time.sleep(0.3)
    # no worker is left answering on the port
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert all(_gone(pid) for pid in pids), pids


def test_the_health_check_answers_whatever_the_host_and_scheme(tmp_path):
    # given a server that redirects plain HTTP to HTTPS and serves only its own host name
    more = {"SECURE_COOKIES": "1", "ALLOWED_HOSTS": "arrears.example"}
    server, port = _started(tmp_path, more)
    try:
        # when a load balancer asks by the instance's address and plain HTTP
        # then /healthz says the server and its database answer
        assert _get(port, "/healthz", {"Host": "10.0.0.7"}) == (200, "ok\n")
        assert _get(port, "/healthz/")[0] == 200
        # and the pages are as guarded as before: another host is refused, HTTP redirected
        assert _get(port, "/signin/", {"Host": "10.0.0.7"})[0] == 400
        assert _get(port, "/signin/", {"Host": "arrears.example"})[0] == 301
        # and with no ARREARS_TRUSTED_PROXY, a claim of HTTPS is believed from no one, not even
        # from 127.0.0.1 (which gunicorn itself trusts by default)
        claim = {"Host": "arrears.example", "X-Forwarded-Proto": "https"}
        assert _get(port, "/signin/", claim)[0] == 301
    finally:
        _stopped(server)


def test_the_health_check_says_503_without_the_database(tmp_path):
    # given a server whose workers keep no database connection between requests
    server, port = _started(tmp_path, {"ARREARS_DB_CONN_SECONDS": "0"})
    try:
        assert {_get(port, "/healthz")[0] for _ in range(4)} == {200}
        # when its database can no longer be opened
        (tmp_path / "book.sqlite3").rename(tmp_path / "elsewhere.sqlite3")
        (tmp_path / "book.sqlite3").mkdir()  # SQLite cannot open a folder
        # then the health check says so, whichever worker answers
        assert {_get(port, "/healthz")[0] for _ in range(4)} == {503}
    finally:
        _stopped(server)


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_a_worker_killed_is_replaced_and_the_server_answers_on(tmp_path):
    server, port = _started(tmp_path)
    try:
        before = workers(server, 2)
        killed = min(before)
        os.kill(killed, signal.SIGKILL)
        after = workers(server, 2, other_than={killed})
        assert before - after == {killed}
        assert len(after - before) == 1
        assert {_get(port, "/signin/")[0] for _ in range(6)} == {200}
        assert server.poll() is None
    finally:
        err = _stopped(server)
    assert f"Worker (pid:{killed}) was sent SIGKILL" in err


def _requests_until(port: int, stop: threading.Event, answers: list) -> None:
    """GET /signin/ one after the other, each answer's status (or the error) in `answers`."""
    while not stop.is_set():
        try:
            answers.append(_get(port, "/signin/")[0])
        except OSError as exc:
            answers.append(repr(exc))


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_a_hup_replaces_every_worker_and_no_request_fails(tmp_path):
    server, port = _started(tmp_path)
    stop, answers = threading.Event(), []
    loops = [threading.Thread(target=_requests_until, args=(port, stop, answers)) for _ in range(3)]
    try:
        before = workers(server, 2)
        for loop in loops:
            loop.start()
        while len(answers) < 10:
            time.sleep(0.05)
        server.send_signal(signal.SIGHUP)
        after = workers(server, 2, other_than=before)  # new workers, the old ones gone
        during = len(answers)
        while len(answers) < during + 10:  # and answered by the new ones
            time.sleep(0.05)
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=30)
        _stopped(server)
    assert not after & before
    assert set(answers) == {200}, [a for a in answers if a != 200][:5]


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_a_worker_is_replaced_after_its_max_requests(tmp_path):
    options = ("--workers", "1", "--max-requests", "5", "--max-requests-jitter", "0")
    server, port = _started(tmp_path, options=options)
    try:
        first = workers(server, 1)
        # the start's own request (wait_serving) was the first of its 5
        assert {_get(port, "/signin/")[0] for _ in range(4)} == {200}
        second = workers(server, 1, other_than=first)
        assert {_get(port, "/signin/")[0] for _ in range(3)} == {200}
        assert workers(server, 1) == second
    finally:
        err = _stopped(server)
    assert "Autorestarting worker after current request" in err


@pytest.mark.parametrize("how", ["arrears serve", "wsgi"])
def test_no_server_starts_without_a_secret_key_from_the_environment(tmp_path, how):
    # given: DEBUG off and no SECRET_KEY
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # when: the server is started, as `arrears serve` or as gunicorn loads it
    if how == "arrears serve":
        command = [str(ARREARS), "serve", "--port", str(_free_port())]
    else:
        command = [sys.executable, "-c", "import config.wsgi"]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[3]
    )
    # then: it refuses, saying why
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr
    assert "Serving" not in done.stdout


def test_the_secret_key_is_the_environments_or_random_per_process():
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    root = Path(__file__).parents[3]
    keys = [
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); " + code],
            env=env,
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert keys[0] != keys[1]
    assert len(keys[0]) >= 50
    given = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env={**env, "SECRET_KEY": "$HOME" + "k" * 60},
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
    ).stdout.strip()
    assert given == "$HOME" + "k" * 60  # as written: not the variable HOME's value


def _ask(port: int, method: str, path: str, cookies: dict[str, str], form: str = "") -> tuple:
    """One request on a new connection (taken by whichever worker accepts it first):
    its status, Location, and the cookies it set, added to `cookies`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=form or None, headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.partition(";")[0].partition("=")
            cookies[name.strip()] = value
        return response.status, response.headers.get("Location", ""), body
    finally:
        connection.close()


REDIS = "redis://127.0.0.1:6379/15"


def _redis_or_skip() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"no Redis at 127.0.0.1:6379 for the shared session cache: {exc}")


@pytest.mark.parametrize("sessions", ["database", "shared cache"])
def test_a_session_signed_out_in_one_worker_is_refused_by_every_worker(tmp_path, sessions):
    # given alice signed in to a server of two worker processes, her session read by both
    # (from the database, or from a Redis both share: Django's cached_db)
    more = {}
    if sessions == "shared cache":
        _redis_or_skip()
        more["ARREARS_SESSION_CACHE_URL"] = REDIS
    server, port = _started(tmp_path, more)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'book.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    password = "correct horse battery 7"
    subprocess.run(
        [ARREARS, "user", "add", "alice", "--role", "coordinator"],
        env=env,
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    try:
        cookies: dict[str, str] = {}
        _ask(port, "GET", "/signin/", cookies)
        form = f"username=alice&password={password.replace(' ', '+')}"
        form += f"&csrfmiddlewaretoken={cookies['csrftoken']}"
        assert _ask(port, "POST", "/signin/", cookies, form)[0] == 302
        stolen = dict(cookies)  # a copy of her cookie, kept by someone else
        if sessions == "shared cache":  # the session is in Redis, where both workers read it
            import redis

            assert redis.Redis.from_url(REDIS).keys("*cached_db*" + cookies["sessionid"])
        assert {_ask(port, "GET", "/today/", dict(stolen))[0] for _ in range(6)} == {200}
        # when she signs out (in whichever worker takes the request)
        signed_out = _ask(
            port, "POST", "/signout/", cookies, f"csrfmiddlewaretoken={cookies['csrftoken']}"
        )
        assert signed_out[0] == 302
        # then her old session is refused by every worker: each sends it to sign in
        answers = [_ask(port, "GET", "/today/", dict(stolen))[:2] for _ in range(6)]
        assert answers == [(302, "/signin/?next=/today/")] * 6
    finally:
        _stopped(server)
