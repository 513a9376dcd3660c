import pytest
import torch

import kandiscover as kd
from conftest import exp_sin, make_dataset


def test_forward_shapes_and_edges_sum_to_output():
    model = kd.KAN([3, [2, 1], 2], grid=4, seed=1)
    x = torch.rand(17, 3, dtype=torch.float64)
    y, edges = model(x, return_edges=True)
    assert y.shape == (17, 2)
    assert [tuple(e.shape) for e in edges] == [(17, 4, 3), (17, 2, 3)]
    assert torch.allclose(model(x), y)
    layer0 = model.layers[0]
    sub = edges[0].sum(-1) + layer0.bias
    node = torch.cat([sub[:, :2], sub[:, 2:4].prod(1, keepdim=True)], 1)
    assert torch.allclose(model.layers[1](node), y)


def test_forward_has_no_side_effects():
    model = kd.KAN([2, 3, 1], seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attrs = set(vars(model))
    x = torch.rand(8, 2, dtype=torch.float64)
    model(x, return_edges=True)
    model(x)
    assert set(vars(model)) == attrs
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_seed_makes_initialisation_reproducible():
    a, b, c = kd.KAN([2, 3, 1], seed=5), kd.KAN([2, 3, 1], seed=5), kd.KAN([2, 3, 1], seed=6)
    assert torch.equal(a.layers[0].coef, b.layers[0].coef)
    assert not torch.equal(a.layers[0].coef, c.layers[0].coef)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(width=[2]), "width"),
        (dict(width=[2, 0, 1]), r"width\[1\]"),
        (dict(width=[[1, 1], 1]), "input layer"),
        (dict(width=[2, 3, 1], grid=0), "grid"),
        (dict(width=[2, [0, 1], 1], mult_arity=1), "mult_arity"),
        (dict(width=[2, 3, 1], dtype=torch.int32), "dtype"),
    ],
)
def test_bad_constructor_arguments_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kd.KAN(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised on machines without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        kd.KAN([2, 1], device="cuda")


def test_bad_inputs_are_named():
    model = kd.KAN([2, 3, 1])
    with pytest.raises(ValueError, match=r"shape \(n_rows, 2\)"):
        model.predict(torch.rand(5, 3))
    bad = torch.rand(5, 2)
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match=r"NaN or inf .*\[3\]"):
        model.predict(bad)


def test_refine_reproduces_coarse_model():
    ds = make_dataset(exp_sin, 2, n=500)
    model = kd.KAN([2, 3, 1], grid=5, seed=0)
    model.fit(ds, steps=8, progress=False)
    x = ds["train_input"]
    for new_grid in (10, 20, 33):
        fine = model.refine(new_grid)
        assert fine.grid == new_grid
        err = (fine.predict(x) - model.predict(x)).abs().max()
        assert err < 1e-6, (new_grid, float(err))


def test_mult_node_arity_three_fits_product():
    ds = make_dataset(lambda x: x.prod(1, keepdim=True), 3, n=1000, lo=1.0, hi=3.0)
    model = kd.KAN([3, [0, 1]], grid=5, mult_arity=3, seed=0)
    hist = model.fit(ds, opt="LM", steps=60, progress=False)
    assert hist["test_loss"][-1] <= 1e-4
