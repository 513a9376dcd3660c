"""Enumeration of small expressions for problems of one or two variables (AI Feynman's brute force,
vectorised).

Expressions are built bottom-up by size (number of nodes): the leaves are the inputs and the
constants ``1``, ``2`` and ``π``; a node is a unary function of a smaller expression or a binary
operation of two. Expressions are kept by their *values* on a sample of rows: two with the same
values are one (observational equivalence), so the count grows with the distinct functions, not
with the spellings. Every expression ``g`` is scored at once, in one matrix product, as the best
``y ≈ a·g + b`` (linear least squares: ``1 − corr(g, y)²``); the Pareto front of complexity against
error gives the candidates, ``a`` and ``b`` as floats for the caller's refit and snapping.

Sizes grow until the time share runs out or :data:`MAX_SIZE`; past :data:`BEAM` expressions of
one size, the ones most correlated with the target are kept (a beam).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import sympy

from .context import Context

log = logging.getLogger("kandiscover")

__all__ = ["enumerate_expressions", "enumerate_strategy", "MAX_SIZE", "BEAM"]

MAX_SIZE = 8
"""Largest expression size enumerated."""

BEAM = 4000
"""Expressions kept per size (the most correlated with the target)."""

ROWS = 128
"""Rows of the sample the values are computed on."""

PAIRS = 20000
"""Operand pairs tried per binary operation and pair of sizes (the most correlated operands)."""

_UNARY = (
    ("inv", lambda v: 1.0 / v, lambda e: 1 / e),
    ("sqrt", np.sqrt, sympy.sqrt),
    ("sq", np.square, lambda e: e**2),
    ("exp", np.exp, sympy.exp),
    ("log", np.log, sympy.log),
    ("sin", np.sin, sympy.sin),
    ("cos", np.cos, sympy.cos),
    ("asin", np.arcsin, sympy.asin),
    ("tanh", np.tanh, sympy.tanh),
)
_BINARY = (
    ("+", np.add, lambda a, b: a + b, True),
    ("-", np.subtract, lambda a, b: a - b, False),
    ("*", np.multiply, lambda a, b: a * b, True),
    ("/", np.divide, lambda a, b: a / b, False),
)


@dataclass
class _Level:
    """The distinct expressions of one size: values ``(m, n)`` and how each was built."""

    values: np.ndarray
    recipes: list  # ("leaf", expr) | ("u", op index, child) | ("b", op index, (size, i), (size, j))


def _keys(values: np.ndarray) -> list[bytes]:
    """A hashable fingerprint of each row of values (12 significant digits)."""
    with np.errstate(all="ignore"):
        scale = np.where(values == 0, 1.0, 10 ** np.floor(np.log10(np.abs(values))))
        rounded = np.round(values / scale, 11) * scale
    return [r.tobytes() for r in rounded]


def _usable(values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` that are finite, not huge, and not constant (constants are leaves)."""
    finite = np.isfinite(values)
    clean = np.where(finite, values, 0.0)
    scale = np.max(np.abs(clean), axis=1)
    return np.all(finite, axis=1) & (scale < 1e12) & (np.ptp(clean, axis=1) > 1e-9 * (scale + 1e-300))


