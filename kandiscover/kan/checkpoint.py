"""Checkpoints that load without executing code.

A checkpoint is one file written by ``torch.save`` holding only plain containers, strings and
tensors: ``{"format", "version", "config" (JSON text), "state" (tensors), "symbolic" (JSON text)}``.
Loading uses ``torch.load(weights_only=True)``, which refuses any pickled object.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Mapping, Optional

import torch

from .network import KANNetwork

log = logging.getLogger("kandiscover")

FORMAT, VERSION = "kandiscover.KAN", 1

__all__ = ["save", "load"]


def save(model: KANNetwork, path) -> None:
    """Write ``model`` to ``path`` (parent folders are created).

    Parameters
    ----------
    model : KANNetwork
        Symbolic edges are stored by the ``name`` of their function.
    path : str or Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = model.config()
    config["layer_grids"] = [layer.grid_size for layer in model.layers]
    config["nodes"] = [list(n) for n in model.nodes]
    symbolic = [[[o, i, f.name] for (o, i), f in sorted(layer.sym_funs.items())] for layer in model.layers]
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(config),
        "symbolic": json.dumps(symbolic),
        "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load(path, functions: Optional[Mapping] = None, cls: type = KANNetwork):
    """Read a checkpoint written by :func:`save`.

    Parameters
    ----------
    path : str or Path
    functions : mapping, optional
        Name → function object of symbolic edges (anything with ``name`` and ``safe``, such as
        :func:`kandiscover.default_library`). Needed only when the checkpoint has symbolic edges.
    cls : type
        Class to build: :class:`KANNetwork` or a subclass with the same constructor (the full
        :class:`kandiscover.KAN` loads as itself).

    Returns
    -------
    cls

    Raises
    ------
    ValueError
        The file is missing, truncated, tampered with, carries executable (pickled) objects, or
        has symbolic edges whose names ``functions`` lacks (or no ``functions`` at all).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        kind = "carries objects that would execute code" if "weights_only" in str(exc) else "is truncated or corrupt"
        raise ValueError(f"refusing to load {path}: the file {kind} ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a kandiscover KAN checkpoint (write one with KAN.save)")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path} has checkpoint version {payload.get('version')}; this kandiscover reads {VERSION}")
    try:
        cfg = json.loads(payload["config"])
        symbolic = json.loads(payload["symbolic"])
        model = _build(cls, cfg, payload["state"])
    except (KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is damaged or was edited: {exc}") from None
    if any(symbolic):
        _attach_symbolic(model, symbolic, functions, path)
    return model


def _build(cls: type, cfg: dict, state: dict) -> KANNetwork:
    """A ``cls`` of the stored configuration holding the stored tensors."""
    model = cls(
        cfg["width"],
        grid=cfg["grid"],
        k=cfg["k"],
        mult_arity=cfg["mult_arity"],
        seed=cfg["seed"],
        dtype=getattr(torch, cfg["dtype"]),
        grid_eps=cfg["grid_eps"],
        grid_range=tuple(cfg["grid_range"]),
        noise_scale=cfg["noise_scale"],
        base_scale=cfg["base_scale"],
    )
    for layer, g in zip(model.layers, cfg["layer_grids"]):
        nb = g + layer.k
        layer.knots = torch.zeros(layer.in_dim, g + 2 * layer.k + 1, dtype=model.dtype)
        layer.coef = torch.nn.Parameter(torch.zeros(layer.out_dim, layer.in_dim, nb, dtype=model.dtype))
    model.load_state_dict(state, strict=True)
    return model


def _attach_symbolic(model: KANNetwork, symbolic: list, functions: Optional[Mapping], path: Path) -> None:
    """Set the symbolic edges listed as ``[[out, in, name], …]`` per layer from ``functions``."""
    if functions is None:
        raise ValueError(
            f"{path} has symbolic edges: pass functions= (a mapping from names to primitives, e.g. "
            "kandiscover.default_library()), or load it with kandiscover.KAN.load"
        )
    for layer, entries in zip(model.layers, symbolic):
        for o, i, name in entries:
            if name not in functions:
                raise ValueError(
                    f"{path} uses symbolic function {name!r}, absent from the library; pass lib= to "
                    "KAN.load (functions= to kandiscover.kan.checkpoint.load) holding it"
                )
            layer.sym_funs[(o, i)] = functions[name]
