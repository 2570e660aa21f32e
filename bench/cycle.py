"""Benchmark of the daily collection run: `arrears run --date D`, dry and real, on a generated book.

    .venv/bin/python bench/cycle.py            # 10k accounts / ~1M transactions, PostgreSQL
    .venv/bin/python bench/cycle.py --large    # 100k accounts / ~10M transactions
    .venv/bin/python bench/cycle.py --accounts 200 --transactions 20000   # smoke run
    .venv/bin/python bench/cycle.py --profile  # and cProfile the runs in-process
    .venv/bin/python bench/cycle.py --large --broker redis://127.0.0.1:6379/0   # and on workers

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

The book and the databases are prepared by bench/cycle_setup.py, the in-process child is
bench/cycle_measure.py, the checks and tables are bench/cycle_report.py; what the benchmarks share
is bench/common.py.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cycle_setup
from common import (
    BENCH,
    CACHE,
    PG_ADMIN_URL,
    PG_HOST,
    PG_PORT,
    ROOT,
    StepFailedError,
    add_book_arguments,
    arrears_cmd,
    book_size,
    cached_book,
    databases,
    exit_status,
    human,
    machine,
    pg_reachable,
    pg_server_version,
    run_child,
    table,
)
from cycle_measure import PHASES, measure_cycle_main, measure_in_process
from cycle_report import checks, markdown, parts_rows, print_profile, report_rows
from cycle_setup import (
    cycle_book,
    pg_drop,
    pg_fresh,
    pg_holds,
    pg_keep_import,
    settle,
    sqlite_clone,
    table_counts,
)

SETTLED = {"vacuum": "VACUUM (ANALYZE)", "analyze": "ANALYZE", "none": "no statistics"}


@dataclass
class _Run:
    """One database's run: its work folder, its children's environment, its results so far and
    the PostgreSQL copies it made (dropped at the end)."""

    db: str
    workdir: Path
    env: dict
    res: dict
    cli: list[str]
    clones: list[str] = field(default_factory=list)

    def url_of(self, name: str) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.workdir / (name + '.sqlite3')}"
        return f"postgres://postgres@{PG_HOST}:{PG_PORT}/{name}"

    def clone(self, name: str) -> str:
        """A copy of the imported database as `name`; returns its URL."""
        if self.db == "sqlite":
            src = Path(self.url_of(cycle_setup.PG_DB).removeprefix("sqlite:///"))
            seconds = sqlite_clone(src, Path(self.url_of(name).removeprefix("sqlite:///")))
        else:
            seconds = pg_fresh(name, template=cycle_setup.PG_DB)
            self.clones.append(name)
        self.res.setdefault("clone_seconds", {})[name] = seconds
        print(f"[{self.db}]   cloned into {name} in {seconds:.1f} s")
        return self.url_of(name)

    def child(self, key: str, name: str, args: list[str]) -> dict:
        """Run `arrears ARGS` as a child and keep its figures as res[key]."""
        self.res[key] = run_child([*self.cli, *args], self.env, self.workdir, name)
        return self.res[key]


def _init_and_import(run: _Run, bk: Path, imported: bool, reuse: bool) -> None:
    """`arrears init`, then `arrears import BOOK` (or the copy of an earlier run's import)."""
    db = run.db
    print(f"[{db}] arrears init")
    step = run.child("init", "init", ["init"])
    if step["exit"] != 0:
        raise StepFailedError("init", step)
    if imported:
        # The import is setup, not what is measured: a copy of the one a run before made.
        print(
            f"[{db}] the book as an earlier run imported it (copied from {cycle_setup.IMPORTED_DB})"
        )
        run.res["import"] = {"reused": cycle_setup.IMPORTED_DB}
        return
    print(f"[{db}] arrears import {bk}  (not timed against a target)")
    step = run.child("import", "import", ["import", str(bk)])
    if step["exit"] != 0:
        raise StepFailedError("import", step)
    print(f"[{db}]   {step['seconds']:.1f} s, peak RSS {step['max_rss_bytes'] / 1e6:,.0f} MB")
    if db == "postgres" and reuse:
        pg_keep_import(bk.name)


def _settle(run: _Run, after_import: str) -> None:
    st = run.res["after_import"] = settle(run.db, run.env["DATABASE_URL"], after_import)
    print(
        f"[{run.db}] after the import: {SETTLED[after_import]} ({st['seconds']:.1f} s)"
        + (f"; the server's autovacuum is {st['autovacuum']}" if "autovacuum" in st else "")
    )


def _run_json(step: dict, workdir: Path, name: str) -> dict | None:
    try:
        return json.loads((workdir / f"{name}.out").read_text())
    except (OSError, ValueError) as exc:
        step["error"] = f"not JSON: {exc}"
        return None


def _cli_run(run: _Run, label: str, args: list[str]) -> None:
    """One `arrears run` as a child: its wall time, what its JSON lists, the rows it wrote."""
    url = run.env["DATABASE_URL"]
    before = table_counts(url)
    load = os.getloadavg()  # another job on the machine shows here
    print(f"[{run.db}] arrears {' '.join(args)}")
    if run.db == "postgres":
        from cycle_broker import PgCpu

        with PgCpu(PG_ADMIN_URL, url.rsplit("/", 1)[-1]) as pg:
            step = run.child(f"{label}_cli", label, args)
        step["postgres_cpu_seconds"] = pg.seconds
    else:
        step = run.child(f"{label}_cli", label, args)
    step.pop("output", None)
    if step["exit"] != 0:
        raise StepFailedError(label, step)
    doc = _run_json(step, run.workdir, label)
    if doc is None:
        raise StepFailedError(label, step)
    step["actions"] = len(doc["actions"])
    step["blocked"] = len(doc["blocked"])
    step["actions_by_step"] = dict(Counter(a["step"] for a in doc["actions"]).most_common())
    step["blocked_by_rule"] = dict(Counter(b["rule"] for b in doc["blocked"]).most_common())
    step["counts_before"], step["counts_after"] = before, table_counts(url)
    step["loadavg_before"], step["loadavg_after"] = load, os.getloadavg()
    print(
        f"[{run.db}]   {step['seconds']:.2f} s, {step['actions']:,} actions, "
        f"{step['blocked']:,} refused, peak RSS {step['max_rss_bytes'] / 1e6:,.0f} MB; CPU "
        f"{step['cpu_seconds']:.1f} s"
        + (
            f", PostgreSQL {step['postgres_cpu_seconds']:.1f} s"
            if "postgres_cpu_seconds" in step
            else ""
        )
        + f"; load {load[0]:.1f}"
    )


def _in_process(run: _Run, on: dt.date, env: dict) -> None:
    db = run.db
    print(f"[{db}] cycle_run in-process (dry, real, again) on the clone")
    inproc = measure_in_process(env, run.workdir, on, None)
    if "error" in inproc:
        raise StepFailedError("in-process cycle_run", inproc)
    run.res["in_process"] = inproc
    for label, _ in PHASES:
        m = inproc[label]
        print(
            f"[{db}]   {label}: {m['seconds']:.2f} s (SQL {m['sql']['seconds']:.2f} s in "
            f"{m['sql']['statements']:,} statements), {m['actions']:,} actions"
        )


def _profile(run: _Run, on: dt.date, env: dict) -> None:
    print(f"[{run.db}] cycle_run in-process under cProfile on a second clone")
    pdir = CACHE / f"profile-cycle-{run.db}-{on.isoformat()}"
    shutil.rmtree(pdir, ignore_errors=True)
    pdir.mkdir(parents=True)
    prof = measure_in_process(env, run.workdir, on, pdir)
    if "error" in prof:
        raise StepFailedError("profile", prof)
    run.res["profile"] = prof


def _steps(run: _Run, bk: Path, on: dt.date, opts: argparse.Namespace, imported: bool) -> None:
    """Import, settle, clone; the three runs by the CLI, then in-process (and profiled)."""
    _init_and_import(run, bk, imported, opts.reuse_import)
    _settle(run, opts.after_import)
    inproc_env = (
        None
        if opts.broker_only
        else dict(run.env, DATABASE_URL=run.clone(f"{cycle_setup.PG_DB}_inproc"))
    )
    prof_env = (
        dict(run.env, DATABASE_URL=run.clone(f"{cycle_setup.PG_DB}_prof")) if opts.profile else None
    )
    workers = {n: run.clone(f"{cycle_setup.PG_DB}_w{n}") for n in (1, 2)} if opts.broker else {}
    base = ["run", "--date", on.isoformat(), "--format", "json"]
    for label, dry in PHASES:
        if opts.broker_only and label != "real_run":
            continue
        _cli_run(run, label, base + (["--dry-run"] if dry else []))
    if not opts.broker_only:
        _in_process(run, on, inproc_env)
    if opts.broker:
        from cycle_broker import broker_runs

        print(f"[{run.db}] the real run through Celery workers ({opts.broker.split(':')[0]})")
        broker_runs(run, on.isoformat(), opts.broker, workers, PG_ADMIN_URL)
    if prof_env:
        _profile(run, on, prof_env)


def bench_database(db: str, bk: Path, on: dt.date, opts: argparse.Namespace) -> dict:
    """Every figure of one database, on new SQLite files or fresh PostgreSQL databases."""
    workdir = Path(tempfile.mkdtemp(prefix=f"arrears-cycle-{db}-"))
    res: dict = {"database": db, "workdir": str(workdir), "date": on.isoformat()}
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = _Run(db, workdir, env, res, arrears_cmd())
    env["DATABASE_URL"] = run.url_of(cycle_setup.PG_DB)
    imported = db == "postgres" and opts.reuse_import and pg_holds(cycle_setup.IMPORTED_DB, bk.name)
    if db == "postgres":
        pg_fresh(cycle_setup.PG_DB, template=cycle_setup.IMPORTED_DB if imported else None)
    res["database_url"] = env["DATABASE_URL"]
    try:
        _steps(run, bk, on, opts, imported)
    except StepFailedError as exc:
        res["failed"] = exc.step
        print(f"[{db}]   FAILED at {exc.step}:\n{exc.detail.get('error', '')}")
    finally:
        for name in run.clones:
            with contextlib.suppress(Exception):
                pg_drop(name)
        if db == "sqlite" and opts.keep:
            print(f"[{db}] kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return res


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


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
    out["commit"] = _git("rev-parse", "--short", "HEAD")
    out["dirty"] = bool(_git("status", "--porcelain", "--", "arrears", "config"))
    return out


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_book_arguments(ap)
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
    ap.add_argument(
        "--pg-db",
        default=cycle_setup.PG_DB,
        help=f"PostgreSQL: the bench's database, its copies named after it (default "
        f"{cycle_setup.PG_DB})",
    )
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files and step logs")
    ap.add_argument(
        "--reuse-import",
        action="store_true",
        help=f"PostgreSQL: keep a copy of the imported book ({cycle_setup.IMPORTED_DB}) and start "
        "from it instead of importing again when it holds the same book",
    )
    ap.add_argument(
        "--broker",
        help="also time the real run through Celery workers on this broker (redis://… or "
        "amqp://…), with 1 and 2 worker processes, on clones (bench/cycle_broker.py)",
    )
    ap.add_argument(
        "--broker-only",
        action="store_true",
        help="with --broker: only the real run, by the CLI in-process and through the workers "
        "(no dry run, no run again, no in-process child)",
    )
    ap.add_argument("--generate-only", action="store_true", help="generate (cache) the book, stop")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--_measure-cycle", dest="measure_cycle", help=argparse.SUPPRESS)
    ap.add_argument("--_profile-dir", dest="profile_dir", help=argparse.SUPPRESS)
    return ap


def _bench(dbs: list[str], results: dict, bk: Path, on: dt.date, args: argparse.Namespace):
    """Each database's figures and checks into results["databases"] (PostgreSQL unreachable:
    skipped, with the reason); the targets are stated for a book of 100k accounts."""
    large_target = book_size(args)[0] >= 100_000
    for db in dbs:
        if db == "postgres":
            why = pg_reachable()
            if why:
                print(f"[postgres] skipped: {why}")
                results["databases"][db] = {"skipped": why}
                continue
        res = bench_database(db, bk, on, args)
        if db == "postgres":
            res["server_version"] = pg_server_version()
        res["checks"] = checks(res, large_target=large_target)
        results["databases"][db] = res


def _report(results: dict, args: argparse.Namespace) -> None:
    """Write the results JSON; print the profile (if asked), the tables and their Markdown."""
    summary = results["book"]
    out = BENCH / f"results-cycle-{results['size']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows = report_rows(results)
    if args.profile:
        print_profile(results)
    print(
        f"\nBook: {summary['accounts']:,} accounts, {summary['transactions']:,} transactions, "
        f"today {results['today']}; run date {results['date']}; seed {args.seed}"
    )
    print(table(rows, markdown=False))
    parts = parts_rows(results)
    if len(parts) > 1:
        print()
        print(table(parts, markdown=False))
    print(f"\nresults: {out.relative_to(ROOT)}\n\nMarkdown:\n")
    print(markdown(results, rows))
    if len(parts) > 1:
        print()
        print(table(parts, markdown=True))
    print()


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.measure_cycle:
        measure_cycle_main(args.measure_cycle, args.profile_dir)
        return 0
    cycle_setup.use_database(args.pg_db)
    accounts_n, txns = book_size(args)
    today = dt.date.fromisoformat(args.today)
    on = dt.date.fromisoformat(args.date) if args.date else today.replace(day=7)
    dbs = databases(ap, args.db)
    source, summary = cached_book(accounts_n, txns, args.seed, today)
    bk = cycle_book(source)
    print(
        f"book {bk}: {summary['accounts']:,} accounts, {summary['transactions']:,} transactions "
        f"over {summary['history_months']} months, properties alternately NY / CA; run date {on}"
    )
    if args.generate_only:
        return 0
    results: dict = {
        "size": f"{human(accounts_n)}-{human(txns)}",
        "book": summary,
        "book_folder": str(bk),
        "machine": machine(),
        "code": code_version(),
        "today": today.isoformat(),
        "date": on.isoformat(),
        "databases": {},
    }
    _bench(dbs, results, bk, on, args)
    end = code_version()
    if end != results["code"]:
        results["code_at_end"] = end
        print(f"\nWARNING: the code changed during the run: {results['code']} -> {end}")
    _report(results, args)
    return exit_status(results, args.check)


if __name__ == "__main__":
    sys.exit(main())
