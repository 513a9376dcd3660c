"""Dimensional analysis: Buckingham's π theorem on the columns' dimensions.

A law ``y = F(x₁, …, x_d)`` between dimensional quantities can be written
``y = M(x) · f(π₁, …, π_k)``: ``M`` a monomial of the inputs with the target's dimension, the
``π_j`` dimensionless monomials of the inputs (a basis of the null space of the dimension matrix),
``k = d − rank``. :func:`reduce_dimensions` finds both:

* the groups: sympy's exact rational null space, scaled to integers, then shortened (a greedy
  lattice reduction: a basis vector is replaced by its sum or difference with another while that
  lowers the sum of absolute exponents), signs chosen so that most exponents are positive;
* the prefactor: among the particular solutions of ``D·p = t`` shifted by small integer
  combinations of the groups, the shortest (smallest sum of absolute exponents: a prefactor that
  absorbs powers of the groups bends ``f`` — ``n₀·exp(−π)`` is not ``n₀/π²·(π² exp(−π))``); among
  equally short ones, the one that leaves the least to explain, the smallest variance of
  ``log|y / M|`` on the rows. That choice is read off the data, not off a list of laws:
  ``E = m c²/√(1 − v²/c²)`` leaves ``f = 1/√(1 − π²)`` with ``M = m c²``, where the equally short
  ``M = m v²`` would leave ``1/(π² √(1 − π²))``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

import numpy as np
import sympy

from .parsing import Dimension, UnitError, format_dimension

__all__ = ["Reduction", "reduce_dimensions", "dimension_matrix"]


def dimension_matrix(dims: Sequence[Dimension]) -> tuple[list[str], sympy.Matrix]:
    """The base dimensions that occur in ``dims`` and the matrix ``D`` (one row per base dimension,
    one column per entry of ``dims``) of exact rational exponents."""
    bases = sorted({b for d in dims for b in d})
    rows = [[sympy.Rational(d.get(b, 0).numerator, d.get(b, 0).denominator) for d in dims] for b in bases]
    return bases, sympy.Matrix(len(bases), len(dims), [v for r in rows for v in r])


def _integer(v: sympy.Matrix) -> list[int]:
    """A rational vector scaled to the shortest integer vector in its direction."""
    den = math.lcm(*[int(sympy.fraction(x)[1]) for x in v]) if len(v) else 1
    ints = [int(x * den) for x in v]
    g = math.gcd(*ints) or 1
    return [i // g for i in ints]


def _shorten(basis: list[list[int]]) -> list[list[int]]:
    """Greedy lattice reduction in the L1 norm, then signs with most exponents positive."""
    basis = [list(b) for b in basis]
    improved = True
    while improved:
        improved = False
        for i, j in itertools.permutations(range(len(basis)), 2):
            for s in (1, -1):
                cand = [a + s * b for a, b in zip(basis[i], basis[j])]
                if any(cand) and sum(map(abs, cand)) < sum(map(abs, basis[i])):
                    basis[i], improved = cand, True
    out = []
    for b in basis:
        pos, neg = sum(e for e in b if e > 0), -sum(e for e in b if e < 0)
        first = next(e for e in b if e)
        out.append([-e for e in b] if (neg > pos or (neg == pos and first < 0)) else b)
    return sorted(out, key=lambda b: (sum(map(abs, b)), [-abs(e) for e in b]))


@dataclass(frozen=True)
class Reduction:
    """``target = prefactor · f(groups)``: the result of :func:`reduce_dimensions`.

    Attributes
    ----------
    inputs : tuple of str
        The original inputs.
    target : str
    prefactor : tuple of Fraction
        Exponents of ``M = Π x_i^{p_i}`` (one per input), with the target's dimension.
    groups : tuple of tuple of int
        Exponents of each dimensionless group ``π_j = Π x_i^{n_ji}``.
    names : tuple of str
        The groups' names in the reduced problem (an input's own name when a group is that input).
    """

    inputs: tuple
    target: str
    prefactor: tuple
    groups: tuple
    names: tuple

    @property
    def trivial(self) -> bool:
        """True when the reduction changes nothing (every group one input, no prefactor)."""
        unit_vector = [0] * (len(self.inputs) - 1) + [1]
        return (
            not any(self.prefactor)
            and len(self.groups) == len(self.inputs)
            and all(sorted(g) == unit_vector for g in self.groups)
        )

    def _monomial(self, exponents) -> sympy.Expr:
        return sympy.Mul(
            *[
                sympy.Symbol(n) ** sympy.Rational(Fraction(e).numerator, Fraction(e).denominator)
                for n, e in zip(self.inputs, exponents)
                if e
            ]
        )

    def prefactor_expr(self) -> sympy.Expr:
        """``M`` in the input symbols."""
        return self._monomial(self.prefactor)

    def group_exprs(self) -> list[sympy.Expr]:
        """Each ``π_j`` in the input symbols."""
        return [self._monomial(g) for g in self.groups]

    def describe(self) -> list[str]:
        """``["M = c**2*m", "pi1 = v/c"]``: the reduction, readable."""
        return [f"M = {self.prefactor_expr()}"] + [f"{n} = {e}" for n, e in zip(self.names, self.group_exprs())]

    def transform(self, X: np.ndarray, y: Optional[np.ndarray] = None):
        """The groups' values and the reduced target ``y / M``.

        Parameters
        ----------
        X : ndarray, shape ``(n, d)``
        y : ndarray, shape ``(n,)``, optional

        Returns
        -------
        P : ndarray, shape ``(n, k)``
        ratio : ndarray, shape ``(n,)`` (only when ``y`` is given)
        """
        with np.errstate(all="ignore"):
            P = np.column_stack([_power(X, g) for g in self.groups]) if self.groups else np.empty((len(X), 0))
            if y is None:
                return P
            return P, y / self.prefactor_values(X)

    def prefactor_values(self, X: np.ndarray) -> np.ndarray:
        """``M`` on the rows of ``X`` (shape ``(n, d)``), shape ``(n,)``."""
        with np.errstate(all="ignore"):
            return _power(X, self.prefactor)

    def lift(self, expr: sympy.Expr) -> sympy.Expr:
        """A law of the reduced problem (in :attr:`names`) as a law of the inputs: ``M · f(π(x))``."""
        subs = {sympy.Symbol(n): g for n, g in zip(self.names, self.group_exprs())}
        return sympy.powsimp(self.prefactor_expr() * sympy.sympify(expr).xreplace(subs))


def _power(X: np.ndarray, exponents) -> np.ndarray:
    """``Π x_i^{e_i}`` row by row (an integer exponent keeps the sign of a negative input)."""
    out = np.ones(len(X))
    for k, e in enumerate(exponents):
        if e:
            e = int(e) if Fraction(e).denominator == 1 else float(e)
            out = out * np.power(X[:, k], e)
    return out


def _unique_names(count: int, taken: set) -> list[str]:
    names, j = [], 1
    while len(names) < count:
        name = f"pi{j}"
        if name not in taken:
            names.append(name)
        j += 1
    return names


def reduce_dimensions(
    inputs: Sequence[str], target: str, dims: dict, X: np.ndarray, y: np.ndarray, target_unit: str = ""
) -> Reduction:
    """Buckingham's reduction of ``target = F(inputs)`` (see the module docstring).

    Parameters
    ----------
    inputs : sequence of str
    target : str
    dims : dict
        ``name -> Dimension`` for every input and the target (:func:`kandiscover.units.parse_units`).
    X : ndarray, shape ``(n, d)``
        The inputs' rows (used to choose the prefactor).
    y : ndarray, shape ``(n,)``
    target_unit : str
        The target's unit as given, for the error message.

    Raises
    ------
    UnitError
        When no monomial of the inputs has the target's dimension.
    """
    inputs = list(inputs)
    bases, D = dimension_matrix([dims[n] for n in inputs] + [dims[target]])
    A, t = D[:, : len(inputs)], D[:, len(inputs)]
    try:
        sol, params = A.gauss_jordan_solve(t)
    except ValueError:
        have = ", ".join(f"{n} [{format_dimension(dims[n])}]" for n in inputs)
        raise UnitError(
            f"target {target!r} has unit {target_unit or format_dimension(dims[target])!r} "
            f"({format_dimension(dims[target])}), which no product of powers of the inputs' units can make "
            f"({have}): no dimensionally consistent law exists; check the units, or add the missing "
            "dimensional constant as a column"
        ) from None
    p0 = [Fraction(int(sympy.fraction(v)[0]), int(sympy.fraction(v)[1])) for v in sol.subs({s: 0 for s in params})]
    groups = _shorten([_integer(v) for v in A.nullspace()])
    prefactor = _choose_prefactor(p0, groups, X, y)
    taken = set(inputs) | {target}
    names, fresh = [], iter(_unique_names(len(groups), taken))
    for g in groups:
        single = [k for k, e in enumerate(g) if e]
        names.append(inputs[single[0]] if len(single) == 1 and g[single[0]] == 1 else next(fresh))
    return Reduction(tuple(inputs), target, tuple(prefactor), tuple(tuple(g) for g in groups), tuple(names))


def _choose_prefactor(p0: list, groups: list, X: np.ndarray, y: np.ndarray) -> list:
    """The prefactor ``p0 + Σ c_j n_j`` (small integers ``c_j``) with the smallest sum of absolute
    exponents; among those, the one leaving the least variance in ``log|y / M|``."""
    if not groups:
        return p0
    span = range(-2, 3) if len(groups) <= 4 else range(-1, 2)
    combos = itertools.product(span, repeat=len(groups)) if len(groups) <= 7 else [(0,) * len(groups)]
    keep = np.isfinite(y) & (y != 0) & np.all(np.isfinite(X), axis=1) & np.all(X != 0, axis=1)
    logs, logy = np.log(np.abs(X[keep])), np.log(np.abs(y[keep]))
    best = None
    for c in combos:
        p = [a + sum(cj * g[i] for cj, g in zip(c, groups)) for i, a in enumerate(p0)]
        spread = float(np.var(logy - logs @ np.array([float(e) for e in p]))) if len(logy) > 1 else 0.0
        key = (sum(abs(e) for e in p), round(spread, 9), sum(1 for e in p if e))
        if best is None or key < best[0]:
            best = (key, p)
    return best[1]
