"""Benchmark of the daily collection run: `arrears run --date D`, dry and real, on a generated book.

    .venv/bin/python bench/cycle.py            # 10k accounts / ~1M transactions, PostgreSQL
    .venv/bin/python bench/cycle.py --large    # 100k accounts / ~10M transactions
    .venv/bin/python bench/cycle.py --accounts 200 --transactions 20000   # smoke run
    .venv/bin/python bench/cycle.py --profile  # and cProfile the runs in-process

The book is bench/book.py's generated book (the same generator, the same cache), with one change:
bench/book.py spreads its properties over eight states, of which only New York and California have
a residential policy, so three accounts in four would match no policy and the run would skip them.
Here the properties alternate between NY and CA (city and postal code to match), so every active
account falls under ny-residential or ca-residential and every closed one under post-move-out. The
variant is cached beside the book (bench/.cache/cycle-<book>-nyca/), its other files hard links.

On a fresh PostgreSQL database `arrears_cycle_bench` (or a new SQLite file, `--db sqlite`) it runs
`arrears init` and `arrears import BOOK` (timed, printed, no target), clones the imported database
for the in-process timing, then times, as child processes (wall time, peak RSS):

1. `arrears run --date D --dry-run --format json`
2. `arrears run --date D --format json`, the real run
3. the same real run again, which must do nothing new (no action, no refusal in its JSON; no new
   action, transaction or timeline row in the database),

and the same three calls of `cycle_run(on=D, dry_run=...)` in-process (a child with
`django.setup()`) on the clone, with the time spent in SQL statements beside them. D is the 7th of
the book's last month (`--today` is the 1st of it), the first day after New York's five days of
grace counted as GCL §20 counts them: reminders, CA's 3-day notices, NY's late notices and late
fees, rent demands are due.

Targets of the issue, stated for 100k accounts / 10M transactions on PostgreSQL, document rendering
excluded (the run renders none): the real run under 60 s, the dry run under 30 s. They are checked
on the CLI wall time, which is what the user waits for.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book

from arrears.demo.generator import NY_CA_STATES, property_lines

ROOT, BENCH, CACHE = book.ROOT, book.BENCH, book.CACHE

PG_DB = "arrears_cycle_bench"
IMPORTED_DB = "arrears_cycle_bench_imported"  # --reuse-import: the imported book, kept
PG_URL = f"postgres://postgres@{book.PG_HOST}:{book.PG_PORT}/{PG_DB}"

DRY_MAX_S = 30.0  # PostgreSQL, stated for 100k accounts / 10M transactions
REAL_MAX_S = 60.0

TABLES = ("dunning_action", "ledger_transaction", "ledger_timelineevent", "dunning_runlog")


def cycle_book(source: Path) -> Path:
    """A copy of `source` whose properties alternate NY / CA; other files hard-linked. Cached.

    The properties are the generator's own for the book's parameters (read from its KEY.json) in
    the states of `NY_CA_STATES`: the same rows but for state, city, postal code and the name.
    """
    folder = CACHE / f"cycle-{source.name}-nyca"
    done = folder / ".complete"
    if done.exists():
        return folder
    summary = json.loads((source.parent / f"{source.name}.json").read_text())
    tmp = CACHE / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for path in source.iterdir():
            if path.name == "properties.csv":
                continue
            try:
                os.link(path, tmp / path.name)
            except OSError:
                shutil.copy2(path, tmp / path.name)
        lines = property_lines(
            summary["accounts"],
            summary["transactions_requested"],
            summary["seed"],
            dt.date.fromisoformat(summary["today"]),
            NY_CA_STATES,
        )
        with open(tmp / "properties.csv", "w", encoding="utf-8", newline="") as fout:
            fout.writelines(lines)
        (tmp / ".complete").write_text("")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(folder)
    return folder


def _pg_admin():
    import psycopg

    return psycopg.connect(book.PG_ADMIN_URL, autocommit=True)


def pg_fresh(name: str, template: str | None = None) -> float:
    """Drop and create database `name` (as a copy of `template`, if given); returns seconds."""
    t0 = time.perf_counter()
    with _pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return time.perf_counter() - t0


def _pg_holds(name: str, book_name: str) -> bool:
    """Whether database `name` exists and holds the import of the book `book_name`."""
    with _pg_admin() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return row is not None and row[0] == book_name


def pg_drop(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sqlite_clone(src: Path, dst: Path) -> float:
    t0 = time.perf_counter()
    conn = sqlite3.connect(src)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    shutil.copyfile(src, dst)
    return time.perf_counter() - t0


def settle(db: str, url: str, how: str) -> dict:
    """What autovacuum does to freshly loaded tables on a running server: VACUUM (ANALYZE) or
    ANALYZE the whole database. Returns the seconds and, on PostgreSQL, the server's autovacuum
    setting (when it is off, as on some test servers, nothing ever gathers statistics)."""
    out: dict = {"how": how}
    t0 = time.perf_counter()
    if db == "sqlite":
        if how != "none":
            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            try:
                conn.execute("ANALYZE")
            finally:
                conn.close()
    else:
        import psycopg

        dsn = url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            out["autovacuum"] = conn.execute("SHOW autovacuum").fetchone()[0]
            if how == "vacuum":
                conn.execute("VACUUM (ANALYZE)")
            elif how == "analyze":
                conn.execute("ANALYZE")
    out["seconds"] = time.perf_counter() - t0
    return out


def table_counts(url: str) -> dict[str, int]:
    """Rows of the tables a run writes, read without Django."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


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


