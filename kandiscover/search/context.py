"""What every candidate generator works from: the :class:`Context` of a (sub)problem.

A context holds the training rows of one problem — the user's, or a smaller one made by a split —
its names, seed, deadline and function library, and remembers the refits of the candidates scored
on it. :data:`SOLVED_NMSE` and :meth:`Context.solved` say when a candidate explains the rows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import sympy
import torch

from ..symbolic.domain import one_sign
from ..symbolic.library import Library, default_library
from ..symbolic.refit import mse, refit_with_loss

__all__ = ["Context", "SOLVED_NMSE", "EXACT_FLOOR", "one_sign", "stop_at"]

SOLVED_NMSE = 1e-8
"""Relative MSE (``MSE / Var(y)``) below which a candidate counts as solving its (sub)problem,
whatever the context's own ``floor``: parts combined from a split are judged on the real rows,
where round-off of a refit stays below this."""

EXACT_FLOOR = 1e-7
"""The ``floor`` of a context on exact rows; a higher one says the rows are noisy
(:attr:`Context.noisy`)."""


CLEAR_OF_NOISE = 2.0
"""How many times the largest value of the other sign a row's target must lie from zero to count
as clear of the noise (:meth:`Context.clear_of_noise`): about five noise deviations for a few dozen
rows of the other sign."""

MIN_CLEAR_SHARE = 0.5
"""The least share of the rows :meth:`Context.clear_of_noise` keeps."""


def stop_at(deadline: float) -> Callable:
    """A training callback (see :func:`kandiscover.kan.training.fit`) that stops past ``deadline``."""
    return lambda step, model, logs: time.monotonic() > deadline


@dataclass
class Context:
    """What a strategy works from.

    Attributes
    ----------
    X : ndarray, shape ``(n, d)``
        Training inputs.
    y : ndarray, shape ``(n,)``
        Training target.
    names : list of str
    seed : int
    deadline : float
        ``time.monotonic()`` value after which strategies stop.
    lib : Library
    models : list
        Trained KANs, kept for the report (name, model) — the last one drawn is shown.
    floor : float
        Relative MSE that counts as solved (raised for data read off a surrogate).
    refits : dict
        Refits of the candidates scored on these rows (:meth:`refit`).
    cache : dict
        What strategies share about these rows (the KAN surrogate, see
        :func:`kandiscover.search.surrogate.cached_surrogate`).
    """

    X: np.ndarray
    y: np.ndarray
    names: list
    seed: int
    deadline: float
    lib: Library = field(default_factory=default_library)
    models: list = field(default_factory=list)
    floor: float = EXACT_FLOOR
    refits: dict = field(default_factory=dict, repr=False)
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def symbols(self) -> list:
        return [sympy.Symbol(n) for n in self.names]

    @property
    def noisy(self) -> bool:
        """Whether the rows carry a known noise (the floor was raised to it)."""
        return self.floor > EXACT_FLOOR

    def remaining(self) -> float:
        """Seconds left before the deadline (negative past it)."""
        return self.deadline - time.monotonic()

    def solved(self, loss: float) -> bool:
        """Whether a relative MSE ``loss`` on this context's rows solves it: at most
        ``max(floor, SOLVED_NMSE)``."""
        return loss <= max(self.floor, SOLVED_NMSE)

    def sub(
        self, X: np.ndarray, y: np.ndarray, names: list, floor: Optional[float] = None, deadline: Optional[float] = None
    ) -> "Context":
        """A smaller problem with the same seed and library (and deadline, unless an earlier one
        is given)."""
        end = self.deadline if deadline is None else min(deadline, self.deadline)
        return Context(X, y, list(names), self.seed, end, self.lib, self.models, self.floor if floor is None else floor)

    def clear_of_noise(self) -> "Context":
        """The rows a strategy that takes ``log|y|`` can use: where the rows are noisy and the target
        takes one sign but for values within the noise of zero, the rows whose target lies on the
        side of the median and farther from zero than :data:`CLEAR_OF_NOISE` times the largest
        value of the other side; else ``self``.

        At 1 % noise a law of one sign whose values span decades (``a²q²/(6πc³ε)``) has rows of
        the other sign (44 of 1000 for that one), where the log-based fits gave nothing. Those rows
        show the noise's size near zero, and the rows kept are clear of it. The values of the
        other side count as within the noise when none is farther from zero than three times
        ``√(floor·Var(y))`` (about the noise deviation: the floor is the noise's relative MSE
        times 1.5). At least :data:`MIN_CLEAR_SHARE` of the rows are kept, else ``self``. The
        candidates are refitted on all rows by whoever scores them.
        """
        if not self.noisy or one_sign(self.y):
            return self
        if "clear_of_noise" not in self.cache:
            v = self.y * (1.0 if np.median(self.y) > 0 else -1.0)
            other = float(np.max(-v[v <= 0]))
            keep = v > CLEAR_OF_NOISE * other
            within = other <= 3.0 * math.sqrt(self.floor * float(np.var(self.y)))
            ok = within and keep.mean() >= MIN_CLEAR_SHARE
            self.cache["clear_of_noise"] = self.sub(self.X[keep], self.y[keep], self.names) if ok else self
        return self.cache["clear_of_noise"]

    def refit(self, expr: sympy.Expr) -> tuple[sympy.Expr, float]:
        """``expr`` with its constants refitted on this context's rows, and its relative MSE.

        Past the deadline only the loss is computed (a refit of a large expression can take
        seconds). Results are remembered, for the input and the refitted expression alike: a
        candidate is scored by every level of the search that passes it on.
        """
        hit = self.refits.get(expr)
        if hit is not None:
            return hit
        cols = {n: self.X[:, k] for k, n in enumerate(self.names)}
        if self.remaining() > 0:
            refit, err = refit_with_loss(expr, cols, self.y, deadline=self.deadline + 1.0)
        else:
            refit, err = expr, mse(expr, cols, self.y)
        out = self.refits[expr] = self.refits[refit] = (refit, err / (float(np.var(self.y)) or 1e-300))
        return out

    def dataset(self, target: np.ndarray, x: Optional[np.ndarray] = None, val_frac: float = 0.2) -> dict:
        """A KAN dataset dict from training rows (a seeded slice serves as the KAN's test set).

        Parameters
        ----------
        target : ndarray, shape ``(n,)``
        x : ndarray, shape ``(n, d)``, optional
            Inputs (the context's ``X`` by default).

        Returns
        -------
        dict
            ``train_input (m, d)``, ``train_label (m, 1)``, ``test_input``, ``test_label`` as float64
            tensors.
        """
        x = self.X if x is None else x
        n = len(x)
        order = np.random.default_rng(self.seed).permutation(n)
        cut = max(1, int(n * (1 - val_frac)))
        tr, te = order[:cut], order[cut:] if cut < n else order[:1]

        def tensor(a):
            return torch.tensor(a, dtype=torch.float64)

        return dict(
            train_input=tensor(x[tr]),
            train_label=tensor(target[tr, None]),
            test_input=tensor(x[te]),
            test_label=tensor(target[te, None]),
        )
