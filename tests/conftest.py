import math

import pytest
import torch


def make_dataset(fn, n_in, n=1000, lo=-1.0, hi=1.0, seed=0, dtype=torch.float64):
    """Train/test split of ``fn`` sampled uniformly on ``[lo, hi]^n_in``."""
    g = torch.Generator().manual_seed(seed)
    xtr = torch.rand(n, n_in, generator=g, dtype=dtype) * (hi - lo) + lo
    xte = torch.rand(n, n_in, generator=g, dtype=dtype) * (hi - lo) + lo
    return dict(train_input=xtr, train_label=fn(xtr), test_input=xte, test_label=fn(xte))


def exp_sin(x):
    return torch.exp(torch.sin(math.pi * x[:, [0]]) + x[:, [1]] ** 2)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield
