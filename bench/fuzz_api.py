"""The API under schemathesis, against a live server, for a fixed time (issue 13, item 6).

    .venv/bin/python bench/fuzz_api.py                       # 20 workers, 5 minutes, SQLite
    .venv/bin/python bench/fuzz_api.py --max-time 30         # a quick look
    .venv/bin/python bench/fuzz_api.py --db postgres         # the same on PostgreSQL
    make fuzz-api                                            # the first line

It builds the demo book (`arrears demo`) in a fresh database (an SQLite file in a temporary folder,
or the PostgreSQL database `arrears_fuzz` on postgres://postgres@127.0.0.1:5432/, made anew), adds
an admin (who may call every operation, the import too) with an API token, starts `arrears serve`
on loopback, and runs the `schemathesis` CLI on /api/openapi.json with `--workers` concurrent
clients until `--max-time` is spent (every phase: examples, coverage, fuzzing, stateful), checking
that no response is a server error (`not_a_server_error`; `--checks` for others). Everything runs
in the temporary folder (the archive, the texts' outbox), which is left for a look afterwards.

It prints schemathesis's report and a summary: the requests sent and their answers by status
(from schemathesis's HAR record of every request), the server errors among them, and the
tracebacks the server logged. Results go to bench/results-fuzz-api-<db>.json. The suite keeps a
quick run of its own (arrears/api/tests/test_schema_fuzz.py); this one is not part of it.
Exit status: 0 when the server answered no request with a 5xx, logged no traceback, and no check
failed (schemathesis's own errors, listed apart, do not count: they are no answer of the server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from web import _free_port, _wait_for

ROOT, BENCH, CACHE = common.ROOT, common.BENCH, common.CACHE
USER, PASSWORD = "fuzzer", "schemathesis-fuzz-2026"
PG_DB = "arrears_fuzz"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def build(env: dict, workdir: Path, role: str) -> str:
    """The demo book and a user of `role`; returns the user's API token."""
    cmd = common.arrears_cmd()
    for name, argv in (("init", ["init"]), ("demo", ["demo"])):
        step = common.run_child(cmd + argv, env, workdir, name)
        if step["exit"] != 0:
            raise SystemExit(f"{name} failed: {step.get('error')}")
        print(f"{name}: {step['seconds']:.1f} s")
    subprocess.run(
        [*cmd, "user", "add", USER, "--role", role, "--exists-ok"],
        env=env,
        cwd=workdir,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [*cmd, "--as", USER, "user", "token", USER],  # the first user is the admin
        env=env,
        cwd=workdir,
        text=True,
        check=True,
        capture_output=True,
    ).stdout
    return out.strip().split()[-1]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=20, help="schemathesis --workers (20)")
    ap.add_argument("--max-time", type=int, default=300, help="seconds of fuzzing (300)")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--role", default="admin", help="the fuzzing user's role (admin)")
    ap.add_argument("--checks", default="not_a_server_error", help="schemathesis --checks")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="SQLite: the demo book an earlier --reuse run built today",
    )
    ap.add_argument(
        "--serve-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="arrears serve --workers (one per core)",
    )
    return ap


