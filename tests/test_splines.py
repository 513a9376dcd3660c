import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from kandiscover.kan.splines import (
    bspline_basis,
    curve_to_coef,
    extend_grid,
    grid_from_samples,
    subdivide_grid,
    uniform_grid,
)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_basis_matches_scipy(k):
    g = torch.Generator().manual_seed(k)
    grid = torch.sort(torch.rand(3, 9, generator=g, dtype=torch.float64), dim=1).values
    knots = extend_grid(grid, k)
    x = torch.rand(400, 3, generator=g, dtype=torch.float64) * 1.6 - 0.3
    basis = bspline_basis(x, knots, k)
    assert basis.shape == (400, 3, 8 + k)
    for i in range(3):
        design = BSpline.design_matrix(x[:, i].numpy(), knots[i].numpy(), k, extrapolate=True).toarray()
        inside = ((x[:, i] >= knots[i, k]) & (x[:, i] < knots[i, -k - 1])).numpy()
        assert inside.sum() > 100
        np.testing.assert_allclose(basis[inside, i].numpy(), design[inside], atol=1e-12, rtol=0)


def test_basis_partition_of_unity_and_zero_outside():
    knots = extend_grid(uniform_grid(2, 6, dtype=torch.float64), 3)
    x = torch.linspace(-0.99, 0.99, 101, dtype=torch.float64).unsqueeze(1).repeat(1, 2)
    assert torch.allclose(bspline_basis(x, knots, 3).sum(-1), torch.ones(101, 2, dtype=torch.float64))
    far = torch.full((4, 2), 50.0, dtype=torch.float64)
    assert bspline_basis(far, knots, 3).abs().max() == 0


def test_basis_gradient_is_analytic_and_twice_differentiable():
    knots = extend_grid(uniform_grid(2, 5, dtype=torch.float64), 3)
    coef = torch.randn(2, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = (torch.rand(15, 2, dtype=torch.float64) * 1.8 - 0.9).requires_grad_()

    def f(x):
        return (bspline_basis(x, knots, 3) * coef).sum(-1).sin()

    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


def test_curve_to_coef_reproduces_a_spline():
    knots = extend_grid(uniform_grid(2, 7, dtype=torch.float64), 3)
    coef = torch.randn(3, 2, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = torch.rand(500, 2, dtype=torch.float64) * 2 - 1
    y = torch.einsum("bik,oik->boi", bspline_basis(x, knots, 3), coef)
    back = curve_to_coef(x, y, knots, 3, ridge=1e-14)
    assert torch.allclose(back, coef, atol=1e-8)


def test_grid_from_samples_spans_data_and_increases():
    x = torch.randn(300, 3, dtype=torch.float64) * torch.tensor([1.0, 10.0, 1e-9], dtype=torch.float64)
    grid = grid_from_samples(x, 8)
    assert grid.shape == (3, 9)
    assert (torch.diff(grid, dim=1) > 0).all()
    assert torch.allclose(grid[:2, 0], x[:, :2].min(0).values, rtol=1e-6)


def test_subdivide_grid_nests_old_knots():
    grid = torch.tensor([[0.0, 0.1, 0.5, 2.0]], dtype=torch.float64)
    fine = subdivide_grid(grid, 6)
    assert torch.allclose(fine[0, ::2], grid[0])
