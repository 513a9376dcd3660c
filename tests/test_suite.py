"""run_suite: one line per item, resume, kill -9 safety, timeouts/errors, Dask, summaries.

Work items run in child processes that import kandiscover (a few seconds each), so the tests use a
few pure-monomial Feynman problems that ``discover`` solves instantly, and fake work functions
(module level, so the workers can unpickle them) where only the suite's bookkeeping is under test.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from kandiscover import suite as suite_mod
from kandiscover.suite import run_item, run_suite, summarize

EASY = ["I.12.1", "I.12.4", "I.39.22"]
FAST = dict(time_budget=3.0, n=200, progress=False)
TESTS = Path(__file__).resolve().parent


def _records(out):
    return [json.loads(line) for line in (Path(out) / "results.jsonl").read_text().splitlines()]


def _children(pid):
    """Pids of the live descendants of ``pid`` (Linux /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _suite_children():
    """Children of this test process, but for the sympy worker that earlier in-process discoveries
    forked (kandiscover.support.timeout; it lives as long as this process, like a resource tracker)."""
    from kandiscover.support.timeout import _WORKER

    return [p for p in _children(os.getpid()) if p != _WORKER.pid]


def _wait_gone(pids, seconds=10.0):
    end = time.monotonic() + seconds
    alive = list(pids)
    while alive and time.monotonic() < end:
        time.sleep(0.1)
        alive = [
            p
            for p in alive
            if Path(f"/proc/{p}").exists() and (Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")
        ]
    return alive


# work functions injected through the private _work_fn hook ------------------------------------------


def _fake_slow(problem, seed, settings):
    time.sleep(float(os.environ.get("KD_TEST_SUITE_DELAY", "0")))
    return dict(exact=True, r2=1.0, rmse=0.0, strategy="fake", formula=str(problem.formula))


def _misbehave(problem, seed, settings):
    if problem.name == "I.12.1":
        raise ValueError("broken on purpose")
    if problem.name == "I.12.4":
        time.sleep(300)
    if problem.name == "I.12.5":
        os._exit(3)
    return run_item(problem, seed, settings)


# ----------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    summary = run_suite("feynman", out, problems=EASY, seeds=(0,), **FAST)
    return out, summary


def test_run_writes_one_line_per_item_and_a_summary(local_run):
    out, summary = local_run
    recs = _records(out)
    assert [(r["problem"], r["seed"]) for r in recs] == [(p, 0) for p in EASY]
    for r in recs:
        assert r["status"] == "ok" and r["exact"] is True and r["srbench"] is True
        assert r["r2"] > 0.999 and r["error"] is None and r["truth"] and r["formula"]
        assert r["pack"] == "feynman" and r["n"] == 200 and r["noise"] == 0.0
    assert summary == out / "summary.md"
    text = summary.read_text()
    assert "| exact recovery | 3/3 (100.0 %) | 3/3 (100.0 %) |" in text
    assert "AI Feynman | 55.8 % | 13.0 %" in text and "Operon | 16.6 % | 2.1 %" in text
    table = pd.read_csv(out / "summary.csv")
    assert list(table["problem"]) == EASY and table["exact"].sum() == 3
    assert (out / "recovery.png").stat().st_size > 0 and (out / "times.png").stat().st_size > 0


def test_resume_runs_nothing_when_everything_is_done(local_run, monkeypatch):
    out, _ = local_run
    before = (out / "results.jsonl").read_bytes()
    mtime = (out / "results.jsonl").stat().st_mtime_ns

    class NoWorker:
        def __init__(self, *args, **kwargs):
            raise AssertionError("resume started a worker for finished items")

    monkeypatch.setattr(suite_mod, "_Worker", NoWorker)
    run_suite("feynman", out, problems=EASY, **FAST)
    assert (out / "results.jsonl").read_bytes() == before
    assert (out / "results.jsonl").stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="another setting"):
        run_suite("feynman", out, problems=EASY, noise=0.01, **FAST)


def test_resume_false_moves_old_results_aside(local_run, tmp_path):
    out, _ = local_run
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "results.jsonl").write_bytes((out / "results.jsonl").read_bytes())
    summary = run_suite("feynman", copy, limit=0, resume=False, **FAST)
    assert (copy / "results.jsonl").read_bytes() == b""
    aside = list(copy.glob("results.*.jsonl"))
    assert len(aside) == 1 and len(aside[0].read_text().splitlines()) == 3
    assert "No results yet" in summary.read_text()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="problems"):
        run_suite("feynman", "/nonexistent/never", problems=["I.12.1", "no-such"], **FAST)
    with pytest.raises(ValueError, match="jobs"):
        run_suite("feynman", "/nonexistent/never", jobs=0, **FAST)
    with pytest.raises(ValueError, match="unknown pack"):
        run_suite("nope", "/nonexistent/never", **FAST)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and process groups")
