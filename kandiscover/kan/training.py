"""Training a :class:`~kandiscover.kan.network.KANNetwork`: LBFGS, Adam or LM, sparsity, grid updates.

Notes
-----
Optimisers
    An LBFGS step runs up to 20 iterations with a strong-Wolfe line search; LBFGS is
    :class:`kandiscover.kan.lbfgs.LBFGS`, not torch's: torch's stops learning curvature once the
    MSE falls below ~1e-8 (an absolute threshold) and spends as long on its two-loop recursion as
    on the model. Its memory (``history_size``) defaults to 50 pairs where pykan keeps 10: 50 needs
    about 3× fewer evaluations to reach pykan's 50-step RMSE on ``[2, 5, 1]`` (see
    ``docs/benchmarks.md``), and 50–100 helps on fine grids. An LM step
    (Levenberg–Marquardt, :mod:`kandiscover.kan.lm`) is one accepted damped Gauss–Newton update;
    it converges in far fewer evaluations on small models, on the squared error without
    regularisation.
Grid updates
    Grids move to the training inputs (never the test set) ``grid_update_num`` times during the
    first ``stop_grid_update_step`` steps. Each move keeps the spline curves, so LBFGS keeps its
    curvature memory across it, as pykan does (restarting it costs about a quarter more
    evaluations); LM restarts its damping.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Callable, Optional, Sequence

import torch

from ..support.params import ParameterError, check_choice, check_int, check_number
from ..support.progress import progress_bar
from .lbfgs import LBFGS
from .lm import LevenbergMarquardt

log = logging.getLogger("kandiscover")

__all__ = ["fit", "History", "regularization", "check_dataset"]

_KEYS = ("train_input", "train_label", "test_input", "test_label")


class History(dict):
    """Per-step record of a training run: ``train_loss``, ``test_loss`` (RMSE), ``reg``, metrics.

    A ``dict`` of lists, as pykan returns, with :meth:`to_frame` for a DataFrame.
    """

    @classmethod
    def empty(cls, metrics: Optional[dict] = None) -> "History":
        """No steps yet: the loss and ``reg`` lists, and a train and a test list per metric."""
        hist = cls(train_loss=[], test_loss=[], reg=[])
        for name in metrics or {}:
            hist[f"train_{name}"], hist[f"test_{name}"] = [], []
        return hist

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({k: v for k, v in self.items() if len(v) == len(self["train_loss"])})


def check_dataset(model, dataset: dict, classification: bool = False) -> dict:
    """Validate a pykan-style dataset dict; return it as tensors of the model's dtype and device.

    Labels have shape ``(n, width[-1])`` for regression or ``(n,)`` integer classes when
    ``classification`` is true.
    """
    if not isinstance(dataset, dict):
        raise ValueError("dataset must be a dict with keys " + ", ".join(_KEYS))
    missing = [k for k in _KEYS if k not in dataset]
    if missing:
        raise ValueError(f"dataset is missing {missing}; it needs {list(_KEYS)}")
    out = {}
    for part in ("train", "test"):
        x = model.check_input(dataset[f"{part}_input"], name=f"dataset['{part}_input']")
        y = torch.as_tensor(dataset[f"{part}_label"], device=model.device)
        if classification:
            y = y.long().flatten()
        else:
            y = y.to(model.dtype)
            if y.ndim == 1:
                y = y.unsqueeze(1)
            if y.ndim != 2 or y.shape[1] != model.width_in[-1]:
                raise ValueError(
                    f"dataset['{part}_label'] must have shape (n_rows, {model.width_in[-1]}); got {tuple(y.shape)}"
                )
            if not torch.isfinite(y).all():
                n_bad = int((~torch.isfinite(y)).any(1).sum())
                raise ValueError(f"dataset['{part}_label'] holds {n_bad} NaN or inf rows; drop or impute them first")
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"dataset['{part}_input'] has {x.shape[0]} rows but dataset['{part}_label'] has {y.shape[0]}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"dataset['{part}_input'] is empty")
        out[f"{part}_input"], out[f"{part}_label"] = x, y
    return out


def regularization(edges: Sequence[torch.Tensor], lamb_l1: float, lamb_entropy: float) -> torch.Tensor:
    """Sparsity penalty of the KAN paper from per-edge activations.

    For each layer, ``s[o, i] = mean_batch |φ_oi|``; the penalty is ``lamb_l1·Σ s`` plus
    ``lamb_entropy`` times the mean row and column entropies of ``s`` normalised to shares.

    Parameters
    ----------
    edges : list of Tensor, shapes ``(batch, out, in)``
    """
    total = edges[0].new_zeros(())
    for e in edges:
        s = e.abs().mean(0)
        p_row = s / (s.sum(1, keepdim=True) + 1)
        p_col = s / (s.sum(0, keepdim=True) + 1)
        ent_row = -(p_row * torch.log2(p_row + 1e-4)).sum(1).mean()
        ent_col = -(p_col * torch.log2(p_col + 1e-4)).sum(0).mean()
        total = total + lamb_l1 * s.sum() + lamb_entropy * (ent_row + ent_col)
    return total


def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of ``pred`` and ``y`` (same shape)."""
    return torch.mean((pred - y) ** 2)


