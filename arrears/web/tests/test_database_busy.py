"""SQLite under concurrent writes: a write waits its turn, and one locked out past the busy timeout
is a 503 with Retry-After that wrote nothing, never a 500 (issue 13, item 6).

Each test serves a real SQLite file with `arrears serve` (two worker processes, four threads each)
and writes through the API and the pages as a client would, over HTTP; the book is the spec's
worked example (account A1), the writer Alice, a coordinator.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from arrears.web.tests.test_serve import ARREARS, _free_port, wait_serving

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "a-long-enough-password"


class Served:
    def __init__(self, tmp_path: Path, timeout: str) -> None:
        self.db = tmp_path / "book.sqlite3"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db}",
            "SECRET_KEY": "a-test-key-" + "x" * 40,
            "ARREARS_SQLITE_TIMEOUT": timeout,
            "ARREARS_ARCHIVE_DIR": str(tmp_path / "archive"),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env.pop("DEBUG", None)
        self.cli("init")
        self.cli("import", str(ROOT / "tests" / "fixtures" / "spec_example"))
        self.cli("user", "add", "alice", "--role", "coordinator", stdin=PASSWORD + "\n")
        self.token = self.cli("user", "token", "alice").split()[-1]
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = subprocess.Popen(
            [ARREARS, "serve", "--port", str(self.port), "--workers", "2", "--threads", "4"],
            env=self.env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_serving(self.server, self.port)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [ARREARS, *args], env=self.env, input=stdin, text=True, capture_output=True, check=True
        ).stdout

    def api_note(self, text: str) -> tuple[int, dict, dict]:
        """POST a note through the API: status, headers, JSON body."""
        request = urllib.request.Request(
            f"{self.base}/api/accounts/A1/notes",
            data=json.dumps({"text": text}).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, dict(r.headers), json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, dict(e.headers), json.loads(body) if body.startswith(b"{") else {}

    def rows(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def stop(self) -> bytes:
        self.server.terminate()
        self.server.wait(timeout=30)
        return self.server.stderr.read()


@pytest.fixture
def served(tmp_path, request):
    server = Served(tmp_path, timeout=getattr(request, "param", "30"))
    yield server
    server.stop()


def _locked(db: Path) -> sqlite3.Connection:
    """Another connection holding the write lock (as a long import does) until it rolls back."""
    holder = sqlite3.connect(db, isolation_level=None, timeout=10)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_concurrent_notes_through_the_api_are_each_written_whole_or_refused(served):
    # given: 16 clients at once, each adding 6 notes to A1 through the API
    texts = [f"note {client}-{n}" for client in range(16) for n in range(6)]
    # when
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(served.api_note, texts))
    # then: each is written (201) or refused to be tried again (503 with Retry-After); none a 500
    statuses = Counter(status for status, _h, _b in answers)
    assert set(statuses) <= {201, 503}, statuses
    for status, headers, body in answers:
        if status == 503:
            assert int(headers["Retry-After"]) >= 1
            assert body["code"] == "database_busy"
    # and every note written has its timeline row and its audit row, once; a refused one neither
    written = [text for text, (status, _h, _b) in zip(texts, answers, strict=True) if status == 201]
    notes = served.rows("SELECT summary FROM ledger_timelineevent WHERE kind = 'note.added'")
    audits = served.rows("SELECT detail FROM access_auditentry WHERE verb = 'note.add'")
    assert sorted(s for (s,) in notes) == sorted(written)
    assert sorted(json.loads(d)["text"] for (d,) in audits) == sorted(written)
    # and with a busy timeout far longer than any one write, each waited its turn: none refused
    # (a transaction begun as a reader would have been refused at once: BEGIN IMMEDIATE)
    assert statuses == {201: len(texts)}
    assert b"Traceback" not in served.stop()


@pytest.mark.parametrize("served", ["1"], indirect=True)
def test_an_api_write_locked_out_past_the_busy_timeout_is_a_503_that_wrote_nothing(served):
    # given: the token used once (its first use is recorded), then the book locked by another
    # writer for longer than the busy timeout (1 s here)
    assert served.api_note("before the lock")[0] == 201
    holder = _locked(served.db)
    try:
        # when: Alice adds a note through the API
        status, headers, body = served.api_note("while locked")
    finally:
        holder.rollback()
        holder.close()
    # then: 503, try again in a second, in the API's error shape; nothing written
    assert status == 503, body
    assert headers["Retry-After"] == "1"
    assert body["code"] == "database_busy"
    assert "nothing was written" in body["message"]
    assert body["extra"] == {"retry_after": 1}
    summaries = served.rows("SELECT summary FROM ledger_timelineevent WHERE kind = 'note.added'")
    assert summaries == [("before the lock",)]
    # and once the lock is gone, the same note goes
    assert served.api_note("while locked")[0] == 201


def _signed_in(served: Served) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser's session: the sign-in form posted with its CSRF token; the page's token."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(f"{served.base}/signin/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/"}
    browser.open(f"{served.base}/signin/", urllib.parse.urlencode(data).encode(), timeout=30)
    page = browser.open(f"{served.base}/accounts/A1/", timeout=30).read().decode()
    return browser, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("served", ["1"], indirect=True)
def test_a_page_write_locked_out_past_the_busy_timeout_is_a_503_that_says_so(served):
    # given: Alice signed in on A1's page, then the book locked past the busy timeout
    browser, token = _signed_in(served)
    holder = _locked(served.db)
    answers = []
    try:
        # when: she adds a note with the page's form, without htmx and with it
        for headers in ({}, {"HX-Request": "true"}):
            request = urllib.request.Request(
                f"{served.base}/accounts/A1/notes/",
                urllib.parse.urlencode(
                    {"text": "while locked", "csrfmiddlewaretoken": token}
                ).encode(),
                headers={**headers, "Referer": f"{served.base}/accounts/A1/"},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                browser.open(request, timeout=60)
            answers.append(
                (refused.value.code, refused.value.headers, refused.value.read().decode())
            )
    finally:
        holder.rollback()
        holder.close()
    # then: a page (and a fragment for htmx) saying the book is busy, nothing was written, and
    # when to try again; a 503 with Retry-After; no note
    (page_status, page_headers, page), (part_status, part_headers, part) = answers
    assert (page_status, part_status) == (503, 503)
    assert page_headers["Retry-After"] == part_headers["Retry-After"] == "1"
    assert "<html" in page
    assert "nothing was written" in page
    assert "<html" not in part
    assert "try again in 1 second." in part
    assert served.rows("SELECT count(*) FROM ledger_timelineevent WHERE kind = 'note.added'") == [
        (0,)
    ]
