"""`bench/cycle.py --broker URL`: the real run through Celery workers beside the in-process one.

On a clone of the imported book for each count of workers (1 and 2 worker processes: `arrears
worker --concurrency N`), it times `arrears run --date D --format json` with CELERY_BROKER_URL set
(the CLI wall time, from the command to its JSON), and checks that its JSON is the CLI's real
run's apart from order (the contract of issue 20). Each clone has its own queue, so that a worker
left over from another bench takes nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections import Counter
from typing import Any

from common import ROOT


def _same(a: dict, b: dict) -> bool:
    def bag(doc: dict) -> dict:
        return {
            k: Counter(json.dumps(x, sort_keys=True) for x in v) if isinstance(v, list) else v
            for k, v in doc.items()
        }

    return bag(a) == bag(b)


def broker_runs(run: Any, on: str, broker: str, clones: dict[int, str]) -> None:
    """Into run.res["broker"][N]: the run's seconds through N worker processes (on the clone of
    the imported book `clones[N]`, made before any run), whether its JSON equals the in-process
    CLI run's (run.workdir / "real_run.out"), and the ratio of its time to that run's."""
    real = json.loads((run.workdir / "real_run.out").read_text())
    figures = run.res.setdefault("broker", {"url": broker.split("@")[-1]})
    for n, url in clones.items():
        env = dict(
            run.env,
            DATABASE_URL=url,
            CELERY_BROKER_URL=broker,
            CELERY_QUEUE=f"bench-{uuid.uuid4().hex[:10]}",
        )
        log = (run.workdir / f"worker{n}.log").open("wb")
        worker = subprocess.Popen(
            [*run.cli, "worker", "--concurrency", str(n)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        try:
            time.sleep(3)  # the worker's start is not the run's time
            saved = run.env
            run.env = env
            try:
                step = run.child(
                    f"broker_{n}", f"broker{n}", ["run", "--date", on, "--format", "json"]
                )
            finally:
                run.env = saved
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=120)
        step.pop("output", None)
        out = json.loads((run.workdir / f"broker{n}.out").read_text()) if step["exit"] == 0 else {}
        figures[str(n)] = {
            "seconds": step["seconds"],
            "exit": step["exit"],
            "same_json_as_in_process": _same(out, real) if out else False,
            "actions": len(out.get("actions", [])),
            "vs_in_process": step["seconds"] / run.res["real_run_cli"]["seconds"],
        }
        print(
            f"[{run.db}]   through {broker.split(':')[0]}, {n} worker process(es): "
            f"{step['seconds']:.2f} s ({figures[str(n)]['vs_in_process']:.2f}x the CLI's "
            f"in-process run), {figures[str(n)]['actions']:,} actions, same JSON as "
            f"in-process: {figures[str(n)]['same_json_as_in_process']}"
        )