class _SqlTimer:
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
CHUNK_PARTS = (
    "_delinquent_since",
    "next_steps",
    "_decide",
    "_record",
    "charges_post",
    "bulk.insert_objects",
    "Action.objects.bulk_create",
    "TimelineEvent.objects.bulk_create",
)
CHUNK_REST = "_run_chunk less the parts below: reads of the chunk, the per-account loop"


def _install_phase_timers() -> dict[str, list[float]]:
    """Wrap the run's parts (module globals that cycle_run looks up at call time) with timers.

    Returns {part: [calls, seconds]}, which the caller resets between runs. Parts nest:
    accounts_replay is inside charges_post, everything inside _run_chunk.
    """
    from arrears.dunning import services
    from arrears.dunning.models import Action
    from arrears.ledger import posting as ledger_services
    from arrears.ledger.models import TimelineEvent

    stats: dict[str, list[float]] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                st = stats.setdefault(name, [0, 0.0])
                st[0] += 1
                st[1] += time.perf_counter() - t0

        return wrapper

    # Only what exists: the cycle's code moves on, and the bench should not break with it.
    for name in RUN_PARTS:
        if hasattr(services, name):
            setattr(services, name, timed(name, getattr(services, name)))
    if hasattr(ledger_services, "accounts_replay"):
        ledger_services.accounts_replay = timed(
            "charges_post > accounts_replay", ledger_services.accounts_replay
        )
    if hasattr(services, "bulk") and hasattr(services.bulk, "insert_objects"):
        services.bulk.insert_objects = timed("bulk.insert_objects", services.bulk.insert_objects)
    for model in (Action, TimelineEvent):
        mgr = model.objects
        mgr.bulk_create = timed(f"{model.__name__}.objects.bulk_create", mgr.bulk_create)
    return stats


def _phase_summary(stats: dict[str, list[float]], total: float) -> dict:
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


