#!/usr/bin/env python3
"""Generate the real knot-invariant dataset (signature vs. hyperbolic invariants).

Reproduces the data behind the DeepMind 2021 knot-theory experiment (Davies et
al., Nature 600, "Advancing mathematics by guiding human intuition with AI")
that the KAN paper (Liu et al. 2024, section 4.3) re-ran: predict the knot
signature from hyperbolic invariants of the knot complement.

Every row is computed from an actual knot of SnapPy's offline Hoste-Thistlethwaite
census ``snappy.HTLinkExteriors(num_cusps=1)`` (all 59,937 prime knots with at
most 14 crossings).  Nothing is synthesised.  See README.md next to this file
for what each column means and the conventions used.

Usage (needs ``pip install snappy database-knotinfo numpy tqdm``; not the
project venv)::

    python problems/knots/generate.py --n 12000 --seed 0 \
        --out kandiscover/problems/data/knots.csv.gz --workers 1
    python problems/knots/generate.py --resume ...      # continue after a kill
    python problems/knots/generate.py --check-knotinfo  # sign-convention check

Rows are appended (flush + fsync per row) to ``<out>.part`` (plain CSV) while
running; failures go to ``<out>.failures``.  When ``n`` rows exist, the rows are
sorted by census index and written atomically (gzip, mtime 0) to ``--out``;
the work files are then removed unless ``--keep-work``.  ``--resume``
continues from the work files (or, if they are gone, from ``--out`` itself),
never computing or writing a knot twice.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import logging
import math
import multiprocessing as mp
import os
import random
import re
import sys
import time
from multiprocessing.connection import wait
from pathlib import Path

log = logging.getLogger("knots.generate")

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parents[1] / "kandiscover" / "problems" / "data" / "knots.csv.gz"

#: Output columns, in order.
COLUMNS = [
    "census_index",  # index in snappy.HTLinkExteriors(num_cusps=1)
    "name",  # census name, e.g. K12n123
    "crossing_number",  # minimal crossing number (from the HT name)
    "alternating",  # 1 for 'a' knots, 0 for 'n' knots
    "volume",
    "chern_simons",
    "cusp_volume",
    "meridional_translation_real",
    "meridional_translation_imag",
    "longitudinal_translation",
    "short_geodesic_real",
    "short_geodesic_imag",
    "injectivity_radius",
    "symmetry_group_order",
    "symmetry_group",
    "amphicheiral",
    "slope",
    "determinant",
    "signature",
]

GEOMETRIC = ("all tetrahedra positively oriented", "contains negatively oriented tetrahedra")
HT_NAME = re.compile(r"K(\d+)([an])(\d+)")


# --------------------------------------------------------------------------
# invariants (run inside worker processes; snappy is imported lazily)
# --------------------------------------------------------------------------


def seifert_signature(link) -> tuple[int, int]:
    """(signature, determinant) of a knot diagram from its Seifert matrix.

    ``spherogram.Link.seifert_matrix()`` works without Sage.  With spherogram's
    orientation convention the symmetrised form V + V^T of a *positive* knot is
    positive definite, whereas KnotInfo (and Rolfsen, Lickorish, ...) give
    positive knots NEGATIVE signature (right-handed trefoil: -2).  We therefore
    return ``-(n_+ - n_-)`` of V + V^T; ``--check-knotinfo`` verifies this against
    every KnotInfo knot with at most 12 crossings.
    """
    import numpy as np

    V = np.array(link.seifert_matrix(), dtype=float)
    if V.size == 0:
        return 0, 1
    S = V + V.T
    ev = np.linalg.eigvalsh(S)
    tol = 1e-7 * max(1.0, float(np.abs(ev).max()))
    if np.any(np.abs(ev) <= tol):
        raise ValueError("V + V^T is singular: not a knot Seifert matrix")
    # V - V^T must be unimodular (det 1) for a knot: sanity check.
    if abs(round(float(np.linalg.det(V - V.T)))) != 1:
        raise ValueError("det(V - V^T) != 1: not a knot Seifert matrix")
    raw = int((ev > 0).sum() - (ev < 0).sum())
    det = int(abs(round(float(np.linalg.det(S)))))
    return -raw, det


def _geometric(M, tries: int = 16):
    """Return a copy of M with a positively oriented solution if possible.

    Re-triangulating (``randomize``) keeps the peripheral curves.  Returns
    ``(manifold, solution_type)``; solution_type is not in GEOMETRIC when no
    hyperbolic structure was found (non-hyperbolic knots: torus/satellite).
    """
    st = M.solution_type()
    if st == GEOMETRIC[0]:
        return M, st
    best, best_st = M, st
    for _ in range(tries):
        N = M.copy()
        N.randomize()
        s = N.solution_type()
        if s == GEOMETRIC[0]:
            return N, s
        if s in GEOMETRIC and best_st not in GEOMETRIC:
            best, best_st = N, s
    return best, best_st


def invariants(M, link) -> dict:
    """All invariants of the hyperbolic knot complement ``M`` (one cusp).

    ``link`` is a planar diagram of the same knot, *with the same orientation of
    S^3* (for census manifolds ``M.link()``).  Raises ``NotHyperbolic`` for
    non-hyperbolic knots.
    """
    M, st = _geometric(M)
    if st not in GEOMETRIC:
        raise NotHyperbolic(st)
    row: dict = {}
    row["volume"] = float(M.volume())
    row["chern_simons"] = float(M.chern_simons())

    # Maximal cusp: push the (single) cusp neighbourhood to its reach.  The
    # SnapPea kernel crashes on a few triangulations (about 1 knot in 6000:
    # "remove_edge_of_order_one"); then use SnapPy's own (slower) maximal-cusp
    # code, cusp_translations(), which gives the same numbers.
    backup = M.copy()
    try:
        cn = M.cusp_neighborhood()
        cn.set_displacement(cn.reach(0), 0)
        row["cusp_volume"] = float(cn.volume(0))
        mu, lam = (complex(t) for t in cn.translations(0))
    except Exception:  # noqa: BLE001 - SnapPeaFatalError
        M = backup
        mu, lam = (complex(t) for t in M.cusp_translations()[0])
        row["cusp_volume"] = mu.imag * abs(lam) / 2
    # Normalise so that the longitude translation is real and positive (SnapPy
    # already does this; the rotation is a no-op up to rounding).
    if abs(lam) == 0 or abs(mu) == 0:
        raise ValueError("degenerate cusp translations")
    rot = abs(lam) / lam
    mu, lam = mu * rot, abs(lam)
    if mu.imag <= 0:  # orientation convention: Im(mu) * lam = 2 * cusp volume > 0
        raise ValueError(f"unexpected cusp orientation: mu={mu}")
    if not math.isclose(mu.imag * lam / 2, row["cusp_volume"], rel_tol=1e-6):
        raise ValueError("cusp volume != Im(mu) * lambda / 2")
    row["meridional_translation_real"] = mu.real
    row["meridional_translation_imag"] = mu.imag
    row["longitudinal_translation"] = lam
    row["slope"] = (lam / mu).real

    # Shortest geodesic among the dual curves of the triangulation.
    try:
        curves = M.dual_curves()
        lengths = [complex(c["complete_length"]) for c in curves]
        g = min(lengths, key=lambda z: z.real)
        row["short_geodesic_real"] = g.real
        row["short_geodesic_imag"] = g.imag
        row["injectivity_radius"] = g.real / 2
    except Exception:  # noqa: BLE001 - recorded as missing
        row["short_geodesic_real"] = row["short_geodesic_imag"] = math.nan
        row["injectivity_radius"] = math.nan

    try:
        G = M.symmetry_group()
        full = G.is_full_group()
        row["symmetry_group_order"] = int(G.order()) if full else math.nan
        row["symmetry_group"] = str(G) if full else ""
        row["amphicheiral"] = int(bool(G.is_amphicheiral())) if full else math.nan
    except Exception:  # noqa: BLE001
        row["symmetry_group_order"] = math.nan
        row["symmetry_group"] = ""
        row["amphicheiral"] = math.nan

    row["signature"], row["determinant"] = seifert_signature(link)
    return row


class NotHyperbolic(Exception):
    pass


_CENSUS = None


def _census():
    global _CENSUS
    if _CENSUS is None:
        import snappy

        _CENSUS = snappy.HTLinkExteriors(num_cusps=1)
    return _CENSUS


def compute_index(index: int) -> tuple[str, str, dict | str]:
    """(status, name, row-or-reason) for census knot number ``index``."""
    name = "?"
    try:
        M = _census()[index]
        name = M.name()
        link = M.link()  # the census diagram; same orientation as M (checked)
        row = invariants(M, link)
    except NotHyperbolic as e:
        return "skip", name, f"non-hyperbolic ({e})"
    except Exception as e:  # noqa: BLE001
        return "fail", name, f"{type(e).__name__}: {e}"[:300]
    m = HT_NAME.fullmatch(name)
    row["census_index"] = index
    row["name"] = name
    row["crossing_number"] = int(m.group(1)) if m else math.nan
    row["alternating"] = int(m.group(2) == "a") if m else math.nan
    return "ok", name, row


# --------------------------------------------------------------------------
# worker pool with per-task timeouts
# --------------------------------------------------------------------------


def _worker_main(conn, parent_end=None):
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if parent_end is not None:  # forked: drop our copy so a dead parent gives EOF
        parent_end.close()
    _census()  # load the census once, before the first (timed) task
    while True:
        try:
            index = conn.recv()
        except EOFError:
            return
        if index is None:
            return
        conn.send((index, *compute_index(index)))


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        forked = ctx.get_start_method() == "fork"
        self.proc = ctx.Process(target=_worker_main, args=(child, self.conn if forked else None), daemon=True)
        self.proc.start()
        child.close()
        self.task: int | None = None
        self.started = 0.0

    def submit(self, index: int) -> None:
        self.task, self.started = index, time.monotonic()
        self.conn.send(index)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


class Pool:
    """Processes computing census indices, each task with a wall-clock timeout."""

    def __init__(self, workers: int, timeout: float):
        methods = mp.get_all_start_methods()
        self.ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self.timeout = timeout
        self.workers = [_Worker(self.ctx) for _ in range(max(1, workers))]

    def idle(self):
        return [w for w in self.workers if w.task is None]

    def busy(self):
        return [w for w in self.workers if w.task is not None]

    def results(self):
        """Block until a result or a timeout; return [(index, status, name, payload)]."""
        busy = self.busy()
        if not busy:
            return []
        now = time.monotonic()
        deadline = min(w.started for w in busy) + self.timeout
        ready = wait([w.conn for w in busy], timeout=max(0.0, deadline - now))
        out = []
        for w in busy:
            if w.conn in ready:
                try:
                    out.append(w.conn.recv())
                except (EOFError, OSError):  # the worker died (e.g. segfault)
                    out.append((w.task, "fail", "?", "worker process died"))
                    self._replace(w)
                    continue
                w.task = None
            elif time.monotonic() - w.started > self.timeout:
                out.append((w.task, "fail", "?", f"timeout after {self.timeout:g} s"))
                self._replace(w)
        return out

    def _replace(self, w):
        w.kill()
        self.workers[self.workers.index(w)] = _Worker(self.ctx)

    def close(self):
        for w in self.workers:
            if w.task is None:
                w.stop()
            else:
                w.kill()


# --------------------------------------------------------------------------
# incremental, resumable output
# --------------------------------------------------------------------------


def _fmt(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.12g}"
    return str(v)


class AppendWriter:
    """Append CSV lines to a plain file with flush + fsync after each line."""

    def __init__(self, path: Path, header: list[str]):
        self.path = path
        new = not path.exists() or path.stat().st_size == 0
        self.fh = open(path, "a", newline="", encoding="utf-8")
        self.writer = csv.writer(self.fh, lineterminator="\n")
        if new:
            self.write(header)

    def write(self, values) -> None:
        self.writer.writerow([_fmt(v) for v in values])
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


def _repair_tail(path: Path) -> None:
    """Drop a partially written last line (the process was killed mid-write)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as fh:
            fh.truncate(cut)
        log.warning("dropped a partial last line of %s", path)


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _finalize(part: Path, out: Path) -> int:
    rows = _read_rows(part)
    seen, uniq = set(), []
    for r in rows:
        if r["name"] not in seen:
            seen.add(r["name"])
            uniq.append(r)
    uniq.sort(key=lambda r: int(r["census_index"]))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(uniq)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(buf.getvalue().encode("utf-8"))
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, out)
    return len(uniq)


