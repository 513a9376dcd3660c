"""`run_suite()`: batch-run a problem pack, resumably, in worker processes or on a Dask cluster.

Work items are ``(problem, seed)`` pairs. Each runs in a worker process: sample ``n`` rows, run
:func:`kandiscover.discover.discover`, then judge exact recovery (SRBench rule, only when test
R² > 0.5) against the ground truth. The parent process is the only writer of ``out/results.jsonl``:
one complete JSON line per pair, appended with a single ``write`` and ``fsync``. A run killed at any
moment (even ``kill -9``) loses only the items in flight; the next ``run_suite(..., resume=True)``
drops a trailing partial line and skips every pair already written, so there are never duplicates.

One run at a time per folder: ``run_suite`` holds ``out/.run_suite.lock`` (an ``fcntl.flock``, see
:mod:`kandiscover.support.lockfile`) while it runs, and a second ``run_suite`` on the same folder is
refused with :class:`~kandiscover.support.lockfile.LockHeld` naming the folder and the holder's pid.
The operating system drops the lock when its holder dies, so a lock file left by a killed run never
blocks the next one.

Workers are ``python`` child processes that import kandiscover once and then take items over a pipe
(pickled frames on stdin/stdout). An item that runs past ``timeout`` gets its worker killed (status
``"timeout"``); an exception or a dying worker gives status ``"error"``; the suite goes on. Workers
die with the parent: ``PR_SET_PDEATHSIG`` on Linux, plus a thread that watches ``os.getppid()``; they
stay in the parent's process group and ignore SIGINT (the parent handles Ctrl-C and stops them).

With ``scheduler=`` the items go to ``dask.distributed`` instead (``"local"``: a ``LocalCluster`` of
``jobs`` single-threaded worker processes; else a scheduler address). Each Dask worker keeps one such
child process (a worker plugin), so timeouts are enforced the same way there. A Dask worker that dies
mid-item (killed, out of memory) is not an error of the item: the scheduler runs the item again on
another worker (up to ``distributed.scheduler.allowed-failures`` times, then the item is recorded
with status ``"error"``, ``KilledWorker``). Each item is one future, so it is recorded once.

Test hook: ``run_suite(..., _work_fn=f)`` replaces :func:`run_item` by ``f(problem, seed, settings)
-> dict`` (a picklable module-level function); private, for tests of timeouts, errors and kills.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import numbers
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from multiprocessing.connection import wait as _wait_ready
from pathlib import Path
from typing import Optional, Sequence

from .search.plan import resolve
from .suite_summary import ResultsFile, summarize
from .support.jsonsafe import json_safe
from .support.lockfile import FolderLock, LockHeld
from .support.params import ParameterError, check_int, check_number
from .support.progress import progress_bar

log = logging.getLogger("kandiscover")

__all__ = ["run_suite", "run_item", "summarize", "LockHeld", "LOCK_FILE"]

_HEADER = struct.Struct(">Q")

#: The lock file ``run_suite`` holds in its output folder while it runs.
LOCK_FILE = ".run_suite.lock"


# ------------------------------------------------------------------------------------- one work item


def run_item(problem, seed: int, settings: dict) -> dict:
    """Sample, discover and evaluate one ``(problem, seed)``; the work function of the workers.

    ``settings`` holds ``n``, ``noise``, ``time_budget``, ``plan`` (strategy names or None),
    ``units`` (search with the problem's units) and ``hint`` (the noise given as ``noise_hint``).
    Returns ``exact`` (None without a ground truth), test ``r2``/``rmse``, ``strategy`` and the
    ``formula`` string. Exceptions propagate.
    """
    from .discover import discover
    from .symbolic.equivalence import is_equivalent

    units = None
    if settings.get("units"):
        if problem.units is None:
            raise ValueError(f"problem {problem.name!r} has no units; run the suite without units=True")
        units = problem.units
    df = problem.sample(n=settings["n"], seed=seed, noise=settings["noise"])
    res = discover(
        df,
        target=problem.target,
        time_budget=settings["time_budget"],
        seed=seed,
        noise_hint=(settings["noise"] or None) if settings.get("hint", True) else None,
        progress=False,
        plan=settings.get("plan"),
        units=units,
    )
    exact = None
    if problem.formula is not None:  # SRBench: only models with test R² > 0.5 are checked
        exact = bool(res.r2 > 0.5) and bool(
            is_equivalent(res.formula, problem.formula, domain=dict(zip(problem.variables, problem.ranges)))
        )
    return dict(
        exact=exact,
        r2=res.r2,
        rmse=res.rmse,
        discover_seconds=res.seconds,
        strategy=res.strategy,
        formula=str(res.formula),
    )


def _call(fn, problem, seed, settings) -> dict:
    t0 = time.monotonic()
    try:
        rec = dict(fn(problem, seed, settings))
        rec.setdefault("status", "ok")
    except Exception as exc:  # any failure of one item is recorded, the suite goes on
        rec = dict(
            status="error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=-8)[-4000:]
        )
    rec["seconds"] = time.monotonic() - t0
    return rec


# ----------------------------------------------------------------------------- worker child processes


def _write_frame(stream, obj) -> None:
    """One frame: length, then the pickle (``bytes`` are sent as they are: pre-pickled items)."""
    data = obj if isinstance(obj, bytes) else pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream) -> Optional[bytes]:
    """One frame's payload, or None at end of file (the other side is gone)."""
    head = stream.read(_HEADER.size)
    size = _HEADER.unpack(head)[0] if len(head) == _HEADER.size else -1
    data = stream.read(size) if size >= 0 else b""
    return data if len(data) == size else None


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="kandiscover-parent-watch", daemon=True).start()