def test_kill_9_mid_run_then_resume_keeps_every_line_once(tmp_path):
    names = ["I.12.1", "I.12.4", "I.12.5", "I.14.4", "I.39.22", "II.3.24"]
    code = (
        f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
        "from kandiscover.suite import run_suite\nfrom test_suite import _fake_slow\n"
        f"run_suite('feynman', {str(tmp_path)!r}, jobs=1, problems={names!r}, _work_fn=_fake_slow, "
        "time_budget=3.0, n=50, progress=False)\n"
    )
    env = dict(os.environ, KD_TEST_SUITE_DELAY="1.0")  # mid-run when the first line appears
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, env=env)
    results = tmp_path / "results.jsonl"
    try:
        end = time.monotonic() + 90
        while time.monotonic() < end and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the suite ended before it could be killed"
        workers = _children(proc.pid)
        assert workers, "the suite has no worker process"
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: its workers must follow by themselves
        proc.wait()
        assert _wait_gone(workers) == [], "worker processes outlived their killed parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    before = results.read_bytes()
    assert before.endswith(b"\n") and 1 <= before.count(b"\n") < len(names)
    with open(results, "ab") as fh:  # as if the kill had hit a write half-way
        fh.write(b'{"pack": "feynman", "problem": "I.1')
    run_suite("feynman", tmp_path, jobs=1, problems=names, _work_fn=_fake_slow, time_budget=3.0, n=50, progress=False)
    after = results.read_bytes()
    assert after.startswith(before)
    keys = [(r["problem"], r["seed"]) for r in _records(tmp_path)]
    assert sorted(keys) == sorted((p, 0) for p in names)


def test_timeout_error_and_dead_worker_are_recorded_and_the_suite_goes_on(tmp_path):
    names = ["I.12.1", "I.12.4", "I.39.22", "I.12.5"]
    t0 = time.monotonic()
    summary = run_suite("feynman", tmp_path, jobs=2, problems=names, timeout=5.0, _work_fn=_misbehave, **FAST)
    assert time.monotonic() - t0 < 60
    recs = {r["problem"]: r for r in _records(tmp_path)}
    assert len(recs) == 4 == len(_records(tmp_path))
    assert recs["I.12.1"]["status"] == "error" and "broken on purpose" in recs["I.12.1"]["error"]
    assert "ValueError" in recs["I.12.1"]["traceback"]
    assert recs["I.12.4"]["status"] == "timeout" and "5 s" in recs["I.12.4"]["error"]
    assert recs["I.12.5"]["status"] == "error" and "exit code 3" in recs["I.12.5"]["error"]
    assert recs["I.39.22"]["status"] == "ok" and recs["I.39.22"]["exact"] is True
    assert all(recs[p]["exact"] is False for p in ("I.12.1", "I.12.4", "I.12.5"))
    text = summary.read_text()
    assert "| errors / timeouts | 2 / 1 |" in text and "## Errors and timeouts" in text
    assert _wait_gone(_suite_children(), 5.0) == []


def test_dask_local_cluster_gives_the_local_results(local_run, tmp_path):
    pytest.importorskip("distributed")
    out, _ = local_run
    names = EASY[:2]
    run_suite("feynman", tmp_path, jobs=2, scheduler="local", problems=names, **FAST)
    got = {r["problem"]: r for r in _records(tmp_path)}
    ref = {r["problem"]: r for r in _records(out)}
    assert sorted(got) == sorted(names)
    for name in names:
        assert got[name]["status"] == "ok"
        assert got[name]["exact"] == ref[name]["exact"] is True
    # multiprocessing's resource tracker (started by Dask) lives as long as this process; no other
    assert (
        _wait_gone(
            [p for p in _suite_children() if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()], 10.0
        )
        == []
    )


