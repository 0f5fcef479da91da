"""Half of a job in a forked process, for work whose Python side would keep one core busy while
the other waits (the SLA sweep after an outage, an import's search phase).

Only on PostgreSQL, outside a transaction and where ``os.fork`` exists: the child opens its own
database connection (a forked copy of the parent's would share its socket), so it must not need
the parent's uncommitted writes, and it never touches the parent's connection — it drops its copy
without closing it (psycopg does not close a connection in a process that did not open it) and
leaves with ``os._exit``. What the child returns comes back pickled through a pipe; if the child
fails, the caller gets ``None`` for its half and decides (redo it here, or leave it to the next run).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, connections

logger = logging.getLogger(__name__)

R = TypeVar("R")


def may_fork() -> bool:
    """May this process run half of a job in a forked child now?"""
    return hasattr(os, "fork") and connection.vendor == "postgresql" and not connection.in_atomic_block


def run_split(mine: Callable[[], R], theirs: Callable[[], Any], *, label: str) -> tuple[R, Any | None]:
    """Run `theirs` in a forked child and `mine` here, at the same time; answer both results
    (the child's unpickled, or ``None`` when the child failed: logged)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            inherited = []
            for conn in connections.all(initialized_only=True):
                inherited.append(conn.connection)  # kept: never closed, never collected
                conn.connection = None
            payload = pickle.dumps(theirs(), protocol=pickle.HIGHEST_PROTOCOL)
            connections.close_all()
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            code = 0
        except BaseException:
            logger.exception("%s: the forked half failed", label)
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        result = mine()
    finally:
        # (read before waiting: a child with more than a pipe's buffer to say would block forever)
        with os.fdopen(read_end, "rb") as source:
            payload = source.read()
        _pid, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not payload:
        logger.warning("%s: the forked half failed (exit %s)", label, code)
        return result, None
    return result, pickle.loads(payload)  # noqa: S301 - our own child's bytes through our own pipe
