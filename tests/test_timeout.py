"""Hard time limits for sympy: a persistent forked worker, killed at the deadline."""

import logging
import os
import threading
import time

import pytest

from kandiscover.support.deadline import run_until
from kandiscover.support.timeout import _WORKER, call_with_timeout

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker process needs fork (POSIX)")


def test_calls_run_in_one_reused_worker_process():
    ok1, pid1 = call_with_timeout(os.getpid, (), 10)
    ok2, pid2 = call_with_timeout(os.getpid, (), 10)
    assert ok1 and ok2
    assert pid1 == pid2 != os.getpid()


def test_a_call_past_its_deadline_is_killed_and_the_next_gets_a_new_worker():
    _, before = call_with_timeout(os.getpid, (), 10)
    start = time.monotonic()
    assert call_with_timeout(time.sleep, (30,), 0.5) == (False, None)
    assert time.monotonic() - start < 5
    with pytest.raises(ProcessLookupError):  # nothing keeps running (or holding a GIL) after the deadline
        os.kill(before, 0)
    ok, after = call_with_timeout(os.getpid, (), 10)
    assert ok and after not in (before, os.getpid())


def test_an_exception_is_reported_not_raised():
    ok, message = call_with_timeout(int, ("not a number",), 10)
    assert not ok and "ValueError" in message


def test_a_forked_copy_of_the_process_gets_its_own_worker():
    _, parent_worker = call_with_timeout(os.getpid, (), 10)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            ok, worker = call_with_timeout(os.getpid, (), 10)
            os.write(write, f"{int(ok)} {worker}".encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 100).decode().split()
    os.close(read)
    os.waitpid(pid, 0)
    assert answer[0] == "1" and int(answer[1]) not in (parent_worker, pid, os.getpid())
    assert _WORKER.owner == os.getpid()  # the parent's worker is untouched
    assert call_with_timeout(os.getpid, (), 10) == (True, parent_worker)


_SLOW_FORK = {"on": False, "threads": [], "finished": 0}


def _slow_after_fork_in_parent():
    """An at-fork handler that takes a while in Python (where a hard deadline's exception lands)."""
    if not _SLOW_FORK["on"]:
        return
    _SLOW_FORK["threads"].append(threading.get_ident())
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        pass
    _SLOW_FORK["finished"] += 1


os.register_at_fork(after_in_parent=_slow_after_fork_in_parent)


def test_a_hard_deadline_during_the_fork_leaves_the_at_fork_handlers_alone():
    # logging releases its module lock in such a handler: interrupted there, the lock would stay
    # held and every other thread that logs would block
    _WORKER._stop()
    _SLOW_FORK.update(on=True, threads=[], finished=0)
    try:
        done, _ = run_until(time.monotonic() + 0.1, call_with_timeout, os.getpid, (), 10)
    finally:
        _WORKER._forker.join()  # an interrupted fork finishes in its helper thread
        _SLOW_FORK["on"] = False
    assert not done  # the deadline fired in the caller
    assert _SLOW_FORK["finished"] == len(_SLOW_FORK["threads"]) == 1
    assert _SLOW_FORK["threads"][0] != threading.get_ident()
    got = []
    other = threading.Thread(target=lambda: got.append(logging._lock.acquire(timeout=2) and logging._lock.release()))
    other.start()
    other.join()
    assert got == [None]  # acquired (and released) from another thread
    ok, pid = call_with_timeout(os.getpid, (), 10)
    assert ok and pid != os.getpid()
