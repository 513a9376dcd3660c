"""Checks of public parameters, in scikit-learn's spirit: one error style for the whole package.

A bad parameter raises :class:`ParameterError` (a ``ValueError``) whose message names the
parameter, shows the value given and says what is allowed::

    time_budget must be a positive number of seconds; got -1

Bad *data* (a missing column, NaN cells) is a different thing and raises
:class:`kandiscover.data.DataError`.

Each checker returns the value (converted where that is safe: ``int`` for integers, ``float`` for
numbers) so that a public function reads as a block of named checks::

    time_budget = check_number("time_budget", time_budget, low=0, what="a positive number of seconds")
    seed = check_int("seed", seed)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Optional

__all__ = ["ParameterError", "check_number", "check_int", "check_choice"]


class ParameterError(ValueError):
    """A public parameter has a value that is not allowed; the message names it and what is."""


def _fail(name: str, what: str, value: Any) -> ParameterError:
    return ParameterError(f"{name} must be {what}; got {value!r}")


def check_number(
    name: str,
    value,
    *,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_inclusive: bool = False,
    high_inclusive: bool = True,
    allow_none: bool = False,
    what: Optional[str] = None,
) -> Optional[float]:
    """A finite real number in ``(low, high]`` (bounds and their inclusiveness as given).

    Parameters
    ----------
    name : str
        The parameter's name, as the caller spells it.
    value
        What was passed. ``bool`` is refused (``True`` is not a number of seconds).
    low, high : float, optional
        Bounds; ``None`` leaves that side open.
    low_inclusive, high_inclusive : bool
        Whether ``value == low`` / ``value == high`` is allowed.
    allow_none : bool
        Accept ``None`` (returned as is).
    what : str, optional
        How to describe what is allowed ("a positive number of seconds"); built from the bounds
        when omitted.

    Returns
    -------
    float or None

    Raises
    ------
    ParameterError
    """
    if value is None and allow_none:
        return None
    what = what or _describe("a number", low, high, low_inclusive, high_inclusive, allow_none)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise _fail(name, what, value)
    v = float(value)
    if low is not None and (v < low or (v == low and not low_inclusive)):
        raise _fail(name, what, value)
    if high is not None and (v > high or (v == high and not high_inclusive)):
        raise _fail(name, what, value)
    return v


def check_int(
    name: str, value, *, low: Optional[int] = None, allow_none: bool = False, what: Optional[str] = None
) -> Optional[int]:
    """An integer (``numbers.Integral``, not ``bool``) at least ``low``."""
    if value is None and allow_none:
        return None
    what = what or _describe("an integer", low, None, True, True, allow_none)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (low is not None and value < low):
        raise _fail(name, what, value)
    return int(value)


def check_choice(name: str, value, allowed: Iterable, *, allow_none: bool = False):
    """One of ``allowed`` (compared with ``==``)."""
    allowed = list(allowed)
    if (value is None and allow_none) or value in allowed:
        return value
    options = ", ".join(repr(a) for a in allowed)
    raise _fail(name, f"one of {options}" + (" or None" if allow_none else ""), value)


def _describe(kind: str, low, high, low_inclusive: bool, high_inclusive: bool, allow_none: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {high:g}")
    text = kind + (" " + " and ".join(parts) if parts else "")
    return ("None or " + text) if allow_none else text
