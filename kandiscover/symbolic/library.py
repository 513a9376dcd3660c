"""The library of symbolic primitives that edges are matched against.

A :class:`Primitive` ties one 1-D function to its torch, numpy and sympy forms and a complexity;
a :class:`Library` is an immutable, explicitly passed collection of them (no global registry):
``default_library().extend(p).without("tan")`` returns new libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Optional

import numpy as np
import sympy
import torch

__all__ = ["Primitive", "Library", "default_library"]

_EPS = 1e-8


@dataclass(frozen=True)
class Primitive:
    """One library function ``f`` (an edge becomes ``c·f(a·x+b)+d``).

    Parameters
    ----------
    name : str
        Key in the library (``"sin"``, ``"x^2"``, ``"1/x"`` …).
    sympy_fn : callable
        ``sympy.Expr -> sympy.Expr``.
    complexity : int
        Cost used to prefer simpler functions (documented in :func:`default_library`).
    torch_fn : callable
        Exact tensor form; may return NaN/inf off its domain (used to score fits).
    numpy_fn : callable
        Exact array form.
    torch_safe : callable, optional
        Form used inside a training model: finite everywhere (clamped near singular points).
        Defaults to ``torch_fn``.
    search : {"ab", "a", "b", "none"}
        Which of ``a, b`` the affine fit must search: a power law absorbs ``|a|`` into ``c`` (search
        ``b``), ``exp`` absorbs ``b`` into ``c`` (search ``a``), ``x`` needs neither.
    """

    name: str
    sympy_fn: Callable
    complexity: int
    torch_fn: Callable
    numpy_fn: Callable
    torch_safe: Optional[Callable] = None
    search: str = "ab"

    def safe(self, z: torch.Tensor) -> torch.Tensor:
        """Training-safe evaluation."""
        return (self.torch_safe or self.torch_fn)(z)


def _sign_clamp(z: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """``z`` pushed away from 0 to at least ``eps`` in magnitude, keeping its sign."""
    return torch.where(z >= 0, z.clamp_min(eps), z.clamp_max(-eps))


def _pos(z: torch.Tensor, eps: float = _EPS) -> torch.Tensor:
    return z.clamp_min(eps)


def _powers() -> list[Primitive]:
    out = [
        Primitive("x", lambda s: s, 1, lambda z: z, lambda z: z, search="none"),
    ]
    for n, cpx in ((2, 2), (3, 3), (4, 3), (5, 3)):
        out.append(
            Primitive(
                f"x^{n}",
                (lambda n: lambda s: s**n)(n),
                cpx,
                (lambda n: lambda z: z**n)(n),
                (lambda n: lambda z: z**n)(n),
                search="b",
            )
        )
    for n, cpx in ((1, 2), (2, 2), (3, 3), (4, 4), (5, 5)):
        name = "1/x" if n == 1 else f"1/x^{n}"
        out.append(
            Primitive(
                name,
                (lambda n: lambda s: 1 / s**n)(n),
                cpx,
                (lambda n: lambda z: 1 / z**n)(n),
                (lambda n: lambda z: 1 / z**n)(n),
                torch_safe=(lambda n: lambda z: 1 / _sign_clamp(z) ** n)(n),
                search="b",
            )
        )
    out += [
        Primitive("sqrt", sympy.sqrt, 2, torch.sqrt, np.sqrt, torch_safe=lambda z: torch.sqrt(_pos(z)), search="b"),
        Primitive(
            "x^1.5",
            lambda s: s ** sympy.Rational(3, 2),
            4,
            lambda z: z**1.5,
            lambda z: z**1.5,
            torch_safe=lambda z: _pos(z) ** 1.5,
            search="b",
        ),
        Primitive(
            "1/sqrt(x)",
            lambda s: 1 / sympy.sqrt(s),
            2,
            lambda z: 1 / torch.sqrt(z),
            lambda z: 1 / np.sqrt(z),
            torch_safe=lambda z: 1 / torch.sqrt(_pos(z, 1e-3)),
            search="b",
        ),
    ]
    return out


def _transcendental() -> list[Primitive]:
    return [
        Primitive("exp", sympy.exp, 2, torch.exp, np.exp, torch_safe=lambda z: torch.exp(z.clamp_max(50)), search="a"),
        Primitive("log", sympy.log, 2, torch.log, np.log, torch_safe=lambda z: torch.log(_pos(z, 1e-6)), search="b"),
        Primitive("abs", sympy.Abs, 3, torch.abs, np.abs, search="b"),
        Primitive("sin", sympy.sin, 2, torch.sin, np.sin),
        Primitive("cos", sympy.cos, 2, torch.cos, np.cos),
        Primitive(
            "tan", sympy.tan, 3, torch.tan, np.tan, torch_safe=lambda z: torch.sin(z) / _sign_clamp(torch.cos(z))
        ),
        Primitive("tanh", sympy.tanh, 3, torch.tanh, np.tanh),
        Primitive("cosh", sympy.cosh, 3, torch.cosh, np.cosh, torch_safe=lambda z: torch.cosh(z.clamp(-50, 50))),
        Primitive("sgn", sympy.sign, 3, torch.sign, np.sign, search="b"),
        Primitive(
            "arcsin",
            sympy.asin,
            4,
            torch.asin,
            np.arcsin,
            torch_safe=lambda z: torch.asin(z.clamp(-1 + 1e-6, 1 - 1e-6)),
        ),
        Primitive(
            "arccos",
            sympy.acos,
            4,
            torch.acos,
            np.arccos,
            torch_safe=lambda z: torch.acos(z.clamp(-1 + 1e-6, 1 - 1e-6)),
        ),
        Primitive("arctan", sympy.atan, 4, torch.atan, np.arctan),
        Primitive(
            "arctanh",
            sympy.atanh,
            4,
            torch.atanh,
            np.arctanh,
            torch_safe=lambda z: torch.atanh(z.clamp(-1 + 1e-6, 1 - 1e-6)),
        ),
        Primitive("gaussian", lambda s: sympy.exp(-(s**2)), 3, lambda z: torch.exp(-(z**2)), lambda z: np.exp(-(z**2))),
        Primitive("0", lambda s: sympy.Integer(0), 0, torch.zeros_like, np.zeros_like, search="none"),
    ]


@dataclass(frozen=True)
class Library(Mapping):
    """Immutable name → :class:`Primitive` mapping.

    Examples
    --------
    >>> lib = default_library().without("tan", "arctanh")
    >>> "tan" in lib
    False
    """

    primitives: tuple = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [p.name for p in self.primitives]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate primitive names in library: {sorted(dup)}")

    def __getitem__(self, name: str) -> Primitive:
        for p in self.primitives:
            if p.name == name:
                return p
        raise KeyError(f"{name!r} is not in the library; available: {', '.join(self.names)}")

    def __iter__(self) -> Iterator[str]:
        return (p.name for p in self.primitives)

    def __len__(self) -> int:
        return len(self.primitives)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.primitives]

    def extend(self, *prims: Primitive) -> "Library":
        """A new library with ``prims`` added (a name already present is replaced)."""
        new = {p.name for p in prims}
        return Library(tuple(p for p in self.primitives if p.name not in new) + tuple(prims))

    def without(self, *names: str) -> "Library":
        """A new library without ``names`` (unknown names raise ``KeyError``)."""
        for n in names:
            self[n]
        return Library(tuple(p for p in self.primitives if p.name not in names))

    def only(self, names: Iterable[str]) -> "Library":
        """A new library restricted to ``names``, in that order."""
        return Library(tuple(self[n] for n in names))


def default_library() -> Library:
    """The default primitives: pykan's 29 plus ``cos`` and ``cosh`` (``1/cosh``, ``cosh`` of a
    shifted argument: ``n₀/(e^u + e^{−u})``, ``cosh((x − x₀)/a)``, which one ``exp`` cannot fit).

    Complexities: ``0``: 0; ``x``: 1; ``x^2``, ``1/x``, ``1/x^2``, ``sqrt``, ``1/sqrt(x)``,
    ``exp``, ``log``, ``sin``, ``cos``: 2; ``x^3``–``x^5``, ``1/x^3``, ``abs``, ``tan``, ``tanh``, ``cosh``,
    ``sgn``, ``gaussian``: 3; ``1/x^4``, ``x^1.5``, ``arcsin``, ``arccos``, ``arctan``,
    ``arctanh``: 4; ``1/x^5``: 5.
    """
    return Library(tuple(_powers() + _transcendental()))
