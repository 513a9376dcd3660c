import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from kandiscover.kan.grid import extend_grid, grid_from_samples, subdivide_grid, uniform_grid
from kandiscover.kan.splines import bspline_basis, curve_to_coef


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


# ---------------------------------------------------------------- fast eager path (local_basis)
def _dense_reference(x, knots, k):
    """The branch-free dense recursion (the path used under torch.func transforms)."""
    from kandiscover.kan.splines import basis_levels, basis_derivative

    basis, lower = basis_levels(x, knots, k, True)
    return basis, basis_derivative(lower, knots, k)


@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_local_path_matches_dense_recursion(k, uniform):
    g = torch.Generator().manual_seed(10 * k + uniform)
    if uniform:
        grid = uniform_grid(4, 7, -0.5, 2.0, dtype=torch.float64)
    else:
        grid = torch.sort(torch.rand(4, 8, generator=g, dtype=torch.float64), dim=1).values * 2 - 1
    knots = extend_grid(grid, k)
    for spread in (0.4, 1.0, 3.0):  # all inside the grid, some in the extension, some outside
        x = ((torch.rand(300, 4, generator=g, dtype=torch.float64) * 2 - 1) * spread + 0.2).requires_grad_()
        with torch.no_grad():  # samples exactly on knots, on both ends of the support
            x[0, 0], x[1, 1], x[2, 2], x[3, 3] = knots[0, k + 2], knots[1, 0], knots[2, -1], knots[3, k]
        ref, dref = _dense_reference(x.detach(), knots, k)
        basis = bspline_basis(x, knots, k)
        torch.testing.assert_close(basis, ref, atol=1e-12, rtol=0)
        (grad,) = torch.autograd.grad((basis * dref.detach().sign()).sum(), x)  # any fixed weights
        torch.testing.assert_close(grad, (dref * dref.sign()).sum(-1), atol=1e-9, rtol=1e-9)


def test_local_path_float32_and_far_points():
    knots = extend_grid(uniform_grid(3, 10, dtype=torch.float32), 3)
    x = torch.rand(1000, 3) * 2 - 1
    ref, _ = _dense_reference(x.double(), knots.double(), 3)
    torch.testing.assert_close(bspline_basis(x, knots, 3).double(), ref, atol=2e-6, rtol=0)
    far = torch.tensor([[1e30, -1e30, 7.0]])
    assert bspline_basis(far, knots, 3).abs().max() == 0


def test_kan_features_silu_column_and_gradients():
    from kandiscover.kan.splines import kan_features

    knots = extend_grid(uniform_grid(2, 5, dtype=torch.float64), 3)
    x = (torch.rand(12, 2, dtype=torch.float64) * 2.4 - 1.2).requires_grad_()
    feats = kan_features(x, knots, 3)
    assert feats.shape == (12, 2, 9)
    torch.testing.assert_close(feats[..., 0], torch.nn.functional.silu(x))
    torch.testing.assert_close(feats[..., 1:], bspline_basis(x, knots, 3))
    w = torch.randn(2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(3))

    def f(x):
        return (kan_features(x, knots, 3) * w).sum(-1).sin()

    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


def test_reused_buffers_never_overwrite_live_results():
    knots = extend_grid(uniform_grid(64, 10, dtype=torch.float32), 3)
    x1 = torch.rand(1024, 64) * 2 - 1
    x2 = torch.rand(1024, 64) * 2 - 1
    b1 = bspline_basis(x1, knots, 3)
    keep = b1.clone()
    b2 = bspline_basis(x2, knots, 3)  # b1 still alive: must get another buffer
    assert torch.equal(b1, keep)
    assert not torch.equal(b1, b2)
    del b1, b2
    b3 = bspline_basis(x1, knots, 3)  # buffers free again: reused, same result
    assert torch.equal(b3, keep)


def test_uniform_check_follows_in_place_edits():
    knots = extend_grid(uniform_grid(2, 6, dtype=torch.float64), 3)
    x = torch.rand(200, 2, dtype=torch.float64) * 2 - 1
    bspline_basis(x, knots, 3)  # remembered as uniform
    with torch.no_grad():
        knots[:, 5] += 0.05  # no longer uniform
    ref, _ = _dense_reference(x, knots, 3)
    torch.testing.assert_close(bspline_basis(x, knots, 3), ref, atol=1e-12, rtol=0)


def test_vmap_path_matches_eager_path():
    from torch.func import jacrev, vmap

    knots = extend_grid(torch.sort(torch.rand(3, 7, dtype=torch.float64), 1).values * 2 - 1, 3)
    coef = torch.randn(3, 9, dtype=torch.float64)
    x = torch.rand(50, 3, dtype=torch.float64) * 2 - 1

    def row(xr):
        return (bspline_basis(xr.unsqueeze(0), knots, 3)[0] * coef).sum()

    eager = bspline_basis(x, knots, 3)
    batched = vmap(lambda xr: bspline_basis(xr.unsqueeze(0), knots, 3)[0])(x)
    torch.testing.assert_close(batched, eager, atol=1e-12, rtol=0)
    xg = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad((bspline_basis(xg, knots, 3) * coef).sum(), xg)
    torch.testing.assert_close(vmap(jacrev(row))(x), grad, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", ["quantile", "clustered"])
def test_local_path_large_batches_match_dense_recursion(kind):
    """Above the small-batch threshold the interval comes from a bin table plus correction steps."""
    from kandiscover.kan.local_basis import DIRECT_LOCATE_LIMIT as _SMALL

    g = torch.Generator().manual_seed(7)
    n_in, k = 24, 3
    if kind == "quantile":
        grid = grid_from_samples(torch.randn(2000, n_in, generator=g, dtype=torch.float64) ** 3, 12)
    else:  # ten knots packed into one bin: many correction steps
        grid = torch.cat([torch.linspace(-1, -0.99, 11), torch.tensor([0.5, 1.0])]).double().repeat(n_in, 1)
    knots = extend_grid(grid, k)
    x = torch.randn(3000, n_in, generator=g, dtype=torch.float64)
    x[0], x[1], x[2] = knots[:, 4], knots[:, -1], knots[:, 0]  # on knots and on both ends
    assert x.numel() * knots.shape[1] > _SMALL
    ref, dref = _dense_reference(x, knots, k)
    xg = x.clone().requires_grad_()
    basis = bspline_basis(xg, knots, k)
    torch.testing.assert_close(basis, ref, atol=1e-12, rtol=0)
    (grad,) = torch.autograd.grad(basis.sum(), xg)
    torch.testing.assert_close(grad, dref.sum(-1), atol=1e-8, rtol=1e-10)
