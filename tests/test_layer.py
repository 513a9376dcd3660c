"""KANLayer: the fused one-matmul forward agrees with the per-edge computation in every state."""

import copy
from types import SimpleNamespace

import torch

from kandiscover.kan.layer import KANLayer


def _sin_edge():
    return SimpleNamespace(name="sin", safe=torch.sin)


def _check(layer, x):
    y = layer(x)
    y_edges, edges = layer(x, return_edges=True)
    torch.testing.assert_close(y, y_edges, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(y, edges.sum(-1) + layer.bias, atol=1e-12, rtol=1e-12)
    return y


def test_fused_forward_follows_pruning_and_symbolic_edges():
    gen = torch.Generator().manual_seed(0)
    layer = KANLayer(4, 3, grid=6, k=3, generator=gen)
    x = torch.rand(64, 4, dtype=torch.float64, generator=gen) * 2 - 1
    y0 = _check(layer, x)
    layer.remove_edge(1, 2)  # in-place edit of the mask: the "all live" shortcut must notice
    y1 = _check(layer, x)
    assert not torch.allclose(y0, y1)
    layer.fix_symbolic(0, 3, _sin_edge(), (2.0, 0.1, 0.5, -0.2))
    _check(layer, x)
    layer.unfix_symbolic(0, 3)
    _check(layer, x)
    with torch.no_grad():
        layer.mask.fill_(1.0)  # back to all live
    torch.testing.assert_close(_check(layer, x), y0)


def test_fused_forward_after_state_dict_load_subset_and_copy():
    gen = torch.Generator().manual_seed(1)
    layer = KANLayer(3, 2, grid=5, k=3, generator=gen)
    x = torch.rand(32, 3, dtype=torch.float64, generator=gen) * 2 - 1
    layer(x)  # caches "all live"
    pruned = KANLayer(3, 2, grid=5, k=3, generator=gen)
    pruned.remove_edge(0, 0)
    layer.load_state_dict(pruned.state_dict())
    torch.testing.assert_close(layer(x), pruned(x))
    _check(layer, x)
    sub = layer.subset([0, 2], [0, 1])
    _check(sub, x[:, [0, 2]])
    dup = copy.deepcopy(layer)
    with torch.no_grad():
        dup.mask.fill_(1.0)
    _check(dup, x)
    _check(layer, x)


def test_float32_layer_gradients_match_float64():
    gen = torch.Generator().manual_seed(2)
    layer = KANLayer(8, 5, grid=10, k=3, generator=gen)
    x = (torch.rand(256, 8, dtype=torch.float64, generator=gen) * 2 - 1).requires_grad_()
    layer(x).square().sum().backward()
    used = [n for n, p in layer.named_parameters() if p.grad is not None]  # sym_affine: no symbolic edge
    grads64 = [dict(layer.named_parameters())[n].grad.clone() for n in used] + [x.grad.clone()]
    layer32 = copy.deepcopy(layer).float()
    layer32.zero_grad()
    x32 = x.detach().float().requires_grad_()
    layer32(x32).square().sum().backward()
    params32 = dict(layer32.named_parameters())
    assert len(used) == 4
    for g64, g32 in zip(grads64, [params32[n].grad for n in used] + [x32.grad]):
        torch.testing.assert_close(g32.double(), g64, atol=1e-4, rtol=1e-4)
