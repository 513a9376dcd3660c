"""Run a pure-Python computation (sympy) with a hard time limit.

sympy cannot be interrupted, and a thread left running after a timeout keeps the GIL busy for as
long as the computation lasts (factoring a large polynomial can take hours; a ``simplify`` of an
expression with 20 operations was seen to run for minutes and starve a whole discovery past its
budget). So on POSIX the work always runs in another process, which is killed at the deadline:

* a persistent *worker*, forked on first use in each process, takes the calls one at a time over a
  pipe. Forking a process that holds torch costs 0.2–0.5 s; the worker pays it once, not per call;
* after a timeout the worker is killed (and a new one forked at the next call). A worker whose
  parent has died sees the pipe close and exits;
* the fork happens in a short-lived helper thread, not in the calling one: a hard deadline
  (:func:`kandiscover.support.deadline.run_until`) raises its exception in the calling thread at
  any Python instruction, and one that landed in an at-fork handler (``logging`` releases its
  module lock in one) would leave that lock held and every other thread that logs blocked.

Without ``fork`` (Windows) a daemon thread is the fallback.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import threading
import time
from typing import Any, Callable, Optional

log = logging.getLogger("kandiscover")

__all__ = ["call_with_timeout"]

_HEADER = struct.Struct("!Q")


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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int, deadline: Optional[float]) -> Optional[bytes]:
    """``n`` bytes from ``fd``, or None on end of file or once ``deadline`` has passed."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _serve(requests: int, replies: int) -> None:
    """The worker's loop: one pickled ``(fn, args)`` in, one pickled ``(ok, value)`` out."""
    while True:
        head = _read_exact(requests, _HEADER.size, None)
        if head is None:  # the parent closed the pipe (or died)
            return
        body = _read_exact(requests, _HEADER.unpack(head)[0], None)
        if body is None:
            return
        try:
            fn, args = pickle.loads(body)
            data = pickle.dumps((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            data = pickle.dumps((False, repr(exc)))
        _write_all(replies, data)


class _Worker:
    """One forked worker process per parent process (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: Optional[int] = None  # pid of the process that forked the worker
        self.pid = self.send = self.recv = None
        self._forker: Optional[threading.Thread] = None

    def _start(self) -> None:
        """Fork the worker from a helper thread (see the module docstring) and wait for it; an
        interrupted wait leaves the helper to finish, and the next start waits for that one."""
        forker = self._forker
        if forker is None or not forker.is_alive():
            forker = self._forker = threading.Thread(target=self._fork, name="kandiscover-fork", daemon=True)
            forker.start()
        forker.join()

    def _fork(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: serve, then leave without running the parent's exit handlers
            try:
                os.close(req_w)
                os.close(rep_r)
                _serve(req_r, rep_w)
            finally:
                os._exit(0)
        os.close(req_r)
        os.close(rep_w)
        self.owner, self.pid, self.send, self.recv = os.getpid(), pid, req_w, rep_r

    def _stop(self) -> None:
        if self._forker is not None and self._forker.is_alive() and self._forker is not threading.current_thread():
            self._forker.join()
        if self.owner == os.getpid() and self.pid is not None:
            for fd in (self.send, self.recv):
                try:
                    os.close(fd)
                except OSError:
                    pass
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        self.owner = self.pid = self.send = self.recv = None

    def call(self, fn: Callable, args: tuple, timeout: float) -> tuple[bool, Any]:
        with self.lock:
            if self.owner != os.getpid():  # first call, or a forked copy of a process that had one
                self._start()
            deadline = time.monotonic() + timeout
            try:
                _write_all(self.send, pickle.dumps((fn, args)))
                head = _read_exact(self.recv, _HEADER.size, deadline)
                body = None if head is None else _read_exact(self.recv, _HEADER.unpack(head)[0], deadline)
            except OSError:  # the worker died
                head = body = None
            except BaseException:  # interrupted (a hard deadline): the reply would be read by the next call
                self._stop()
                raise
            if body is None:  # out of time (or the worker is gone): kill it, fork anew next time
                self._stop()
                return (False, None)
            try:
                return pickle.loads(body)
            except Exception:  # noqa: BLE001 - a result that does not unpickle counts as a failure
                return (False, None)


_WORKER = _Worker()


def call_with_timeout(fn: Callable, args: tuple = (), timeout: float = 5.0) -> tuple[bool, Any]:
    """``(True, fn(*args))`` if it returns within ``timeout`` seconds, else ``(False, None)``.

    ``fn`` and ``args`` must be picklable (``fn`` a module-level function), and so must the
    result. An exception inside ``fn`` gives ``(False, repr(exc))``.
    """
    if not hasattr(os, "fork"):
        return _in_thread(fn, args, timeout)
    return _WORKER.call(fn, args, timeout)
