"""Run a pure-Python computation (sympy) with a hard time limit.

sympy cannot be interrupted, and a thread left running after a timeout keeps the GIL busy for as
long as the computation lasts (factoring a large polynomial can take hours). On POSIX the work runs
in a forked child that is killed at the deadline; elsewhere a daemon thread is the fallback.
"""
from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import threading
import time
from typing import Any, Callable

log = logging.getLogger("kandiscover")

__all__ = ["call_with_timeout"]


def _in_thread(fn: Callable, args: tuple, timeout: float) -> tuple[bool, Any]:
    box: list = []

    def work():
        try:
            box.append((True, fn(*args)))
        except Exception as exc:  # report, do not crash the caller
            box.append((False, repr(exc)))

    th = threading.Thread(target=work, daemon=True)
    th.start()
    th.join(timeout)
    return box[0] if box else (False, None)


def call_with_timeout(fn: Callable, args: tuple = (), timeout: float = 5.0, *, light: bool = False) -> tuple[bool, Any]:
    """``(True, fn(*args))`` if it returns within ``timeout`` seconds, else ``(False, None)``.

    An exception inside ``fn`` gives ``(False, repr(exc))``. The result must be picklable.
    ``light=True`` runs in a thread instead of a forked child: no fork cost (0.2–0.5 s for a
    process holding torch), for work that is known to be small.
    """
    if light or not hasattr(os, "fork"):
        return _in_thread(fn, args, timeout)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: compute, send, leave without running the parent's exit handlers
        os.close(rfd)
        try:
            try:
                data = pickle.dumps((True, fn(*args)))
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                data = pickle.dumps((False, repr(exc)))
            view = memoryview(data)
            while view:
                view = view[os.write(wfd, view):]
        finally:
            os._exit(0)
    os.close(wfd)
    chunks, deadline, done = [], time.monotonic() + timeout, False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([rfd], [], [], left)
            if ready:
                chunk = os.read(rfd, 1 << 16)
                if not chunk:
                    done = True
                    break
                chunks.append(chunk)
    finally:
        os.close(rfd)
        if not done:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
    if not done or not chunks:
        return (False, None)
    try:
        return pickle.loads(b"".join(chunks))
    except Exception:  # a truncated message: treat as failure
        return (False, None)
