import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sp
import sympy

from kandiscover.problems import Pack, Problem, available, load

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "problems" / "feynman" / "generate.py"
SHARED_DATA = ROOT.parent / "shared" / "data"
FEYNMAN_NAMES = [
    line.split(",", 1)[0]
    for line in (ROOT / "kandiscover" / "problems" / "data" / "feynman.csv").read_text().splitlines()[1:]
]


@pytest.fixture(scope="module")
def feynman():
    return load("feynman")


@pytest.fixture(scope="module")
def special():
    return load("special")


# ---------------------------------------------------------------------------------------------- feynman


def test_feynman_pack_has_120_problems_and_116_in_srbench(feynman):
    assert len(feynman) == 120 == len(feynman.names) == len(list(feynman))
    sub = feynman.srbench()
    assert isinstance(sub, Pack) and len(sub) == 116
    assert set(feynman.names) - set(sub.names) == {"I.26.2", "I.30.5", "II.11.17", "test_10"}
    assert sum(p.source == "bonus" for p in feynman.values()) == 20
    frame = feynman.to_frame()
    assert len(frame) == 120 and {"target", "variables", "formula", "srbench"} <= set(frame.columns)
    assert int(frame["srbench"].sum()) == 116


def test_feynman_variable_counts_ignore_the_wrong_column(feynman):
    # README errata: "# variables" says 2 for I.18.12 and 6 for II.37.1; the named cells say 3 and 3
    assert feynman["I.18.12"].variables == ("r", "F", "theta")
    assert feynman["II.37.1"].n_vars == 3
    assert feynman["test_1"].meta["name"] == "Rutherford scattering"


@pytest.mark.parametrize("name", FEYNMAN_NAMES)
def test_every_feynman_problem_samples_finite_rows_from_its_formula(feynman, name):
    p = feynman[name]
    assert {s.name for s in p.formula.free_symbols} == set(p.variables)
    df = p.sample(n=200, seed=3)
    assert list(df.columns) == [*p.variables, p.target]
    assert df.shape == (200, p.n_vars + 1)
    assert np.isfinite(df.to_numpy()).all()
    for var, (lo, hi) in zip(p.variables, p.ranges):
        assert lo <= df[var].min() and df[var].max() <= hi
    # the target is the formula evaluated at the inputs (checked independently of lambdify)
    row = df.iloc[0]
    exact = p.formula.subs({sympy.Symbol(v): row[v] for v in p.variables})
    assert float(exact) == pytest.approx(row[p.target], rel=1e-9, abs=1e-12)


def test_i_6_2a_formula_is_the_gaussian(feynman):
    theta = sympy.Symbol("theta")
    expected = sympy.exp(-(theta**2) / 2) / sympy.sqrt(2 * sympy.pi)
    p = feynman["I.6.2a"]
    assert p.target == "f" and p.variables == ("theta",) and p.ranges == ((1.0, 3.0),)
    assert sympy.simplify(p.formula - expected) == 0


def test_sympy_sensitive_names_are_plain_symbols(feynman):
    for p in feynman.values():
        for s in p.formula.free_symbols:
            assert type(s) is sympy.Symbol
    names = {v for p in feynman.values() for v in p.variables}
    assert {"gamma", "beta", "I", "lambd", "E_n"} <= names  # sympy functions/constants if sympified
    gamma, pr, V = sympy.symbols("gamma pr V")
    assert sympy.simplify(feynman["I.39.11"].formula - pr * V / (gamma - 1)) == 0


def test_sample_is_reproducible_by_seed(feynman):
    p = feynman["I.9.18"]
    a, b, c = p.sample(50, seed=7), p.sample(50, seed=7), p.sample(50, seed=8)
    assert a.equals(b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())


def test_noise_std_is_noise_times_rms(feynman):
    p = feynman["I.12.11"]
    clean = p.sample(20_000, seed=1)
    noisy = p.sample(20_000, seed=1, noise=0.1)
    assert noisy[list(p.variables)].equals(clean[list(p.variables)])  # same inputs whatever the noise
    y = clean[p.target].to_numpy()
    eps = noisy[p.target].to_numpy() - y
    target = 0.1 * np.sqrt(np.mean(y**2))
    assert abs(eps.std() - target) < 0.1 * target
    assert abs(eps.mean()) < 0.05 * target


@pytest.mark.skipif(not (SHARED_DATA / "feynman_equations.csv").is_file(), reason="../shared/data not present")
def test_generator_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "feynman.csv"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--data", str(SHARED_DATA), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert out.read_bytes() == (ROOT / "kandiscover" / "problems" / "data" / "feynman.csv").read_bytes()