def _measure_cycle_main(on_iso: str, profile_dir: str | None) -> None:
    """Child mode: dry run, real run, real run again, each timed in-process; JSON on stdout."""
    import importlib.util

    if importlib.util.find_spec("arrears") is None:  # else: the installed (or PYTHONPATH) code
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    import arrears
    from arrears.core.heap import frozen_heap
    from arrears.dunning.services import cycle_run

    on = dt.date.fromisoformat(on_iso)
    out: dict = {
        "vendor": connection.vendor,
        "date": on_iso,
        "code": str(Path(arrears.__file__).resolve().parent.parent),
    }

    def counts() -> dict[str, int]:
        with connection.cursor() as cur:
            res = {}
            for t in TABLES:
                cur.execute(f"SELECT count(*) FROM {t}")
                res[t] = cur.fetchone()[0]
            return res

    out["counts_before"] = counts()
    phases = _install_phase_timers()
    for phase, dry in (("dry_run", True), ("real_run", False), ("rerun", False)):
        timer = _SqlTimer()
        phases.clear()
        prof = None
        if profile_dir:
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
        m = {
            "seconds": seconds,
            "accounts_seen": result.accounts_seen,
            "actions": len(result.actions),
            "blocked": len(result.blocked),
            "actions_by_step": dict(Counter(a["step"] for a in result.actions).most_common()),
            "blocked_by_rule": dict(Counter(b["rule"] for b in result.blocked).most_common()),
            "sql": timer.summary(),
            "parts": _phase_summary(phases, seconds),
            "counts_after": counts(),
        }
        # What the CLI does with the result (`--format json`), timed apart from the run.
        t0 = time.perf_counter()
        from arrears.cli.common import write_json_lists

        with open(os.devnull, "w") as devnull:
            write_json_lists(result.as_json(), devnull)
        m["json_output_seconds"] = time.perf_counter() - t0
        m["loadavg_after"] = os.getloadavg()
        if prof:
            import io
            import pstats

            path = Path(profile_dir) / f"{phase}.prof"
            prof.dump_stats(path)
            m["profile"] = str(path)
            for order in ("cumulative", "tottime"):
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats(order).print_stats(35)
                m[f"profile_{order}"] = buf.getvalue()
        out[phase] = m
    out["policy_mix"] = _policy_mix(on)
    print(json.dumps(out))


def measure_in_process(env: dict, workdir: Path, on: dt.date, profile_dir: Path | None) -> dict:
    args = [sys.executable, str(Path(__file__).resolve()), "--_measure-cycle", on.isoformat()]
    if profile_dir:
        args += ["--_profile-dir", str(profile_dir)]
    name = "profile" if profile_dir else "measure"
    res = book.run_child(args, env, workdir, name)
    if res["exit"] != 0:
        return {"error": res.get("error", "")}
    lines = (workdir / f"{name}.out").read_text().strip().splitlines()
    out = json.loads(lines[-1])
    out["child_max_rss_bytes"] = res["max_rss_bytes"]
    return out


def _run_json(step: dict, workdir: Path, name: str) -> dict | None:
    try:
        return json.loads((workdir / f"{name}.out").read_text())
    except (OSError, ValueError) as exc:
        step["error"] = f"not JSON: {exc}"
        return None


