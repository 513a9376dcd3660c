"""The zoo pack: 89 classic symbolic-regression problems, sampled uniformly or as originally defined."""

import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kandiscover.problems import load, zoo

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "problems" / "zoo" / "generate.py"
SHARED_TABLE = ROOT.parent / "shared" / "data" / "sr_zoo.csv"
FAMILIES = {
    "Livermore": 23,
    "Keijzer": 15,
    "Korns": 12,
    "Constant": 8,
    "Vladislavleva": 8,
    "Poly": 6,
    "R": 6,
    "Jin": 6,
    "Koza": 2,
    "Neat": 2,
    "Pagie": 1,
}
NAMES = [
    line.split(",", 1)[0]
    for line in (ROOT / "kandiscover" / "problems" / "data" / "zoo.csv").read_text().splitlines()[1:]
]


@pytest.fixture(scope="module")
def pack():
    return load("zoo")


def test_zoo_has_89_problems_in_eleven_families(pack):
    assert len(pack) == 89 == len(NAMES)
    assert pack.to_frame()["family"].value_counts().to_dict() == FAMILIES
    assert "zoo" in __import__("kandiscover").problems.available()


@pytest.mark.parametrize("name", NAMES)
def test_every_zoo_problem_samples_finite_rows_on_its_box(pack, name):
    p = pack[name]
    df = p.sample(n=200, seed=1)
    assert list(df.columns) == [*p.variables, "y"] and np.all(np.isfinite(df.to_numpy()))
    for v, (lo, hi) in zip(p.variables, p.ranges):
        assert lo <= df[v].min() and df[v].max() <= hi


def test_targets_follow_the_formula(pack):
    x = np.array([0.5, 1.0, 2.0])
    expected = x**3 * (np.sin(x) ** 2 * np.cos(x) - 1) * np.exp(-x) * np.sin(x) * np.cos(x)
    np.testing.assert_allclose(pack["Keijzer-4"].evaluate(x), expected, rtol=1e-13)
    np.testing.assert_allclose(pack["Neat-6"].evaluate(np.array([1.0, 2.0, 4.0])), [1.0, 1.5, 25 / 12], rtol=1e-13)


def test_original_definitions_grid_and_random_points(pack):
    grid = zoo.original_sample(pack["Keijzer-1"])
    assert len(grid) == 21 and grid["x1"].iloc[0] == -1 and math.isclose(grid["x1"].iloc[-1], 1.0)
    korns = zoo.original_sample(pack["Korns-1"], seed=3)
    assert len(korns) == 100 and korns.shape[1] == 6
    assert korns.equals(zoo.original_sample(pack["Korns-1"], seed=3))
    assert not korns.equals(zoo.original_sample(pack["Korns-1"], seed=4))
    assert pack["Keijzer-1"].meta["original_rows"] == 21


def test_original_grid_drops_rows_where_the_target_is_not_finite():
    row = dict(
        id="t",
        family="test",
        formula="log(x1)",
        n_vars="1",
        variables="x1",
        lows="0",
        highs="2",
        sampling='{"x1":{"E":[0,2,0.5]}}',
        original_rows="5",
        function_set="",
    )
    df = zoo.original_sample(zoo.problem_from_row(row))
    assert list(df["x1"]) == [0.5, 1.0, 1.5, 2.0]


def test_zoo_problems_pickle(pack):
    p = pack["Vladislavleva-4"]
    assert pickle.loads(pickle.dumps(p)) == p


@pytest.mark.skipif(not SHARED_TABLE.is_file(), reason="../shared/data not present")
def test_generator_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "zoo.csv"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--data", str(SHARED_TABLE), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert out.read_bytes() == (ROOT / "kandiscover" / "problems" / "data" / "zoo.csv").read_bytes()
