"""A formula's own KAN: compile a sympy expression into a :class:`~kandiscover.model.KAN` of fixed edges.

In the spirit of pykan's ``expr2kan``: every live edge is a library primitive ``c·f(a·x+b)+d``
(fixed with :meth:`KANLayer.fix_symbolic <kandiscover.kan.layer.KANLayer.fix_symbolic>`), an ``Add``
is a sum node, a ``Mul`` of non-constant factors a multiplication node (one sub-node per factor),
and a composition ``f(g(x))`` two edge levels joined by a node. A branch shallower than its
siblings is lifted by identity edges ``x`` so that every path has the same depth.

    >>> import numpy as np, sympy
    >>> x, y = sympy.symbols("x y")
    >>> model = formula_kan(x * sympy.sin(y), ["x", "y"], np.random.default_rng(0).random((50, 2)))
    >>> model.width
    [2, [0, 1]]

Powers are the library's (``x^2``, ``1/x``, ``sqrt`` …), a product of two of them (``x^6`` as
``(x^2)^3``), or ``exp(p·log(x))``; a power with a constant base ``B^g`` is ``exp(log(B)·g)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import sympy

from .model import KAN
from .symbolic.evaluate import formula_predictions
from .symbolic.library import Library, default_library
from .symbolic.parse import parse_formula

__all__ = ["formula_kan"]

_ID = (1.0, 0.0, 1.0, 0.0)
_U = sympy.Symbol("U_")


@dataclass
class _Edge:
    """``c·fun(a·child + b) + d`` with ``affine = (a, b, c, d)``."""

    fun: str
    affine: tuple[float, float, float, float]
    child: "_Node"


@dataclass
class _Node:
    """An input (``var`` set), a sum node (one part) or a multiplication node (one part per factor)."""

    parts: list[list[_Edge]] = field(default_factory=list)
    mult: bool = False
    var: Optional[int] = None

    @property
    def depth(self) -> int:
        return 0 if self.var is not None else 1 + max(e.child.depth for p in self.parts for e in p)

    @property
    def key(self) -> tuple:
        """Structural identity: equal keys compute equal values."""
        if self.var is not None:
            return ("var", self.var)
        return (self.mult, tuple(tuple((e.fun, e.affine, e.child.key) for e in p) for p in self.parts))


def _catalogue(lib: Library) -> tuple[dict, dict]:
    """Library names by sympy function class (``sin`` …) and by exponent (``x^2``, ``sqrt`` …)."""
    funcs, powers = {}, {}
    for name, prim in lib.items():
        form = prim.sympy_fn(_U)
        if isinstance(form, sympy.Pow) and form.base == _U and form.exp.is_Rational:
            powers.setdefault(form.exp, name)
        elif isinstance(form, sympy.Function) and form.args == (_U,):
            funcs.setdefault(form.func, name)
        elif form == _U:
            powers.setdefault(sympy.Integer(1), name)
    return funcs, powers


def _number(v: sympy.Expr, where: sympy.Expr) -> float:
    """``v`` as a real float; ``ValueError`` naming ``where`` when it is not one."""
    try:
        z = complex(sympy.N(v))
    except (TypeError, ValueError, OverflowError):
        z = complex(np.nan)
    if z.imag != 0 or not np.isfinite(z.real):
        raise ValueError(f"formula_kan: the constant {v} in {where} is not a finite real number")
    return z.real


class _Compiler:
    """Turns sub-expressions into edges and nodes (the tree before levels are laid out)."""

    def __init__(self, symbols: Sequence[sympy.Symbol], lib: Library) -> None:
        self.symbols, self.lib = list(symbols), lib
        self.funcs, self.powers = _catalogue(lib)
        if 1 not in self.powers:
            raise ValueError("formula_kan needs the identity primitive 'x' in the library")
        self.ident = self.powers[sympy.Integer(1)]

    def node(self, expr: sympy.Expr) -> _Node:
        """The node whose value is ``expr``."""
        if expr in self.symbols:
            return _Node(var=self.symbols.index(expr))
        coef, rest = expr.as_independent(*self.symbols, as_Add=False)
        factors = sympy.Mul.make_args(rest)
        if isinstance(expr, sympy.Mul) and len(factors) > 1:
            scale = _number(coef, expr)
            parts = [self.sum_part(f, scale if k == 0 else 1.0) for k, f in enumerate(factors)]
            return self._unclash(_Node(parts, mult=True))
        return self._unclash(_Node([self.sum_part(expr)]))

    def sum_part(self, expr: sympy.Expr, scale: float = 1.0) -> list[_Edge]:
        """Edges of one sub-node summing to ``scale·expr``; the additive constant goes to the first ``d``."""
        const, rest = expr.as_independent(*self.symbols, as_Add=True)
        edges = [self.edge(t, scale) for t in sympy.Add.make_args(rest)]
        a, b, c, d = edges[0].affine
        edges[0].affine = (a, b, c, d + scale * _number(const, expr))
        return edges

    def edge(self, term: sympy.Expr, scale: float = 1.0) -> _Edge:
        """``scale·term`` as one edge ``c·f(a·inner + b)`` on the node of ``inner``."""
        coef, g = term.as_independent(*self.symbols, as_Add=False)
        fun, arg = self.head(g)
        b, rest = arg.as_independent(*self.symbols, as_Add=True)
        a, inner = rest.as_independent(*self.symbols, as_Add=False)
        affine = (_number(a, arg), _number(b, arg), scale * _number(coef, term), 0.0)
        return _Edge(fun, affine, self.node(inner))

    def head(self, g: sympy.Expr) -> tuple[str, sympy.Expr]:
        """Library name of the outermost function of ``g`` and its argument."""
        if g in self.symbols:
            return self.ident, g
        if isinstance(g, (sympy.Add, sympy.Mul)):  # a sum or product term: identity on its node
            return self.ident, g
        if isinstance(g, sympy.Pow):
            return self._power(g)
        if isinstance(g, sympy.Function) and len(g.args) == 1 and g.func in self.funcs:
            return self.funcs[g.func], g.args[0]
        raise ValueError(f"formula_kan: {g} is not a function of the symbolic library")

    def _power(self, g: sympy.Pow) -> tuple[str, sympy.Expr]:
        base, p = g.base, g.exp
        if not base.free_symbols & set(self.symbols):
            return self._exp(g), p * sympy.log(base)  # B^g = exp(log(B)·g)
        if p.free_symbols:
            raise ValueError(f"formula_kan: the exponent of {g} is not a number")
        p = sympy.Rational(p) if p.is_Float else p
        if p in self.powers:
            return self.powers[p], base
        for q in self.powers:  # x^6 = (x^2)^3, x^(5/2) = sqrt(x^5)
            if q != 1 and p / q in self.powers and p / q != 1:
                return self.powers[p / q], sympy.Pow(base, q)
        return self._exp(g), sympy.Mul(p, sympy.log(base), evaluate=False)

    def _exp(self, where: sympy.Expr) -> str:
        """Library name of ``exp`` (a power written as ``exp(p·log(x))`` needs ``log`` too)."""
        if sympy.exp not in self.funcs or sympy.log not in self.funcs:
            raise ValueError(f"formula_kan: {where} needs 'exp' and 'log' in the library")
        return self.funcs[sympy.exp]

    def _unclash(self, node: _Node) -> _Node:
        """A depth-1 node whose sub-node has two edges from one input: lift all but one edge a level."""
        if node.depth != 1:
            return node
        for part in node.parts:
            seen = set()
            for k, e in sorted(enumerate(part), key=lambda ke: ke[1].fun != self.ident):
                if e.child.var in seen:
                    a, b, c, d = e.affine
                    part[k] = _Edge(self.ident, (1.0, 0.0, c, d), _Node([[_Edge(e.fun, (a, b, 1.0, 0.0), e.child)]]))
                seen.add(e.child.var)
        return node


class _Layout:
    """Nodes placed on levels; a node's place is ``(level, kind, position)``, kind 0 sum, 1 mult."""

    def __init__(self, depth: int, ident: str) -> None:
        self.ident = ident
        self.rows: list[tuple[list, list]] = [([], []) for _ in range(depth + 1)]
        self.memo: dict = {}

    def place(self, node: _Node, t: int, fresh: bool = False) -> tuple:
        """Place ``node`` on level ``t`` (through identity edges when it is shallower)."""
        if t == 0:
            return (0, 0, node.var)
        if not fresh and (t, node.key) in self.memo:
            return self.memo[(t, node.key)]
        lifted = node.depth < t
        parts = [[_Edge(self.ident, _ID, node)]] if lifted else node.parts
        rows = []
        for part in parts:
            used, row = set(), []
            for e in part:
                where = self.place(e.child, t - 1)
                if where in used:  # two edges from one node into one sub-node: use a copy of the node
                    where = self.place(e.child, t - 1, fresh=True)
                used.add(where)
                row.append((e.fun, e.affine, where))
            rows.append(row)
        kind = int(node.mult and not lifted)
        self.rows[t][kind].append(rows)
        where = (t, kind, len(self.rows[t][kind]) - 1)
        self.memo.setdefault((t, node.key), where)
        return where

    def index(self, where: tuple) -> int:
        """Node index of a place in its level (sum nodes first, then multiplication nodes)."""
        t, kind, pos = where
        return pos + (len(self.rows[t][0]) if kind else 0)