def bench_database(
    db: str,
    bk: Path,
    on: dt.date,
    profile: bool,
    keep: bool,
    after_import: str,
    reuse: bool = False,
) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"arrears-cycle-{db}-"))
    res: dict = {"database": db, "workdir": str(workdir), "date": on.isoformat()}
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    clones: list[str] = []

    def url_of(name: str) -> str:
        if db == "sqlite":
            return f"sqlite:///{workdir / (name + '.sqlite3')}"
        return f"postgres://postgres@{book.PG_HOST}:{book.PG_PORT}/{name}"

    def clone(name: str) -> str:
        if db == "sqlite":
            src = Path(url_of(PG_DB).removeprefix("sqlite:///"))
            seconds = sqlite_clone(src, Path(url_of(name).removeprefix("sqlite:///")))
        else:
            seconds = pg_fresh(name, template=PG_DB)
            clones.append(name)
        res.setdefault("clone_seconds", {})[name] = seconds
        print(f"[{db}]   cloned into {name} in {seconds:.1f} s")
        return url_of(name)

    env["DATABASE_URL"] = url_of(PG_DB)
    imported = db == "postgres" and reuse and _pg_holds(IMPORTED_DB, bk.name)
    if db == "postgres":
        pg_fresh(PG_DB, template=IMPORTED_DB if imported else None)
    res["database_url"] = env["DATABASE_URL"]
    cli = book.arrears_cmd()
    try:
        print(f"[{db}] arrears init")
        step = res["init"] = book.run_child([*cli, "init"], env, workdir, "init")
        if step["exit"] != 0:
            raise book._StepFailedError("init", step)
        if imported:
            # The import is setup, not what is measured: a copy of the one a run before made.
            print(f"[{db}] the book as an earlier run imported it (copied from {IMPORTED_DB})")
            res["import"] = {"reused": IMPORTED_DB}
        else:
            print(f"[{db}] arrears import {bk}  (not timed against a target)")
            step = res["import"] = book.run_child([*cli, "import", str(bk)], env, workdir, "import")
            if step["exit"] != 0:
                raise book._StepFailedError("import", step)
            print(
                f"[{db}]   {step['seconds']:.1f} s, peak RSS {step['max_rss_bytes'] / 1e6:,.0f} MB"
            )
            if db == "postgres" and reuse:
                pg_fresh(IMPORTED_DB, template=PG_DB)
                with _pg_admin() as conn:
                    conn.execute(f"COMMENT ON DATABASE {IMPORTED_DB} IS '{bk.name}'")
        st = res["after_import"] = settle(db, env["DATABASE_URL"], after_import)
        what = {"vacuum": "VACUUM (ANALYZE)", "analyze": "ANALYZE", "none": "no statistics"}
        print(
            f"[{db}] after the import: {what[after_import]} ({st['seconds']:.1f} s)"
            + (f"; the server's autovacuum is {st['autovacuum']}" if "autovacuum" in st else "")
        )

        inproc_env = dict(env, DATABASE_URL=clone(f"{PG_DB}_inproc"))
        prof_env = dict(env, DATABASE_URL=clone(f"{PG_DB}_prof")) if profile else None

        base = ["run", "--date", on.isoformat(), "--format", "json"]
        for label, extra in (("dry_run", ["--dry-run"]), ("real_run", []), ("rerun", [])):
            before = table_counts(env["DATABASE_URL"])
            load = os.getloadavg()  # another job on the machine shows here
            print(f"[{db}] arrears {' '.join(base + extra)}")
            step = res[f"{label}_cli"] = book.run_child([*cli, *base, *extra], env, workdir, label)
            step.pop("output", None)
            if step["exit"] != 0:
                raise book._StepFailedError(label, step)
            doc = _run_json(step, workdir, label)
            if doc is None:
                raise book._StepFailedError(label, step)
            step["actions"] = len(doc["actions"])
            step["blocked"] = len(doc["blocked"])
            step["actions_by_step"] = dict(Counter(a["step"] for a in doc["actions"]).most_common())
            step["blocked_by_rule"] = dict(Counter(b["rule"] for b in doc["blocked"]).most_common())
            step["counts_before"], step["counts_after"] = before, table_counts(env["DATABASE_URL"])
            step["loadavg_before"], step["loadavg_after"] = load, os.getloadavg()
            print(
                f"[{db}]   {step['seconds']:.2f} s, {step['actions']:,} actions, "
                f"{step['blocked']:,} refused, peak RSS {step['max_rss_bytes'] / 1e6:,.0f} MB"
            )

        print(f"[{db}] cycle_run in-process (dry, real, again) on the clone")
        inproc = measure_in_process(inproc_env, workdir, on, None)
        if "error" in inproc:
            raise book._StepFailedError("in-process cycle_run", inproc)
        res["in_process"] = inproc
        for label in ("dry_run", "real_run", "rerun"):
            m = inproc[label]
            print(
                f"[{db}]   {label}: {m['seconds']:.2f} s (SQL {m['sql']['seconds']:.2f} s in "
                f"{m['sql']['statements']:,} statements), {m['actions']:,} actions"
            )

        if prof_env:
            print(f"[{db}] cycle_run in-process under cProfile on a second clone")
            pdir = CACHE / f"profile-cycle-{db}-{on.isoformat()}"
            shutil.rmtree(pdir, ignore_errors=True)
            pdir.mkdir(parents=True)
            prof = measure_in_process(prof_env, workdir, on, pdir)
            if "error" in prof:
                raise book._StepFailedError("profile", prof)
            res["profile"] = prof
    except book._StepFailedError as exc:
        res["failed"] = exc.step
        print(f"[{db}]   FAILED at {exc.step}:\n{exc.detail.get('error', '')}")
    finally:
        for name in clones:
            with contextlib.suppress(Exception):
                pg_drop(name)
        if db == "sqlite" and keep:
            print(f"[{db}] kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return res


def _fmt_counter(c: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in c.items()) or "none"


def _checks(res: dict, large_target: bool) -> list[dict]:
    pg = res["database"] == "postgres"
    rows: list[dict] = []
    at = "" if large_target else " (at 100k)"

    def row(key, figure, value, target="", ok=None, **raw):
        result = "-" if ok is None else ("pass" if ok else "FAIL")
        rows.append(
            {
                "key": key,
                "figure": figure,
                "value": value,
                "target": target,
                "result": result,
                **raw,
            }
        )

    imp = res.get("import")
    if imp and imp.get("exit") == 0:
        row(
            "import",
            "import (setup, not a target)",
            f"{imp['seconds']:.1f} s",
            seconds=imp["seconds"],
        )
    st = res.get("after_import")
    if st:
        what = {"vacuum": "VACUUM (ANALYZE)", "analyze": "ANALYZE", "none": "nothing"}[st["how"]]
        auto = f"; server autovacuum {st['autovacuum']}" if "autovacuum" in st else ""
        row(
            "after_import",
            "after the import (setup)",
            f"{what}, {st['seconds']:.1f} s{auto}",
            seconds=st["seconds"],
        )
    inproc = res.get("in_process") or {}
    mix = inproc.get("policy_mix")
    if mix is not None:
        row(
            "accounts",
            "accounts with open items, by policy",
            f"{sum(mix.values()):,} ({_fmt_counter(mix)})",
            accounts=mix,
        )
    for label, name, limit in (
        ("dry_run", "dry run", DRY_MAX_S),
        ("real_run", "real run", REAL_MAX_S),
        ("rerun", "real run again", None),
    ):
        cli, m = res.get(f"{label}_cli"), inproc.get(label)
        if cli and cli.get("exit") == 0:
            target, ok = "(PostgreSQL only)", None
            if limit is not None and pg:
                target, ok = f"< {limit:g} s{at}", cli["seconds"] < limit
            elif limit is None:
                target = "-"
            row(
                f"{label}_cli",
                f"{name}, CLI wall time",
                f"{cli['seconds']:.2f} s",
                target,
                ok,
                seconds=cli["seconds"],
                max_rss_bytes=cli["max_rss_bytes"],
            )
        if m:
            out_s = m.get("json_output_seconds")
            row(
                f"{label}_inproc",
                f"{name}, cycle_run in-process",
                f"{m['seconds']:.2f} s (SQL {m['sql']['seconds']:.2f} s"
                + (f"; its JSON output {out_s:.2f} s)" if out_s is not None else ")"),
                seconds=m["seconds"],
                sql_seconds=m["sql"]["seconds"],
            )
    dry, real, again = (res.get(f"{k}_cli") for k in ("dry_run", "real_run", "rerun"))
    if real and "actions" in real:
        row(
            "actions",
            "real run: actions",
            f"{real['actions']:,} ({_fmt_counter(real['actions_by_step'])})",
            actions=real["actions"],
        )
        row(
            "refused",
            "real run: refused by the guard",
            f"{real['blocked']:,} ({_fmt_counter(real['blocked_by_rule'])})",
            blocked=real["blocked"],
        )
        a, b = real["counts_before"], real["counts_after"]
        row(
            "written",
            "real run: rows written",
            f"actions {b['dunning_action'] - a['dunning_action']:,}, fees "
            f"{b['ledger_transaction'] - a['ledger_transaction']:,}, timeline "
            f"{b['ledger_timelineevent'] - a['ledger_timelineevent']:,}",
        )
    if dry and real and "actions" in dry and "actions" in real:
        same = (dry["actions"], dry["blocked"]) == (real["actions"], real["blocked"])
        row(
            "dry_eq_real",
            "dry run plans what the real run does",
            f"{dry['actions']:,} / {dry['blocked']:,} vs {real['actions']:,} / {real['blocked']:,}",
            "equal",
            same,
        )
    if again and "actions" in again:
        a, b = again["counts_before"], again["counts_after"]
        new = {t: b[t] - a[t] for t in TABLES if t != "dunning_runlog"}
        ok = again["actions"] == 0 and again["blocked"] == 0 and not any(new.values())
        row(
            "rerun_nothing",
            "real run again: nothing new",
            f"{again['actions']} actions, {again['blocked']} refused; new rows: "
            f"{_fmt_counter(new)}",
            "nothing new",
            ok,
        )
    if real and "actions" in real and inproc.get("real_run"):
        ip = inproc["real_run"]
        row(
            "cli_eq_inproc",
            "CLI and in-process runs agree",
            f"{real['actions']:,} / {real['blocked']:,} vs {ip['actions']:,} / {ip['blocked']:,}",
            "equal",
            (real["actions"], real["blocked"]) == (ip["actions"], ip["blocked"]),
        )
    return rows


def _report_rows(results: dict) -> list[list[str]]:
    rows = [["db", "figure", "value", "target", "result"]]
    for db, res in results["databases"].items():
        if "skipped" in res:
            rows.append([db, f"skipped: {res['skipped']}", "", "", ""])
            continue
        for c in res.get("checks", []):
            rows.append([db, c["figure"], c["value"], c["target"], c["result"]])
        if "failed" in res:
            rows.append([db, f"FAILED at {res['failed']}", "", "", "FAIL"])
    return rows


def _markdown(results: dict, rows: list[list[str]]) -> str:
    bk, m, code = results["book"], results["machine"], results["code"]
    versions = [f"Python {m['python']}"]
    pg = results["databases"].get("postgres", {})
    if "server_version" in pg:
        versions.append(f"PostgreSQL {pg['server_version'].split()[0]}")
    if "sqlite" in results["databases"]:
        versions.append(f"SQLite {m['sqlite']}")
    return (
        f"**{bk['accounts']:,} accounts, {bk['transactions']:,} transactions** "
        f"({bk['history_months']} months to {results['today']}, seed {bk['seed']}, properties in "
        f"NY and CA); run date {results['date']}; "
        + (
            f"commit {code['commit']}{' with changes' if code['dirty'] else ''}. "
            if "commit" in code
            else f"code from {code['code_dir']}. "
        )
        + f"{m.get('cpu', '?')}, {m['cpus']} CPUs, "
        f"{m.get('memory_gb', '?')} GB; {', '.join(versions)}.\n\n"
        + book._table(rows, markdown=True)
    )


PART_ORDER = (
    "company_policies",
    "open_items_as_of",
    "_run_chunk",
    CHUNK_REST,
    "_delinquent_since",
    "next_steps",
    "_decide",
    "_record",
    "charges_post",
    "charges_post > accounts_replay",
    "bulk.insert_objects",
    "Action.objects.bulk_create",
    "TimelineEvent.objects.bulk_create",
    "total",
)


def _parts_rows(results: dict) -> list[list[str]]:
    """Where the in-process time goes: seconds per part of cycle_run, per run (no profiler)."""
    labels = ("dry_run", "real_run", "rerun")
    rows = [["db", "part of cycle_run (in-process, no profiler)", *labels]]
    for db, res in results["databases"].items():
        inproc = res.get("in_process") or {}
        if not all(lb in inproc for lb in labels):
            continue
        for part in PART_ORDER:
            cells = []
            for lb in labels:
                p = inproc[lb]["parts"].get(part)
                cells.append("" if p is None else f"{p['seconds']:.2f} s")
            if any(cells):
                rows.append([db, part, *cells])
        rows.append(
            [
                db,
                "SQL statements through Django (all parts)",
                *(f"{inproc[lb]['sql']['seconds']:.2f} s" for lb in labels),
            ]
        )
    return rows


def _print_profile(results: dict) -> None:
    for db, res in results["databases"].items():
        prof = res.get("profile")
        if not prof:
            continue
        for phase in ("dry_run", "real_run", "rerun"):
            p = prof[phase]
            print(
                f"\n==== [{db}] profile of {phase}: {p['seconds']:.2f} s under cProfile "
                f"({p['profile']}) ===="
            )
            print(
                f"SQL through Django: {p['sql']['seconds']:.2f} s in "
                f"{p['sql']['statements']:,} statements; the slowest shapes:"
            )
            for q in p["sql"]["top"]:
                print(f"  {q['seconds']:8.3f} s {q['count']:6,}x  {q['sql'][:200]}")
            lines = p["profile_cumulative"].splitlines()
            start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
            print("\n".join(lines[start : start + 36]))


def code_version() -> dict:
    """Which code the children run: where `arrears` is imported from and, when that is this work
    tree, its commit and whether arrears/ or config/ has changes not committed. Others may commit
    while a long run goes on: compared at the end. (To pin the code, run from a copy:
    `git archive HEAD arrears config | tar -x -C DIR`, `git rev-parse --short HEAD > DIR/COMMIT`
    and PYTHONPATH=DIR.)"""
    import importlib.util

    spec = importlib.util.find_spec("arrears")
    where = Path(spec.origin).resolve().parent.parent if spec and spec.origin else ROOT
    out: dict = {"code_dir": str(where)}
    if where != ROOT:
        with contextlib.suppress(OSError):  # a copy may say which commit it is
            out["commit"] = (where / "COMMIT").read_text().strip() + " (a copy)"
            out["dirty"] = False
        return out

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    out["commit"] = git("rev-parse", "--short", "HEAD")
    out["dirty"] = bool(git("status", "--porcelain", "--", "arrears", "config"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    book.add_book_arguments(ap)
    ap.add_argument("--db", default="postgres", help="postgres (default), sqlite, or both")
    ap.add_argument(
        "--date",
        help="the run's date (default: the 7th of the book's last month, when New York's late "
        "notices first fall due)",
    )
    ap.add_argument("--profile", action="store_true", help="also cProfile the runs in-process")
    ap.add_argument(
        "--after-import",
        choices=("vacuum", "analyze", "none"),
        default="vacuum",
        help="what to do between the import and the runs: VACUUM (ANALYZE) the database "
        "(default: what autovacuum does on a running server), ANALYZE only, or nothing",
    )
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files and step logs")
    ap.add_argument(
        "--reuse-import",
        action="store_true",
        help=f"PostgreSQL: keep a copy of the imported book ({IMPORTED_DB}) and start "
        "from it instead of importing again when it holds the same book",
    )
    ap.add_argument("--generate-only", action="store_true", help="generate (cache) the book, stop")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--_measure-cycle", dest="measure_cycle", help=argparse.SUPPRESS)
    ap.add_argument("--_profile-dir", dest="profile_dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.measure_cycle:
        _measure_cycle_main(args.measure_cycle, args.profile_dir)
        return 0

    accounts_n, txns = (100_000, 10_000_000) if args.large else (10_000, 1_000_000)
    if args.accounts or args.transactions:
        accounts_n = args.accounts or accounts_n
        txns = args.transactions or accounts_n * 100
    today = dt.date.fromisoformat(args.today)
    on = dt.date.fromisoformat(args.date) if args.date else today.replace(day=7)
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    for d in dbs:
        if d not in ("sqlite", "postgres"):
            ap.error(f"unknown database {d!r}: sqlite or postgres")

    source, summary = book.cached_book(accounts_n, txns, args.seed, today)
    bk = cycle_book(source)
    print(
        f"book {bk}: {summary['accounts']:,} accounts, {summary['transactions']:,} transactions "
        f"over {summary['history_months']} months, properties alternately NY / CA; run date {on}"
    )
    if args.generate_only:
        return 0

    size = f"{book._human(accounts_n)}-{book._human(txns)}"
    results: dict = {
        "size": size,
        "book": summary,
        "book_folder": str(bk),
        "machine": book._machine(),
        "code": code_version(),
        "today": today.isoformat(),
        "date": on.isoformat(),
        "databases": {},
    }
    for db in dbs:
        if db == "postgres":
            why = book.pg_reachable()
            if why:
                print(f"[postgres] skipped: {why}")
                results["databases"][db] = {"skipped": why}
                continue
        res = bench_database(
            db, bk, on, args.profile, args.keep, args.after_import, args.reuse_import
        )
        if db == "postgres":
            with _pg_admin() as conn:
                res["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        res["checks"] = _checks(res, large_target=accounts_n >= 100_000)
        results["databases"][db] = res

    end = code_version()
    if end != results["code"]:
        results["code_at_end"] = end
        print(f"\nWARNING: the code changed during the run: {results['code']} -> {end}")
    out = BENCH / f"results-cycle-{size}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows = _report_rows(results)
    if args.profile:
        _print_profile(results)
    print(
        f"\nBook: {summary['accounts']:,} accounts, {summary['transactions']:,} transactions, "
        f"today {today}; run date {on}; seed {args.seed}"
    )
    print(book._table(rows, markdown=False))
    parts = _parts_rows(results)
    if len(parts) > 1:
        print()
        print(book._table(parts, markdown=False))
    print(f"\nresults: {out.relative_to(ROOT)}\n\nMarkdown:\n")
    print(_markdown(results, rows))
    if len(parts) > 1:
        print()
        print(book._table(parts, markdown=True))
    print()

    failed = any("failed" in r for r in results["databases"].values())
    missed = any(
        c["result"] == "FAIL" for r in results["databases"].values() for c in r.get("checks", [])
    )
    if failed or (args.check and missed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