class _Enumerator:
    def __init__(self, X: np.ndarray, y: np.ndarray, names: list[str]):
        self.y = y
        yc = y - y.mean()
        self.yn = yc / (np.linalg.norm(yc) or 1.0)
        self.levels: dict[int, _Level] = {}
        self.seen: set = set()
        self.scored: list = []  # (1 - r², size, (size, index))
        leaves = [X[:, k] for k in range(X.shape[1])]
        recipes = [("leaf", sympy.Symbol(n)) for n in names]
        self.consts = [
            (np.full(len(y), c), e) for c, e in ((1.0, sympy.Integer(1)), (2.0, sympy.Integer(2)), (math.pi, sympy.pi))
        ]
        self._add(1, np.array(leaves), recipes)

    def _add(self, size: int, values: np.ndarray, recipes: list) -> None:
        """Keep the :data:`BEAM` most correlated new distinct expressions of ``values``."""
        keep = np.flatnonzero(_usable(values))
        values = values[keep]
        Vc = values - values.mean(axis=1, keepdims=True)
        corr = (Vc @ self.yn) / (np.linalg.norm(Vc, axis=1) + 1e-300)
        order = np.argsort(-np.abs(corr))[: 3 * BEAM]
        chosen, vals, cs = [], [], []
        for i, key in zip(order, _keys(values[order])):
            if key not in self.seen:
                self.seen.add(key)
                chosen.append(recipes[keep[i]])
                vals.append(values[i])
                cs.append(corr[i])
                if len(chosen) == BEAM:
                    break
        V = np.array(vals) if vals else np.empty((0, len(self.y)))
        self.levels[size] = _Level(V, chosen)
        err = np.clip(1 - np.array(cs) ** 2, 0, 1)
        self.scored += [(float(e), size, (size, i)) for i, e in enumerate(err)]

    def grow(self, size: int, deadline: float) -> bool:
        """Build the expressions of ``size``; False when the deadline stopped it."""
        values, recipes = [], []
        child = self.levels.get(size - 1)
        if child is not None and len(child.values):
            with np.errstate(all="ignore"):
                for k, (_, fn, _) in enumerate(_UNARY):
                    values.append(fn(child.values))
                    recipes += [("u", k, (size - 1, i)) for i in range(len(child.values))]
        for left in range(1, size - 1):
            right = size - 1 - left
            A, B = self._operands(left), self._operands(right)
            na = min(len(A[1]), max(16, PAIRS // max(1, len(B[1]))))
            nb = min(len(B[1]), max(16, PAIRS // na))
            A, B = (A[0][:na], A[1][:na]), (B[0][:nb], B[1][:nb])
            for k, (_, fn, _, symmetric) in enumerate(_BINARY):
                if symmetric and left > right:
                    continue
                if time.monotonic() > deadline:
                    return False
                with np.errstate(all="ignore"):
                    out = fn(A[0][:, None, :], B[0][None, :, :]).reshape(-1, len(self.y))
                values.append(out)
                recipes += [("b", k, a, b) for a in A[1] for b in B[1]]
        if values:
            self._add(size, np.concatenate(values), recipes)
        return True

    def _operands(self, size: int) -> tuple[np.ndarray, list]:
        """Values and references of the expressions of ``size`` (with the constants as size 1)."""
        level = self.levels.get(size, _Level(np.empty((0, len(self.y))), []))
        refs = [(size, i) for i in range(len(level.values))]
        if size == 1:
            vals = np.concatenate([np.array([c[0] for c in self.consts]), level.values])
            return vals, [("c", j) for j in range(len(self.consts))] + refs
        return level.values, refs

    def expr(self, ref) -> sympy.Expr:
        if ref[0] == "c":
            return self.consts[ref[1]][1]
        recipe = self.levels[ref[0]].recipes[ref[1]]
        if recipe[0] == "leaf":
            return recipe[1]
        if recipe[0] == "u":
            return _UNARY[recipe[1]][2](self.expr(recipe[2]))
        return _BINARY[recipe[1]][2](self.expr(recipe[2]), self.expr(recipe[3]))


def enumerate_expressions(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    deadline: float,
    seed: int = 0,
    max_size: int = MAX_SIZE,
    top: int = 8,
) -> list[sympy.Expr]:
    """The Pareto front of ``a·g + b`` over small expressions ``g`` of the inputs.

    Parameters
    ----------
    X : ndarray, shape ``(n, k)``
        ``k`` of 1 or 2 (more works, but the count of expressions explodes).
    y : ndarray, shape ``(n,)``
    names : list of str
    deadline : float
        ``time.monotonic()`` value to stop growing at.
    max_size : int
    top : int
        Candidates returned at most.

    Returns
    -------
    list of sympy.Expr
        ``a·g + b`` with float ``a`` and ``b``, best first by error, then by size.
    """
    rows = np.random.default_rng(seed).permutation(len(y))[:ROWS]
    en = _Enumerator(np.asarray(X, dtype=float)[rows], np.asarray(y, dtype=float)[rows], list(names))
    for size in range(2, max_size + 1):
        if time.monotonic() > deadline or not en.grow(size, deadline):
            break
    front, best = [], math.inf
    for err, size, ref in sorted(en.scored, key=lambda t: (t[1], t[0])):
        if err < best * 0.5 or (err <= 1e-12 and not front):  # a smaller expression must halve the error
            front.append((err, size, ref))
            best = err
    front.sort(key=lambda t: (max(t[0], 1e-12), t[1]))
    return [_affine(en, ref) for _, _, ref in front[:top]]


def _affine(en: _Enumerator, ref) -> sympy.Expr:
    """``a·g + b`` with ``a``, ``b`` from least squares on the enumerator's sample."""
    g = en.expr(ref)
    v = en.levels[ref[0]].values[ref[1]]
    A = np.column_stack([v, np.ones_like(v)])
    (a, b), *_ = np.linalg.lstsq(A, en.y, rcond=None)
    return sympy.Float(float(a)) * g + sympy.Float(float(b))


def enumerate_strategy(ctx: Context, share: float = 0.35) -> list[sympy.Expr]:
    """:func:`enumerate_expressions` on a context of at most two inputs, with ``share`` of the
    time left (``[]`` for more inputs)."""
    if ctx.X.shape[1] > 2:
        return []
    deadline = time.monotonic() + share * max(0.0, ctx.remaining())
    return enumerate_expressions(ctx.X, ctx.y, ctx.names, deadline, seed=ctx.seed)
