"""The kandiscover command line, run in-process (plus one run of the installed console script)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kandiscover
from kandiscover import cli
from kandiscover.cli import main


@pytest.fixture
def law_csv(tmp_path):
    """y = 2*a*b**2 with positive inputs, 60 rows."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.uniform(1, 3, 60), "b": rng.uniform(1, 3, 60)})
    df["y"] = 2 * df["a"] * df["b"] ** 2
    path = tmp_path / "law.csv"
    df.to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, expected_code=2):
    assert code == expected_code
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kandiscover: ")
    return lines[0]


def test_console_script_help():
    script = Path(sys.executable).with_name("kandiscover")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for command in ("discover", "verify", "demo", "problems", "suite"):
        assert command in done.stdout


@pytest.mark.parametrize("command", ["discover", "verify", "demo", "problems", "suite"])
def test_every_command_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: kandiscover {command}")


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"kandiscover {kandiscover.__version__}"


def test_no_command_is_a_usage_error(capsys):
    line = assert_one_line_error(*run(capsys))
    assert "choose a command" in line


def test_discover_prints_the_formula(capsys, law_csv):
    code, out, err = run(capsys, "discover", law_csv, "--target", "y", "--time-budget", "10")
    assert code == 0
    assert out.splitlines()[0] == "y = 2*a*b**2"
    assert "test R² = 1" in out
    assert "strategy monomial" in err  # progress and log messages go to stderr


def test_discover_says_the_noise_it_found_and_the_criterion(capsys, tmp_path):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.uniform(1, 3, 500), "b": rng.uniform(1, 3, 500)})
    clean = 2 * df["a"] * df["b"] ** 2
    df["y"] = clean + rng.normal(0, 0.01 * np.sqrt(np.mean(clean**2)), len(df))
    df.to_csv(tmp_path / "noisy.csv", index=False)
    code, out, _ = run(capsys, "discover", tmp_path / "noisy.csv", "--target", "y", "--quiet", "--time-budget", "10")
    assert code == 0
    assert out.splitlines()[0] == "y = 2*a*b**2"
    noise = [line for line in out.splitlines() if line.strip().startswith("noise:")]
    assert len(noise) == 1 and noise[0].endswith("(estimated)")
    assert 0.007 < float(noise[0].split()[1]) < 0.015
    assert "chosen by: BIC" in out


def test_discover_json(capsys, law_csv):
    code, out, err = run(capsys, "discover", law_csv, "--target", "y", "--json", "--quiet", "--time-budget", "10")
    assert code == 0
    assert err == ""
    result = json.loads(out)
    assert result["formula"] == "2*a*b**2"
    assert result["r2"] == pytest.approx(1.0)
    assert result["latex"] == "y = 2 a b^{2}"
    assert result["inputs"] == ["a", "b"]
    assert any(p["chosen"] and p["formula"] == "2*a*b**2" for p in result["pareto"])


def test_discover_out_writes_result_json(capsys, law_csv, tmp_path):
    out_dir = tmp_path / "run"
    code, out, _ = run(capsys, "discover", law_csv, "-t", "y", "--inputs", "a,b", "--out", out_dir, "-q")
    assert code == 0
    assert json.loads((out_dir / "result.json").read_text())["formula"] == "2*a*b**2"
    assert "y = 2*a*b**2" in out


def test_discover_drop_invalid(capsys, tmp_path, law_csv):
    df = pd.read_csv(law_csv)
    df.loc[[4, 9], "a"] = np.nan
    path = tmp_path / "nan.csv"
    df.to_csv(path, index=False)
    code, out, _ = run(capsys, "discover", path, "--target", "y", "--drop-invalid", "-q")
    assert code == 0
    assert "note: dropped 2 rows with NaN or inf" in out


def _bad_csvs(tmp_path, good):
    df = pd.read_csv(good)
    cases = {}

    def write(name, frame=None, text=None, raw=None):
        path = tmp_path / f"{name}.csv"
        if frame is not None:
            frame.to_csv(path, index=False)
        elif raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(text)
        cases[name] = path

    write("text_column", df.assign(label=["p", "q"] * 30))
    nan = df.copy()
    nan.loc[[3, 5], "b"] = np.nan
    write("nan_cells", nan)
    inf = df.copy()
    inf.loc[2, "a"] = np.inf
    write("inf_cells", inf)
    write("few_rows", df.head(4))
    write("duplicate_columns", text="a,a,y\n" + "".join(f"{i},{i + 1},{i * i}\n" for i in range(20)))
    write("empty", text="")
    write("unparsable", text="a,b,y\n1,2,3\n4,5,6,7,8\n")
    write("binary", raw=b"\xff\xfe\x00\x81" * 40)
    write("constant_target", df.assign(y=1.0))
    return cases


