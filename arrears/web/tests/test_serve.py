"""`arrears serve`: waitress, in one or several worker processes on one socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ARREARS = Path(sys.executable).parent / "arrears"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_two_workers_answers_and_stops_with_its_workers(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'book.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([ARREARS, "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [ARREARS, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/signin/", timeout=5) as r:
                    assert r.status == 200
                    assert r.headers["Server"] == "arrears"
                    break
            except OSError:
                assert time.monotonic() < deadline, server.stderr.read1().decode()
                time.sleep(0.2)
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


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_two_workers_share_keep_alive_connections_not_one_takes_them_all(tmp_path):
    """On one shared socket the worker that woke first took 16-18 of 20 connections, and a
    keep-alive connection stays with its worker; each worker's own socket (SO_REUSEPORT) lets
    the kernel spread them."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'book.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([ARREARS, "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([ARREARS, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    clients = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/signin/", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        workers = [server.pid, *map(int, children)]
        assert len(workers) == 2, workers
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        time.sleep(1)
        held = _connections_by_process(port, workers)
        assert sum(held.values()) == 40, held
        assert max(held.values()) <= 30, held  # a fair split is 20/20; 31+ is under 0.1% chance
    finally:
        for c in clients:
            c.close()
        server.terminate()
        server.wait(timeout=20)