def generate(args) -> int:
    from tqdm import tqdm

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    fails = out.with_name(out.name + ".failures")

    if not args.resume:
        for p in (part, fails):
            if p.exists():
                raise SystemExit(f"{p} exists: pass --resume to continue it, or delete it")
        if out.exists() and not args.overwrite:
            raise SystemExit(f"{out} exists: pass --resume or --overwrite")
    else:
        if not part.exists() and out.exists():
            # Resume from a finished file: unpack it into the work file.
            rows = _read_rows(out)
            wr = AppendWriter(part, COLUMNS)
            for r in rows:
                wr.write([r[c] for c in COLUMNS])
            wr.close()
            log.info("resuming from %s (%d rows)", out, len(rows))
        _repair_tail(part)
        _repair_tail(fails)

    done_rows = _read_rows(part)
    done = {int(r["census_index"]) for r in done_rows}
    failed = {int(r["census_index"]): r for r in _read_rows(fails)}
    n_ok = len(done)
    log.info("%d rows already done, %d failures/skips recorded", n_ok, len(failed))

    import snappy  # only for the census size and the version in the log

    total = len(snappy.HTLinkExteriors(num_cusps=1))
    log.info("snappy %s, census HTLinkExteriors(num_cusps=1) with %d knots", snappy.__version__, total)
    order = list(range(total))
    random.Random(args.seed).shuffle(order)
    todo = iter([i for i in order if i not in done and i not in failed])

    rows_w = AppendWriter(part, COLUMNS)
    fail_w = AppendWriter(fails, ["census_index", "name", "status", "reason"])
    pool = Pool(args.workers, args.timeout)
    counts = {"ok": 0, "skip": 0, "fail": 0}
    t0 = time.monotonic()
    bar = tqdm(total=args.n, initial=min(n_ok, args.n), unit="knot", file=sys.stderr, dynamic_ncols=True)
    exhausted = False
    try:
        while True:
            for w in pool.idle():
                if n_ok + len(pool.busy()) >= args.n or exhausted:
                    break
                nxt = next(todo, None)
                if nxt is None:
                    exhausted = True
                    break
                w.submit(nxt)
            if not pool.busy():
                break
            for index, status, name, payload in pool.results():
                counts[status] += 1
                if status == "ok":
                    rows_w.write([payload[c] for c in COLUMNS])
                    n_ok += 1
                    bar.update(1)
                else:
                    fail_w.write([index, name, status, payload])
                    log.debug("%s %s: %s", status, name, payload)
                bar.set_postfix(skip=counts["skip"], fail=counts["fail"], refresh=False)
    except KeyboardInterrupt:
        log.warning("interrupted: %d rows are safe in %s; rerun with --resume", n_ok, part)
        raise
    finally:
        bar.close()
        pool.close()
        rows_w.close()
        fail_w.close()

    dt = time.monotonic() - t0
    all_fail = _read_rows(fails)
    n_skip = sum(r["status"] == "skip" for r in all_fail)
    n_fail = sum(r["status"] == "fail" for r in all_fail)
    log.info(
        "this run: %d rows, %d non-hyperbolic skipped, %d failures in %.0f s (%.1f ms/attempt)",
        counts["ok"],
        counts["skip"],
        counts["fail"],
        dt,
        1000 * dt / max(1, sum(counts.values())),
    )
    log.info("in total: %d rows, %d non-hyperbolic skipped, %d failures", n_ok, n_skip, n_fail)
    for r in [r for r in all_fail if r["status"] == "fail"][:50]:
        log.info("failure: %s %s", r["name"], r["reason"])
    if n_ok < args.n and not exhausted:
        return 1
    n = _finalize(part, out)
    log.info("wrote %d rows to %s (%.2f MB)", n, out, out.stat().st_size / 1e6)
    if not args.keep_work:
        part.unlink()
        fails.unlink()
    return 0


