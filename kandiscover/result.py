"""`Discovery`: what :func:`kandiscover.discover` returns, and the Pareto front behind it."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd
import sympy

from .symbolic.export import to_latex, to_numpy, to_torch

__all__ = ["Discovery", "complexity", "pareto_front"]


def complexity(expr: sympy.Expr) -> int:
    """Number of nodes of the expression tree (PySR's measure), where an exact constant
    subexpression (``1/(4π)``, ``√2``) counts as one node and a float as two (an unexplained
    number is harder to read than an exact one)."""
    if not expr.free_symbols:
        return 2 if expr.atoms(sympy.Float) else 1
    const = [a for a in expr.args if not a.free_symbols]
    rest = [a for a in expr.args if a.free_symbols]
    if isinstance(expr, (sympy.Mul, sympy.Add)) and len(const) > 1:  # 1/4·π⁻¹ is one constant
        return 1 + complexity(expr.func(*const)) + sum(complexity(a) for a in rest)
    return 1 + sum(complexity(a) for a in expr.args)


def pareto_front(pool: pd.DataFrame) -> pd.DataFrame:
    """Best loss per complexity, keeping only entries that beat every simpler one.

    ``pool`` has columns ``complexity``, ``loss``, ``formula`` (and more); the result adds
    ``score = −Δlog(loss)/Δcomplexity`` (PySR's score) and is sorted by complexity.
    """
    if pool.empty:
        return pool.assign(score=[])
    best = pool.sort_values(["complexity", "loss"]).groupby("complexity", as_index=False).first()
    rows, floor = [], math.inf
    for _, r in best.iterrows():
        if r["loss"] < floor:
            rows.append(r)
            floor = r["loss"]
    front = pd.DataFrame(rows).reset_index(drop=True)
    tiny = 1e-300
    logs = np.log(np.maximum(front["loss"].to_numpy(dtype=float), tiny))
    cpx = front["complexity"].to_numpy(dtype=float)
    score = np.zeros(len(front))
    score[1:] = -(logs[1:] - logs[:-1]) / np.maximum(cpx[1:] - cpx[:-1], 1)
    front["score"] = score
    return front


def _metrics(expr, X: np.ndarray, y: np.ndarray, names) -> dict:
    pred = to_numpy(expr, names)(X) if len(y) else np.zeros(0)
    resid = pred - y
    ss = float(np.sum((y - y.mean()) ** 2)) or 1e-300
    finite = np.all(np.isfinite(pred))
    return dict(
        r2=1 - float(np.sum(resid**2)) / ss if finite else -math.inf,
        rmse=float(np.sqrt(np.mean(resid**2))) if finite else math.inf,
        max_abs_error=float(np.max(np.abs(resid))) if finite and len(y) else math.inf,
    )


@dataclass
class Discovery:
    """The law found in the data.

    Attributes
    ----------
    formula : sympy.Expr
        The chosen formula, in the input column names.
    pareto : DataFrame
        Complexity-vs-loss front: ``complexity``, ``loss`` (validation MSE), ``score``, ``formula``,
        ``strategy``, ``chosen``.
    r2, rmse, max_abs_error : float
        On held-out test rows (never used for fitting or choosing).
    inputs : list of str
    target : str
    seconds : float
        Wall time of the search.
    notes : list of str
        Data changes and remarks.
    """

    formula: sympy.Expr
    pareto: pd.DataFrame
    r2: float
    rmse: float
    max_abs_error: float
    inputs: list
    target: str
    seconds: float
    strategy: str = ""
    notes: list = field(default_factory=list)
    history: list = field(default_factory=list, repr=False)
    model: Optional[object] = field(default=None, repr=False)
    test_data: Optional[tuple] = field(default=None, repr=False)

    def predict(self, data) -> np.ndarray:
        """Evaluate the formula on a DataFrame (with the input columns) or an ``(n, d)`` array."""
        if isinstance(data, pd.DataFrame):
            missing = [c for c in self.inputs if c not in data.columns]
            if missing:
                raise ValueError(f"predict() needs the columns {missing}, which the data lacks")
            X = data[self.inputs].to_numpy(dtype=float)
        else:
            X = np.asarray(data, dtype=float)
            if X.ndim == 1:
                X = X[:, None]
            if X.shape[1] != len(self.inputs):
                raise ValueError(f"predict() expects {len(self.inputs)} columns {self.inputs}; got {X.shape[1]}")
        return to_numpy(self.formula, self.inputs)(X)

    def to_latex(self) -> str:
        """LaTeX of ``target = formula``."""
        return f"{sympy.latex(sympy.Symbol(self.target))} = {to_latex(self.formula)}"

    def to_torch(self):
        """A trainable ``torch.nn.Module`` computing the formula from ``(batch, n_inputs)``."""
        return to_torch(self.formula, self.inputs)

    def report(self, out) -> "Path":
        """Write ``report.md``, ``report.html`` and figures into folder ``out``; return the HTML path."""
        from .report import write_report

        return write_report(self, out)

    def summary(self) -> str:
        return (f"{self.target} = {self.formula}\n  test R² = {self.r2:.10g}, RMSE = {self.rmse:.4g}, "
                f"max |error| = {self.max_abs_error:.4g} ({self.seconds:.1f} s, strategy {self.strategy})")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{int(r.complexity)}</td><td>{r.loss:.3e}</td><td>{r.score:.3g}</td>"
            f"<td>{'<b>' if r.chosen else ''}{html.escape(str(r.formula))}{'</b>' if r.chosen else ''}</td></tr>"
            for r in self.pareto.itertuples()
        )
        return (
            f"<div><p><b>{html.escape(self.target)}</b> = $${to_latex(self.formula)}$$</p>"
            f"<p>test R² = {self.r2:.10g} · RMSE = {self.rmse:.4g} · max |error| = {self.max_abs_error:.4g} · "
            f"{self.seconds:.1f} s</p><table><tr><th>complexity</th><th>val. MSE</th><th>score</th>"
            f"<th>formula</th></tr>{rows}</table></div>"
        )
