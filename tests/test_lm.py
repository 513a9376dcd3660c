"""Levenberg–Marquardt: the structural Jacobian equals the per-row ``vmap(jacrev)`` one."""

import pytest
import torch

import kandiscover as kd
from kandiscover.kan.lm import LevenbergMarquardt


@pytest.mark.parametrize(
    "width, arity", [([2, 5, 1], 2), ([3, [2, 1], 2], 2), ([3, [0, 1]], 3), ([4, 3, [1, 1], 1], 2)]
)
def test_structural_jacobian_equals_vmap(width, arity):
    g = torch.Generator().manual_seed(0)
    model = kd.KAN(width, grid=5, seed=1, mult_arity=arity)
    x = torch.rand(300, width[0], generator=g, dtype=torch.float64) * 2 - 1
    model.update_grid(x)  # non-uniform knots
    with torch.no_grad():
        for layer in model.layers:
            layer.coef.add_(0.3 * torch.randn(layer.coef.shape, generator=g, dtype=torch.float64))
            layer.bias.add_(0.1)
    model.layers[0].remove_edge(0, 0)  # a pruned edge: its columns are zero in both
    lm = LevenbergMarquardt(model)
    ref = lm._jacobian_vmap(x)
    fast = lm._jacobian_numeric_edges(x)
    assert fast.shape == ref.shape == (300 * model.width_in[-1], sum(p.numel() for p in lm.params))
    assert (fast - ref).abs().max() <= 1e-12 * ref.abs().max()


def test_symbolic_edges_use_the_vmap_jacobian_and_lm_still_fits():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(400, 2, generator=g, dtype=torch.float64) * 2 - 1
    y = torch.sin(2 * x[:, :1]) + x[:, 1:] ** 2
    ds = dict(train_input=x, train_label=y, test_input=x, test_label=y)
    model = kd.KAN([2, 1], grid=5, seed=0)
    model.fit(ds, opt="LM", steps=10, progress=False)
    model.fix_symbolic(0, 0, 0, "sin", x=x)  # fitted to the trained edge
    lm = LevenbergMarquardt(model)
    assert torch.equal(lm._jacobian(x), lm._jacobian_vmap(x))
    hist = model.fit(ds, opt="LM", steps=30, update_grid=False, progress=False)
    assert hist["test_loss"][-1] < 1e-5  # the y² edge is still a grid-5 spline: 3e-6