def _build(layout: _Layout, n_in: int, lib: Library, seed: int) -> KAN:
    """The KAN of a layout: fixed edges where the layout has them, every other edge removed."""
    width = [n_in] + [[len(s), len(m)] if m else len(s) for s, m in layout.rows[1:]]
    arity = [[]] + [[len(parts) for parts in m] for _, m in layout.rows[1:]]
    model = KAN(width, mult_arity=arity, seed=seed)
    for t in range(1, len(layout.rows)):
        layer, live = model.layers[t - 1], set()
        for kind, entries in enumerate(layout.rows[t]):
            for pos, parts in enumerate(entries):
                subs = model.topology.subnodes(t, layout.index((t, kind, pos)))
                for o, row in zip(subs, parts):
                    for fun, affine, where in row:
                        i = layout.index(where)
                        layer.fix_symbolic(o, i, lib[fun], affine)
                        live.add((o, i))
        for o in range(layer.out_dim):
            for i in range(layer.in_dim):
                if (o, i) not in live:
                    layer.remove_edge(o, i)
    return model


def _check(model: KAN, expr: sympy.Expr, names: Sequence[str], X: np.ndarray, rtol: float = 1e-6) -> None:
    """``ValueError`` unless the model reproduces ``expr`` on the rows ``X``."""
    want = formula_predictions(expr, X, names)
    got = model.predict(X)[:, 0].cpu().numpy()
    scale = float(np.max(np.abs(want))) if np.all(np.isfinite(want)) else np.inf
    if not np.isfinite(scale) or not np.allclose(got, want, rtol=rtol, atol=rtol * 1e-3 * scale):
        raise ValueError(f"formula_kan: the compiled KAN does not reproduce {expr} on X (off its domain?)")


