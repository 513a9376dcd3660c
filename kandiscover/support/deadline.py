"""A hard deadline for Python code running in the calling thread.

:func:`run_until` runs a function in the calling thread while a watchdog thread waits for the
deadline; when it passes first, the watchdog raises :class:`BudgetExceeded` *inside* the running
function (CPython's ``PyThreadState_SetAsyncExc``), which unwinds it at its next Python
instruction. That stops what no deadline check inside the code would (a strategy with a slow loop,
a sympy call in this process) without moving the work to another process: a strategy keeps its
torch state, its caches and its models, and nothing is pickled.

What it cannot stop: one single C call that does not return (a ``time.sleep(100)``, a huge matrix
factorisation) is interrupted when it returns. The pure-Python work that can run long without a
deadline check (sympy) already runs in a killable worker process where it matters
(:mod:`kandiscover.support.timeout`).

:class:`BudgetExceeded` derives from ``BaseException`` so that a strategy's ``except Exception``
does not swallow it.
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any, Callable

__all__ = ["BudgetExceeded", "run_until"]


class BudgetExceeded(BaseException):
    """Raised inside code run by :func:`run_until` when its deadline passes."""


def _raise_in(thread_id: int, exc) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


def run_until(deadline: float, fn: Callable, *args, **kwargs) -> tuple[bool, Any]:
    """``(True, fn(*args, **kwargs))`` when it returns before ``deadline`` (a ``time.monotonic()``
    value), else ``(False, None)`` as soon as possible after the deadline.

    Exceptions of ``fn`` propagate as usual. Calls may nest: an inner call's deadline is capped by
    none of the outer ones, but the outer watchdog still fires at its own deadline.
    """
    if time.monotonic() >= deadline:
        return False, None
    tid = threading.get_ident()
    lock, finished = threading.Lock(), threading.Event()
    state = {"active": True, "fired": False}

    def watch() -> None:
        if finished.wait(max(0.0, deadline - time.monotonic())):
            return
        with lock:
            if state["active"]:
                state["fired"] = True
                _raise_in(tid, BudgetExceeded)

    watchdog = threading.Thread(target=watch, name="kandiscover-deadline", daemon=True)
    try:
        try:
            watchdog.start()  # inside: it may fire before start() returns
            return True, fn(*args, **kwargs)
        finally:
            with lock:
                state["active"] = False
            if state["fired"]:  # delivered or still pending: make sure it is not raised later
                _raise_in(tid, None)
    except BudgetExceeded:
        if not state["fired"]:  # an outer deadline's exception: not ours to swallow
            raise
        return False, None
    finally:
        finished.set()
        if watchdog.ident is not None:
            watchdog.join()
