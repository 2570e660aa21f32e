"""Test set-up shared by every part: hypothesis profiles, a frozen today, the real data folder."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No randomness but seeded: CI runs the same examples every time.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

FIXTURES = Path(__file__).parent / "tests" / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test fails: CI installs every real part a test needs."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.fixture(autouse=True)
def archive_per_test(settings, tmp_path: Path) -> Path:
    """Every test archives its documents in a folder of its own: the archive never overwrites a
    name, and two tests' books give the same names to different letters."""
    folder = tmp_path / "archive"
    settings.STORAGES = {
        **settings.STORAGES,
        "archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` ask what only PostgreSQL has: on another database they are left
    out (deselected, said in the summary), not skipped, since CI counts a skip as a failure and
    runs the suite on PostgreSQL too."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture
def book_clock(monkeypatch):
    """Set the book's day: `book_clock(date(2026, 3, 7))` freezes "today" for the commands
    (ARREARS_TODAY, which subprocesses inherit) and moves this process's clock to 10:00 that day
    in the book's zone, running on from there, so that `now()` agrees with `today()`.

    Not for browser tests: a session cookie dated by a clock months back is expired to the
    browser, whose clock is the machine's.
    """
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine
    from django.conf import settings as django_settings

    travels = []

    def set_day(day: dt.date) -> dt.date:
        monkeypatch.setenv("ARREARS_TODAY", day.isoformat())
        if travels:
            travels.pop().stop()
        at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=ZoneInfo(django_settings.TIME_ZONE))
        travel = time_machine.travel(at, tick=True)
        travel.start()
        travels.append(travel)
        return day

    yield set_day
    for travel in travels:
        travel.stop()