def formula_kan(expr: sympy.Expr, names: Sequence[str], X: np.ndarray, *, seed: int = 0) -> KAN:
    """Compile a formula into a KAN whose edges are all fixed library primitives.

    Parameters
    ----------
    expr : sympy.Expr or str
        The formula, in the symbols named ``names`` (text is read by
        :func:`~kandiscover.symbolic.parse.parse_formula`).
    names : sequence of str
        The columns of ``X``, in order (the KAN's inputs).
    X : ndarray, shape ``(n, len(names))``
        Rows the formula is checked on; they become the model's ``train_input_``, so that
        :func:`kandiscover.plot.plot_kan` draws every edge over the data's range.
    seed : int
        Seed of the model (its masked-out numeric parameters).

    Returns
    -------
    KAN
        ``model.predict(X)`` of shape ``(n, 1)`` equals ``expr`` on ``X`` (relative error ≤ 1e-6).

    Raises
    ------
    ValueError
        Naming the sub-expression that is not a library function, has a non-numeric exponent or a
        complex constant, a symbol not in ``names``, or when the compiled model does not reproduce
        the formula on ``X`` (e.g. a clamped singularity or ``exp(p·log(x))`` with ``x < 0``).
    """
    if isinstance(expr, str):  # text goes through the whitelisting parser, never sympify
        expr = parse_formula(expr, list(names))
    if not isinstance(expr, sympy.Expr):
        raise TypeError(f"formula_kan: expr must be a sympy expression or formula text, got {type(expr).__name__}")
    symbols = [sympy.Symbol(str(n)) for n in names]
    by_name = {s.name: s for s in symbols}
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in by_name)
    if unknown:
        raise ValueError(f"formula_kan: {expr} uses {unknown}, which are not among the columns {list(names)}")
    expr = expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})
    lib = default_library()
    compiler = _Compiler(symbols, lib)
    if not expr.free_symbols:  # a constant: the primitive "0" shifted by d
        top = _Node([[_Edge("0", (1.0, 0.0, 1.0, _number(expr, expr)), _Node(var=0))]])
    else:
        top = compiler.node(expr)
    if top.var is not None:
        top = _Node([[_Edge(compiler.ident, _ID, top)]])
    layout = _Layout(top.depth, compiler.ident)
    layout.place(top, top.depth)
    model = _build(layout, len(symbols), lib, seed)
    _check(model, expr, names, X)
    model.train_input_ = model.check_input(X, "X")
    model.update_grid(model.train_input_)
    return model
