"""Turning user data into validated arrays, with errors that say what to do.

Every check names the column and the fix; :class:`DataError` is a ``ValueError`` so callers may
catch either. Used by :func:`kandiscover.discover`, :func:`kandiscover.verify`, the estimator and
the command line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .support.params import ParameterError

log = logging.getLogger("kandiscover")

__all__ = [
    "DataError",
    "Table",
    "error_bars",
    "kept_error_bars",
    "as_frame",
    "prepare",
    "read_csv",
    "split_rows",
    "with_target",
    "MIN_ROWS",
    "min_rows_for",
]

MIN_ROWS = 5
"""Fewest rows a table may have: ``d`` inputs need ``max(MIN_ROWS, d + 3)`` (:func:`min_rows_for`)."""


def min_rows_for(d: int) -> int:
    """Rows needed to discover a law of ``d`` inputs: ``max(MIN_ROWS, d + 3)`` — a linear law in
    all inputs has ``d + 1`` constants and leaves two rows to judge it by."""
    return max(MIN_ROWS, int(d) + 3)


class DataError(ValueError):
    """Bad input data; the message names the column or parameter and what to do."""


@dataclass
class Table:
    """Validated data.

    Attributes
    ----------
    X : ndarray, shape ``(n, d)``
        Inputs as float64.
    y : ndarray, shape ``(n,)``
        Target as float64.
    inputs : list of str
        Input column names, in the order of ``X``'s columns.
    target : str
    notes : list of str
        What was changed on the way (dropped rows or constant columns).
    """

    X: np.ndarray
    y: np.ndarray
    inputs: list
    target: str
    notes: list = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.X, columns=self.inputs)
        df[self.target] = self.y
        return df


def read_csv(path) -> pd.DataFrame:
    """Read a CSV file, turning every failure into a one-line :class:`DataError`."""
    import os

    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise DataError(f"{path} is empty: give a CSV file with a header row and at least {MIN_ROWS} data rows")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path} could not be read as CSV ({first}); check the delimiter and quoting") from None
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataError(f"{path} has duplicate column names {dup}; rename them so every column is unique")
    return df


def as_frame(data, target, names) -> pd.DataFrame:
    """``data`` as a DataFrame: a frame as it is, ``(X, y)`` with columns ``names`` (``x1..xd`` by
    default) and the target (``"y"`` when ``target`` is ``None``).

    Parameters
    ----------
    data : DataFrame or (X, y)
        ``X`` of shape ``(n, d)`` (or ``(n,)`` for one input), ``y`` of shape ``(n,)``.
    target : str or None
    names : sequence of str or None, length ``d``

    Returns
    -------
    DataFrame

    Raises
    ------
    DataError
        When ``names`` or ``y`` do not fit ``X``, an input is named like the target, or ``data``
        is neither a frame nor a pair of arrays.
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        X, y = (np.asarray(a) for a in data)
        if X.ndim == 1:
            X = X[:, None]
        if names is None:
            names = [f"x{k + 1}" for k in range(X.shape[1])]
        if len(names) != X.shape[1]:
            raise DataError(f"names has {len(names)} entries but X has {X.shape[1]} columns")
        if len(y) != len(X):
            raise DataError(f"X has {len(X)} rows but y has {len(y)}")
        if (target or "y") in list(names):
            raise DataError(f"an input is named like the target {(target or 'y')!r}; rename it or pass target=")
        df = pd.DataFrame(X, columns=list(names))
        df[target or "y"] = y
        return df
    raise DataError("data must be a pandas DataFrame or a tuple (X, y) of arrays (with names=[...])")


def with_target(df: pd.DataFrame, target, role: str = "naming the column to explain") -> tuple[pd.DataFrame, str]:
    """``df`` with its column names as unique strings, and its target column (``"y"`` if omitted).

    ``role`` finishes the message when no target is given and there is no column ``"y"``.

    Raises
    ------
    DataError
        On duplicate column names or a missing target column.
    """
    cols = [str(c) for c in df.columns]
    dups = sorted({c for c in cols if cols.count(c) > 1})
    if dups:
        raise DataError(f"duplicate column names {dups}: rename them so every column is unique")
    if target is None:
        if "y" not in cols:
            raise DataError(f"no target given: pass target='<column>' {role}")
        target = "y"
    target = str(target)
    if target not in cols:
        raise DataError(f"target column {target!r} not found; columns are {cols}")
    return df.rename(columns=str), target


