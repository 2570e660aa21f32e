"""`bench/cycle.py --broker URL`: the real run through Celery workers beside the in-process one.

On a clone of the imported book for each count of workers (1 and 2 worker processes: `arrears
worker --concurrency N`), it times `arrears run --date D --format json` with CELERY_BROKER_URL set
(the CLI wall time, from the command to its JSON), and checks that its JSON is the CLI's real
run's apart from order (the contract of issue 20). Each clone has its own queue, so that a worker
left over from another bench takes nothing. The worker is started, and answers a ping, before
the run's clock starts: a worker is up before the day's run, not started by it.

Beside the wall time, the CPU seconds each side spent (the run's command, the worker and its pool
processes, and PostgreSQL's backends for the clone, `PgCpu`): other work on the machine's two
cores lengthens the wall time, not the CPU time, so the CPU figures say what the broker costs when
the machine is shared.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from common import ROOT

_TICK = os.sysconf("SC_CLK_TCK")


def _same(a: dict, b: dict) -> bool:
    def bag(doc: dict) -> dict:
        return {
            k: Counter(json.dumps(x, sort_keys=True) for x in v) if isinstance(v, list) else v
            for k, v in doc.items()
        }

    return bag(a) == bag(b)


def _proc_cpu(pid: int) -> float | None:
    """User and system CPU seconds of process `pid` so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _tree_cpu(pid: int) -> float:
    """CPU seconds so far of process `pid` and its children (a worker and its pool)."""
    total = _proc_cpu(pid) or 0.0
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        kids = []
    return total + sum(_proc_cpu(int(kid)) or 0.0 for kid in kids)


class PgCpu:
    """The CPU seconds of PostgreSQL's backends serving database `name` while it runs: their
    process ids read from pg_stat_activity, their CPU from /proc (the server is on this machine),
    every 0.2 s, the last figure of each kept (a backend that ends after its last sample is
    counted up to it)."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PgCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())

    def _poll(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while True:
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    (self.name,),
                ).fetchall()
                for (pid,) in pids:
                    cpu = _proc_cpu(pid)
                    if cpu is not None:
                        self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))
                if self._stop.wait(0.2):
                    return


def _ready(run: Any, env: dict, worker: subprocess.Popen, timeout: float = 120) -> float:
    """Wait until the worker answers a ping (`arrears run --status` would not tell): returns
    the seconds it took to come up."""
    t0 = time.perf_counter()
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); from arrears.core.broker import workers_answering;"
        "raise SystemExit(0 if workers_answering(timeout=1.0) else 1)"
    )
    python = str(Path(run.cli[0]).parent / "python")
    while time.perf_counter() - t0 < timeout:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited ({worker.returncode}) before it answered")
        if subprocess.run([python, "-c", code], env=env, cwd=ROOT, check=False).returncode == 0:
            return time.perf_counter() - t0
    raise RuntimeError(f"no worker answered within {timeout:g} s")


def _stop_worker(worker: subprocess.Popen) -> float:
    """SIGTERM (Celery's warm shutdown), then its CPU seconds with its pool's (reaped by it),
    its start and stop included."""
    worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pid, status, rusage = os.wait4(worker.pid, os.WNOHANG)
        if pid:
            worker.returncode = os.waitstatus_to_exitcode(status)
            return rusage.ru_utime + rusage.ru_stime
        time.sleep(0.1)
    worker.kill()
    _, _, rusage = os.wait4(worker.pid, 0)
    return rusage.ru_utime + rusage.ru_stime


def _through(run: Any, on: str, env: dict, n: int, pg_url: str, db_name: str) -> dict:
    """One real run through `n` worker processes: its figures."""
    log = (run.workdir / f"worker{n}.log").open("wb")
    worker = subprocess.Popen(
        [*run.cli, "worker", "--concurrency", str(n)], env=env, cwd=ROOT, stdout=log, stderr=log
    )
    saved = run.env
    try:
        up = _ready(run, env, worker)
        load = os.getloadavg()
        run.env = env
        before = _tree_cpu(worker.pid)
        with PgCpu(pg_url, db_name) as pg:
            step = run.child(
                f"broker_{n}",
                f"broker{n}",
                ["run", "--date", on, "--format", "json", "--wait", "300"],
            )
        step["worker_start_seconds"] = up
        step["loadavg_before"], step["loadavg_after"] = load, os.getloadavg()
        step["postgres_cpu_seconds"] = pg.seconds
        # The worker's and its pool's CPU during the run (its start before it is not the run's).
        step["worker_cpu_seconds"] = _tree_cpu(worker.pid) - before
    finally:
        run.env = saved
        step_cpu = _stop_worker(worker)
    step["worker_cpu_total_seconds"] = step_cpu
    return step


def broker_runs(
    run: Any, on: str, broker: str, clones: dict[int, str], pg_url: str | None = None
) -> None:
    """Into run.res["broker"][N]: the run's seconds through N worker processes (on the clone of
    the imported book `clones[N]`, made before any run), whether its JSON equals the in-process
    CLI run's (run.workdir / "real_run.out"), the ratio of its time to that run's, and the CPU
    seconds of the run's command, the worker and PostgreSQL (`pg_url`: the server's admin URL)."""
    real = json.loads((run.workdir / "real_run.out").read_text())
    inproc = run.res["real_run_cli"]
    figures = run.res.setdefault("broker", {"url": broker.split("@")[-1]})
    for n, url in clones.items():
        env = dict(
            run.env,
            DATABASE_URL=url,
            CELERY_BROKER_URL=broker,
            CELERY_QUEUE=f"bench-{uuid.uuid4().hex[:10]}",
        )
        step = _through(run, on, env, n, pg_url or url, url.rsplit("/", 1)[-1])
        step.pop("output", None)
        out = json.loads((run.workdir / f"broker{n}.out").read_text()) if step["exit"] == 0 else {}
        cpu = step["cpu_seconds"] + step["worker_cpu_seconds"]
        figures[str(n)] = {
            "seconds": step["seconds"],
            "exit": step["exit"],
            "same_json_as_in_process": _same(out, real) if out else False,
            "actions": len(out.get("actions", [])),
            "vs_in_process": step["seconds"] / inproc["seconds"],
            "run_cpu_seconds": step["cpu_seconds"],
            "worker_cpu_seconds": step["worker_cpu_seconds"],
            "python_cpu_seconds": cpu,
            "python_cpu_vs_in_process": cpu / inproc["cpu_seconds"],
            "postgres_cpu_seconds": step["postgres_cpu_seconds"],
            "worker_start_seconds": step["worker_start_seconds"],
            "loadavg_before": step["loadavg_before"],
            "loadavg_after": step["loadavg_after"],
        }
        if step["exit"] != 0:
            figures[str(n)]["error"] = step.get("error", "")[-2000:]
        f = figures[str(n)]
        print(
            f"[{run.db}]   through {broker.split(':')[0]}, {n} worker process(es): "
            f"{f['seconds']:.2f} s ({f['vs_in_process']:.2f}x the CLI's in-process run), "
            f"{f['actions']:,} actions, same JSON as in-process: {f['same_json_as_in_process']}; "
            f"CPU: run {f['run_cpu_seconds']:.1f} s + worker {f['worker_cpu_seconds']:.1f} s "
            f"({f['python_cpu_vs_in_process']:.2f}x in-process), PostgreSQL "
            f"{f['postgres_cpu_seconds']:.1f} s; load {f['loadavg_before'][0]:.1f}"
        )
