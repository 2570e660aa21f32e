"""`arrears serve`: waitress, in one or several worker processes on one socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