def fit(
    model,
    dataset: dict,
    opt: str = "LBFGS",
    steps: int = 100,
    lr: float = 1.0,
    batch: int = -1,
    lamb: float = 0.0,
    lamb_l1: float = 1.0,
    lamb_entropy: float = 2.0,
    lamb_coef: float = 0.0,
    update_grid: bool = True,
    grid_update_num: int = 10,
    stop_grid_update_step: int = 50,
    loss_fn: Optional[Callable] = None,
    metrics: Optional[dict] = None,
    callbacks: Sequence[Callable] = (),
    progress: bool = True,
    seed: Optional[int] = None,
    history_size: int = 50,
) -> History:
    """Train ``model`` in place (optimisers and grid updates: see the module's notes).

    Parameters
    ----------
    dataset : dict
        ``train_input (n, in)``, ``train_label (n, out)``, ``test_input``, ``test_label``.
    opt : {"LBFGS", "Adam", "LM"}
    steps : int
    lr : float
    batch : int
        Rows per step (a fresh random subset each step); ``-1`` uses all training rows.
    lamb, lamb_l1, lamb_entropy, lamb_coef : float
        Weight of the sparsity penalty (:func:`regularization`; 0 turns it off), the relative
        weights of its L1 and entropy terms, and the weight of an L1 penalty on spline coefficients.
    update_grid : bool
        Move grids ``grid_update_num`` times during the first ``stop_grid_update_step`` steps.
    loss_fn : callable, optional
        ``loss_fn(pred, label) -> scalar``; mean squared error by default. With
        ``torch.nn.functional.cross_entropy`` labels are class indices.
    metrics : dict of callables, optional
        ``{name: fn(pred, label) -> float}`` recorded as ``train_<name>`` and ``test_<name>``.
    callbacks : sequence of callables
        ``cb(step, model, logs)`` after each step; returning ``True`` stops training.
    progress : bool
        Show a progress bar.
    seed : int, optional
        Seed of the mini-batch sampler (defaults to the model's seed).
    history_size : int, default 50
        LBFGS memory: the number of recent ``(step, gradient change)`` pairs kept.

    Returns
    -------
    History
        Per step: ``train_loss``, ``test_loss`` (RMSE, or a custom ``loss_fn``), ``reg``, metrics.
    """
    check_fit_arguments(
        opt, steps, lr, loss_fn, dict(lamb=lamb, lamb_l1=lamb_l1, lamb_entropy=lamb_entropy, lamb_coef=lamb_coef)
    )
    data = check_dataset(model, dataset, classification=loss_fn is torch.nn.functional.cross_entropy)
    batch = check_batch(batch, data["train_input"].shape[0])
    x_tr = model.train_input_ = data["train_input"]
    objective = Objective(model, loss_fn or mse, lamb, lamb_l1, lamb_entropy, lamb_coef)
    new_optimizer = functools.partial(make_optimizer, model, opt, lr, history_size)
    optimizer = new_optimizer()
    sampler = BatchSampler(x_tr.shape[0], batch, model.seed if seed is None else seed, x_tr.device)
    grid_freq = max(1, stop_grid_update_step // max(grid_update_num, 1))
    hist = History.empty(metrics)
    bar = progress_bar(range(steps), disable=not progress, desc="fit", leave=False)
    for step in bar:
        if update_grid and step < stop_grid_update_step and step % grid_freq == 0:
            optimizer = move_grids(model, x_tr, step, optimizer, new_optimizer)
        reg = train_step(optimizer, objective, *sampler.draw(x_tr, data["train_label"]))
        logs = dict(_evaluate(model, data, objective.loss_fn, loss_fn is not None, metrics), reg=reg)
        if log_step(hist, logs, step, bar if progress else None) or any(cb(step, model, logs) for cb in callbacks):
            break
    return hist


def check_fit_arguments(opt: str, steps, lr, loss_fn: Optional[Callable], weights: dict) -> None:
    """Validate :func:`fit`'s optimiser arguments (``weights``: the ``lamb*`` arguments by name).

    Raises
    ------
    ParameterError
        Naming the argument and what it must be.
    """
    check_choice("opt", opt, ("LBFGS", "Adam", "LM"))
    if opt == "LM" and (weights["lamb"] > 0 or loss_fn is not None):
        raise ParameterError("opt='LM' minimises the plain squared error: use lamb=0 and no loss_fn, or opt='LBFGS'")
    check_int("steps", steps, low=0, what="a non-negative int")
    check_number("lr", lr, low=0, what="a positive number")
    for name, v in weights.items():
        check_number(name, v, low=0, low_inclusive=True, what="a non-negative number")


def check_batch(batch, n_rows: int) -> int:
    """Rows per step: ``batch``, or ``n_rows`` for ``-1`` or more than ``n_rows``."""
    if batch == -1 or batch > n_rows:
        return n_rows
    return check_int("batch", batch, low=1, what="a positive int or -1 (all rows)")


def make_optimizer(model, opt: str, lr: float, history_size: int):
    """A fresh optimiser of ``model``'s trainable parameters (``"LM"``, ``"LBFGS"`` or ``"Adam"``)."""
    if opt == "LM":
        return LevenbergMarquardt(model)
    params = [p for p in model.parameters() if p.requires_grad]
    if opt == "LBFGS":
        return LBFGS(params, lr=lr, history_size=history_size)
    return torch.optim.Adam(params, lr=lr)


def move_grids(model, x: torch.Tensor, step: int, optimizer, new_optimizer: Callable):
    """Move the grids to the training inputs ``x (n, width[0])`` at ``step``; return the optimiser
    to go on with (a fresh LM: its damping from before the move is stale)."""
    # before any training, hidden activations are arbitrary: only the input grid moves
    model.update_grid(x, layers=[0] if step == 0 else None)
    if isinstance(optimizer, LevenbergMarquardt) and step > 0:
        return new_optimizer()
    return optimizer


class BatchSampler:
    """``batch`` random rows of ``n`` per step, drawn from a generator seeded once (every row when
    ``batch == n``)."""

    def __init__(self, n: int, batch: int, seed: int, device) -> None:
        self.n, self.batch, self.device = n, batch, device
        self.gen = torch.Generator().manual_seed(seed)

    def draw(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Next mini-batch of inputs ``x (n, in)`` and labels ``y (n, …)``: ``(batch, in)``, ``(batch, …)``."""
        if self.batch == self.n:
            return x, y
        idx = torch.randperm(self.n, generator=self.gen)[: self.batch].to(self.device)
        return x[idx], y[idx]


class Objective:
    """Loss plus weighted sparsity penalty of ``model`` on a batch; remembers the last penalty."""

    def __init__(
        self, model, loss_fn: Callable, lamb: float, lamb_l1: float, lamb_entropy: float, lamb_coef: float
    ) -> None:
        self.model, self.loss_fn = model, loss_fn
        self.lamb, self.lamb_l1, self.lamb_entropy, self.lamb_coef = lamb, lamb_l1, lamb_entropy, lamb_coef
        self.reg = 0.0

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """Scalar objective on inputs ``(batch, width[0])`` and labels ``(batch, width[-1])``."""
        model = self.model
        if self.lamb > 0:
            pred, edges = model(xb, return_edges=True)
            reg = regularization(edges, self.lamb_l1, self.lamb_entropy)
            if self.lamb_coef > 0:
                reg = reg + self.lamb_coef * sum(layer.coef.abs().mean(-1).sum() for layer in model.layers)
        else:
            pred, reg = model(xb), xb.new_zeros(())
        self.reg = float(reg.detach())
        return self.loss_fn(pred, yb) + self.lamb * reg


def train_step(optimizer, objective: Objective, xb: torch.Tensor, yb: torch.Tensor) -> float:
    """One optimiser step on the batch ``xb (batch, width[0])``, ``yb``; returns the penalty it saw."""
    objective.reg = 0.0
    if isinstance(optimizer, LevenbergMarquardt):
        optimizer.step(xb, yb)
    elif isinstance(optimizer, LBFGS):
        optimizer.step(lambda: objective(xb, yb))
    else:
        optimizer.zero_grad()
        objective(xb, yb).backward()
        optimizer.step()
    return objective.reg


def log_step(hist: History, logs: dict, step: int, bar=None) -> bool:
    """Append ``logs`` to ``hist`` and show them on ``bar``; True when the loss is no longer finite."""
    for key, val in logs.items():
        hist[key].append(val)
    if bar is not None:
        bar.set_postfix(train=f"{logs['train_loss']:.2e}", test=f"{logs['test_loss']:.2e}", reg=f"{logs['reg']:.2e}")
    if not math.isfinite(logs["train_loss"]):
        log.warning("training diverged at step %d (loss is not finite); stopping", step)
        return True
    return False


@torch.no_grad()
def _evaluate(model, data, loss_fn, custom_loss, metrics) -> dict:
    logs = {}
    for part in ("train", "test"):
        pred = model(data[f"{part}_input"])
        y = data[f"{part}_label"]
        logs[f"{part}_loss"] = float(loss_fn(pred, y)) if custom_loss else float(torch.sqrt(mse(pred, y)))
        for name, fn in (metrics or {}).items():
            logs[f"{part}_{name}"] = float(fn(pred, y))
    return logs
