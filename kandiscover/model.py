"""`KAN`: the engine's :class:`~kandiscover.kan.network.KANNetwork` with pykan's symbolic, plotting
and checkpoint methods.

    >>> import kandiscover as kd
    >>> model = kd.KAN(width=[2, 5, 1], grid=5, k=3, seed=0)       # doctest: +SKIP
    >>> model.fit(dataset, opt="LBFGS", steps=50, lamb=1e-3)        # doctest: +SKIP
    >>> model = model.prune(); model.auto_symbolic()                # doctest: +SKIP
    >>> model.symbolic_formula(var_names=["x", "y"])                # doctest: +SKIP

Copies made by the engine (:meth:`copy`, :meth:`prune`, :meth:`refine`) are deep copies, so they
are ``KAN`` objects too.
"""

from __future__ import annotations

from .kan import checkpoint
from .kan.network import KANNetwork
from .symbolic.assemble import symbolic_formula
from .symbolic.auto import auto_symbolic, fix_symbolic, suggest_symbolic
from .symbolic.library import default_library

__all__ = ["KAN"]


class KAN(KANNetwork):
    """Kolmogorov–Arnold network with symbolic edges, figures and checkpoints.

    The constructor is :class:`~kandiscover.kan.network.KANNetwork`'s (``width``, ``grid``, ``k``,
    ``mult_arity``, ``seed``, ``device``, ``dtype``, …). Methods taking ``x`` (rows of shape
    ``(batch, width[0])``) default to the inputs of the last :meth:`fit`.
    """

    # ------------------------------------------------------------------ checkpoints
    def save(self, path) -> None:
        """Write a checkpoint that loads without executing code (see :func:`kandiscover.kan.checkpoint.save`)."""
        checkpoint.save(self, path)

    @classmethod
    def load(cls, path, lib=None) -> "KAN":
        """Read a checkpoint written by :meth:`save`; ``lib`` resolves custom symbolic functions
        (the default library when omitted)."""
        return checkpoint.load(path, functions=default_library() if lib is None else lib, cls=cls)

    # ------------------------------------------------------------------ symbolic edges
    def suggest_symbolic(self, l: int, i: int, j: int, x=None, **kwargs):
        """Ranked symbolic candidates for edge ``(l, i → j)``; see :mod:`kandiscover.symbolic.auto`."""
        return suggest_symbolic(self, l, i, j, self.inputs_or_train(x, "suggest_symbolic"), **kwargs)

    def fix_symbolic(self, l: int, i: int, j: int, fun: str, x=None, **kwargs):
        """Fix edge ``(l, i → j)`` to a library function, fitting its affine parameters."""
        if kwargs.get("fit_params", True):
            x = self.inputs_or_train(x, "fix_symbolic")
        return fix_symbolic(self, l, i, j, fun, x, **kwargs)

    def auto_symbolic(self, x=None, **kwargs):
        """Fix every edge whose best fit is good enough; see :func:`kandiscover.symbolic.auto.auto_symbolic`."""
        return auto_symbolic(self, self.inputs_or_train(x, "auto_symbolic"), **kwargs)

    def symbolic_formula(self, var_names=None, **kwargs):
        """One sympy expression per output; see :func:`kandiscover.symbolic.assemble.symbolic_formula`."""
        return symbolic_formula(self, var_names=var_names, **kwargs)

    # ------------------------------------------------------------------ figures
    def plot(self, **kwargs):
        """Figure of the network with each edge's curve; see :func:`kandiscover.plot.plot_kan`."""
        from .plot import plot_kan  # matplotlib loads on the first figure, not with the package

        return plot_kan(self, **kwargs)