EXPECTED = {
    "text_column": "column 'label' is not numeric",
    "nan_cells": "2 rows hold NaN or inf",
    "inf_cells": "1 rows hold NaN or inf",
    "few_rows": "only 4 usable rows; 2 inputs need at least 5 rows",
    "duplicate_columns": "duplicate column names",
    "empty": "is empty",
    "unparsable": "could not be read as CSV",
    "binary": "could not be read as CSV",
    "constant_target": "target 'y' is constant",
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, law_csv, case):
    path = _bad_csvs(tmp_path, law_csv)[case]
    line = assert_one_line_error(*run(capsys, "discover", path, "--target", "y", "--time-budget", "5"))
    assert line.startswith("kandiscover: error: ")
    assert EXPECTED[case] in line


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["discover", "{csv}", "--target", "z"], "target column 'z' not found; columns are ['a', 'b', 'y']"),
        (["discover", "{dir}/missing.csv", "--target", "y"], "no such file"),
        (["discover", "{csv}", "--target", "y", "--inputs", "a,c"], "input columns ['c'] not found"),
        (["discover", "{csv}", "--target", "y", "--time-budget", "-1"], "expected a positive number"),
        (["discover", "{csv}", "--tagret", "y"], "unrecognized arguments: --tagret"),
        (["discover"], "the following arguments are required: DATA.csv"),
        (
            ["verify", "{csv}", "--target", "y", "--formula", "k*a*b**2"],
            "the formula uses ['k'], which is not a column",
        ),
        (["verify", "{csv}", "--target", "y", "--formula", "a*log(-b)"], "not finite"),
        (["verify", "{csv}", "--target", "y", "--formula", "a.__class__"], "not allowed in a formula"),
        (["verify", "{csv}", "--target", "y"], "the following arguments are required: --formula"),
        (["problems", "nope"], "unknown pack 'nope'"),
        (["suite", "feynman", "--out", "{dir}/s", "--jobs", "0"], "expected a positive integer"),
    ],
)
def test_usage_and_input_errors(capsys, tmp_path, law_csv, argv, expected):
    argv = [a.format(csv=law_csv, dir=tmp_path) for a in argv]
    line = assert_one_line_error(*run(capsys, *argv))
    assert expected in line


def test_internal_failure_is_exit_1_with_debug_hint(capsys, law_csv, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    import kandiscover.discover  # noqa: F401 - the module (kandiscover.discover is also the function)

    monkeypatch.setattr(sys.modules["kandiscover.discover"], "discover", broken)
    line = assert_one_line_error(*run(capsys, "discover", law_csv, "-t", "y"), expected_code=1)
    assert "internal error: RuntimeError: boom" in line and "--debug" in line
    code, _, err = run(capsys, "discover", law_csv, "-t", "y", "--debug")
    assert code == 1 and "Traceback" in err and "boom" in err


def test_verify_ok_and_not_ok(capsys, law_csv):
    code, out, _ = run(capsys, "verify", law_csv, "--target", "y", "--formula", "2*a*b^2")
    assert code == 0
    assert "y = 2*a*b**2" in out and "  OK (" in out
    code, out, _ = run(capsys, "verify", law_csv, "--target", "y", "--formula", "2*a*b")
    assert code == 0
    assert "NOT OK" in out


def test_verify_fit_constants_json(capsys, law_csv):
    code, out, _ = run(capsys, "verify", law_csv, "-t", "y", "-f", "k*a*b**2", "--fit-constants", "--json", "-q")
    assert code == 0
    result = json.loads(out)
    assert result["ok"] is True
    assert result["constants"]["k"] == pytest.approx(2.0, rel=1e-10)


def test_problems_lists_the_packs(capsys):
    code, out, _ = run(capsys, "problems")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert "feynman" in names and "special" in names
    assert "feynman    120 problems" in out


def test_problems_of_a_pack(capsys):
    code, out, _ = run(capsys, "problems", "feynman")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) >= 120
    coulomb = next(line for line in lines if line.startswith("I.12.4 "))
    assert "q1 epsilon r" in coulomb and "Ef = q1/(4*pi*epsilon*r**2)" in coulomb


def test_demo(capsys):
    code, out, _ = run(capsys, "demo", "--time-budget", "30", "-q")
    assert code == 0
    assert "equivalent to the truth: yes" in out
    assert "found:  P = " in out and "test R² = 1" in out


def test_suite_passes_the_options(capsys, tmp_path, monkeypatch):
    import kandiscover.suite

    seen = {}

    def fake_run_suite(pack, out, **kwargs):
        seen.update(pack=pack, out=out, **kwargs)
        return Path(out) / "summary.md"

    monkeypatch.setattr(kandiscover.suite, "run_suite", fake_run_suite)
    code, out, _ = run(
        capsys,
        "suite",
        "feynman",
        "--jobs",
        "2",
        "--out",
        tmp_path / "res",
        "--no-resume",
        "--time-budget",
        "5",
        "--n",
        "200",
        "--noise",
        "0.01",
        "--seeds",
        "0,1",
        "--limit",
        "3",
        "-q",
    )
    assert code == 0
    assert out.strip() == str(tmp_path / "res" / "summary.md")
    assert seen == dict(
        pack="feynman",
        out=str(tmp_path / "res"),
        jobs=2,
        resume=False,
        progress=False,
        time_budget=5.0,
        n=200,
        noise=0.01,
        seeds=[0, 1],
        limit=3,
    )


def test_suite_without_the_runner_module(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kandiscover.suite", None)
    line = assert_one_line_error(*run(capsys, "suite", "feynman", "--out", tmp_path), expected_code=1)
    assert "suite runner (kandiscover.suite) is not available" in line


def test_logging_handler_is_removed_after_main(capsys, law_csv):
    before = list(cli.log.handlers)
    run(capsys, "verify", law_csv, "-t", "y", "-f", "2*a*b**2")
    assert cli.log.handlers == before
