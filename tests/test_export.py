import numpy as np
import pytest
import sympy
import torch

from kandiscover.symbolic.export import to_latex, to_numpy, to_torch

x, y = sympy.symbols("x y")
VARS = ["x", "y"]

EXPRESSIONS = [
    sympy.Float(2.5),
    sympy.Integer(3),
    sympy.pi,
    sympy.sqrt(x**2 + y**2),
    sympy.exp(-x) * sympy.sin(sympy.pi * y),
    sympy.Float(1.5) * x + sympy.Float(-0.25) * y**2 + sympy.Float(2.0),
    x ** sympy.Rational(3, 2) / y ** sympy.Rational(1, 3),
    1 / sympy.sqrt(x + y),
    sympy.Abs(x - y) + sympy.log(x) / y,
    sympy.tanh(x) * sympy.cos(y) - sympy.atan(x * y),
    sympy.gamma(x + y) + sympy.erf(x),
    x ** sympy.Float(1.7) + sympy.exp(sympy.Float(0.3) * y),
    sympy.Rational(1, 3) * x * y + sympy.E,
]


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return rng.uniform(0.3, 2.5, size=(50, 2))


def _direct(expr, X):
    return np.array([float(expr.evalf(20, subs={x: a, y: b})) for a, b in X])


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_numpy_and_torch_agree_with_sympy(expr, points):
    expected = _direct(expr, points[:8])
    lambdified = sympy.lambdify((x, y), expr, modules=["scipy", "numpy"])
    reference = np.broadcast_to(lambdified(points[:, 0], points[:, 1]), (len(points),))

    f = to_numpy(expr, VARS)
    got = f(points)
    assert got.shape == (50,) and got.dtype == np.float64
    np.testing.assert_allclose(got, reference, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[:8], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f(x=points[:, 0], y=points[:, 1]), got, rtol=0, atol=0)

    module = to_torch(expr, VARS)
    out = module(torch.tensor(points, dtype=torch.float64))
    assert out.shape == (50,) and out.dtype == torch.float64
    np.testing.assert_allclose(out.detach().numpy(), reference, rtol=1e-10, atol=1e-12)


def test_numpy_column_order_follows_variables(points):
    f = to_numpy(x - 2 * y, ["y", "x"])
    np.testing.assert_allclose(f(points), points[:, 1] - 2 * points[:, 0])


def test_numpy_rejects_missing_variables_and_bad_shapes(points):
    with pytest.raises(ValueError, match="'y'"):
        to_numpy(x * y, ["x"])
    f = to_numpy(x * y, VARS)
    with pytest.raises(ValueError, match="shape"):
        f(points[:, :1])
    with pytest.raises(ValueError, match="missing"):
        f(x=points[:, 0])


def test_numpy_accepts_formula_strings(points):
    f = to_numpy("x^2 + ln(y)", VARS)
    np.testing.assert_allclose(f(points), points[:, 0] ** 2 + np.log(points[:, 1]))


def test_torch_constants_are_trainable_parameters(points):
    expr = sympy.Float(1.5) * sympy.sin(x) + sympy.Float(0.5) * y**2 + sympy.pi
    module = to_torch(expr, VARS)
    params = list(module.parameters())
    assert len(params) == 2 and all(p.requires_grad for p in params)
    assert sorted(p.item() for p in params) == [0.5, 1.5]  # pi and the exponent 2 stay fixed

    X = torch.tensor(points, dtype=torch.float64)
    target = 2.0 * torch.sin(X[:, 0]) + 0.25 * X[:, 1] ** 2 + np.pi
    before = [p.detach().clone() for p in params]
    opt = torch.optim.SGD(module.parameters(), lr=0.01)
    loss = torch.mean((module(X) - target) ** 2)
    loss.backward()
    opt.step()
    assert all(p.grad is not None for p in params)
    assert all(not torch.equal(b, p.detach()) for b, p in zip(before, params))
    assert torch.mean((module(X) - target) ** 2) < loss

    refitted = module.to_sympy()
    assert refitted.free_symbols == {x, y} and refitted.has(sympy.pi)
    assert sorted(float(f) for f in refitted.atoms(sympy.Float)) == sorted(p.item() for p in params)


def test_torch_repeated_constants_are_independent():
    module = to_torch(sympy.Float(2.0) * x + sympy.Float(2.0) * y, VARS)
    assert len(list(module.parameters())) == 2


def test_torch_rejects_bad_input_and_unknown_functions():
    module = to_torch(x * y, VARS)
    with pytest.raises(ValueError, match="shape"):
        module(torch.ones(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="'f'"):
        to_torch(sympy.Function("f")(x), VARS)


def test_torch_float32_input_keeps_float32():
    module = to_torch(sympy.Float(1.5) * x + y, VARS)
    out = module(torch.ones(3, 2, dtype=torch.float32))
    assert out.dtype == torch.float32
    assert torch.allclose(out, torch.full((3,), 2.5))


def test_to_latex_is_sympy_latex():
    expr = sympy.exp(y**2 + sympy.sin(sympy.pi * x)) / sympy.sqrt(x)
    assert to_latex(expr) == sympy.latex(expr)
    assert to_latex("x^2/y") == sympy.latex(x**2 / y)
