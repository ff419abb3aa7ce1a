"""A long-lived process's start: what it imports once and keeps for its whole life.

Importing the web app or the worker's jobs makes a few hundred thousand objects (classes,
functions, pydantic and SQLAlchemy metadata) that live as long as the process. Python's cyclic
garbage collector runs several full passes over them while they are made, about a sixth of
`rightful serve`'s time to its first answer, and finds nothing to free. `loading()` pauses it
meanwhile, then `gc.freeze()` moves what was made to a generation it never scans again: later
collections are shorter, and a process forked afterwards (Celery's prefork children) does not
write to those objects' pages when it collects, so the pages stay shared with the parent
instead of being copied into each child.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    """No cyclic collection while the block imports and builds; what it made is frozen after
    (also if it fails). Collection is left as it was found: paused stays paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
