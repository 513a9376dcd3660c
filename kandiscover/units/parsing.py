"""Units of columns, parsed by pint into dimension vectors.

A unit is a string pint understands (``"kg"``, ``"m/s"``, ``"J/(mol*K)"``; ``""`` or ``"1"`` for a
dimensionless column), a ``pint.Unit`` or a ``pint.Quantity`` (its unit). Only the dimension
matters here: constants absorb scale factors (``km`` and ``m`` are both a length).
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Mapping, Optional, Sequence

__all__ = ["UnitError", "Dimension", "parse_unit", "parse_units", "quantity", "units_from_headers", "format_dimension"]

Dimension = dict
"""A dimension: ``{base dimension: exponent}`` with pint's names (``"[length]"``, ``"[mass]"``…) and
:class:`fractions.Fraction` exponents, zeros left out; ``{}`` is dimensionless."""

_HEADER = re.compile(r"^\s*(?P<name>.*?)\s*\[(?P<unit>[^\[\]]*)\]\s*$")
_SYMBOL = {
    "[mass]": "kg",
    "[length]": "m",
    "[time]": "s",
    "[temperature]": "K",
    "[current]": "A",
    "[substance]": "mol",
    "[luminosity]": "cd",
}


class UnitError(ValueError):
    """A unit that cannot be used: unparseable, missing, or inconsistent with the others."""


@functools.lru_cache(maxsize=1)
def _registry():
    try:
        import pint
    except ImportError as exc:  # pint is a dependency; say so if an environment lacks it
        raise UnitError("units need the pint package: pip install pint") from exc
    return pint.UnitRegistry()


def parse_unit(column: str, unit) -> Dimension:
    """The dimension of ``unit``, the unit of ``column`` (named in the error).

    Raises
    ------
    UnitError
        When pint cannot parse ``unit``, naming the column and the text.
    """
    if hasattr(unit, "dimensionality"):  # a pint Unit or Quantity
        dims = unit.dimensionality
    else:
        text = "" if unit is None else str(unit).strip()
        if text in ("", "1", "-"):
            return {}
        try:
            dims = _registry().parse_units(text).dimensionality
        except Exception as exc:  # noqa: BLE001 - pint raises several kinds; all mean "not a unit"
            raise UnitError(
                f"column {column!r}: pint cannot read the unit {text!r} ({type(exc).__name__}); give a unit such "
                "as 'm/s', 'kg*m**2/s**2' or 'J', or '' for a dimensionless column"
            ) from None
    return {str(k): Fraction(v).limit_denominator(1000) for k, v in dict(dims).items() if v}


def quantity(name: str, value) -> Optional[tuple[float, str]]:
    """``(magnitude, unit text)`` when ``value`` is a quantity with a number (``"9.81 m/s**2"``, a
    ``pint.Quantity``), else None (a bare unit such as ``"m/s"``).

    Raises
    ------
    UnitError
        When it starts with a number pint cannot read with its unit, naming ``name``.
    """
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        return float(value.magnitude), str(value.units)
    text = str(value).strip()
    if not text or not (text[0].isdigit() or text[0] in "+-."):
        return None
    try:
        q = _registry().Quantity(text)
    except Exception as exc:  # noqa: BLE001 - pint raises several kinds
        raise UnitError(
            f"constant {name!r}: pint cannot read {text!r} ({type(exc).__name__}); write e.g. '9.81 m/s**2'"
        ) from None
    return float(q.magnitude), format(q.units, "~")


def parse_units(units: Mapping, columns: Sequence[str]) -> dict[str, Dimension]:
    """The dimension of every name of ``columns`` (inputs and target) from ``units``.

    Raises
    ------
    UnitError
        A column of ``columns`` without a unit while others have one, a unit for a name that is not
        a column, or a unit pint cannot read; each names the column and what to do.
    """
    if not isinstance(units, Mapping):
        raise UnitError(
            f"units must be a mapping column -> unit string, e.g. {{'v': 'm/s'}}; got {type(units).__name__}"
        )
    unknown = [k for k in units if k not in columns]
    if unknown:
        raise UnitError(f"units given for {unknown}, which are not columns of the data ({list(columns)})")
    missing = [c for c in columns if c not in units]
    if missing:
        raise UnitError(
            f"column {missing[0]!r} has no unit while others have one: give every input and the target a unit "
            f"('' for dimensionless); missing: {missing}"
        )
    return {c: parse_unit(c, units[c]) for c in columns}


def units_from_headers(columns: Sequence[str]) -> tuple[dict[str, str], Optional[dict[str, str]]]:
    """Names and units read from headers such as ``"v [m/s]"``.

    Returns
    -------
    rename : dict
        Header -> bare name, for every header with a bracketed unit.
    units : dict or None
        Bare name -> unit text, or None when no header carries a unit.
    """
    rename, units = {}, {}
    for col in columns:
        m = _HEADER.match(str(col))
        if m and m.group("name"):
            rename[col] = m.group("name")
            units[m.group("name")] = m.group("unit")
    return rename, (units or None)


def format_dimension(dim: Dimension) -> str:
    """A readable SI form of a dimension: ``kg·m²/s²`` style, ``1`` when dimensionless."""
    if not dim:
        return "1"

    def part(k, e):
        sym = _SYMBOL.get(k, k.strip("[]"))
        return sym if e == 1 else f"{sym}^{e}"

    order = sorted(dim, key=lambda k: list(_SYMBOL).index(k) if k in _SYMBOL else 99)
    num = [part(k, dim[k]) for k in order if dim[k] > 0]
    den = [part(k, -dim[k]) for k in order if dim[k] < 0]
    text = "·".join(num) or "1"
    return text + ("/" + "·".join(den) if len(den) == 1 else f"/({'·'.join(den)})" if den else "")
