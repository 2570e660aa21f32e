"""The in-process side of bench/cycle.py: `cycle_run` timed in a child with `django.setup()`, the
time of its SQL statements by shape (a Django execute_wrapper) and of its parts (timers wrapped
around the functions it calls by their global names), optionally under cProfile.

`measure_in_process` starts the child (`cycle.py --_measure-cycle D`); `measure_cycle_main` is
what it runs: the dry run, the real run and the real run again, its JSON on its last line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

from common import BENCH, ROOT, last_json_line, run_child
from cycle_setup import TABLES

PHASES = (("dry_run", True), ("real_run", False), ("rerun", False))

_SQL_NUM = re.compile(r"\b\d+(\.\d+)?\b")
_SQL_STR = re.compile(r"'[^']*'")
_SQL_LIST = re.compile(r"\(\s*(?:%s|\?|N|'S')(?:\s*,\s*(?:%s|\?|N|'S'))*\s*\)")
_SQL_ROWS = re.compile(r"VALUES\s*(?:\(\.\.\.\)\s*,\s*)*\(\.\.\.\)")


def _sql_shape(sql: str) -> str:
    s = _SQL_STR.sub("'S'", sql)
    s = _SQL_NUM.sub("N", s)
    s = _SQL_LIST.sub("(...)", s)
    s = _SQL_ROWS.sub("VALUES (...)", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= 240 else s[:237] + "..."


class SqlTimer:
    """A Django execute_wrapper: time and count per statement shape (COPY is not seen)."""

    def __init__(self) -> None:
        self.stats: dict[str, list[float]] = {}

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - t0
            st = self.stats.setdefault(_sql_shape(sql), [0, 0.0])
            st[0] += 1
            st[1] += took

    def summary(self, top: int = 12) -> dict:
        total = sum(s for _, s in self.stats.values())
        n = sum(c for c, _ in self.stats.values())
        rows = sorted(self.stats.items(), key=lambda kv: -kv[1][1])[:top]
        return {
            "statements": n,
            "seconds": total,
            "top": [{"sql": k, "count": c, "seconds": round(s, 4)} for k, (c, s) in rows],
        }


# Functions of arrears.dunning.services that cycle_run calls by their global name, in order.
RUN_PARTS = (
    "company_policies",
    "open_items_as_of",
    "_run_chunk",
    "_delinquent_since",
    "next_steps",
    "_decide",
    "_record",
    "charges_post",
)
# Parts inside _run_chunk (not nested in one another): _run_chunk less these is its own work.
# The chunk's rows are written after it (Written.write: the fees, charges_post, among them).
CHUNK_PARTS = (
    "_delinquent_since",
    "next_steps",
    "_decide",
    "_record",
    "bulk.insert_objects",
    "Action.objects.bulk_create",
    "TimelineEvent.objects.bulk_create",
)
CHUNK_REST = "_run_chunk less the parts below: reads of the chunk, the per-account loop"


def _timer(stats: dict[str, list[float]], name: str, fn):
    """`fn` wrapped to add its calls and seconds to stats[name]."""

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            st = stats.setdefault(name, [0, 0.0])
            st[0] += 1
            st[1] += time.perf_counter() - t0

    return wrapper


def install_phase_timers() -> dict[str, list[float]]:
    """Wrap the run's parts (module globals that cycle_run looks up at call time) with timers.

    Returns {part: [calls, seconds]}, which the caller resets between runs. Parts nest:
    accounts_replay is inside charges_post, everything inside _run_chunk.
    """
    from arrears.dunning import run_rows, services
    from arrears.dunning.models import Action
    from arrears.ledger import posting as ledger_services
    from arrears.ledger.models import TimelineEvent

    stats: dict[str, list[float]] = {}
    # Only what exists: the cycle's code moves on, and the bench should not break with it. The
    # run's rows are written by dunning.run_rows, which posts the fees (charges_post) itself.
    for name in RUN_PARTS:
        for module in (services, run_rows):
            if hasattr(module, name):
                setattr(module, name, _timer(stats, name, getattr(module, name)))
    if hasattr(ledger_services, "accounts_replay"):
        ledger_services.accounts_replay = _timer(
            stats, "charges_post > accounts_replay", ledger_services.accounts_replay
        )
    if hasattr(services, "bulk") and hasattr(services.bulk, "insert_objects"):
        services.bulk.insert_objects = _timer(
            stats, "bulk.insert_objects", services.bulk.insert_objects
        )
    if hasattr(run_rows, "Written"):
        run_rows.Written.write = _timer(stats, "Written.write", run_rows.Written.write)
    for model in (Action, TimelineEvent):
        mgr = model.objects
        mgr.bulk_create = _timer(stats, f"{model.__name__}.objects.bulk_create", mgr.bulk_create)
    return stats


def phase_summary(stats: dict[str, list[float]], total: float) -> dict:
    """Calls and seconds per part, _run_chunk's own work beside them, and the run's total."""
    out = {k: {"calls": int(c), "seconds": round(s, 3)} for k, (c, s) in stats.items()}
    if "_run_chunk" in stats:
        rest = stats["_run_chunk"][1] - sum(stats[k][1] for k in CHUNK_PARTS if k in stats)
        out[CHUNK_REST] = {"seconds": round(rest, 3)}
    out["total"] = {"seconds": round(total, 3)}
    return out


def _policy_mix(on: dt.date) -> dict:
    """Accounts with open items as of `on`, by the policy the run chooses for them (untimed)."""
    from arrears.dunning.policy import choose_policy, jurisdiction_of
    from arrears.dunning.services import company_policies
    from arrears.ledger.models import Account
    from arrears.ledger.selectors import open_items_as_of

    policies = company_policies()
    pks = {r.account_pk for r in open_items_as_of(as_of=on)}
    mix: Counter[str] = Counter()
    for a in Account.objects.filter(pk__in=pks).select_related("property").iterator(2000):
        moved_out = a.closed_on is not None and a.closed_on <= on
        prop = a.property
        where = jurisdiction_of(prop.country, prop.state) if prop else ""
        p = choose_policy(policies, jurisdiction=where, account_kind=a.kind, moved_out=moved_out)
        mix[p.name if p else "(none)"] += 1
    return dict(mix.most_common())


def _counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        res = {}
        for t in TABLES:
            cur.execute(f"SELECT count(*) FROM {t}")
            res[t] = cur.fetchone()[0]
        return res


def _json_output_seconds(result) -> float:
    """What the CLI does with the result (`--format json`), timed apart from the run."""
    t0 = time.perf_counter()
    try:
        from arrears.cli.common import write_json_lists
    except ImportError:  # before the CLI was split into its parts
        from arrears.cli import _write_json_lists as write_json_lists

    with open(os.devnull, "w") as devnull:
        write_json_lists(result.as_json(), devnull)
    return time.perf_counter() - t0


def _profile_stats(prof, path: Path, m: dict) -> None:
    """Dump the profile to `path`; its top by cumulative and own time into `m`."""
    import io
    import pstats

    prof.dump_stats(path)
    m["profile"] = str(path)
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(order).print_stats(35)
        m[f"profile_{order}"] = buf.getvalue()


def _timed_run(on: dt.date, dry: bool, phases: dict, profile: bool):
    """One cycle_run, timed, its SQL timed by shape, under cProfile if asked."""
    from django.db import connection

    from arrears.core.heap import frozen_heap
    from arrears.dunning.services import cycle_run

    timer = SqlTimer()
    phases.clear()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
    with connection.execute_wrapper(timer):
        if prof:
            prof.enable()
        t0 = time.perf_counter()
        # As `arrears run` does: the open items kept out of the garbage collector's sight.
        result = cycle_run(on=on, dry_run=dry, actor="bench", holding=frozen_heap)
        seconds = time.perf_counter() - t0
        if prof:
            prof.disable()
    return result, seconds, timer, prof


def _measure_phase(on: dt.date, phase: str, dry: bool, phases: dict, profile_dir: str | None):
    """The figures of one of the three runs (and its profile, with a profile folder)."""
    result, seconds, timer, prof = _timed_run(on, dry, phases, profile_dir is not None)
    m = {
        "seconds": seconds,
        "accounts_seen": result.accounts_seen,
        "actions": len(result.actions),
        "blocked": len(result.blocked),
        "actions_by_step": dict(Counter(a["step"] for a in result.actions).most_common()),
        "blocked_by_rule": dict(Counter(b["rule"] for b in result.blocked).most_common()),
        "sql": timer.summary(),
        "parts": phase_summary(phases, seconds),
        "counts_after": _counts(),
    }
    m["json_output_seconds"] = _json_output_seconds(result)
    m["loadavg_after"] = os.getloadavg()
    if prof:
        _profile_stats(prof, Path(profile_dir) / f"{phase}.prof", m)
    return m


def measure_cycle_main(on_iso: str, profile_dir: str | None) -> None:
    """Child mode: dry run, real run, real run again, each timed in-process; JSON on stdout."""
    import importlib.util

    if importlib.util.find_spec("arrears") is None:  # else: the installed (or PYTHONPATH) code
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    import arrears

    on = dt.date.fromisoformat(on_iso)
    out: dict = {
        "vendor": connection.vendor,
        "date": on_iso,
        "code": str(Path(arrears.__file__).resolve().parent.parent),
    }
    out["counts_before"] = _counts()
    phases = install_phase_timers()
    for phase, dry in PHASES:
        out[phase] = _measure_phase(on, phase, dry, phases, profile_dir)
    out["policy_mix"] = _policy_mix(on)
    print(json.dumps(out))


def measure_in_process(env: dict, workdir: Path, on: dt.date, profile_dir: Path | None) -> dict:
    """Run cycle.py's --_measure-cycle mode in a child with the clone's environment."""
    args = [sys.executable, str(BENCH / "cycle.py"), "--_measure-cycle", on.isoformat()]
    if profile_dir:
        args += ["--_profile-dir", str(profile_dir)]
    name = "profile" if profile_dir else "measure"
    res = run_child(args, env, workdir, name)
    if res["exit"] != 0:
        return {"error": res.get("error", "")}
    out = last_json_line(workdir / f"{name}.out")
    out["child_max_rss_bytes"] = res["max_rss_bytes"]
    return out
