"""Knot invariants: predict the signature of a knot from its hyperbolic invariants.

The real dataset of the DeepMind 2021 knot-theory experiment as re-run in the KAN
paper (section 4.3): one row per hyperbolic knot of SnapPy's Hoste-Thistlethwaite
census (knots with at most 14 crossings), computed by ``problems/knots/generate.py``
and shipped in the package data as ``knots.csv.gz``.  See ``problems/knots/README.md``
for the columns and conventions.  Reading the file needs only pandas (no SnapPy).

    >>> from kandiscover.problems import knots
    >>> df = knots.load_frame()                     # every column of the file
    >>> p = knots.load_pack()["signature"]
    >>> data = p.sample(n=500, seed=1)              # p.variables columns, then "signature"
"""

from __future__ import annotations

import functools
import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from .datafiles import data_file

__all__ = ["DATA_FILE", "COLUMNS", "FEATURES", "TARGET", "KnotProblem", "features", "load_frame", "load_pack"]

#: The shipped data file.
DATA_FILE = data_file("knots", check=False)

#: Inputs of the "signature" problem: the continuous hyperbolic invariants of the DeepMind
#: study that need no Sage.  Left out: ``injectivity_radius`` (here exactly
#: ``short_geodesic_real / 2``, a duplicate), ``slope`` (a function of the translations: it
#: is what the model should find), the torsion degrees (not computed, need Sage), and the
#: discrete/diagrammatic columns.
FEATURES = (
    "volume",
    "chern_simons",
    "cusp_volume",
    "meridional_translation_real",
    "meridional_translation_imag",
    "longitudinal_translation",
    "short_geodesic_real",
    "short_geodesic_imag",
)

#: Columns of the data file, in order (see problems/knots/README.md).
COLUMNS = (
    "census_index",
    "name",
    "crossing_number",
    "alternating",
    *FEATURES,
    "injectivity_radius",
    "symmetry_group_order",
    "symmetry_group",
    "amphicheiral",
    "slope",
    "determinant",
    "signature",
)

TARGET = "signature"

SOURCE = (
    "SnapPy HTLinkExteriors(num_cusps=1) census (hyperbolic knots with <= 14 crossings); "
    "signature from the Seifert matrix (KnotInfo convention); problems/knots/generate.py"
)


def features() -> list:
    """Names of the invariant columns used as inputs of the ``signature`` problem."""
    return list(FEATURES)


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    df = pd.read_csv(path, compression="gzip", keep_default_na=True, dtype={"name": str, "symmetry_group": str})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; regenerate it with problems/knots/generate.py")
    return df


def load_frame(path=None) -> pd.DataFrame:
    """The knot table as a DataFrame (a fresh copy; one row per knot, columns :data:`COLUMNS`).

    Raises:
        ValueError: the data file does not exist (it ships in the package data).
    """
    path = Path(DATA_FILE if path is None else path)
    if not path.is_file():
        raise ValueError(
            f"knot data file {path} not found; it ships in the package data of "
            "kandiscover (reinstall the package, or regenerate it with problems/knots/generate.py)"
        )
    st = path.stat()
    return _read(str(path), st.st_mtime_ns, st.st_size).copy()


def _no_closed_form(*columns):
    raise NotImplementedError(
        "the knot signature has no known closed form in these invariants; use KnotProblem.sample() to get data"
    )


try:  # be a real Problem when the problems layer is there, so that Pack accepts us
    from .problem import Problem as _Base
except Exception:  # noqa: BLE001 - stand alone otherwise
    _Base = object


class KnotProblem(_Base):
    """Data-only problem: the rows of the knot table (attributes as :class:`Problem`).

    ``variables`` are :data:`FEATURES`, ``target`` is ``"signature"``, ``formula`` is ``None``,
    ``ranges`` are the min/max of each feature over the usable rows.  :meth:`sample` draws rows
    of the real data (it does not sample the ranges).
    """

    def __init__(
        self,
        name="signature",
        pack="knots",
        target=TARGET,
        variables=FEATURES,
        ranges=None,
        formula=None,
        source=SOURCE,
        srbench=False,
        func=_no_closed_form,
        meta=None,
        path=None,
    ):
        meta = dict(meta or {})
        meta.setdefault("data_file", str(Path(DATA_FILE if path is None else path)))
        if ranges is None:
            df = self._usable(meta["data_file"], tuple(variables), target)
            ranges = tuple((float(df[v].min()), float(df[v].max())) for v in variables)
            meta.setdefault("n_rows", len(df))
        kwargs = dict(
            name=name,
            pack=pack,
            target=target,
            variables=tuple(variables),
            ranges=tuple(ranges),
            formula=formula,
            source=source,
            srbench=srbench,
            func=func,
            meta=meta,
        )
        if _Base is object:
            for k, v in kwargs.items():
                setattr(self, k, v)
        else:
            super().__init__(**kwargs)

    @staticmethod
    def _usable(path, variables, target) -> pd.DataFrame:
        """Rows whose inputs and target are all finite."""
        df = load_frame(path)
        cols = [*variables, target]
        ok = np.isfinite(df[cols].to_numpy(dtype=float)).all(axis=1)
        return df.loc[ok, cols].reset_index(drop=True)

    if _Base is object:

        def __repr__(self):
            return f"KnotProblem({self.pack}/{self.name}: {self.target} ~ {len(self.variables)} invariants)"

        @property
        def n_vars(self) -> int:
            return len(self.variables)

    def sample(self, n=None, seed=0, noise: float = 0.0) -> pd.DataFrame:
        """``n`` distinct random rows of the data (all usable rows, shuffled, when ``n`` is None).

        Rows come from ``numpy.random.default_rng(seed)`` (same seed, same rows); ``noise`` adds
        Gaussian noise of std ``noise * RMS(y)`` to the target, drawn after the rows.  Only rows
        with finite inputs and target are used.  Returns the variables' columns then the target's.

        Raises:
            ValueError: ``n`` is not an integer in ``[1, number of rows]`` or ``noise < 0``.
        """
        df = self._usable(self.meta["data_file"], tuple(self.variables), self.target)
        if n is None:
            n = len(df)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= len(df):
            raise ValueError(f"n must be an integer in [1, {len(df)}] (rows of the knot data), got {n!r}")
        if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0 (fraction of RMS(y)), got {noise!r}")
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(df), size=int(n), replace=False)
        out = df.iloc[idx].reset_index(drop=True)
        out[self.target] = out[self.target].astype(float)
        if noise > 0:
            y = out[self.target].to_numpy()
            out[self.target] = y + rng.normal(0.0, noise * float(np.sqrt(np.mean(y**2))), size=len(y))
        return out[[*self.variables, self.target]]


def load_pack(path=None) -> dict:
    """``{"signature": KnotProblem}``: the single, data-only problem of the ``knots`` pack."""
    meta = {
        "reference": "Davies et al., Nature 600 (2021) 70-74; Liu et al., KAN (2024), section 4.3",
        "kan_paper_finding": "signature ~ slope / 2, slope = Re(longitudinal / meridional translation)",
        "left_out": "adjoint torsion degree and torsion degree (need Sage)",
    }
    return {"signature": KnotProblem(meta=meta, path=path)}
