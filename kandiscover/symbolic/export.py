"""Derived forms of a formula: numpy callable, trainable torch module, LaTeX.

sympy is the single source of a formula; everything here is generated from the sympy tree.
``to_numpy`` uses :mod:`kandiscover.symbolic.evaluate` (:func:`sympy.lambdify`: code printed from the
sympy tree, never from user text);
``to_torch`` walks the tree and maps each sympy node to a torch operation, with every float
constant of the expression becoming a trainable :class:`torch.nn.Parameter`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType

import numpy as np
import sympy
import torch
from torch import nn

from kandiscover.symbolic.evaluate import compile_formula, formula_symbols
from kandiscover.symbolic.parse import parse_formula

__all__ = ["to_numpy", "to_torch", "to_latex", "FormulaModule"]


def _as_expr(expr, variables=None) -> sympy.Expr:
    if isinstance(expr, str):
        return parse_formula(expr, variables)
    if isinstance(expr, (int, np.integer)) and not isinstance(expr, bool):
        return sympy.Integer(int(expr))
    if isinstance(expr, (float, np.floating)):
        return sympy.Float(float(expr))
    if not isinstance(expr, sympy.Expr):
        raise TypeError(f"expr must be a sympy expression or a formula string, got {type(expr).__name__}")
    return expr


def to_numpy(expr, variables: Sequence) -> Callable[..., np.ndarray]:
    """Compile a formula into a vectorised numpy function.

    Parameters
    ----------
    expr : sympy.Expr or str
        The formula (a string is parsed with :func:`~kandiscover.symbolic.parse.parse_formula`).
    variables : sequence of str or sympy.Symbol
        Input columns, in order. Every free symbol of ``expr`` must be listed.

    Returns
    -------
    callable
        ``f(X)`` with ``X`` of shape ``(n, len(variables))``, or ``f(**columns)`` with one 1-D
        array per variable; returns a float64 array of shape ``(n,)`` (constants are broadcast),
        evaluated with the rule of :mod:`kandiscover.symbolic.evaluate`: complex values with a
        negligible imaginary part count as real, other complex values are NaN, ``±inf`` stays.
    """
    expr = _as_expr(expr, variables)
    compiled = compile_formula(expr, variables)
    names = compiled.names

    def evaluate(X=None, **columns) -> np.ndarray:
        if X is not None and columns:
            raise ValueError("pass either an array X or keyword columns, not both")
        if X is not None:
            X = np.asarray(X, dtype=float)
            if X.ndim != 2 or X.shape[1] != len(names):
                raise ValueError(f"X must have shape (n, {len(names)}) for variables {names}, got {X.shape}")
            return compiled.on_matrix(X)
        unknown = sorted(set(columns) - set(names))
        missing = [k for k in names if k not in columns]
        if unknown or missing:
            raise ValueError(f"columns must be exactly {names}; missing {missing}, unknown {unknown}")
        cols = [np.asarray(columns[k], dtype=float).reshape(-1) for k in names]
        n = cols[0].shape[0] if cols else 1
        if any(c.shape[0] != n for c in cols):
            raise ValueError("all columns must have the same length")
        return compiled(cols, shape=n)

    evaluate.__doc__ = f"Evaluate {expr} on columns {names}."
    return evaluate


def _gamma(t: torch.Tensor) -> torch.Tensor:
    """Gamma function with the correct sign for negative non-integer arguments."""
    odd = torch.remainder(torch.floor(t), 2) != 0
    sign = torch.where((t < 0) & odd, -torch.ones_like(t), torch.ones_like(t))
    return sign * torch.exp(torch.lgamma(t))


#: sympy function class -> torch function of the same arity.
_TORCH_FUNCS = MappingProxyType(
    {
        sympy.sin: torch.sin,
        sympy.cos: torch.cos,
        sympy.tan: torch.tan,
        sympy.cot: lambda t: 1 / torch.tan(t),
        sympy.sec: lambda t: 1 / torch.cos(t),
        sympy.csc: lambda t: 1 / torch.sin(t),
        sympy.asin: torch.asin,
        sympy.acos: torch.acos,
        sympy.atan: torch.atan,
        sympy.atan2: torch.atan2,
        sympy.sinh: torch.sinh,
        sympy.cosh: torch.cosh,
        sympy.tanh: torch.tanh,
        sympy.asinh: torch.asinh,
        sympy.acosh: torch.acosh,
        sympy.atanh: torch.atanh,
        sympy.exp: torch.exp,
        sympy.log: torch.log,
        sympy.Abs: torch.abs,
        sympy.sign: torch.sign,
        sympy.erf: torch.erf,
        sympy.erfc: torch.erfc,
        sympy.gamma: _gamma,
        sympy.floor: torch.floor,
        sympy.ceiling: torch.ceil,
    }
)


class FormulaModule(nn.Module):
    """A sympy expression as a torch module; its float constants are trainable parameters.

    Build it with :func:`to_torch`. ``forward(x)`` takes ``(batch, n_vars)`` and returns
    ``(batch,)``. :meth:`to_sympy` returns the expression with the current parameter values.
    """

    def __init__(self, expr: sympy.Expr, symbols: Sequence[sympy.Symbol], dtype: torch.dtype):
        super().__init__()
        self.expr = expr
        self.variables = tuple(s.name for s in symbols)
        self.constants = nn.ParameterList()
        self._index = {s: j for j, s in enumerate(symbols)}
        self._dtype = dtype
        self._program = self._compile(expr)

    def _compile(self, node: sympy.Basic) -> Callable:
        """Turn a sympy node into ``f(x, params) -> tensor``; one parameter per Float occurrence."""
        if isinstance(node, sympy.Float):
            k = len(self.constants)
            self.constants.append(nn.Parameter(torch.tensor(float(node), dtype=self._dtype)))
            return lambda x, p: p[k]
        if isinstance(node, sympy.Symbol):
            j = self._index[node]
            return lambda x, p: x[:, j]
        if node.is_number and not node.has(sympy.Float) and not node.free_symbols:
            value = complex(node.evalf())
            if value.imag != 0:
                raise ValueError(f"to_torch supports real formulas only; {node} is complex")
            return lambda x, p, v=value.real: torch.tensor(v, dtype=x.dtype, device=x.device)
        if isinstance(node, sympy.Add):
            parts = [self._compile(a) for a in node.args]
            return lambda x, p: _reduce(torch.add, parts, x, p)
        if isinstance(node, sympy.Mul):
            parts = [self._compile(a) for a in node.args]
            return lambda x, p: _reduce(torch.mul, parts, x, p)
        if isinstance(node, sympy.Pow):
            base, exponent = self._compile(node.base), node.exp
            if exponent == sympy.S.Half:
                return lambda x, p: torch.sqrt(base(x, p))
            if exponent == -sympy.S.Half:
                return lambda x, p: torch.rsqrt(base(x, p))
            if exponent.is_Integer:
                n = int(exponent)
                return lambda x, p: torch.pow(base(x, p), n)
            power = self._compile(exponent)
            return lambda x, p: torch.pow(base(x, p), power(x, p))
        if isinstance(node, (sympy.Max, sympy.Min)):
            op = torch.maximum if isinstance(node, sympy.Max) else torch.minimum
            parts = [self._compile(a) for a in node.args]
            return lambda x, p: _reduce(op, parts, x, p)
        func = _TORCH_FUNCS.get(node.func)
        if func is None:
            raise ValueError(f"to_torch does not support {node.func.__name__!r} (in {node})")
        parts = [self._compile(a) for a in node.args]
        return lambda x, p: func(*(f(x, p) for f in parts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate on ``x`` of shape ``(batch, n_vars)``; returns shape ``(batch,)``."""
        if x.dim() != 2 or x.shape[1] != len(self.variables):
            raise ValueError(
                f"x must have shape (batch, {len(self.variables)}) for variables "
                f"{list(self.variables)}, got {tuple(x.shape)}"
            )
        out = self._program(x, list(self.constants))
        return torch.broadcast_to(out, (x.shape[0],))

    def to_sympy(self) -> sympy.Expr:
        """The expression with each float constant replaced by its current parameter value."""
        values = iter(float(c.detach()) for c in self.constants)

        def rebuild(node):
            if isinstance(node, sympy.Float):
                return sympy.Float(next(values))
            if isinstance(node, sympy.Symbol) or not node.args or (node.is_number and not node.has(sympy.Float)):
                return node
            return node.func(*(rebuild(a) for a in node.args))

        return rebuild(self.expr)

    def extra_repr(self) -> str:
        return f"expr={self.expr}, variables={list(self.variables)}"