def test_summary_of_a_data_only_pack_shows_the_kan_paper_rmse(tmp_path):
    base = dict(
        pack="special",
        seed=0,
        status="ok",
        exact=None,
        r2=0.99,
        seconds=2.0,
        strategy="kan",
        formula="x",
        truth=None,
        error=None,
        srbench=False,
        n=200,
        noise=0.0,
        time_budget=3.0,
    )
    lines = [json.dumps(dict(base, problem="jv", rmse=2e-3)), json.dumps(dict(base, problem="ellipj", rmse=0.1))]
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + '\n{"problem": "y')
    text = summarize(tmp_path).read_text()
    assert "KAN paper RMSE" in text and "exact recovery" not in text and "AI Feynman" not in text
    assert "| jv | no | 0.990000 | 0.002 | 0.0016 |" in text
    table = pd.read_csv(tmp_path / "summary.csv")
    assert list(table["problem"]) == ["jv", "ellipj"] and table["kan_paper_rmse"].iloc[0] == 1.6e-3
    assert (tmp_path / "rmse.png").exists() and (tmp_path / "times.png").exists()


def _plan_echo(problem, seed, settings):
    return dict(
        exact=True, r2=1.0, rmse=0.0, strategy=",".join(settings["plan"] or ["default"]), formula=str(problem.formula)
    )


def test_a_plan_runs_only_the_strategies_named_and_is_recorded(tmp_path):
    run_suite("zoo", tmp_path, problems=["Keijzer-1", "Koza-2"], plan=["kan", "monomial"], _work_fn=_plan_echo, **FAST)
    recs = _records(tmp_path)
    plan = "monomial,kan-1,kan-mult,kan-sum,kan-mult-s1,kan-deep-s1,kan-mult-s2,kan-deep-s2"
    assert [r["plan"] for r in recs] == [plan, plan] and recs[0]["strategy"] == plan
    with pytest.raises(ValueError, match="another setting"):
        run_suite("zoo", tmp_path, problems=["Keijzer-1"], plan=["monomial"], _work_fn=_plan_echo, **FAST)
    with pytest.raises(ValueError, match="plan must be a non-empty list of strategy names"):
        run_suite("zoo", tmp_path, plan=["genetic"], **FAST)


def test_summary_tabulates_exact_recoveries_by_strategy_and_family(tmp_path):
    base = dict(
        pack="zoo",
        seed=0,
        status="ok",
        r2=0.99,
        rmse=0.1,
        seconds=2.0,
        formula="x1",
        error=None,
        srbench=False,
        n=200,
        noise=0.0,
        time_budget=3.0,
        truth="x1",
    )
    recs = [
        dict(base, problem="Keijzer-1", exact=True, strategy="monomial"),
        dict(base, problem="Keijzer-2", exact=True, strategy="split (raw)"),
        dict(base, problem="Korns-1", exact=False, strategy="split"),
    ]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    text = summarize(tmp_path).read_text()
    assert "| split | yes | 1 | 2 |" in text and "| monomial |  | 1 | 1 |" in text
    assert "| Keijzer | 2 | 2 |" in text and "| Korns | 0 | 1 |" in text
    assert "AI Feynman" not in text  # published Feynman rates only beside a Feynman run


@pytest.mark.parametrize("hint, expected", [(True, 0.01), (False, None)])
def test_run_item_gives_the_noise_as_a_hint_only_when_asked(monkeypatch, hint, expected):
    from kandiscover.problems import load

    discover_mod = sys.modules["kandiscover.discover"]  # the package's `discover` is the function

    real = discover_mod.discover
    seen = {}

    def spy(*args, **kwargs):
        seen["noise_hint"] = kwargs["noise_hint"]
        return real(*args, **kwargs)

    monkeypatch.setattr(discover_mod, "discover", spy)
    problem = load("feynman")["I.12.1"]
    settings = dict(n=200, noise=0.01, time_budget=5.0, plan=None, units=False, hint=hint)
    rec = run_item(problem, 0, settings)
    assert seen["noise_hint"] == expected
    assert rec["exact"] is True  # F = mu*Nn, found with the noise given or estimated


def test_resume_refuses_results_run_with_another_hint_setting(tmp_path):
    run_suite("feynman", tmp_path, problems=EASY[:1], _work_fn=_fake_slow, **FAST)
    with pytest.raises(ValueError, match="hint=True"):
        run_suite("feynman", tmp_path, problems=EASY[:1], hint=False, _work_fn=_fake_slow, **FAST)
