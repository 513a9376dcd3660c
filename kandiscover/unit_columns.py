"""Units as the user gives them to :func:`kandiscover.discover`: a mapping, or the column headers.

``units={"m": "kg", "v": "m/s", "E": "J"}`` (pint strings, ``pint.Unit`` or ``pint.Quantity``
values), or headers such as ``"v [m/s]"``, which become the column ``v`` with unit ``m/s``.
"""

from __future__ import annotations

from typing import Mapping, Optional

import pandas as pd

from .data import Table
from .units import UnitError, parse_units, units_from_headers

__all__ = ["column_units", "table_dimensions"]


def column_units(data, target: Optional[str], units) -> tuple[object, Optional[str], Optional[dict]]:
    """``(data, target, units)`` with bracketed units moved from the headers into ``units``.

    Headers are read only when ``units`` is None and ``data`` is a DataFrame; a target given with
    its bracket (``"E [J]"``) or without (``"E"``) is found either way.
    """
    if units is not None:
        if not isinstance(units, Mapping):
            raise UnitError(f"units must be a mapping column -> unit, e.g. {{'v': 'm/s'}}; got {type(units).__name__}")
        return data, target, dict(units)
    if not isinstance(data, pd.DataFrame):
        return data, target, None
    rename, found = units_from_headers(list(data.columns))
    if not found:
        return data, target, None
    target = rename.get(target, target) if target is not None else None
    return data.rename(columns=rename), target, found


def table_dimensions(table: Table, units: Optional[dict], columns) -> Optional[dict]:
    """``name -> Dimension`` for the table's inputs and target, or None without units.

    ``units`` may also name columns of the data that the table does not use (left out by
    ``inputs=`` or dropped as constant); a name that is no column at all is an error.
    """
    if units is None:
        return None
    unknown = [k for k in units if k not in columns]
    if unknown:
        raise UnitError(f"units given for {unknown}, which are not columns of the data ({list(columns)})")
    used = [*table.inputs, table.target]
    return parse_units({k: v for k, v in units.items() if k in used}, used)
