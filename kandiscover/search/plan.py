"""The one registry of strategies: their names, their order, and which run for ``d`` inputs.

:func:`kandiscover.discover` runs :func:`default_plan`; ``discover(plan=[...names...])``, the
estimator's ``strategies=`` and the command line's ``--plan`` pick from :data:`NAMES` (a
:data:`GROUPS` name such as ``"kan"`` stands for all its members). Every suite record names the
strategy that produced the chosen formula, so what each contributes can be measured.

========================  ====================================================================
name                      candidates
========================  ====================================================================
``linear``                ``a + Σ b_i·x_i`` (the baseline; ``discover`` always scores it)
``monomial``              ``C·Π x_i^{p_i}`` by log-space least squares
``offset-monomial``       ``c₀ + C·Π x_i^{p_i}``, the offset by a 1-D search
``univariate``            ``c·f(a·g(x) + b) + d`` and ``x^k·(c·f(a·x + b) + d)`` for one input
``exp-monomial``          ``±exp(c₀ + C·Π x_i^{p_i})``
``multiplicative``        ``[d, 1]`` KAN on ``log|y|``: a product of one-variable factors
``additive``              ``[d, 1]`` KAN: a sum of one-variable terms
``rational``              sparse ``P(x)/Q(x)`` by linear least squares
``terms``                 sparse sums of library terms (FFX / SINDy)
``quotient``              sparse quotients of sums of library terms, for up to three inputs
``factored``              ``M(x)·g(x_S)``: the integer-power part of a power-law fit divided out, the rest solved
``argument``              ``M(x)·F(Π x_i^{a_i})``: the argument read off a surrogate KAN's gradients, ``F`` solved
``transformed``           ``g⁻¹(R(x))``: rational and terms fits of ``exp y``, ``log y``, ``y²``, ``1/y``
``relevant``              the problem without the inputs the target does not depend on
``split``                 symmetries and separability on a surrogate KAN, parts solved recursively
``enumerate``             ``a·g + b`` over small expressions ``g`` of one or two inputs
``kan-1``                 ``[d, 1, 1]`` KAN, sparse fit, pruned, edges composed
``kan-mult``              ``[d, [2, 1], 1]``: a multiplication node
``kan-sum``               ``[d, d + 1, 1]``
``kan-mult-s1/-s2``       ``[d, [2, 2], 1]`` with other seeds
``kan-deep-s1/-s2``       ``[d, d + 1, 2, 1]`` with other seeds
========================  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ..support.params import ParameterError
from .argument import argument
from .closed_form import exp_offset_monomial, linear, monomial, offset_monomial
from .context import Context
from .enumerate import enumerate_strategy
from .kan_strategies import additive, kan_strategy, multiplicative
from .quotient import MAX_INPUTS as QUOTIENT_INPUTS
from .quotient import quotient
from .rational import rational
from .solve import split
from .relevance import factored, relevant
from .terms import terms
from .transform import transformed
from .univariate import univariate

__all__ = ["Strategy", "REGISTRY", "NAMES", "DEFAULT", "GROUPS", "KAN_TRAINED", "default_plan", "build_plan", "resolve"]

Step = tuple[str, Callable[[Context], list]]
"""One step of a plan: ``(name, strategy)``; ``strategy(ctx)`` returns raw sympy candidates."""


@dataclass(frozen=True)
class Strategy:
    """A named candidate generator: ``make(d)`` gives the strategy for ``d`` inputs,
    ``strategy(ctx) -> list[sympy.Expr]``; it applies to ``min_inputs`` inputs or more and is part
    of :func:`default_plan` when ``default``; it applies to at most ``max_inputs`` inputs.
    ``trains_kan``: a KAN is trained on the rows by the engine's optimisers and its edges or its
    structure (separability, symmetries, gradients) produce the candidates."""

    name: str
    make: Callable[[int], Callable[[Context], list]]
    min_inputs: int = 1
    default: bool = True
    max_inputs: int = 10**9
    trains_kan: bool = False


def _fixed(fn: Callable[[Context], list]) -> Callable[[int], Callable[[Context], list]]:
    return lambda d: fn


def _kan(width: Callable[[int], list], seed_offset: int = 0) -> Callable[[int], Callable[[Context], list]]:
    """A general-KAN strategy whose width depends on ``d`` (and seed ``ctx.seed + seed_offset``)."""
    return lambda d: lambda ctx: kan_strategy(ctx, width(d), seed=ctx.seed + seed_offset)


REGISTRY: tuple[Strategy, ...] = (
    Strategy("linear", _fixed(linear), default=False),
    Strategy("monomial", _fixed(monomial)),
    Strategy("offset-monomial", _fixed(offset_monomial)),
    Strategy("univariate", _fixed(univariate), max_inputs=1),
    Strategy("exp-monomial", _fixed(exp_offset_monomial)),
    Strategy("multiplicative", _fixed(multiplicative), trains_kan=True),
    Strategy("additive", _fixed(additive), trains_kan=True),
    Strategy("rational", _fixed(rational)),
    Strategy("terms", _fixed(terms)),
    Strategy("quotient", _fixed(quotient), max_inputs=QUOTIENT_INPUTS),
    Strategy("factored", _fixed(factored), min_inputs=2),
    Strategy("argument", _fixed(argument), min_inputs=2, trains_kan=True),
    Strategy("transformed", _fixed(transformed)),
    Strategy("relevant", _fixed(relevant), min_inputs=2),
    Strategy("split", _fixed(split), min_inputs=2, trains_kan=True),
    Strategy("enumerate", _fixed(enumerate_strategy), max_inputs=2),
    Strategy("kan-1", _kan(lambda d: [d, 1, 1]), trains_kan=True),
    Strategy("kan-mult", _kan(lambda d: [d, [min(d, 2), 1], 1] if d > 1 else [1, 2, 1]), trains_kan=True),
    Strategy("kan-sum", _kan(lambda d: [d, d + 1, 1]), trains_kan=True),
    Strategy("kan-mult-s1", _kan(lambda d: [d, [min(d, 2), 2], 1], seed_offset=1), trains_kan=True),
    Strategy("kan-deep-s1", _kan(lambda d: [d, d + 1, 2, 1], seed_offset=1), trains_kan=True),
    Strategy("kan-mult-s2", _kan(lambda d: [d, [min(d, 2), 2], 1], seed_offset=2), trains_kan=True),
    Strategy("kan-deep-s2", _kan(lambda d: [d, d + 1, 2, 1], seed_offset=2), trains_kan=True),
)
"""Every strategy, in the order a plan runs them."""

NAMES: tuple[str, ...] = tuple(s.name for s in REGISTRY)
"""All strategy names, in plan order."""

DEFAULT: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.default)
"""The strategies :func:`default_plan` runs (where they apply)."""

KAN_TRAINED: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.trains_kan)
"""The strategies in which a trained KAN produces the candidates (:attr:`Strategy.trains_kan`)."""

GROUPS: dict[str, tuple[str, ...]] = {
    "kan": tuple(n for n in NAMES if n.startswith("kan-")),
    "kan-based": KAN_TRAINED,
}
"""Names that stand for several strategies: ``kan`` the general KANs (train, prune, match edges,
compose), ``kan-based`` every strategy that trains a KAN (:data:`KAN_TRAINED`)."""


def resolve(names: Sequence[str], parameter: str = "plan", optional: bool = False) -> list[str]:
    """Strategy names in plan order for ``names`` (strategy or group names); ``optional`` says in
    the error message that ``None`` (the default plan) is allowed too.

    Raises
    ------
    ParameterError
        Naming ``parameter`` and the allowed names when ``names`` is empty or holds an unknown name.
    """
    chosen = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in chosen if not isinstance(n, str) or (n not in NAMES and n not in GROUPS)]
    if unknown or not chosen:
        none = "None or " if optional else ""
        raise ParameterError(
            f"{parameter} must be {none}a non-empty list of strategy names from "
            f"{list(NAMES) + list(GROUPS)}; got {names!r}"
        )
    wanted = {m for n in chosen for m in GROUPS.get(n, (n,))}
    return [n for n in NAMES if n in wanted]


def build_plan(d: int, names: Optional[Sequence[str]] = None) -> list[Step]:
    """``(name, strategy)`` steps for ``d`` inputs: the strategies named (or :data:`DEFAULT`), in
    registry order, without those that do not apply to ``d`` inputs."""
    wanted = set(DEFAULT if names is None else resolve(names))
    return [(s.name, s.make(d)) for s in REGISTRY if s.name in wanted and s.min_inputs <= d <= s.max_inputs]


def default_plan(d: int) -> list[Step]:
    """Strategies tried in order for ``d`` inputs (:data:`DEFAULT`)."""
    return build_plan(d)
