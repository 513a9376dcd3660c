"""Problem packs: read-only collections of :class:`Problem`, loaded from the data files shipped in the package.

``load("feynman")`` reads ``feynman.csv`` (:func:`kandiscover.problems.datafiles.data_dir`) (generated from the AI
Feynman tables by
``problems/feynman/generate.py``), ``load("special")`` reads ``special.json``, and
``load("zoo")`` reads ``zoo.csv`` (generated from the classic symbolic-regression table by
``problems/zoo/generate.py``, see :mod:`kandiscover.problems.zoo`), and ``load("knots")`` defers to
``kandiscover.problems.knots.load_pack()``.
"""

from __future__ import annotations

import csv
import difflib
import functools
import importlib
import importlib.util
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special as _sp

from . import zoo
from .datafiles import data_dir, data_file
from .problem import Problem

__all__ = ["Pack", "load", "available", "data_dir"]

_KNOTS_MODULE = "kandiscover.problems.knots"
_BUILTIN = ("feynman", "special", "zoo")


class Pack(Mapping):
    """Read-only mapping ``problem name -> Problem``, in the order of the pack's data file."""

    def __init__(self, name: str, problems):
        self._name = str(name)
        items = {}
        for p in problems:
            if not isinstance(p, Problem):
                raise TypeError(f"pack {name!r}: expected Problem objects, got {type(p).__name__}")
            if p.name in items:
                raise ValueError(f"pack {name!r}: duplicate problem name {p.name!r}")
            items[p.name] = p
        self._problems = items

    @property
    def name(self) -> str:
        return self._name

    @property
    def names(self) -> tuple:
        """Problem names, in pack order."""
        return tuple(self._problems)

    def __getitem__(self, key) -> Problem:
        try:
            return self._problems[key]
        except (KeyError, TypeError):
            pass
        close = difflib.get_close_matches(str(key), self.names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(
            f"no problem {key!r} in pack {self._name!r}.{hint} Available ({len(self)}): {', '.join(self.names)}"
        ) from None

    def __iter__(self):
        return iter(self._problems)

    def __len__(self) -> int:
        return len(self._problems)

    def __repr__(self):
        return f"Pack({self._name!r}, {len(self)} problems)"

    def srbench(self) -> "Pack":
        """The sub-pack of SRBench's problems (116 for ``feynman``; empty for the other packs)."""
        return Pack(self._name, [p for p in self.values() if p.srbench])

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: target, variables, ranges, formula, source, srbench, plus ``meta``."""
        rows = []
        for p in self.values():
            row = {
                "name": p.name,
                "target": p.target,
                "n_vars": p.n_vars,
                "variables": " ".join(p.variables),
                "ranges": " ".join(f"[{lo:g}, {hi:g}]" for lo, hi in p.ranges),
                "formula": None if p.formula is None else str(p.formula),
                "source": p.source,
                "srbench": p.srbench,
            }
            row.update({k: v for k, v in p.meta.items() if k not in row})
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")


# --------------------------------------------------------------------------------------------- feynman


def _load_feynman() -> Pack:
    from kandiscover.symbolic.parse import parse_formula

    path = data_file("feynman")
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    problems = []
    for r in records:
        names = r["variables"].split()
        lows, highs = r["lows"].split(), r["highs"].split()
        if not (len(names) == len(lows) == len(highs) == int(r["n_vars"])):
            raise ValueError(
                f"{path}: row {r['id']!r} has inconsistent variables/lows/highs; "
                "regenerate it with problems/feynman/generate.py"
            )
        formula = parse_formula(r["formula"], variables=names)
        meta = {"number": int(r["number"]), "formula_text": r["formula"]}
        if r["source"] == "bonus":
            meta.update(
                name=r["name"],
                eqn_no=r["eqn_no"],
                reference=f"AI Feynman bonus {r['number']}: {r['name']}, eqn. {r['eqn_no']}",
            )
        else:
            meta["reference"] = f"Feynman Lectures on Physics, eqn. {r['id']}"
        problems.append(
            Problem(
                name=r["id"],
                pack="feynman",
                target=r["output"],
                variables=tuple(names),
                ranges=tuple(zip(map(float, lows), map(float, highs))),
                formula=formula,
                source=r["source"],
                srbench=r["srbench"] == "True",
                meta=meta,
                units=dict(pair.split("=", 1) for pair in r["units"].split(";")),
            )
        )
    return Pack("feynman", problems)


# --------------------------------------------------------------------------------------------- special
# Whitelisted scipy.special wrappers named by special.json's "function". Module-level functions (and
# functools.partial of them) so that problems pickle for parallel suite runs.


def _ellipj_sn(u, m):
    return _sp.ellipj(u, m)[0]


def _lpmv(v, x, *, m):
    return _sp.lpmv(m, v, x)


def _sph_harm_real(theta, phi, *, m, n):
    """Re Y_n^m(theta, phi), theta the polar angle, phi the azimuth (scipy >= 1.15 convention)."""
    if hasattr(_sp, "sph_harm_y"):
        return np.real(_sp.sph_harm_y(n, m, theta, phi))
    return np.real(_sp.sph_harm(m, n, phi, theta))  # scipy < 1.15: (m, n, azimuth, polar)


_SPECIAL_FUNCS = {
    "ellipj_sn": _ellipj_sn,
    "ellipkinc": _sp.ellipkinc,
    "ellipeinc": _sp.ellipeinc,
    "jv": _sp.jv,
    "yv": _sp.yv,
    "kv": _sp.kv,
    "iv": _sp.iv,
    "lpmv": _lpmv,
    "sph_harm_real": _sph_harm_real,
}


def _load_special() -> Pack:
    path = data_file("special")
    spec = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for entry in spec["problems"]:
        key = entry["function"]
        if key not in _SPECIAL_FUNCS:
            raise ValueError(
                f"{path}: {entry['name']!r} names unknown function {key!r}; known: {', '.join(sorted(_SPECIAL_FUNCS))}"
            )
        params = dict(entry.get("params") or {})
        func = functools.partial(_SPECIAL_FUNCS[key], **params) if params else _SPECIAL_FUNCS[key]
        variables = tuple(v[0] for v in entry["variables"])
        ranges = tuple((float(v[1]), float(v[2])) for v in entry["variables"])
        meta = {
            "scipy": entry["scipy"],
            "description": entry["description"],
            "kan_paper_rmse": entry.get("kan_paper_rmse"),
            "range_note": entry.get("range_note", ""),
        }
        problems.append(
            Problem(
                name=entry["name"],
                pack="special",
                target=entry["target"],
                variables=variables,
                ranges=ranges,
                formula=None,
                source=entry["scipy"],
                srbench=False,
                func=func,
                meta=meta,
            )
        )
    return Pack("special", problems)


# ----------------------------------------------------------------------------------------------- knots


def _knots_installed() -> bool:
    try:
        return importlib.util.find_spec(_KNOTS_MODULE) is not None
    except ImportError:
        return False


def _load_knots() -> Pack:
    try:
        module = importlib.import_module(_KNOTS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == _KNOTS_MODULE:
            raise ValueError(
                "the knots data is not available: module kandiscover.problems.knots is missing from this installation"
            ) from None
        raise ValueError(
            f"the knots data is not available: {exc} (install the extra: pip install 'kandiscover[knots]')"
        ) from exc
    pack = module.load_pack()
    if isinstance(pack, Pack):
        return pack
    problems = pack.values() if isinstance(pack, Mapping) else pack
    return Pack("knots", problems)


def _load_zoo() -> Pack:
    return Pack("zoo", zoo.load_problems())


_LOADERS = {"feynman": _load_feynman, "special": _load_special, "zoo": _load_zoo, "knots": _load_knots}


def available() -> list:
    """Names of the packs that :func:`load` can load here (``knots`` only if its module is present)."""
    return [*_BUILTIN, *(["knots"] if _knots_installed() else [])]


def load(pack: str) -> Pack:
    """Load a problem pack by name: ``"feynman"`` (120 equations), ``"special"`` (15), ``"zoo"`` (89),
    ``"knots"``.

    Raises:
        ValueError: unknown pack name (the message lists the known ones), or knots data unavailable.
    """
    if not isinstance(pack, str):
        raise ValueError(f"pack must be a name (str), one of {sorted(_LOADERS)}; got {type(pack).__name__}")
    key = pack.strip().lower()
    if key not in _LOADERS:
        raise ValueError(
            f"unknown pack {pack!r}; known packs: {', '.join(_LOADERS)} (available here: {', '.join(available())})"
        )
    return _LOADERS[key]()