def prepare(
    data,
    target: Optional[str] = None,
    inputs: Optional[Sequence[str]] = None,
    *,
    names: Optional[Sequence[str]] = None,
    drop_invalid: bool = False,
    min_rows: Optional[int] = None,
) -> Table:
    """Validate ``data`` and return a :class:`Table`.

    Parameters
    ----------
    data : DataFrame or (X, y)
    target : str
        Target column (``"y"`` for arrays when omitted).
    inputs : sequence of str, optional
        Input columns; all other columns by default.
    names : sequence of str, optional
        Input names when ``data`` is ``(X, y)``.
    drop_invalid : bool
        Drop rows with NaN/inf instead of raising.
    min_rows : int, optional
        Fewest usable rows; by default :func:`min_rows_for` the number of inputs.

    Raises
    ------
    DataError
        Missing target, duplicate or non-numeric columns, NaN/inf cells (unless ``drop_invalid``),
        too few rows, a constant target, or no usable input.
    """
    df, target = with_target(as_frame(data, target, names), target)
    cols = list(df.columns)
    if inputs is None:
        inputs = [c for c in df.columns if c != target]
    else:
        if isinstance(inputs, str):
            raise DataError(f"inputs must be a list of column names, not the string {inputs!r}")
        inputs = [str(c) for c in inputs]
        if len(set(inputs)) != len(inputs):
            raise DataError(f"inputs lists a column twice: {sorted({c for c in inputs if inputs.count(c) > 1})}")
        missing = [c for c in inputs if c not in df.columns]
        if missing:
            raise DataError(f"input columns {missing} not found; columns are {cols}")
        if target in inputs:
            raise DataError(f"the target {target!r} is also listed as an input; remove it from inputs")
    if not inputs:
        raise DataError("no input columns: the data needs at least one column besides the target")
    for c in inputs + [target]:
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            sample = df[c].dropna().astype(str).head(3).tolist()
            raise DataError(f"column {c!r} is not numeric (e.g. {sample}); convert or drop it")
        if pd.api.types.is_complex_dtype(df[c]):  # casting to float would drop the imaginary part
            sample = df[c].dropna().astype(str).head(3).tolist()
            raise DataError(f"column {c!r} holds complex numbers (e.g. {sample}); keep a real part or drop it")
    values = df[inputs + [target]].to_numpy(dtype=float)
    notes = []
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        where = sorted({(inputs + [target])[k] for k in np.flatnonzero(~np.isfinite(values[bad]).all(axis=0))})
        if not drop_invalid:
            raise DataError(
                f"{int(bad.sum())} rows hold NaN or inf (columns {where}; first rows {rows[:5].tolist()}); "
                "clean them or pass drop_invalid=True (--drop-invalid) to drop them"
            )
        values = values[~bad]
        notes.append(f"dropped {int(bad.sum())} rows with NaN or inf")
        log.info(notes[-1])
    if min_rows is None and len(values) < min_rows_for(len(inputs)):
        d = len(inputs)
        raise DataError(
            f"only {len(values)} usable rows; {d} input{'' if d == 1 else 's'} need{'s' if d == 1 else ''} "
            f"at least {min_rows_for(d)} rows (max({MIN_ROWS}, d + 3) for d inputs)"
        )
    if min_rows is not None and len(values) < min_rows:
        raise DataError(f"only {len(values)} usable rows; at least {min_rows} are needed")
    X, y = values[:, :-1], values[:, -1]
    # min == max rather than np.ptp: the range of finite values may overflow (1e308 - -1e308)
    if y.min() == y.max():
        raise DataError(f"target {target!r} is constant ({y[0]:g}); there is nothing to explain")
    const = [c for k, c in enumerate(inputs) if X[:, k].min() == X[:, k].max()]
    if const:
        keep = [k for k, c in enumerate(inputs) if c not in const]
        if not keep:
            raise DataError(f"every input column is constant ({const}); nothing can explain {target!r}")
        X = X[:, keep]
        inputs = [inputs[k] for k in keep]
        notes.append(f"dropped constant columns {const}")
        log.info(notes[-1])
    return Table(X, y, list(inputs), target, notes)


def split_rows(n: int, seed: int, fractions=(0.6, 0.2, 0.2)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train / validation / test row indices (each at least one row)."""
    order = np.random.default_rng(seed).permutation(n)
    n_tr = max(1, int(round(fractions[0] * n)))
    n_va = max(1, int(round(fractions[1] * n)))
    return np.sort(order[:n_tr]), np.sort(order[n_tr : n_tr + n_va]), np.sort(order[n_tr + n_va :])


def error_bars(sigma, weights, data, target, inputs, names) -> tuple:
    """``(data, sigma, known)``: the data without a ``sigma`` or ``weights`` column, the standard
    deviations per row of ``data`` (``1/√w`` for weights), and whether they are absolute."""
    if sigma is not None and weights is not None:
        raise ParameterError("give sigma (standard deviations) or weights (1/sigma**2), not both")
    given, what = (sigma, "sigma") if sigma is not None else (weights, "weights")
    if given is None:
        return data, None, True
    if isinstance(given, str):
        if not isinstance(data, pd.DataFrame) or given not in data.columns:
            columns = list(data.columns) if isinstance(data, pd.DataFrame) else []
            raise DataError(f"{what} column {given!r} not found; columns are {columns}")
        if given == target or (inputs is not None and given in inputs):
            raise DataError(f"{what} names the column {given!r}, which is the target or an input")
        values = pd.to_numeric(data[given], errors="coerce").to_numpy(dtype=float)
        data = data.drop(columns=[given])
    else:
        n = len(data) if isinstance(data, pd.DataFrame) else len(as_frame(data, target, names))
        values = np.asarray(given, dtype=float)
        values = np.full(n, float(values)) if values.ndim == 0 else values
        if values.shape != (n,):
            raise DataError(f"{what} has {values.size} values but the data has {n} rows; give one per row")
    with np.errstate(divide="ignore", invalid="ignore"):
        return data, (values if what == "sigma" else 1.0 / np.sqrt(values)), what == "sigma"


def kept_error_bars(bars: np.ndarray, data, table: Table, inputs, names) -> np.ndarray:
    """The error bars of the rows ``prepare`` kept (it drops those with NaN or inf when asked to):
    checked to be positive and finite, a :class:`DataError` naming the first bad rows otherwise."""
    frame = as_frame(data, table.target, names)
    used = list(inputs) if inputs is not None else [c for c in frame.columns if str(c) != table.target]
    cells = frame[used + [table.target]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = np.flatnonzero(np.isfinite(cells).all(axis=1))
    bad = ~(np.isfinite(bars[rows]) & (bars[rows] > 0))
    if bad.any():
        raise DataError(
            f"sigma or weights hold {int(bad.sum())} values that are not positive finite numbers "
            f"(first rows {rows[bad][:5].tolist()}); give standard deviations > 0"
        )
    return bars[rows]
