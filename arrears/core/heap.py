"""The garbage collector, for a command that holds a large working set (the daily run)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep what is alive now out of the garbage collector's sight until the block ends.

    A long command that has just read the book's open items (the daily run) would otherwise have
    them walked again at every full collection: about a fifth of a large run's time. Only a
    command that owns its process should use it: a server's workers freeze before forking
    instead (`arrears serve`).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
