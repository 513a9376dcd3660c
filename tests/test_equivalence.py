import threading
import time

import pytest
import sympy

from kandiscover.support.timeout import _WORKER

from kandiscover.symbolic import equivalence
from kandiscover.symbolic.equivalence import is_equivalent, round_constants

x, y = sympy.symbols("x y")


@pytest.mark.parametrize(
    "found, truth",
    [
        ("x*y", "y*x"),
        ("exp(sin(pi*x) + 1.0001*y**2)", "exp(y**2 + sin(pi*x))"),
        ("x/y + 1", "x/y"),  # constant difference
        ("2.5*x*y", "x*y"),  # constant ratio
        ("sqrt(x**2 + y**2)", "sqrt(y**2 + x**2)"),
        ("0.39894*exp(-0.5*x**2)", "exp(-x**2/2)/sqrt(2*pi)"),
        ("(x + y)**2 - 2*x*y", "x**2 + y**2"),
        ("sin(x)**2", "1 - cos(x)**2"),
        ("x + 0.00001*y", "x"),  # tiny constants are dropped by rounding
    ],
)
def test_equivalent_pairs(found, truth):
    assert is_equivalent(found, truth)


@pytest.mark.parametrize(
    "found, truth",
    [
        ("exp(sin(3.14159*x) + y**2)", "exp(y**2 + sin(pi*x))"),  # strict SRBench: 3.14 is not pi
        ("x**0.33333", "x**(1/3)"),
        ("x*y", "x + y"),
        ("sin(x)", "cos(x)"),
        ("x**2", "x**3"),
        ("exp(x)", "exp(1.1*x)"),
        ("sin(3.2*x)", "sin(pi*x)"),
        ("x + 0.001*y", "x"),
        ("0", "x"),
    ],
)
def test_non_equivalent_pairs(found, truth):
    assert not is_equivalent(found, truth)


def test_accepts_sympy_expressions():
    assert is_equivalent(sympy.Float(1.5) * x * y, x * y)
    assert not is_equivalent(x * y, x + y)


def test_symbols_are_matched_by_name():
    x_pos = sympy.Symbol("x", positive=True)
    assert is_equivalent(2 * x, x_pos)
    assert is_equivalent(sympy.sqrt(x**2), x_pos, timeout=0)


def test_round_constants():
    assert round_constants(sympy.Float(1.00002288810115) * x) == sympy.Float(1.0) * x
    assert sympy.simplify(round_constants(sympy.Float(1.00002288810115) * x) - x) == 0
    rounded = round_constants(sympy.Float(3.14159) * x + sympy.Float(0.012345) * y)
    assert rounded == sympy.Float(3.14) * x + sympy.Float(0.0123) * y
    assert round_constants(sympy.Float(2e-5) * x + y) == y
    assert round_constants(sympy.Float(123456.0) * x, digits=2) == sympy.Float(120000.0) * x
    exact = sympy.Rational(1, 3) * x**2 + 7 * sympy.pi
    assert round_constants(exact) == exact


def test_round_constants_validates_digits():
    with pytest.raises(ValueError, match="digits"):
        round_constants(x, digits=0)


def test_domain_decides_where_formulas_are_compared():
    # log(x - 3) is nan on the default domain; the symbolic proof still accepts
    assert is_equivalent("log(x - 3) + 1", "log(x - 3)")
    # abs(x) == x only where x > 0
    assert is_equivalent("abs(x)", "x")
    assert not is_equivalent("abs(x)", "x", domain={"x": (-2.0, 2.0)}, timeout=1.0)


def test_invalid_domain_is_rejected():
    with pytest.raises(ValueError, match="domain"):
        is_equivalent("x", "x", domain={"x": (2.0, 1.0)})


@pytest.fixture
def hanging_simplify(monkeypatch):
    """Every symbolic rewrite blocks until the test ends (a stand-in for a hanging simplify)."""
    release = threading.Event()
    calls = []

    def hang(expr):
        calls.append(expr)
        release.wait(10)
        raise RuntimeError("released")

    monkeypatch.setattr(equivalence, "_SIMPLIFIERS", (("hang", hang),))
    _WORKER._stop()  # the sympy worker is forked on first use: a fresh one sees the stand-in
    yield calls
    release.set()
    _WORKER._stop()  # and the next test's worker sees the real simplifiers again


def test_numbers_decide_when_sympy_hangs(hanging_simplify):
    start = time.monotonic()
    assert not is_equivalent("x*y", "x + y", timeout=0.3)
    assert is_equivalent("exp(x + y)", "exp(x)*exp(y)", timeout=0.3)
    assert is_equivalent("3.0*sin(x)*cos(x)", "sin(2*x)", timeout=0.3)
    assert time.monotonic() - start < 3.0


