"""run_suite under faults: a second run on a busy folder, a Dask worker killed mid-run, a results
line cut short by a crash and resumed on Dask.

The work functions are fakes (module level, so the worker children can unpickle them): only the
suite's bookkeeping is under test, and every item takes well under a second once the workers are up.
The Dask tests share one ``LocalCluster`` of two single-threaded worker processes and one run on it
(each Dask worker's child process imports torch and kandiscover: seconds on a small machine).
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kandiscover.suite import LOCK_FILE, LockHeld, run_suite
from kandiscover.support.lockfile import FolderLock

TESTS = Path(__file__).resolve().parent
NAMES = ["I.12.1", "I.12.4", "I.12.5", "I.14.4", "I.39.22"]
FAST = dict(time_budget=3.0, n=50, progress=False)
VICTIM = "I.12.4"  # the item whose first run kills its Dask worker
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and POSIX signals")


def _records(out):
    return [json.loads(line) for line in (Path(out) / "results.jsonl").read_text().splitlines()]


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process (Linux /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(predicate, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.05)


# work functions injected through the private _work_fn hook ------------------------------------------


def _fake(problem, seed, settings):
    time.sleep(float(os.environ.get("KD_TEST_SUITE_DELAY", "0")))
    return dict(exact=True, r2=1.0, rmse=0.0, strategy="fake", formula=str(problem.formula))


def _kill_dask_worker_once(problem, seed, settings):
    """The first run of :data:`VICTIM` SIGKILLs the Dask worker process that runs it (this
    function runs in that worker's child; the flag file, made atomically, says it was done)."""
    if problem.name == VICTIM:
        try:
            fd = os.open(os.environ["KD_TEST_KILL_FLAG"], os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            pass
        else:
            os.write(fd, str(os.getppid()).encode())
            os.close(fd)
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(60)  # this child dies with its Dask worker (PR_SET_PDEATHSIG)
    time.sleep(0.3)
    return dict(exact=True, r2=1.0, rmse=0.0, strategy="fake", formula=str(problem.formula))


# ------------------------------------------------------------------------------------------------ lock


def test_a_busy_folder_is_refused_with_the_holder_pid(tmp_path):
    with FolderLock(tmp_path / LOCK_FILE):  # as if another run_suite held the folder
        with pytest.raises(LockHeld) as err:
            run_suite("feynman", tmp_path, problems=NAMES[:1], _work_fn=_fake, **FAST)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path} is in use by another run_suite (pid {os.getpid()} on ")
    assert f"kill {os.getpid()}" in msg and "choose another out= folder" in msg
    assert isinstance(err.value, RuntimeError) and err.value.pid == os.getpid()
    assert not (tmp_path / "results.jsonl").exists()  # refused before the results were touched


@linux_only
def test_a_second_run_is_refused_while_one_runs_and_proceeds_once_the_holder_is_killed(tmp_path):
    code = (
        f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
        "from kandiscover.suite import run_suite\nfrom test_suite_faults import _fake\n"
        f"run_suite('feynman', {str(tmp_path)!r}, jobs=1, problems={NAMES!r}, _work_fn=_fake, "
        "time_budget=3.0, n=50, progress=False)\n"
    )
    env = dict(os.environ, KD_TEST_SUITE_DELAY="1.0")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, env=env)
    results, lock = tmp_path / "results.jsonl", tmp_path / LOCK_FILE
    try:  # the holder has started its run once its pid is in the lock file (then it starts its worker)
        _wait_for(lambda: lock.exists() and f"pid={proc.pid} " in lock.read_text(), 60, "the holder to take the lock")
        assert proc.poll() is None, "the holder ended before the second run could start"
        with pytest.raises(LockHeld) as err:
            run_suite("feynman", tmp_path, jobs=1, problems=NAMES, _work_fn=_fake, **FAST)
        msg = str(err.value)
        assert msg.startswith(f"{tmp_path} is in use by another run_suite (pid {proc.pid} on ")
        assert f"stop it (kill {proc.pid}) and run again to resume" in msg and err.value.pid == proc.pid
        os.kill(proc.pid, signal.SIGKILL)  # its worker follows by itself
        proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    before = results.read_bytes() if results.exists() else b""
    assert before.count(b"\n") < len(NAMES), "the holder finished before it was killed"
    assert f"pid={proc.pid} " in lock.read_text()  # the stale lock file is still there
    run_suite("feynman", tmp_path, jobs=1, problems=NAMES, _work_fn=_fake, **FAST)
    assert results.read_bytes().startswith(before)
    assert sorted(r["problem"] for r in _records(tmp_path)) == sorted(NAMES)
    assert f"pid={os.getpid()} " in lock.read_text()


# ------------------------------------------------------------------------------------------------ dask


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    distributed = pytest.importorskip("distributed")
    flag = tmp_path_factory.mktemp("flags") / "killed"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KD_TEST_KILL_FLAG", str(flag))  # read by the worker processes the cluster spawns
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, timeout=60
        ) as cl:
            yield cl, flag


@pytest.fixture(scope="module")
def killed_run(cluster, tmp_path_factory):
    """A Dask run of :data:`NAMES` during which the first run of :data:`VICTIM` kills its worker."""
    if not sys.platform.startswith("linux"):
        pytest.skip("uses /proc and POSIX signals")
    cl, flag = cluster
    out = tmp_path_factory.mktemp("killed")
    run_suite("feynman", out, scheduler=cl.scheduler_address, problems=NAMES, _work_fn=_kill_dask_worker_once, **FAST)
    return out, flag


@pytest.mark.timeout(180)
def test_a_dask_worker_killed_mid_run_costs_no_record_and_no_duplicate(killed_run):
    out, flag = killed_run
    assert flag.exists(), "no Dask worker was killed"
    killed = int(flag.read_text())
    _wait_for(lambda: not _alive(killed), 10, f"the killed Dask worker {killed} to be gone")
    recs = _records(out)
    assert sorted(r["problem"] for r in recs) == sorted(NAMES)  # every item once
    assert [r["status"] for r in recs] == ["ok"] * len(NAMES)  # the victim was run again elsewhere
    assert {r["seed"] for r in recs} == {0}


@pytest.mark.timeout(180)
def test_a_truncated_line_is_dropped_and_redone_on_resume_with_dask(cluster, killed_run, tmp_path, caplog):
    cl, _ = cluster
    lines = (killed_run[0] / "results.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == len(NAMES)
    cut = json.loads(lines[-1])["problem"]
    kept = b"".join(lines[:-1])
    results = tmp_path / "results.jsonl"
    results.write_bytes(kept + lines[-1][: len(lines[-1]) // 2])  # as if a crash hit the last write
    with caplog.at_level("WARNING", logger="kandiscover"):
        run_suite("feynman", tmp_path, scheduler=cl.scheduler_address, problems=NAMES, _work_fn=_fake, **FAST)
    assert "dropping a partial last line" in caplog.text
    after = results.read_bytes()
    assert after.startswith(kept) and after.endswith(b"\n")
    recs = _records(tmp_path)
    assert len(recs) == len(NAMES) and sorted(r["problem"] for r in recs) == sorted(NAMES)
    assert recs[-1]["problem"] == cut and recs[-1]["status"] == "ok"  # only the cut item was run again
    assert recs[-1]["strategy"] == "fake" and recs[-1]["finished"] >= json.loads(lines[-2])["finished"]
