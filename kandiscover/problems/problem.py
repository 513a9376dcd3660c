"""One benchmark problem: named inputs with sampling ranges, and a target from a formula or a function."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd
import sympy

from ..symbolic.evaluate import as_real, compile_formula

__all__ = ["Problem"]


@dataclass(frozen=True, eq=True)
class Problem:
    """A problem of a pack: ``target = formula(variables)`` (or ``func(*variables)``) on a box.

    Attributes:
        name: id inside its pack (``"I.6.2a"``, ``"jv"``).
        pack: name of the pack (``"feynman"``, ``"special"``, ``"knots"``).
        target: name of the output column.
        variables: input names, in the order ``func`` takes them.
        ranges: ``(low, high)`` per variable; inputs are drawn uniformly on them.
        formula: ground truth as a sympy expression in ``sympy.Symbol(name)`` for each variable, or
            ``None`` for data-only problems (special functions, knots).
        source: where the problem comes from (``"feynman"``, ``"bonus"``, ``"scipy.special.jv(v, x)"``).
        srbench: whether the problem belongs to SRBench's ground-truth Feynman set (116 problems).
        func: numpy callable ``func(*columns) -> array`` for data-only problems, else ``None``.
        meta: anything else (table number, reference, KAN-paper RMSE ...). Treat as read-only.
        units: ``name -> unit string`` (pint syntax, ``""`` dimensionless) for every variable and
            the target, where known (the Feynman pack), else ``None``.

    Equality compares all fields; the hash uses ``(pack, name)`` only.
    """

    name: str
    pack: str
    target: str
    variables: tuple
    ranges: tuple
    formula: Optional[sympy.Expr] = None
    source: str = ""
    srbench: bool = False
    func: Optional[Callable[..., Any]] = None
    meta: dict = field(default_factory=dict)
    units: Optional[dict] = None

    def __post_init__(self):
        variables = tuple(str(v) for v in self.variables)
        ranges = tuple((float(lo), float(hi)) for lo, hi in self.ranges)
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "ranges", ranges)
        object.__setattr__(self, "meta", dict(self.meta))
        if self.units is not None:
            object.__setattr__(self, "units", {str(k): str(v) for k, v in dict(self.units).items()})
        where = f"problem {self.name!r}"
        if len(variables) != len(ranges):
            raise ValueError(f"{where}: {len(variables)} variables but {len(ranges)} ranges")
        if len(set(variables)) != len(variables):
            raise ValueError(f"{where}: repeated variable names in {variables}")
        if self.target in variables:
            raise ValueError(f"{where}: target {self.target!r} is also an input variable")
        for var, (lo, hi) in zip(variables, ranges):
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"{where}: range of {var!r} must be finite with low < high, got ({lo}, {hi})")
        if (self.formula is None) == (self.func is None):
            raise ValueError(f"{where}: give exactly one of formula= (sympy expression) or func= (callable)")
        if self.formula is not None:
            if not isinstance(self.formula, sympy.Expr):
                raise TypeError(f"{where}: formula must be a sympy.Expr, got {type(self.formula).__name__}")
            extra = {s.name for s in self.formula.free_symbols} - set(variables)
            if extra:
                raise ValueError(f"{where}: formula uses {sorted(extra)}, which are not among its variables")
        elif not callable(self.func):
            raise TypeError(f"{where}: func must be callable")

    def __hash__(self):
        return hash((self.pack, self.name))

    def __repr__(self):
        rhs = str(self.formula) if self.formula is not None else f"<{self.source or 'function'}>"
        if len(rhs) > 60:
            rhs = rhs[:57] + "..."
        return f"Problem({self.pack}/{self.name}: {self.target} = {rhs})"

    @property
    def n_vars(self) -> int:
        return len(self.variables)

    @property
    def symbols(self) -> tuple:
        """``sympy.Symbol`` for each variable, in order (the symbols ``formula`` is written in)."""
        return tuple(sympy.Symbol(v) for v in self.variables)

    def evaluate(self, *columns) -> np.ndarray:
        """Target values at the given input columns (one array per variable, in order).

        Uses ``func`` for data-only problems, else the formula itself, compiled by
        :func:`kandiscover.symbolic.evaluate.compile_formula`. Returns a float array with the
        package's one evaluation rule (:func:`kandiscover.symbolic.evaluate.as_real`): values outside
        the domain come back as ``nan`` (no exception).
        """
        if len(columns) != len(self.variables):
            raise ValueError(
                f"problem {self.name!r} takes {len(self.variables)} columns {list(self.variables)}, got {len(columns)}"
            )
        cols = [np.asarray(c, dtype=float) for c in columns]
        shape = np.broadcast_shapes(*(c.shape for c in cols)) if cols else ()
        if self.formula is not None:
            return compile_formula(self.formula, self.variables)(cols, shape=shape, errors="nan")
        with np.errstate(all="ignore"):
            return as_real(self.func(*cols), shape)

    def sample(self, n: int = 1000, seed=0, noise: float = 0.0) -> pd.DataFrame:
        """``n`` rows drawn uniformly on the ranges, with the target computed from the ground truth.

        Inputs come from ``numpy.random.default_rng(seed)``, one variable after the other; the noise
        is drawn after them, so a given seed gives the same inputs whatever ``noise`` is. ``noise`` adds
        Gaussian noise of std ``noise * RMS(y)`` to the target (the SRBench convention: 0.01 is 1 %).

        Returns a DataFrame with the variables' columns then the target's.

        Raises:
            ValueError: ``n < 1``, ``noise < 0``, or a non-finite target on the drawn inputs.
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be an integer >= 1 (number of rows), got {n!r}")
        if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0 (fraction of RMS(y)), got {noise!r}")
        n = int(n)
        rng = np.random.default_rng(seed)
        cols = [rng.uniform(lo, hi, size=n) for lo, hi in self.ranges]
        y = self.evaluate(*cols)
        bad = ~np.isfinite(y)
        if bad.any():
            i = int(np.argmax(bad))
            at = ", ".join(f"{v}={c[i]:.6g}" for v, c in zip(self.variables, cols))
            raise ValueError(
                f"problem {self.pack}/{self.name}: target is not finite in {int(bad.sum())} "
                f"of {n} rows (first at {at}); check its ranges"
            )
        if noise > 0:
            rms = float(np.sqrt(np.mean(y**2)))
            y = y + rng.normal(0.0, noise * rms, size=n)
        data = {v: c for v, c in zip(self.variables, cols)}
        data[self.target] = y
        return pd.DataFrame(data, columns=[*self.variables, self.target])