def test_hanging_symbolic_proof_is_cut_at_the_timeout(hanging_simplify, monkeypatch):
    monkeypatch.setattr(equivalence, "_numeric_verdict", lambda *args: None)
    monkeypatch.setattr(equivalence, "_wide_verdict", lambda *args: None)
    start = time.monotonic()
    assert not is_equivalent("2*(x + y)", "x + y", timeout=0.5)
    assert time.monotonic() - start < 3.0


def test_different_formulas_are_rejected_without_asking_sympy(hanging_simplify):
    assert not is_equivalent("x*y", "x + y", timeout=5.0)
    assert not is_equivalent("sin(x)", "cos(x)", timeout=5.0)
    assert hanging_simplify == []  # the sampling box already shows them apart


def test_numeric_fallback_when_symbolic_raises(monkeypatch):
    def broken(expr):
        raise RecursionError("sympy gave up")

    monkeypatch.setattr(equivalence, "_SIMPLIFIERS", (("broken", broken),))
    _WORKER._stop()  # a fresh worker sees the broken simplifiers
    try:
        assert is_equivalent("x/y + 2", "x/y")
        assert not is_equivalent("x/y + x", "x/y")
    finally:
        _WORKER._stop()


def test_symbolic_proof_used_when_numbers_are_unavailable(monkeypatch):
    monkeypatch.setattr(equivalence, "_numeric_verdict", lambda *args: None)
    monkeypatch.setattr(equivalence, "_wide_verdict", lambda *args: None)
    assert is_equivalent("2*(x + y)", "x + y")
    assert not is_equivalent("x + y", "x*y")


@pytest.mark.parametrize(
    "found, truth, domain",
    [
        # a Taylor-regime stand-in for 1/r2: a*cot(a*r2) = 1/r2 - a**2*r2/3 + ...
        (
            "G*m1*m2*(0.000148404*cot(0.000148427*r2) - 1/r1)",
            "G*m1*m2*(1/r2 - 1/r1)",
            {"G": (1.0, 2.0), "m1": (1.0, 5.0), "m2": (1.0, 5.0), "r1": (1.0, 5.0), "r2": (1.0, 5.0)},
        ),
        # equal to the law only where V <= 5, the whole sampling range
        ("pr*(5 - abs(V - 5))/(g - 1)", "pr*V/(g - 1)", {"pr": (1.0, 5.0), "V": (1.0, 5.0), "g": (2.0, 5.0)}),
        ("sin(0.001*x)*1000.0", "x", None),
    ],
)
@pytest.mark.parametrize("timeout", [5.0, 0])
def test_stand_ins_that_agree_on_the_sampling_box_are_rejected(found, truth, domain, timeout):
    assert not is_equivalent(found, truth, domain=domain, timeout=timeout)


@pytest.mark.parametrize(
    "found, truth",
    [("sqrt(x**2*y**2)", "x*y"), ("log(exp(E))", "E"), ("sqrt(4*x**2)", "x"), ("exp(log(x)/2)", "sqrt(x)")],
)
def test_equivalents_that_need_positive_symbols_are_accepted(found, truth):
    assert is_equivalent(found, truth)


def test_symbols_take_the_sign_of_their_range():
    # sqrt(x**2) is -x for negative x: a constant ratio there, a constant difference nowhere
    assert is_equivalent("sqrt(x**2)", "x", domain={"x": (-3.0, -1.0)})
    assert not is_equivalent("sqrt(x**2) + x", "x", domain={"x": (-3.0, -1.0)})
    assert not is_equivalent("sqrt(x**2)", "x", domain={"x": (-1.0, 3.0)})


def test_proof_comes_first_where_numbers_agree(monkeypatch):
    asked = []
    real = equivalence._symbolic_verdict

    def spy(*args):
        asked.append(args)
        return real(*args)

    monkeypatch.setattr(equivalence, "_symbolic_verdict", spy)
    assert is_equivalent("2.5*(x + 1)**2", "x**2 + 2*x + 1")
    assert len(asked) == 1


def test_a_truth_with_long_constants_is_its_own_answer():
    truth = "0.23 + 4.73333333333333*(x2 + x4)/x5"
    box = {"x2": (-50, 50), "x4": (-50, 50), "x5": (-50, 50)}
    assert is_equivalent(truth, truth, domain=box)
    assert is_equivalent("(4.7333334*x2 + 4.7333334*x4 + 0.23*x5)/x5", truth, domain=box)
    # a constant off in its third digit is not the law
    assert not is_equivalent("0.23 + 4.75*(x2 + x4)/x5", truth, domain=box)
    decay = "2.1380940889 - 2.1380940889*exp(-0.54723748542*x1)"
    assert is_equivalent(decay, decay, domain={"x1": (-50, 50)})