def _reduce(op, parts, x, p):
    out = parts[0](x, p)
    for f in parts[1:]:
        out = op(out, f(x, p))
    return out


def to_torch(expr, variables: Sequence, *, dtype: torch.dtype = torch.float64) -> FormulaModule:
    """Build a trainable torch module computing a formula.

    Parameters
    ----------
    expr : sympy.Expr or str
        The formula (a string is parsed with :func:`~kandiscover.symbolic.parse.parse_formula`).
    variables : sequence of str or sympy.Symbol
        Input columns, in order; ``forward(x)`` reads column ``j`` of ``x`` as ``variables[j]``.
    dtype : torch.dtype, default torch.float64
        dtype of the constant parameters (float64 keeps the sympy values exactly).

    Returns
    -------
    FormulaModule
        ``forward(x)``: ``(batch, n_vars) -> (batch,)``. Every :class:`sympy.Float` occurrence
        is an independent :class:`torch.nn.Parameter` (in tree order, in ``module.constants``);
        integers, rationals and named constants such as ``pi`` stay fixed.

    Raises
    ------
    ValueError
        If the formula uses a symbol not in ``variables`` or a function torch cannot compute.
    """
    expr = _as_expr(expr, variables)
    return FormulaModule(expr, formula_symbols(expr, variables), dtype)


def to_latex(expr) -> str:
    """LaTeX of a formula, exactly as :func:`sympy.latex` prints it.

    Parameters
    ----------
    expr : sympy.Expr or str

    Returns
    -------
    str
    """
    return sympy.latex(_as_expr(expr))
