"""Start-up time of the `arrears` command: how long `arrears --help` and `arrears aging --help`
take from exec to exit, the median of many runs (as hyperfine reports it), and the CPU time
they use.

    .venv/bin/python bench/cli_startup.py              # 40 runs of each, after 3 warm-up runs
    .venv/bin/python bench/cli_startup.py --runs 100
    git archive main arrears config | tar -x -C /tmp/before
    .venv/bin/python bench/cli_startup.py --tree /tmp/before --tree .   # before and after

The commands are run in turn (one of each, of each tree, then again) so that a change in the
machine's load falls on all of them alike. Nothing touches a database: `--help` exits before
Django is set up. With `--tree`, each tree's `arrears` package is run, first on sys.path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = (["--help"], ["aging", "--help"], ["--as", "alice", "plan", "show", "--help"])


def arrears(tree: str | None) -> list[str]:
    """The `arrears` of `tree` (what its console script runs), else the venv's console script."""
    if tree is not None:
        start = "import sys; sys.path.insert(0, sys.argv.pop(1)); from arrears.cli import main"
        return [sys.executable, "-c", f"{start}; sys.exit(main())", str(Path(tree).resolve())]
    return [str(Path(sys.executable).parent / "arrears")]


def once(command: list[str], argv: list[str]) -> tuple[float, float]:
    """Milliseconds from starting `COMMAND ARGV` to its exit (which must be 0), and the CPU
    milliseconds it used (user and system, from wait4: what a loaded machine changes least)."""
    started = time.perf_counter()
    child = subprocess.Popen([*command, *argv], stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, child.args)
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="runs first, not counted")
    parser.add_argument(
        "--tree", action="append", help="a checkout whose `arrears` to time (repeatable)"
    )
    options = parser.parse_args()
    cases = [(tree, arrears(tree), argv) for tree in options.tree or [None] for argv in COMMANDS]
    for _ in range(options.warmup):
        for _tree, command, argv in cases:
            once(command, argv)
    times: dict[tuple[str | None, str], list[tuple[float, float]]] = {
        (tree, " ".join(argv)): [] for tree, _command, argv in cases
    }
    for _ in range(options.runs):
        for tree, command, argv in cases:
            times[tree, " ".join(argv)].append(once(command, argv))
    print(f"| tree | `arrears …` ({options.runs} runs) | median ms | min ms | median CPU ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (tree, name), runs in times.items():
        wall = [w for w, _cpu in runs]
        cpu = statistics.median(c for _w, c in runs)
        print(
            f"| {tree or 'venv'} | `{name}` | {statistics.median(wall):.0f} | {min(wall):.0f} "
            f"| {cpu:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
