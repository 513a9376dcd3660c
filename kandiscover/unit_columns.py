"""Units as the user gives them to :func:`kandiscover.discover`: a mapping, or the column headers.

``units={"m": "kg", "v": "m/s", "E": "J"}`` (pint strings, ``pint.Unit`` or ``pint.Quantity``
values), or headers such as ``"v [m/s]"``, which become the column ``v`` with unit ``m/s``.

A name of ``units`` that is not a column and whose value has a magnitude (``"g": "9.81 m/s**2"``,
``"R": "8.314 J/(mol*K)"``) is a *dimensional constant*: a law such as the pendulum's
``T = 2π·sqrt(L/g)`` needs ``g`` to be dimensionally possible at all. It joins the search as an
input of that one value (:func:`with_constants`); the law keeps its symbol (noted in the
result), and the returned formula has its value put in (:func:`without_constants`), so that it
predicts from the data's own columns.
"""

from __future__ import annotations

from typing import Mapping, Optional

import dataclasses

import numpy as np
import pandas as pd
import sympy

from .data import Table
from .units import UnitError, parse_units, units_from_headers
from .units.parsing import quantity

__all__ = ["column_units", "table_dimensions", "split_constants", "with_constants", "without_constants"]


def split_constants(units: Optional[dict], columns) -> tuple[Optional[dict], dict]:
    """``(units of columns, {constant name: (value, unit text)})`` from a ``units`` mapping."""
    if units is None:
        return None, {}
    consts = {}
    for name, text in units.items():
        if name in columns:
            continue
        q = quantity(name, text)
        if q is not None:
            consts[name] = q
    return {k: v for k, v in units.items() if k not in consts}, consts


def with_constants(table: Table, consts: dict) -> Table:
    """The table with one input column per dimensional constant (its value on every row)."""
    if not consts:
        return table
    clash = [c for c in consts if c == table.target or c in table.inputs]
    if clash:
        raise UnitError(f"dimensional constant {clash[0]!r} is also a column of the data; rename one of them")
    extra = np.column_stack([np.full(len(table.y), v) for v, _ in consts.values()])
    return dataclasses.replace(
        table, X=np.column_stack([table.X, extra]), inputs=[*table.inputs, *consts], notes=table.notes
    )


def without_constants(result, consts: dict):
    """``result`` (a Discovery) with the constants' values put into its formulas; the law in the
    constants' symbols is kept in its notes."""
    if not consts:
        return result
    values = {sympy.Symbol(k): sympy.Float(v) for k, (v, _) in consts.items()}
    put = lambda e: sympy.sympify(e).xreplace(values)
    law = ", ".join(f"{k} = {v:g} {u}" for k, (v, u) in consts.items())
    notes = [*result.notes, f"units: the law in the dimensional constants: {result.target} = {result.formula} ({law})"]
    pareto = result.pareto.copy()
    pareto["formula"] = pareto["formula"].map(put)
    inputs = [n for n in result.inputs if n not in consts]
    return dataclasses.replace(result, formula=put(result.formula), pareto=pareto, inputs=inputs, notes=notes)


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


def table_dimensions(table: Table, units: Optional[dict], columns, consts: Optional[dict] = None) -> Optional[dict]:
    """``name -> Dimension`` for the table's inputs and target, or None without units.

    ``units`` may also name columns of the data that the table does not use (left out by
    ``inputs=`` or dropped as constant); a name that is no column at all is an error. ``consts``
    are the dimensional constants (:func:`split_constants`), inputs of the table by now.
    """
    if units is None:
        return None
    units = {**units, **{k: u for k, (_, u) in (consts or {}).items()}}
    columns = list(columns) + [n for n in table.inputs if n not in columns]
    unknown = [k for k in units if k not in columns]
    if unknown:
        raise UnitError(f"units given for {unknown}, which are not columns of the data ({list(columns)})")
    used = [*table.inputs, table.target]
    return parse_units({k: v for k, v in units.items() if k in used}, used)
