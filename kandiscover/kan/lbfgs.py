"""LBFGS that does not stall on small losses: torch's optimiser on an objective kept near 1.

``torch.optim.LBFGS`` stores a curvature pair ``(s, y)`` only when ``yᵀs > 1e-10`` — an
*absolute* threshold. Once a KAN fits well (mean squared error ~1e-8, RMSE ~1e-4) every pair
falls below it, the memory stops being updated and LBFGS crawls along stale directions: on
``exp(sin(πx) + y²)`` with a ``[2, 5, 1]`` KAN at grid 20 it sat at train RMSE 1.0e-4 for 200
steps. pykan inherits the same stall.

:class:`ScaledLBFGS` keeps torch's algorithm (two-loop recursion, strong-Wolfe line search) and
minimises ``scale · loss`` with ``scale ≈ 1 / loss``. When the loss has moved by more than a
factor of 4, ``scale`` is reset and the optimiser's memory is rescaled with it (gradient
differences, ``ρ = 1/yᵀs``, the initial Hessian ``γ``, the last gradient and loss), which leaves
every future search direction exactly as an unscaled LBFGS without the threshold would compute
it. Only the ``1e-10`` test changes meaning: it becomes relative to the loss.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterable

import torch

log = logging.getLogger("kandiscover")

__all__ = ["ScaledLBFGS"]

# torch.optim.LBFGS state entries and how each scales with the objective (power of the factor)
_STATE_POWERS = {"old_dirs": 1, "ro": -1, "H_diag": -1, "prev_flat_grad": 1, "prev_loss": 1}


class ScaledLBFGS:
    """``torch.optim.LBFGS`` on ``scale · objective`` with ``scale`` following the loss.

    Parameters
    ----------
    params : iterable of Tensor
        Parameters to optimise.
    lr : float
        Initial step length of the line search.
    history_size : int
        Number of curvature pairs kept.
    max_iter : int
        Iterations per :meth:`step` (torch's default 20).
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1.0, history_size: int = 50, max_iter: int = 20):
        self.optimizer = torch.optim.LBFGS(
            list(params), lr=lr, max_iter=max_iter, history_size=history_size, line_search_fn="strong_wolfe",
            tolerance_grad=1e-32, tolerance_change=1e-32,
        )
        self.scale: float | None = None
        self.last: float | None = None

    def step(self, objective: Callable[[], torch.Tensor]) -> float:
        """Run one LBFGS step.

        Parameters
        ----------
        objective : callable
            Returns the loss (a scalar tensor with its graph); gradients are zeroed and computed
            here.

        Returns
        -------
        float
            The loss (unscaled) at the start of the step.
        """
        opt = self.optimizer

        def closure():
            opt.zero_grad()
            loss = objective()
            value = float(loss.detach())
            if self.scale is None:  # first evaluation ever: no memory to rescale yet
                self.scale = 1.0 / value if value > 0 and value < float("inf") else 1.0
            (loss * self.scale).backward()
            self.last = value
            return loss.detach() * self.scale

        start = float(opt.step(closure)) / self.scale
        self._follow_loss()
        return start

    def _follow_loss(self) -> None:
        """Reset ``scale`` to ``1 / loss`` (and rescale the memory) once the loss moved ×4."""
        if self.last is None or not (0 < self.last < float("inf")):
            return
        if 0.25 <= self.last * self.scale <= 4.0:
            return
        ratio = 1.0 / (self.last * self.scale)
        states = list(self.optimizer.state.values())
        if not all(key in state for state in states for key in _STATE_POWERS):
            # a step that stopped at its first evaluation, or a torch whose LBFGS keeps other
            # entries: the memory cannot be rescaled, so the scale stays as it is
            log.debug("LBFGS state without %s; objective scale left at %g", sorted(_STATE_POWERS), self.scale)
            return
        for state in states:
            for key, power in _STATE_POWERS.items():
                value = state[key]
                factor = ratio**power
                if isinstance(value, list):
                    state[key] = [v * factor for v in value]
                else:
                    state[key] = value * factor
        self.scale *= ratio
