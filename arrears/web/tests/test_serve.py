"""`arrears serve`: waitress, in one process or in worker processes fed by one acceptor."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
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
    tmp_path: Path, more: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int, list[int]]:
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
        [ARREARS, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_serving(server, port)
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return server, port, [int(pid) for pid in children.read_text().split()] if PROC else []


def test_serve_with_two_workers_answers_and_stops_with_its_workers(tmp_path):
    server, port, _workers = _started(tmp_path)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin/", timeout=5) as r:
            assert r.status == 200
            assert r.headers["Server"] == "arrears"
        for _ in range(10):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/today/", timeout=5) as r:
                assert r.url.endswith("/signin/?next=/today/")
    finally:
        server.terminate()
        server.wait(timeout=20)
    time.sleep(0.3)
    # no worker is left answering on the port
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def _connections_by_process(port: int, pids: list[int]) -> dict[int, int]:
    """How many established connections to `port` each of `pids` holds (Linux's /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                inodes.add(cols[9])
    held = {}
    for pid in pids:
        count = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                count += 1
        held[pid] = count
    return held


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_two_workers_are_handed_keep_alive_connections_in_turn(tmp_path):
    """A keep-alive connection stays with the worker that took it. On one shared socket the
    worker that woke first took 16-18 of 20; with a socket each (SO_REUSEPORT) the kernel's hash
    split 20 as 7/13. The acceptor hands them out in turn: 20/20 of 40."""
    server, port, workers = _started(tmp_path)
    clients = []
    try:
        assert len(workers) == 2, workers
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        time.sleep(1)
        held = _connections_by_process(port, workers)
        assert sorted(held.values()) == [20, 20], held
        assert _connections_by_process(port, [server.pid]) == {server.pid: 0}  # it only accepts
    finally:
        for c in clients:
            c.close()
        server.terminate()
        server.wait(timeout=20)


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


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_a_worker_that_dies_is_left_out_and_the_others_serve_on(tmp_path):
    server, port, workers = _started(tmp_path)
    try:
        os.kill(workers[0], signal.SIGKILL)
        assert _gone(workers[0])
        for _ in range(6):  # the turn reaches the dead worker and passes over it
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin/", timeout=5) as r:
                assert r.status == 200
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert b"a worker has stopped" in server.stderr.read()


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_workers_stop_when_the_acceptor_is_killed(tmp_path):
    server, _port, workers = _started(tmp_path)
    server.kill()
    server.wait(timeout=20)
    assert all(_gone(pid) for pid in workers), workers


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc")
def test_requests_waiting_for_their_worker_write_no_warning_each(tmp_path):
    """With one thread a worker, a request that comes while another is served waits: waitress
    warned of each ("Task queue depth is 1"), hundreds of lines a minute under load."""
    from concurrent.futures import ThreadPoolExecutor

    server, port, _workers = _started(tmp_path)

    def fetch(_n: int) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin/", timeout=10) as r:
            return r.status

    try:
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(fetch, range(64))) == {200}
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert b"Task queue depth" not in server.stderr.read()


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
    """One request on a new connection (so that the acceptor hands it to the next worker):
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
    server, port, _workers = _started(tmp_path, more)
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
        server.terminate()
        server.wait(timeout=20)
