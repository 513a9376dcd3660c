"""Closed forms: candidates computed by linear least squares, no KAN trained.

``monomial``
    ``y = s·C·Π x_i^{p_i}``: ``log|y|`` fitted on ``log|x_i|`` — what a ``[d, 1]`` KAN with identity
    edges on ``log x_i`` would learn, solved in closed form. ``G·m1·m2/r²`` comes out directly.
``offset_monomial``
    ``y = c₀ + C·Π x_i^{p_i}`` with the offset found by a 1-D search (the parts of an additive split
    carry such offsets).
``exp_offset_monomial``
    ``y = ±exp(c₀ + C·Π x_i^{p_i})``: Boltzmann factors, decays ``a·exp(−b·t)``.
``linear``
    ``y = a + Σ b_i·x_i``: the baseline every law must beat.
"""

from __future__ import annotations

import math

import numpy as np
import sympy
from scipy.optimize import minimize_scalar

from .context import Context, one_sign

__all__ = [
    "monomial",
    "offset_monomial",
    "exp_offset_monomial",
    "linear",
    "power_law_fit",
    "half_monomial",
    "divided_by_monomial",
]


def monomial(ctx: Context) -> list[sympy.Expr]:
    """``y = s·C·Π x_i^{p_i}`` from a linear fit of ``log|y|`` on ``log|x|`` (see module doc).

    Inputs of either sign are allowed (``k·x²/2`` with ``x`` in ``[-1, 1]``); a power that is not
    an integer then leaves a formula that is not real on part of the data and loses on validation.
    On noisy rows whose target has one sign but for values within the noise of zero, the fit uses
    the rows clear of the noise (:meth:`Context.clear_of_noise`).
    """
    ctx = ctx.clear_of_noise()
    sign = one_sign(ctx.y)
    if np.any(ctx.X == 0) or np.any(ctx.y == 0):
        return []
    coef = power_law_fit(ctx.X, ctx.y)
    if not sign:
        return _odd_monomial(ctx, coef)
    out = []
    halves = np.round(2 * coef[:-1]) / 2
    tol = 0.05 if ctx.floor <= 1e-6 else 0.15  # data read off a surrogate is rougher
    if np.all(np.abs(coef[:-1] - halves) < tol) and np.any(np.abs(coef[:-1] - halves) > 1e-9):
        # exponents near half-integers: the rounded monomial, constant refitted (read-off parts
        # are only approximately monomials; the rounded one is what the real rows will confirm)
        c = float(np.mean(np.log(np.abs(ctx.y)) - np.log(np.abs(ctx.X)) @ halves))
        out.append(
            sign
            * sympy.Float(math.exp(c))
            * sympy.Mul(
                *(_power(s, sympy.Rational(int(round(2 * p)), 2), x) for s, p, x in zip(ctx.symbols, halves, ctx.X.T))
            )
        )
    expr = sign * sympy.Float(math.exp(coef[-1]))
    for k, (s, p) in enumerate(zip(ctx.symbols, coef[:-1])):
        if np.any(ctx.X[:, k] < 0):
            p = round(p) if abs(p - round(p)) < 0.05 else p
            expr *= _power(s, sympy.Integer(p) if isinstance(p, int) else sympy.Float(p), ctx.X[:, k])
        else:
            expr *= s ** sympy.Float(p)
    return out + [expr]


