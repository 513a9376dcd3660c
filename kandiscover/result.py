"""`Discovery`: what :func:`kandiscover.discover` returns, and the Pareto front behind it."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import sympy

from .support.jsonsafe import finite_or_none
from .symbolic.complexity import complexity
from .symbolic.evaluate import CompiledFormula, compile_formula, metrics
from .symbolic.export import to_latex, to_torch
from .symbolic.uncertainty import COLUMNS, LEVEL, constant_lines, constants_frame, constants_html

__all__ = ["Discovery", "complexity", "metrics", "pareto_front"]


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
        Out of sample: on held-out test rows (never used for fitting or choosing), or, for a small
        table, of every row predicted with the constants refitted without its fold (see
        ``validation``).
    inputs : list of str
    target : str
    seconds : float
        Wall time of the search.
    notes : list of str
        Data changes and remarks.
    constants : DataFrame
        One row per constant of the formula: ``symbol`` (as in ``formula_with_symbols``), ``value``,
        ``std_error``, ``low`` and ``high`` (the 95 % interval) and ``method`` (``"linearised"``
        or ``"bootstrap (...)"``, see :mod:`kandiscover.symbolic.uncertainty`), then one row per
        constant the search replaced by a simple value (``snapped``: that value, e.g. ``"3/2"``;
        its value, error and interval are those of the fit just before, and the value lies in the
        interval). Empty for a formula without constants.
    formula_with_symbols : sympy.Expr or None
        The formula with its fitted constants as symbols ``c0, c1, …`` (``T = c0*sqrt(L)``).
    validation : str
        How the rows were used to choose and to report: ``"train/validation/test split (600/200/200
        rows)"``, ``"leave-one-out (8 rows)"`` or ``"10-fold cross-validation (30 rows)"``.
    chi2_per_dof : float or None
        With ``sigma=``: ``Σ((y − f)/σ)² / (n − p)`` on the rows the constants were fitted on (about
        1 when the residuals are as large as the errors say).
    noise : float or None
        The noise of the target the search worked with, as ``noise_hint`` states it (standard
        deviation over the RMS of the target): the hint, the RMS of the given ``sigma``, or
        estimated from the residuals of a candidate that left nothing but noise (``noise_source``
        says which); None when no noise was known or found (exact data).
    noise_source : str
        ``"hint"``, ``"sigma"``, ``"estimated"`` or ``"unknown"``.
    selection : str
        The criterion that chose ``formula`` among the candidates, in words (see
        :func:`kandiscover.selection.choose`).
    model : KAN or None
        The KAN behind the answer: the one whose edges produced it (trained on these columns), or
        the formula compiled into a KAN (:func:`kandiscover.formula_kan.formula_kan`);
        :meth:`plot` draws it.
    model_origin : str
        ``"trained by <strategy>"`` or ``"compiled from the formula"`` (empty without a model).
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
    constants: pd.DataFrame = field(default_factory=lambda: constants_frame([]), repr=False)
    formula_with_symbols: Optional[sympy.Expr] = None
    validation: str = ""
    chi2_per_dof: Optional[float] = None
    noise: Optional[float] = None
    noise_source: str = "unknown"
    selection: str = ""
    model_origin: str = ""
    _compiled: Optional[CompiledFormula] = field(default=None, init=False, repr=False, compare=False)
    _kan_png: Optional[str] = field(default=None, init=False, repr=False, compare=False)

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
        return self._compiled_formula().on_matrix(X)

    def _compiled_formula(self) -> CompiledFormula:
        """The formula compiled for the inputs, once (again only if ``formula`` was replaced)."""
        if self._compiled is None or self._compiled.expr is not self.formula:
            self._compiled = compile_formula(self.formula, self.inputs)
        return self._compiled

    def to_dict(self) -> dict:
        """JSON-ready summary (non-finite numbers become ``None``).

        Returns
        -------
        dict
            ``target``, ``inputs``, ``formula``, ``formula_with_symbols``, ``latex``, ``r2``,
            ``rmse``, ``max_abs_error``, ``validation``, ``chi2_per_dof``, ``noise``,
            ``noise_source``, ``selection``, ``seconds``, ``strategy``, ``notes``,
            ``constants`` (one dict per row of :attr:`constants`) and ``pareto``: one dict per front
            entry with ``complexity``, ``loss``, ``score``, ``formula``, ``strategy`` and ``chosen``.
        """
        pareto = [
            {
                "complexity": int(r.complexity),
                "loss": finite_or_none(r.loss),
                "score": finite_or_none(r.score),
                "formula": str(r.formula),
                "strategy": str(r.strategy),
                "chosen": bool(r.chosen),
            }
            for r in self.pareto.itertuples()
        ]
        return {
            "target": self.target,
            "inputs": list(self.inputs),
            "formula": str(self.formula),
            "formula_with_symbols": None if self.formula_with_symbols is None else str(self.formula_with_symbols),
            "latex": self.to_latex(),
            "r2": finite_or_none(self.r2),
            "rmse": finite_or_none(self.rmse),
            "max_abs_error": finite_or_none(self.max_abs_error),
            "validation": self.validation,
            "chi2_per_dof": None if self.chi2_per_dof is None else finite_or_none(self.chi2_per_dof),
            "noise": None if self.noise is None else finite_or_none(self.noise),
            "noise_source": self.noise_source,
            "selection": self.selection,
            "seconds": finite_or_none(self.seconds),
            "strategy": self.strategy,
            "constants": self.constants_records(),
            "pareto": pareto,
            "notes": list(self.notes),
        }

    def constants_records(self) -> list[dict]:
        """:attr:`constants` as JSON-ready dicts (non-finite numbers become ``None``)."""
        frame = self.constants if self.constants is not None else constants_frame([])
        return [
            {c: (finite_or_none(r[c]) if c in ("value", "std_error", "low", "high") else str(r[c])) for c in COLUMNS}
            for _, r in frame.iterrows()
        ]

    @property
    def scored_on(self) -> str:
        """What ``r2``, ``rmse`` and ``max_abs_error`` are measured on: ``"test"`` or
        ``"cross-validated"``."""
        return "test" if not self.validation or self.validation.startswith("train") else "cross-validated"

    def constant_lines(self) -> list[str]:
        """One line per constant, e.g. ``c0 = 2.006 ± 0.006  (95 % interval [1.993, 2.019], linearised)``."""
        return constant_lines(self.constants, LEVEL)

    def to_latex(self) -> str:
        """LaTeX of ``target = formula``."""
        return f"{sympy.latex(sympy.Symbol(self.target))} = {to_latex(self.formula)}"

    def to_torch(self):
        """A trainable ``torch.nn.Module`` computing the formula from ``(batch, n_inputs)``."""
        return to_torch(self.formula, self.inputs)

    def plot(self, **kwargs):
        """Draw :attr:`model`, the KAN behind the answer (:func:`kandiscover.plot.plot_kan`): inputs
        and output named by the table's columns, every symbolic edge labelled with its match.

        Keyword arguments go to ``plot_kan`` (``in_vars``, ``out_vars`` and ``title`` default to the
        columns and the formula). Returns a matplotlib ``Figure``; a ``ValueError`` when the
        discovery has no KAN (a formula that could not be compiled into one).
        """
        if self.model is None:
            raise ValueError("this discovery has no KAN to draw: its formula could not be compiled into one")
        from .plot import plot_kan

        kwargs.setdefault("in_vars", list(self.inputs))
        kwargs.setdefault("out_vars", [self.target])
        kwargs.setdefault("title", f"{self.target} = {self.formula}  (KAN {self.model_origin})")
        return plot_kan(self.model, **kwargs)

    def _kan_image(self) -> str:
        """The KAN figure as an HTML ``<img>`` (rendered once), or "" without a model."""
        if self.model is None:
            return ""
        if self._kan_png is None:
            import base64
            import io

            import matplotlib.pyplot as plt

            fig = self.plot()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
            plt.close(fig)
            self._kan_png = base64.b64encode(buf.getvalue()).decode("ascii")
        alt = html.escape(f"KAN {self.model_origin}")
        return f'<p><img alt="{alt}" src="data:image/png;base64,{self._kan_png}"/></p>'

    def report(self, out) -> "Path":
        """Write ``report.md``, ``report.html`` and figures into folder ``out``; return the HTML path."""
        from .report import write_report

        return write_report(self, out)

    def summary(self) -> str:
        """The formula, its out-of-sample scores, how the rows were used and the constants."""
        lines = [
            f"{self.target} = {self.formula}",
            f"  {self.scored_on} R² = {self.r2:.10g}, RMSE = {self.rmse:.4g}, "
            f"max |error| = {self.max_abs_error:.4g} ({self.seconds:.1f} s, strategy {self.strategy})",
        ]
        if self.validation:
            lines.append(f"  rows: {self.validation}")
        if self.chi2_per_dof is not None:
            lines.append(f"  χ²/dof = {self.chi2_per_dof:.3g} against the given errors")
        consts = self.constant_lines()
        if consts:
            symbolic = self.formula_with_symbols
            if symbolic is not None and symbolic.free_symbols - {sympy.Symbol(n) for n in self.inputs}:
                lines.append(f"  {self.target} = {symbolic}")
            lines.append("  constants (value ± standard error, 95 % interval, method):")
            lines += [f"    {c}" for c in consts]
        return "\n".join(lines)

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
            f"<p>{self.scored_on} R² = {self.r2:.10g} · RMSE = {self.rmse:.4g} · max |error| = "
            f"{self.max_abs_error:.4g} · {self.seconds:.1f} s · {html.escape(self.validation)}</p>"
            f"{self._constants_html()}<table><tr><th>complexity</th><th>choosing MSE</th><th>score</th>"
            f"<th>formula</th></tr>{rows}</table>{self._kan_image()}</div>"
        )

    def _constants_html(self) -> str:
        """The constants as an HTML table (empty without constants)."""
        if self.constants is None or self.constants.empty:
            return ""
        with_symbols = self.formula_with_symbols
        shown = ""
        if with_symbols is not None:
            shown = f"<p>{html.escape(self.target)} = {html.escape(str(with_symbols))}</p>"
        return shown + constants_html(self.constants)