def _environment(args: argparse.Namespace, workdir: Path) -> dict:
    """The server's and the CLI's environment: a fresh database, nothing leaving the machine."""
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ARREARS_ARCHIVE_DIR": str(workdir / "archive"),
        "ARREARS_MAILDIR": str(workdir / "maildir"),
        "SMS_URL": f"file://{workdir / 'sms-outbox'}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("ARREARS_USER", None)  # init and demo are system jobs; the first user is made unnamed
    env.pop("EMAIL_URL", None)  # nothing leaves the machine
    env.pop("IMAP_URL", None)
    env.pop("DEBUG", None)
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(common.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        env["DATABASE_URL"] = f"postgres://postgres@{common.PG_HOST}:{common.PG_PORT}/{PG_DB}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'fuzz.sqlite3'}"
    return env


def _build_or_reuse(args: argparse.Namespace, env: dict, workdir: Path) -> str:
    """build(), from (or into) today's cached demo book with --reuse; returns the API token."""
    # the demo book is today's: kept for --reuse under the day's name (its archive beside it)
    cached = CACHE / f"fuzz-demo-{dt.date.today().isoformat()}"  # noqa: TID251 - the machine's day
    if args.reuse and args.db == "sqlite" and cached.exists():
        shutil.copy(cached / "fuzz.sqlite3", workdir / "fuzz.sqlite3")
        shutil.copytree(cached / "archive", workdir / "archive")
    token = build(env, workdir, args.role)
    if args.reuse and args.db == "sqlite" and not cached.exists():
        cached.mkdir(parents=True)
        shutil.copy(workdir / "fuzz.sqlite3", cached / "fuzz.sqlite3")
        shutil.copytree(workdir / "archive", cached / "archive")
    return token


def _schemathesis(args: argparse.Namespace, port: int, workdir: Path) -> list[str]:
    return [
        str(SCHEMATHESIS),
        "run",
        f"http://127.0.0.1:{port}/api/openapi.json",
        "--workers",
        str(args.workers),
        "--max-time",
        str(args.max_time),
        "--checks",
        args.checks,
        "--seed",
        str(args.seed),
        "--header",
        "Authorization: Bearer $TOKEN",
        "--request-timeout",
        "120",
        "--suppress-health-check",
        "all",
        "--report",
        "har",
        "--report-har-path",
        str(workdir / "requests.har"),
    ]


def _fuzz(args: argparse.Namespace, env: dict, workdir: Path, token: str) -> dict:
    """`arrears serve`, and schemathesis against it; what ran, when, how long, what it said."""
    port = _free_port()
    serve = [*common.arrears_cmd(), "serve", "--port", str(port)]
    with open(workdir / "serve.log", "wb") as log:
        server = subprocess.Popen(
            [*serve, "--workers", str(args.serve_workers)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        command = _schemathesis(args, port, workdir)
        shown = shlex.join(command).replace(
            "'Authorization: Bearer $TOKEN'", '"Authorization: Bearer $TOKEN"'
        )
        command[command.index("Authorization: Bearer $TOKEN")] = f"Authorization: Bearer {token}"
        started = dt.datetime.now(dt.UTC)
        try:
            _wait_for(port, server)
            print(f"$ {shown}", flush=True)
            t0 = time.monotonic()
            fuzz = subprocess.run(command, cwd=workdir, text=True, capture_output=True, env=env)
            seconds = time.monotonic() - t0
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = fuzz.stdout + fuzz.stderr
    (workdir / "schemathesis.txt").write_text(report)
    print(report)
    return {"shown": shown, "started": started, "seconds": seconds, "fuzz": fuzz, "report": report}


def _result(args: argparse.Namespace, workdir: Path, run: dict) -> dict:
    """The requests by status (from the HAR), the server's errors and tracebacks, schemathesis's
    summary: the results JSON."""
    report, fuzz = run["report"], run["fuzz"]
    served = (workdir / "serve.log").read_text(errors="replace")
    entries = json.loads((workdir / "requests.har").read_text())["log"]["entries"]
    requests = [
        (e["request"]["method"], e["request"]["url"], e["response"]["status"]) for e in entries
    ]
    by_class = Counter(f"{status // 100}xx" for _method, _url, status in requests)
    by_status = Counter(str(status) for _method, _url, status in requests)
    errors = sorted(
        {f"{m} {urllib.parse.urlsplit(u).path} {s}" for m, u, s in requests if s >= 500}
    )
    summary = re.search(r"Test cases:\s*\n\s*(.*)", report)
    # schemathesis's summary: failures (a check failed: ours to fix) and errors (its own)
    failures = re.findall(r"^\s*❌ (.+: \d+)$", report.split("SUMMARY")[-1], re.M)
    tool_errors = re.findall(r"^\s*🚫 (.+: \d+)$", report.split("SUMMARY")[-1], re.M)
    return {
        "date": run["started"].isoformat(timespec="seconds"),
        "command": f"bench/fuzz_api.py --workers {args.workers} --max-time {args.max_time} "
        f"--db {args.db} --seed {args.seed} --role {args.role}",
        "schemathesis": run["shown"],
        "schemathesis_exit": fuzz.returncode,
        "schemathesis_test_cases": summary.group(1).strip() if summary else "",
        "schemathesis_failures": failures,
        "schemathesis_errors": tool_errors,
        "seconds": round(run["seconds"], 1),
        "requests": len(requests),
        "by_class": dict(sorted(by_class.items())),
        "by_status": dict(sorted(by_status.items())),
        "server_errors": errors,
        "server_tracebacks": served.count("Traceback (most recent call last)"),
        "serve_workers": args.serve_workers,
        "workdir": str(workdir),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="arrears-fuzz-"))
    env = _environment(args, workdir)
    token = _build_or_reuse(args, env, workdir)
    result = _result(args, workdir, _fuzz(args, env, workdir, token))
    out = BENCH / f"results-fuzz-api-{args.db}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "schemathesis"}, indent=2))
    print(f"results: {out.relative_to(ROOT)}; the server's log: {workdir / 'serve.log'}")
    failed = result["schemathesis_failures"] or result["server_errors"]
    return 0 if not failed and not result["server_tracebacks"] else 1


if __name__ == "__main__":
    sys.exit(main())
