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
