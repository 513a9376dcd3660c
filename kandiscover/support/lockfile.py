"""An exclusive, non-blocking lock on a folder, held by one process and freed when it dies.

:class:`FolderLock` takes ``fcntl.flock`` on a lock file in the folder and writes the holder's pid,
host and start time into it. The operating system drops the lock when the holder's last file
descriptor on it closes -- at :meth:`FolderLock.release`, at exit, or when the process is killed
(even with ``kill -9``) -- so a lock file left behind by a dead process is stale and the next
:meth:`FolderLock.acquire` simply takes it over. The file itself is never deleted: removing it
would let two processes lock two different files of the same name.

A second holder (another process, or another :class:`FolderLock` in the same process) gets
:class:`LockHeld`, which carries the pid recorded by the holder.

The descriptor is opened non-inheritable (no ``exec``'d child keeps it), and a child made by a bare
``fork`` closes its copy at once (:func:`os.register_at_fork`): otherwise a forked helper that
outlives the holder would keep the folder locked.

Without ``fcntl`` (Windows) there is no lock: :meth:`FolderLock.acquire` logs a warning once and
only writes the holder's details into the file.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import socket
import time
from pathlib import Path
from typing import Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

log = logging.getLogger("kandiscover")

__all__ = ["FolderLock", "LockHeld"]

_HELD: set[int] = set()  # descriptors of the locks this process holds (closed in forked children)
_warned = False


def _close_in_child() -> None:
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


class LockHeld(RuntimeError):
    """The folder is locked by another holder.

    Attributes
    ----------
    path : Path
        The lock file.
    pid : int or None
        The pid the holder wrote into it (None if it could not be read).
    host, since : str or None
        The holder's host name and the time (UTC, ISO 8601) it took the lock, as it wrote them.
    """

    def __init__(
        self, message: str, path: Path, pid: Optional[int], host: Optional[str] = None, since: Optional[str] = None
    ):
        super().__init__(message)
        self.path, self.pid, self.host, self.since = path, pid, host, since

    def describe(self) -> str:
        """``"pid 123 on host, since 2025-01-01T00:00:00+00:00"`` (what is known of the holder)."""
        text = f"pid {self.pid}" if self.pid is not None else "a process whose pid is not recorded"
        text += f" on {self.host}" if self.host else ""
        return text + (f", since {self.since}" if self.since else "")


def _read_holder(path: Path, wait: float = 0.5) -> dict:
    """The ``key=value`` fields the holder wrote (``pid``, ``host``, ``since``); waits up to
    ``wait`` s for a holder that has just taken the lock and not yet written them."""
    end = time.monotonic() + wait
    while True:
        with contextlib.suppress(OSError):
            fields = dict(
                f.split("=", 1) for f in path.read_text(encoding="utf-8", errors="replace").split() if "=" in f
            )
            if fields:
                return fields
        if time.monotonic() >= end:
            return {}
        time.sleep(0.05)


class FolderLock:
    """An exclusive lock on ``path`` (a lock file; its folder must exist).

    Parameters
    ----------
    path : path
        The lock file, created if missing.

    Examples
    --------
    >>> with FolderLock(folder / ".run_suite.lock"):  # doctest: +SKIP
    ...     ...  # this process alone works in ``folder``
    """

    def __init__(self, path):
        self.path = Path(path)
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        """True between a successful :meth:`acquire` and :meth:`release`."""
        return self._fd is not None

    def acquire(self) -> "FolderLock":
        """Take the lock without waiting, and write this process's pid, host and time into the file.

        Returns
        -------
        FolderLock
            ``self``.

        Raises
        ------
        LockHeld
            Another holder has the lock; its message names the lock file and the holder's pid.
        """
        global _warned
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already locked by this FolderLock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    fields = _read_holder(self.path)
                    pid = fields.get("pid", "")
                    held = LockHeld(
                        "", self.path, int(pid) if pid.isdigit() else None, fields.get("host"), fields.get("since")
                    )
                    held.args = (f"{self.path} is locked by {held.describe()}",)
                    raise held from None
            elif not _warned:  # pragma: no cover - Windows
                _warned = True
                log.warning("no fcntl on this platform: %s is written but not locked", self.path)
            stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"pid={os.getpid()} host={socket.gethostname()} since={stamp}\n".encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _HELD.add(fd)
        return self

    def release(self) -> None:
        """Drop the lock (the file stays, with the last holder's details; it is stale from now)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        _HELD.discard(fd)
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