# ---------------------------------------------------------------------------------------------- special


def test_special_pack_has_15_finite_problems(special):
    assert len(special) == 15 and len(special.srbench()) == 0
    for p in special.values():
        assert p.formula is None and callable(p.func) and p.n_vars == 2
        df = p.sample(n=500, seed=0)
        assert list(df.columns) == [*p.variables, p.target]
        assert np.isfinite(df.to_numpy()).all(), p.name
        assert df[p.target].std() > 0, p.name
    rmse = {p.name: p.meta["kan_paper_rmse"] for p in special.values()}
    assert rmse["yv"] == 1.5e-5 and rmse["lpmv_0"] == 5.3e-5 and rmse["jv"] == 1.6e-3


def test_special_targets_match_scipy(special):
    df = special["jv"].sample(5, seed=2)
    np.testing.assert_allclose(df["J"], sp.jv(df["v"], df["x"]), rtol=1e-14)
    df = special["ellipj"].sample(5, seed=2)
    np.testing.assert_allclose(df["sn"], sp.ellipj(df["u"], df["m"])[0], rtol=1e-14)
    df = special["lpmv_2"].sample(5, seed=2)
    np.testing.assert_allclose(df["P"], sp.lpmv(2, df["v"], df["x"]), rtol=1e-14)
    # Y_1^0 = sqrt(3/(4 pi)) cos(theta), theta the polar angle; Re Y_1^1 = -sqrt(3/(8 pi)) sin(theta) cos(phi)
    df = special["sph_harm_0_1"].sample(5, seed=2)
    np.testing.assert_allclose(df["ReY"], np.sqrt(3 / (4 * np.pi)) * np.cos(df["theta"]), atol=1e-13)
    df = special["sph_harm_1_1"].sample(5, seed=2)
    expected = -np.sqrt(3 / (8 * np.pi)) * np.sin(df["theta"]) * np.cos(df["phi"])
    np.testing.assert_allclose(df["ReY"], expected, atol=1e-13)


def test_problems_pickle(special, feynman):
    for p in (special["lpmv_1"], special["sph_harm_2_2"], feynman["I.6.2a"]):
        q = pickle.loads(pickle.dumps(p))
        assert q.sample(10, seed=0).equals(p.sample(10, seed=0))


# ----------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(n=0), "n must"),
        (dict(n=-5), "n must"),
        (dict(n=2.5), "n must"),
        (dict(n=True), "n must"),
        (dict(noise=-0.1), "noise must"),
        (dict(noise=float("nan")), "noise must"),
    ],
)
def test_bad_sample_arguments_raise(feynman, kwargs, word):
    with pytest.raises(ValueError, match=word):
        feynman["I.6.2a"].sample(**kwargs)


def test_non_finite_sample_names_the_problem():
    x = sympy.Symbol("x")
    p = Problem(name="bad", pack="mine", target="y", variables=("x",), ranges=((-2, -1),), formula=sympy.sqrt(x))
    with pytest.raises(ValueError, match=r"mine/bad.*not finite"):
        p.sample(10)


def test_problem_validates_its_fields():
    x = sympy.Symbol("x")
    with pytest.raises(ValueError, match="ranges"):
        Problem(name="p", pack="t", target="y", variables=("x",), ranges=(), formula=x)
    with pytest.raises(ValueError, match="low < high"):
        Problem(name="p", pack="t", target="y", variables=("x",), ranges=((1, 1),), formula=x)
    with pytest.raises(ValueError, match="not among its variables"):
        Problem(name="p", pack="t", target="y", variables=("x",), ranges=((0, 1),), formula=x * sympy.Symbol("z"))
    with pytest.raises(ValueError, match="exactly one"):
        Problem(name="p", pack="t", target="y", variables=("x",), ranges=((0, 1),))
    p = Problem(name="p", pack="t", target="y", variables=("x",), ranges=((0, 1),), formula=x)
    assert "t/p" in repr(p) and len(repr(p)) < 100
    with pytest.raises(AttributeError):
        p.name = "q"


def test_unknown_names_list_the_alternatives(feynman):
    with pytest.raises(ValueError, match=r"unknown pack 'feynmann'.*feynman.*special"):
        load("feynmann")
    with pytest.raises(KeyError, match=r"I\.6\.2a.*Available \(120\)"):
        feynman["I.6.2c"]
    with pytest.raises(TypeError):
        feynman["I.6.2a"] = None
    assert load("Feynman").names == feynman.names
    assert {"feynman", "special"} <= set(available())


def test_missing_knots_module_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "kandiscover.problems.knots", None)
    with pytest.raises(ValueError, match="knots data is not available"):
        load("knots")