def _worker_main() -> None:
    """Entry point of a worker child: ``python -c "...; _worker_main()" PARENT_PID THREADS``."""
    _die_with_parent(int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # stray prints go to stderr, never into the protocol
    import torch

    torch.set_num_threads(int(sys.argv[2]))
    from . import discover as _discover  # noqa: F401  (import once, before the first item)

    _write_frame(out, ("ready", os.getpid()))
    while (data := _read_frame(inp)) is not None:
        try:
            fn, problem, seed, settings = pickle.loads(data)
            rec = _call(fn, problem, seed, settings)
        except Exception as exc:
            rec = dict(status="error", error=f"cannot load the work item: {type(exc).__name__}: {exc}")
        _write_frame(out, ("result", rec))


class _Worker:
    """One worker child process, its pipes, and the item it is running (if any)."""

    def __init__(self, threads: int = 1):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
        code = "from kandiscover.suite import _worker_main; _worker_main()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(os.getpid()), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.ready, self.item, self.started = False, None, 0.0

    def fileno(self) -> int:
        return self.proc.stdout.fileno()

    def send(self, item, msg) -> None:
        self.item, self.started = item, time.monotonic()
        with contextlib.suppress(BrokenPipeError):  # a dead child shows up as end of file next
            _write_frame(self.proc.stdin, msg)

    def receive(self):
        """The next message, or None if the child died. Blocks until it comes. (A child has at most
        one unread frame -- "ready", then one result per item sent -- so buffered reads are safe.)"""
        data = _read_frame(self.proc.stdout)
        if data is None:
            return None
        msg = pickle.loads(data)
        if msg[0] == "ready":
            self.ready = True
        return msg

    def died(self) -> str:
        code = self.proc.wait()
        why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        return f"worker process died ({why})"

    def close(self, kill: bool = False) -> None:
        if self.proc.poll() is None and not kill:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # end of input: the child exits after its current item
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(2.0)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def run_one(self, msg, timeout: float) -> dict:
        """Blocking: wait until ready, run one item, kill the child on timeout (Dask path)."""
        while not self.ready:
            if self.receive() is None:
                raise RuntimeError(f"kandiscover suite worker failed to start: {self.died()}")
        self.send(True, msg)
        if not _wait_ready([self], timeout):
            self.close(kill=True)
            return _timeout_record(timeout)
        reply = self.receive()
        self.item = None
        return reply[1] if reply else dict(status="error", error=self.died(), seconds=time.monotonic() - self.started)


def _timeout_record(timeout: float) -> dict:
    return dict(status="timeout", seconds=timeout, error=f"no result after {timeout:g} s; worker process killed")


def _run_local(todo, msg_for, jobs: int, timeout: float, emit) -> None:
    threads = max(1, (os.cpu_count() or 1) // jobs)
    queue, workers = deque(todo), []
    try:
        while queue or any(w.item is not None for w in workers):
            busy = sum(w.item is not None for w in workers)
            while len(workers) < min(jobs, busy + len(queue)):
                workers.append(_Worker(threads))
            for w in workers:
                if w.ready and w.item is None and queue:
                    item = queue.popleft()
                    w.send(item, msg_for(item))
            now = time.monotonic()
            ends = [w.started + timeout for w in workers if w.item is not None]
            wait_s = min(1.0, max(0.0, min(ends) - now)) if ends else 1.0
            readable = set(_wait_ready(workers, wait_s))
            now = time.monotonic()
            for w in list(workers):
                msg = w.receive() if w in readable else ()
                if msg and msg[0] == "result":
                    item, w.item = w.item, None
                    emit(item, msg[1])
                elif msg is None and w.item is None:
                    raise RuntimeError(
                        f"kandiscover suite worker failed to start: {w.died()}; see its messages on stderr"
                    )
                elif msg is None or (w.item is not None and now >= w.started + timeout):
                    w.close(kill=True)  # gone by itself, or killed for running too long
                    emit(
                        w.item,
                        dict(status="error", error=w.died(), seconds=now - w.started)
                        if msg is None
                        else _timeout_record(timeout),
                    )
                    workers.remove(w)
    finally:
        for w in workers:
            w.close(kill=w.item is not None)


# --------------------------------------------------------------------------------------------- dask


def _child_plugin(name: str):
    """A Dask worker plugin holding one worker child per thread of each Dask worker."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class _ChildPlugin(WorkerPlugin):  # local class: Dask ships it by value (cloudpickle)
        def __init__(self):
            self.name, self.children = name, {}

        def setup(self, worker):
            self.children = {}

        def teardown(self, worker):
            for child in self.children.values():
                child.close()

        def run(self, msg, timeout):
            child = self.children.get(threading.get_ident())
            if child is None or child.proc.poll() is not None:
                child = self.children[threading.get_ident()] = _Worker(threads=1)
            return child.run_one(msg, timeout)

    return _ChildPlugin()


def _dask_item(plugin_name: str, msg: bytes, timeout: float) -> dict:
    from distributed import get_worker

    return get_worker().plugins[plugin_name].run(msg, timeout)


def _run_dask(todo, msg_for, jobs: int, timeout: float, emit, *, scheduler: str) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ImportError("scheduler= needs dask.distributed; install it with pip install 'kandiscover[dask]'") from exc
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster if cluster is not None else scheduler)
    name = f"kandiscover-suite-{uuid.uuid4().hex[:8]}"
    futures = {}
    try:
        client.register_plugin(_child_plugin(name), name=name)
        for item in todo:
            key = f"kandiscover-{item[0]}-{item[1]}-{uuid.uuid4().hex[:8]}"
            futures[client.submit(_dask_item, name, msg_for(item), timeout, pure=False, key=key)] = item
        for fut in as_completed(list(futures)):
            item = futures.pop(fut)
            try:
                rec = fut.result()
            except Exception as exc:  # e.g. a Dask worker lost, or our child failing to start
                rec = dict(status="error", error=f"dask: {type(exc).__name__}: {exc}")
            emit(item, rec)
    finally:
        for fut in futures:
            fut.cancel()
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(name)  # its teardown stops the children
        client.close()
        if cluster is not None:
            cluster.close()


# ----------------------------------------------------------------------------------------- run_suite


def _select(pack, problems, limit):
    from .problems import Pack, load

    if isinstance(pack, str):
        pack = load(pack)
    elif not isinstance(pack, Pack):
        raise ParameterError(f"pack must be a pack name or a Pack; got {type(pack).__name__}")
    if isinstance(problems, str):
        problems = [problems]
    names = list(pack.names) if problems is None else [str(p) for p in problems]
    unknown = [p for p in names if p not in pack]
    if unknown:
        raise ParameterError(
            f"problems: {unknown} are not in pack {pack.name!r} ({len(pack)} problems; "
            f"e.g. {', '.join(pack.names[:3])})"
        )
    limit = check_int("limit", limit, low=0, allow_none=True, what="a non-negative integer or None")
    if limit is not None:
        names = names[:limit]
    return pack, [pack[p] for p in dict.fromkeys(names)]


def _settings(
    jobs, scheduler, time_budget, n, noise, seeds, timeout, plan, units=False, hint=True
) -> tuple[dict, list, float]:
    """Checked per-item settings, seeds and timeout (a bad value raises :class:`ParameterError`)."""
    check_int("jobs", jobs, low=1, what="an integer >= 1")
    time_budget = check_number("time_budget", time_budget, low=0, what="a positive number of seconds")
    check_int("n", n, low=1, what="an integer >= 1")
    noise = check_number("noise", noise, low=0, low_inclusive=True, what="a finite number >= 0")
    timeout = 2.0 * time_budget + 30.0 if timeout is None else timeout
    timeout = check_number("timeout", timeout, low=0, what="a positive number of seconds or None")
    seeds = (seeds,) if isinstance(seeds, numbers.Integral) else tuple(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in seeds):
        raise ParameterError(f"seeds must be a non-empty sequence of integers; got {seeds!r}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ParameterError(f"scheduler must be 'local' or an address like 'tcp://host:8786'; got {scheduler!r}")
    plan = None if plan is None else resolve(plan)
    settings = dict(
        n=int(n), noise=float(noise), time_budget=float(time_budget), plan=plan, units=bool(units), hint=bool(hint)
    )
    return settings, [int(s) for s in dict.fromkeys(seeds)], float(timeout)


def _pending(results: ResultsFile, pack, chosen: list, seeds: list, settings: dict) -> list:
    """``(problem, seed)`` pairs not yet in ``results``; refuses results of another setting."""
    plan = ",".join(settings["plan"]) if settings["plan"] else None
    for rec in results.records:
        hint = bool(rec.get("hint", True))
        if (rec.get("pack"), rec.get("n"), rec.get("noise"), rec.get("plan"), bool(rec.get("units")), hint) != (
            pack.name,
            settings["n"],
            settings["noise"],
            plan,
            settings["units"],
            settings["hint"],
        ):
            raise ValueError(
                f"{results.path} holds results of another setting (pack {rec.get('pack')!r}, "
                f"n={rec.get('n')}, noise={rec.get('noise')}, plan={rec.get('plan')}, units={bool(rec.get('units'))}, "
                f"hint={hint}); use resume=False or another out="
            )
    other = sum(r.get("time_budget") != settings["time_budget"] for r in results.records)
    if other:
        log.warning(
            "%s: %d results were run with another time_budget than %g s", results.path, other, settings["time_budget"]
        )
    done = {(r["problem"], r.get("seed")) for r in results.records}
    todo = [(p.name, s) for p in chosen for s in seeds if (p.name, s) not in done]
    log.info(
        "suite %s: %d items to run (%d already in %s)",
        pack.name,
        len(todo),
        len(chosen) * len(seeds) - len(todo),
        results.path,
    )
    return todo


def _lock(out: Path) -> FolderLock:
    """The held lock of ``out`` (see :data:`LOCK_FILE`), or :class:`LockHeld` saying who has it."""
    try:
        return FolderLock(out / LOCK_FILE).acquire()
    except LockHeld as exc:
        stop = f"stop it (kill {exc.pid})" if exc.pid is not None else "stop it"
        raise LockHeld(
            f"{out} is in use by another run_suite ({exc.describe()}; lock file {exc.path.name}); wait for it to "
            f"finish, or {stop} and run again to resume where it stopped, or choose another out= folder",
            exc.path,
            exc.pid,
            exc.host,
            exc.since,
        ) from None


class _Recorder:
    """Turns a worker's raw result into a complete record, appends it and moves the progress bar.
    An item is recorded once: a second result for it (which no runner should deliver) is logged
    and dropped."""

    def __init__(self, pack, by_name: dict, settings: dict, results: ResultsFile, bar):
        self.pack, self.by_name, self.settings, self.results, self.bar = pack, by_name, settings, results, bar
        self.exact = 0
        self.done: set = set()

    def __call__(self, item, raw: dict) -> None:
        if item in self.done:
            log.warning("%s seed %s: a second result was dropped (status %s)", item[0], item[1], raw.get("status"))
            return
        self.done.add(item)
        problem = self.by_name[item[0]]
        rec = dict(
            pack=self.pack.name,
            problem=item[0],
            seed=item[1],
            status="error",
            exact=None,
            r2=None,
            rmse=None,
            seconds=None,
            strategy=None,
            formula=None,
            truth=None if problem.formula is None else str(problem.formula),
            error=None,
            srbench=bool(problem.srbench),
            **self.settings,
        )
        rec.update(raw)
        rec.update(pack=self.pack.name, problem=item[0], seed=item[1])
        if rec["status"] != "ok" and problem.formula is not None:
            rec["exact"] = False
        rec = {k: json_safe(",".join(v) if isinstance(v, list) else v) for k, v in rec.items()}
        rec["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.results.append(rec)
        self.exact += bool(rec["exact"])
        log.info(
            "%s seed %s: %s exact=%s r2=%s in %.1f s %s",
            item[0],
            item[1],
            rec["status"],
            rec["exact"],
            rec["r2"],
            rec["seconds"] or 0.0,
            rec["error"] or "",
        )
        self.bar.set_postfix(exact=self.exact, refresh=False)
        self.bar.update(1)


def run_suite(
    pack,
    out,
    *,
    jobs: int = 1,
    scheduler: Optional[str] = None,
    time_budget: float = 60.0,
    n: int = 1000,
    noise: float = 0.0,
    seeds: Sequence[int] = (0,),
    limit: Optional[int] = None,
    resume: bool = True,
    problems: Optional[Sequence[str]] = None,
    timeout: Optional[float] = None,
    progress: bool = True,
    plan: Optional[Sequence[str]] = None,
    units: bool = False,
    hint: bool = True,
    _work_fn=None,
) -> Path:
    """Run :func:`~kandiscover.discover.discover` on every ``(problem, seed)`` of a pack.

    Parameters
    ----------
    pack : str or Pack
        ``"feynman"``, ``"special"``, ``"knots"`` or a :class:`~kandiscover.problems.Pack`.
    out : path
        Folder for ``results.jsonl`` (one JSON line per item), ``summary.md``/``.csv`` and plots.
    jobs : int
        Worker processes (or Dask workers for ``scheduler="local"``).
    scheduler : str, optional
        ``"local"`` (a Dask ``LocalCluster``) or a Dask scheduler address ``"tcp://host:8786"``.
    time_budget, n, noise, seeds
        Per item: seconds for ``discover``, rows sampled, relative noise (SRBench convention),
        and the sampling/discovery seeds (one item per seed).
    limit, problems
        Only these problem names (in this order), and of them the first ``limit``.
    resume : bool
        Skip pairs already in ``results.jsonl``; False moves the old file aside and starts anew.
    timeout : float, optional
        Seconds before an item's worker is killed (status ``"timeout"``); ``2*time_budget + 30``.
    progress : bool
        tqdm progress bar on stderr.
    plan : sequence of str, optional
        Strategies to run (names of :mod:`kandiscover.search.plan`, e.g. ``["kan"]`` for the
        general KANs alone); the default plan when omitted. Recorded in every result.
    units : bool
        Search with each problem's units (:attr:`kandiscover.problems.Problem.units`, the
        Feynman pack): ``discover(..., units=problem.units)``. Recorded in every result; the
        summary names the setting and the published rates of each.
    hint : bool
        Give ``discover`` the sampling noise as ``noise_hint`` (the default), or nothing, so that
        it estimates the noise from the data (:mod:`kandiscover.selection`) as it must on a user's
        table. Recorded in every result.

    Returns
    -------
    Path of ``out/summary.md``.

    Raises
    ------
    ParameterError
        A bad argument (a ``ValueError`` naming it).
    ValueError
        ``resume=True`` and ``out/results.jsonl`` holds results of another pack, ``n``, ``noise``,
        ``plan``, ``units`` or ``hint``.
    LockHeld
        Another ``run_suite`` is running on ``out`` (a ``RuntimeError`` naming the folder and its
        pid).
    """
    settings, seeds, timeout = _settings(jobs, scheduler, time_budget, n, noise, seeds, timeout, plan, units, hint)
    pack, chosen = _select(pack, problems, limit)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    try:
        return _run_locked(pack, chosen, out, resume, settings, seeds, scheduler, jobs, timeout, progress, _work_fn)
    finally:
        lock.release()


def _run_locked(pack, chosen, out, resume, settings, seeds, scheduler, jobs, timeout, progress, work_fn) -> Path:
    """The body of :func:`run_suite`, run while this process holds the lock of ``out``."""
    results = ResultsFile(out, resume)
    try:
        todo = _pending(results, pack, chosen, seeds, settings)
        by_name = {p.name: p for p in chosen}
        fn = work_fn or run_item

        def msg_for(item):  # pickled here: a Dask worker only forwards the bytes to its child
            return pickle.dumps((fn, by_name[item[0]], item[1], settings), pickle.HIGHEST_PROTOCOL)

        bar = progress_bar(
            total=len(todo), desc=f"suite {pack.name}", unit="item", file=sys.stderr, disable=not progress
        )
        try:
            if todo:
                runner = _run_local if scheduler is None else functools.partial(_run_dask, scheduler=scheduler)
                runner(todo, msg_for, jobs, timeout, _Recorder(pack, by_name, settings, results, bar))
        finally:
            bar.close()
    finally:
        results.close()
    return summarize(out, pack=pack)