def power_law_fit(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares ``log|y| = Σ p_i·log|x_i| + c`` for ``X`` of shape ``(n, d)`` without zeros:
    ``[p_1, …, p_d, c]``."""
    A = np.column_stack([np.log(np.abs(X)), np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, np.log(np.abs(y)), rcond=None)
    return coef


def half_monomial(symbols: list, powers: np.ndarray) -> sympy.Expr:
    """``Π s_i^{p_i}`` for exponents ``powers`` (shape ``(d,)``) that are multiples of ``1/2``, as
    exact rationals."""
    return sympy.Mul(*(s ** sympy.Rational(int(round(2 * p)), 2) for s, p in zip(symbols, powers) if p))


def divided_by_monomial(X: np.ndarray, y: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """``y / Π x_i^{p_i}`` for rows ``X`` of shape ``(n, d)``, shape ``(n,)``: the signs of the
    inputs raised to their powers too (not finite where a negative input has a half power)."""
    return y / np.prod(np.abs(X) ** powers, axis=1) * np.prod(np.sign(X) ** powers, axis=1)


def _odd_monomial(ctx: Context, coef: np.ndarray) -> list[sympy.Expr]:
    """``±C·Π x_i^{k_i}`` for a target of both signs: the sign must come from inputs of both signs
    raised to integer powers (``x₁⁵/x₂³`` on ``[−1, 1]²``), and agree with the rows' signs on 99 %
    of them; otherwise nothing."""
    powers = []
    for k, p in enumerate(coef[:-1]):
        if np.any(ctx.X[:, k] < 0):
            if abs(p - round(p)) > 0.05:
                return []
            p = int(round(p))
        powers.append(p)
    signs = np.prod([np.sign(ctx.X[:, k]) ** p for k, p in enumerate(powers) if isinstance(p, int)], axis=0)
    agree = float(np.mean(signs * np.sign(ctx.y) > 0))
    if max(agree, 1 - agree) < 0.99:
        return []
    expr = sympy.Float(math.exp(coef[-1]) * (1 if agree >= 0.5 else -1))
    for s, p in zip(ctx.symbols, powers):
        expr *= s ** (sympy.Integer(p) if isinstance(p, int) else sympy.Float(p))
    return [expr]


def _power(s: sympy.Symbol, p: sympy.Expr, x: np.ndarray) -> sympy.Expr:
    """``s**p``, or ``|s|**p`` where the input takes both signs and ``p`` is not an integer (the
    fit was of ``log|y|`` on ``log|x|``: ``sqrt(|x₁·x₄·x₅|)`` is real on every row)."""
    return sympy.Abs(s) ** p if (np.any(x < 0) and not p.is_integer) else s**p


def offset_monomial(ctx: Context) -> list[sympy.Expr]:
    """``y = c₀ + C·Π x_i^{p_i}``: the monomial pass with the offset ``c₀`` found by a 1-D search
    (the parts of an additive split carry such offsets)."""
    if np.any(ctx.X == 0):
        return []
    A = np.column_stack([np.log(np.abs(ctx.X)), np.ones(len(ctx.X))])
    span = float(np.ptp(ctx.y)) or 1.0
    best = None
    for sign, edge in ((1, float(ctx.y.min())), (-1, float(ctx.y.max()))):

        def loss(t):
            r = sign * (ctx.y - (edge - sign * span * math.exp(t)))
            coef, *_ = np.linalg.lstsq(A, np.log(r), rcond=None)
            return float(np.mean((A @ coef - np.log(r)) ** 2)), coef

        sol = minimize_scalar(lambda t: loss(t)[0], bounds=(-30, 4), method="bounded", options={"xatol": 1e-6})
        err, coef = loss(sol.x)
        if best is None or err < best[0]:
            best = (err, coef, edge - sign * span * math.exp(sol.x), sign)
    _, coef, c0, sign = best
    scale = sign * math.exp(coef[-1])
    if np.all(np.abs(coef[:-1]) < 0.02):  # C·Π x^p with p → 0 is c + C·Σ p·log x: say so
        return [
            sympy.Float(c0 + scale) + sum(sympy.Float(scale * p) * sympy.log(s) for s, p in zip(ctx.symbols, coef[:-1]))
        ]
    powers = [round(p * 2) / 2 if abs(p * 2 - round(p * 2)) < 1e-3 else p for p in coef[:-1]]
    expr = sympy.Float(c0) + sympy.Float(scale) * sympy.Mul(
        *(
            _power(s, sympy.Rational(int(round(2 * p)), 2) if float(2 * p).is_integer() else sympy.Float(p), x)
            for s, p, x in zip(ctx.symbols, powers, ctx.X.T)
        )
    )
    return [expr]


def linear(ctx: Context) -> list[sympy.Expr]:
    """``y = a + Σ b_i·x_i`` by least squares (parts such as ``T₂ − T₁`` read off a surrogate)."""
    A = np.column_stack([ctx.X, np.ones(len(ctx.X))])
    coef, *_ = np.linalg.lstsq(A, ctx.y, rcond=None)
    return [sympy.Float(coef[-1]) + sum(sympy.Float(c) * s for c, s in zip(coef[:-1], ctx.symbols))]


def exp_offset_monomial(ctx: Context) -> list[sympy.Expr]:
    """``y = ±exp(c₀ + C·Π x_i^{p_i})``: :func:`offset_monomial` on ``log|y|`` (Boltzmann factors
    such as ``n₀·exp(−m·g·x/(k·T))``, decays ``a·exp(−b·t)``), on the rows clear of the noise
    (:meth:`Context.clear_of_noise`)."""
    ctx = ctx.clear_of_noise()
    sign = one_sign(ctx.y)
    if not sign:
        return []
    inner = offset_monomial(ctx.sub(ctx.X, np.log(np.abs(ctx.y)), ctx.names))
    return [sign * sympy.exp(e) for e in inner]