# --------------------------------------------------------------------------
# KnotInfo cross-check
# --------------------------------------------------------------------------


def check_knotinfo(args) -> int:
    """Cross-check the signature convention (and geometry) against KnotInfo.

    A. Diagram level: for every KnotInfo knot with <= ``--check-max-crossings``
       crossings, our Seifert-matrix signature of KnotInfo's own PD diagram must
       equal KnotInfo's signature.  This pins the sign convention.
    B. Pipeline level: for a seeded sample of hyperbolic KnotInfo knots, take
       the census manifold ``K<dt_name>`` (KnotInfo's ``dt_name`` 10a_12 is the
       HT census name K10a12), confirm it is KnotInfo's knot (isometric to the
       exterior of KnotInfo's PD diagram) and find whether it is the same knot
       or its mirror (determinant of the cusp map of an isometry); then run the
       exact dataset pipeline (``compute_index``) and compare signature (mirror
       -> negated), volume, Chern-Simons and maximal cusp volume with KnotInfo.
    """
    import database_knotinfo
    import snappy
    import spherogram

    kl = [k for k in database_knotinfo.link_list()[1:] if k["pd_notation"]]
    maxc = args.check_max_crossings
    small = [k for k in kl if int(k["crossing_number"]) <= maxc]
    log.info(
        "KnotInfo %s: %d knots with pd notation, %d with <= %d crossings",
        database_knotinfo.version(),
        len(kl),
        len(small),
        maxc,
    )

    # --- A: diagram level -------------------------------------------------
    agree = 0
    bad = []
    for k in small:
        L = spherogram.Link(json.loads(k["pd_notation"]))
        s, det = seifert_signature(L)
        ki = int(k["signature"])
        ok = s == ki and det == int(k["determinant"])
        agree += ok
        if not ok:
            bad.append((k["name"], s, ki, det, k["determinant"]))
    log.info("A. diagram level: signature and determinant agree with KnotInfo for %d / %d knots", agree, len(small))
    for b in bad[:20]:
        log.info("   mismatch %s: ours sig %s KnotInfo %s; det %s vs %s", *b)
    pos = [k for k in small if k["positive"] == "Y"]
    pos_neg = sum(seifert_signature(spherogram.Link(json.loads(k["pd_notation"])))[0] < 0 for k in pos)
    log.info("   positive knots with negative signature: %d / %d", pos_neg, len(pos))

    # --- B: pipeline level on census manifolds ------------------------------
    census = _census()
    hyp = [k for k in small if k["volume"] not in ("", "0") and k["dt_name"]]
    rng = random.Random(args.seed)
    le10 = [k for k in hyp if int(k["crossing_number"]) <= 10]
    rest = [k for k in hyp if int(k["crossing_number"]) > 10]
    sample = le10 + rng.sample(rest, max(0, min(len(rest), args.check_n - len(le10))))
    log.info("B. pipeline level on %d hyperbolic KnotInfo knots (%d with <= 10 crossings)", len(sample), len(le10))
    stats = dict.fromkeys(["n", "sig", "vol", "cs", "cusp", "mirror", "amph", "unverified", "trans", "trans_n"], 0)
    mism, report = [], []
    name_to_index = _census_name_index(census, {"K" + k["dt_name"].replace("_", "") for k in sample})
    for k in sample:
        cname = "K" + k["dt_name"].replace("_", "")
        E = spherogram.Link(json.loads(k["pd_notation"])).exterior()
        M = snappy.Manifold(cname)
        try:
            isos = M.is_isometric_to(E, return_isometries=True)
        except Exception:  # noqa: BLE001
            isos = []
        if not isos:
            stats["unverified"] += 1
            log.info("   %s: could not verify %s is KnotInfo's knot; skipped", k["name"], cname)
            continue
        dets = {
            int(
                round(
                    float(
                        i.cusp_maps()[0][0, 0] * i.cusp_maps()[0][1, 1]
                        - i.cusp_maps()[0][0, 1] * i.cusp_maps()[0][1, 0]
                    )
                )
            )
            for i in isos
        }
        orient = 1 if 1 in dets else -1  # -1: the census manifold is the mirror image
        stats["amph"] += dets == {1, -1}
        stats["mirror"] += orient == -1
        status, name, row = compute_index(name_to_index[cname])
        if status != "ok":
            mism.append((k["name"], cname, status, row))
            continue
        stats["n"] += 1
        ki_sig = int(k["signature"])
        ok_sig = row["signature"] == orient * ki_sig
        stats["sig"] += ok_sig
        stats["vol"] += math.isclose(row["volume"], float(k["volume"]), abs_tol=2e-9 * max(1, float(k["volume"])))
        cs_ki = float(k["chern_simons_invariant"])
        d = (row["chern_simons"] - orient * cs_ki) % 0.5  # CS is defined mod 1/2 here
        stats["cs"] += min(d, 0.5 - d) < 1e-6
        try:
            cusp_ki = float(k["maximum_cusp_volume"])
            stats["cusp"] += math.isclose(row["cusp_volume"], cusp_ki, rel_tol=1e-6)
        except ValueError:
            pass
        # KnotInfo lists the maximal-cusp translations as "(re, im)" (the
        # longitude's imaginary part is 0), but with Re(mu) >= 0 always (it lists
        # |Re(mu)|), so compare up to the sign of Re(mu).
        try:
            re_ki, im_ki = _pair(k["meridian_translation"])
            lam_ki, lam_im = _pair(k["longitude_translation"])
            if abs(lam_im) > 1e-9:
                raise ValueError("KnotInfo longitude translation is not real")
            stats["trans_n"] += 1
            if (
                math.isclose(abs(row["meridional_translation_real"]), abs(re_ki), rel_tol=1e-5, abs_tol=1e-7)
                and math.isclose(row["meridional_translation_imag"], im_ki, rel_tol=1e-5)
                and math.isclose(row["longitudinal_translation"], lam_ki, rel_tol=1e-5)
            ):
                stats["trans"] += 1
        except ValueError:
            pass
        if not ok_sig:
            mism.append((k["name"], cname, row["signature"], orient, ki_sig))
        report.append(
            {
                "knotinfo_name": k["name"],
                "census_name": cname,
                "mirror": int(orient == -1),
                "knotinfo_signature": ki_sig,
                "signature": row["signature"],
                "knotinfo_volume": k["volume"],
                "volume": row["volume"],
                "knotinfo_chern_simons": k["chern_simons_invariant"],
                "chern_simons": row["chern_simons"],
            }
        )
    log.info(
        "   census name = 'K' + KnotInfo dt_name verified by isometry for %d / %d "
        "(%d census manifolds are the mirror of KnotInfo's diagram, %d amphicheiral)",
        len(sample) - stats["unverified"],
        len(sample),
        stats["mirror"],
        stats["amph"],
    )
    log.info("   pipeline signature agrees (after mirroring) for %d / %d", stats["sig"], stats["n"])
    log.info(
        "   volume agrees for %d / %d; Chern-Simons for %d / %d; maximal cusp volume for %d / %d",
        stats["vol"],
        stats["n"],
        stats["cs"],
        stats["n"],
        stats["cusp"],
        stats["n"],
    )
    if args.check_report:
        with open(args.check_report, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(report[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(report)
        log.info("   per-knot results written to %s", args.check_report)
    log.info(
        "   maximal-cusp translations (|Re mu|, Im mu, lambda; KnotInfo lists |Re mu|) agree for %d / %d",
        stats["trans"],
        stats["trans_n"],
    )
    for m in mism[:20]:
        log.info("   mismatch %s", m)

    # --- C: census diagram has the census manifold's orientation -------------
    rng = random.Random(args.seed + 1)
    idx = rng.sample(range(len(census)), args.check_orient)
    same = tested = 0
    for i in idx:
        M = census[i]
        E = M.link().exterior()
        if M.solution_type() not in GEOMETRIC or abs(M.chern_simons()) < 1e-6:
            continue
        Mc, _ = _geometric(M)
        Ec, st = _geometric(E)
        if st not in GEOMETRIC:
            continue
        tested += 1
        # CS changes sign under orientation reversal (mod 1/2).
        d = (float(Mc.chern_simons()) - float(Ec.chern_simons())) % 0.5
        same += min(d, 0.5 - d) < 1e-6
    log.info(
        "C. census M.link() has the orientation of M (equal Chern-Simons) for %d / %d chiral census knots", same, tested
    )
    ok = agree == len(small) and stats["sig"] == stats["n"] and same == tested
    log.info("RESULT: %s", "all agree" if ok else "MISMATCHES (see above)")
    return 0 if ok else 1


def _pair(text: str) -> tuple[float, float]:
    """KnotInfo's "(re, im)" notation as two floats."""
    re_, im_ = (float(t) for t in text.strip().strip("()").split(","))
    return re_, im_


def _census_name_index(census, names: set[str]) -> dict[str, int]:
    """Map census names to indices of ``census`` (HT names are ordered: binary search)."""
    out = {}
    n = len(census)
    key_cache: dict[int, tuple] = {}

    def key(name):
        m = HT_NAME.fullmatch(name)
        return (int(m.group(1)), m.group(2) == "n", int(m.group(3)))

    def key_at(i):
        if i not in key_cache:
            key_cache[i] = key(census[i].name())
        return key_cache[i]

    for name in names:
        target = key(name)
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if key_at(mid) < target:
                lo = mid + 1
            else:
                hi = mid
        if lo < n and key_at(lo) == target:
            out[name] = lo
        else:
            raise KeyError(name)
    return out


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=12000, help="number of hyperbolic knots (rows) to produce")
    p.add_argument("--seed", type=int, default=0, help="seed of the random order in which census knots are taken")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output .csv.gz")
    p.add_argument("--workers", type=int, default=1, help="worker processes")
    p.add_argument("--timeout", type=float, default=60.0, help="per-knot time limit in seconds")
    p.add_argument("--resume", action="store_true", help="continue a killed or finished run")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if --out exists")
    p.add_argument("--keep-work", action="store_true", help="keep <out>.part and <out>.failures")
    p.add_argument("--check-knotinfo", action="store_true", help="run the KnotInfo cross-check instead")
    p.add_argument("--check-n", type=int, default=600, help="knots in check B")
    p.add_argument("--check-max-crossings", type=int, default=12, help="crossing bound for checks A and B")
    p.add_argument("--check-report", help="write check B's per-knot results to this CSV")
    p.add_argument("--check-orient", type=int, default=300, help="census knots in check C")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)

    from tqdm.contrib.logging import logging_redirect_tqdm

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    with logging_redirect_tqdm():
        if args.check_knotinfo:
            return check_knotinfo(args)
        return generate(args)


if __name__ == "__main__":
    sys.exit(main())
