"""The results file of a suite run (reader, and its single writer) and the summary made from it.

``results.jsonl`` holds one JSON object per ``(problem, seed)``; only :class:`ResultsFile` in the
process running :func:`kandiscover.suite.run_suite` appends to it. :func:`summarize` writes
``summary.md``, ``summary.csv`` and PNG plots from it.

Rates are over runs (``(problem, seed)`` pairs), as SRBench averages over its runs; the CSV has one
row per problem (exact = fraction of its seeds recovered; R², RMSE and time are medians over seeds).
Plots are built on :class:`matplotlib.figure.Figure` (Agg), never through pyplot's global state.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import math
import os
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .search.plan import KAN_TRAINED

log = logging.getLogger("kandiscover")

__all__ = ["summarize", "load_results", "ResultsFile", "PUBLISHED", "RESULTS_FILE"]

RESULTS_FILE = "results.jsonl"

#: SRBench 2021 exact-recovery rates on Feynman (%), at noise 0 and 0.01 (see ANCHORS.md); 8 h and
#: 1M evaluations per problem (PySR: a third-party run of 500 s).
PUBLISHED = {
    "AI Feynman": {0.0: 55.8, 0.01: 13.0},
    "PySR": {0.0: 46.1, 0.01: 47.8},
    "AFP_FE": {0.0: 27.0, 0.01: 20.8},
    "GP-GOMEA": {0.0: 26.8, 0.01: 5.1},
    "Operon": {0.0: 16.6, 0.01: 2.1},
    "gplearn": {0.0: 16.3, 0.01: 16.9},
}

#: Published Feynman rates with units (%, noise 0): QDSR (Bruneton 2025, 117 equations, an hour or
#: more each) and AI Feynman's own paper (100 of its 100 equations, up to hours each); see ANCHORS.md.
PUBLISHED_UNITS = {"QDSR (with units)": 91.6, "AI Feynman paper (with units)": 100.0}


def _records(data: bytes, path: Optional[Path] = None) -> list:
    """The records (JSON objects with a ``problem``) of complete ``results.jsonl`` lines; lines
    that are not JSON are skipped, with a warning naming ``path`` when it is given."""
    records = []
    for k, line in enumerate(data.splitlines(), 1):
        try:
            rec = json.loads(line)
        except ValueError:
            if path is not None:
                log.warning("%s: line %d is not JSON; ignored", path, k)
            continue
        if isinstance(rec, dict) and "problem" in rec:
            records.append(rec)
    return records


class ResultsFile:
    """``results.jsonl`` with one writer (this process, holding ``out/.lock``)."""

    def __init__(self, out: Path, resume: bool):
        self.path = out / RESULTS_FILE
        self._lock = open(out / ".lock", "a+b")
        try:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise RuntimeError(
                f"another run_suite is writing to {out}; wait for it or choose another out= folder"
            ) from None
        if self.path.exists() and not resume:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            aside = self.path.with_name(f"results.{stamp}.jsonl")
            while aside.exists():
                aside = aside.with_name(aside.stem + "-1.jsonl")
            os.replace(self.path, aside)
            log.info("moved the previous results aside to %s", aside)
        self.records = self._recover() if self.path.exists() else []
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with contextlib.suppress(OSError):  # make the file's directory entry durable too
            dfd = os.open(out, os.O_RDONLY)
            os.fsync(dfd)
            os.close(dfd)

    def _recover(self) -> list:
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            log.warning(
                "%s: dropping a partial last line (%d bytes) left by an interrupted run", self.path, len(data) - end
            )
            with open(self.path, "r+b") as fh:
                fh.truncate(end)
                fh.flush()
                os.fsync(fh.fileno())
        return _records(data[:end], self.path)

    def append(self, rec: dict) -> None:
        line = (json.dumps(rec, allow_nan=False) + "\n").encode("utf-8")
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)
        self._lock.close()


def load_results(out) -> pd.DataFrame:
    """The records of ``out/results.jsonl`` (complete lines only; the last record of a pair wins)."""
    path = Path(out) / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; run kandiscover.run_suite(..., out={str(out)!r}) first")
    data = path.read_bytes()
    df = pd.DataFrame(_records(data[: data.rfind(b"\n") + 1]))  # after the last newline: incomplete
    if df.empty:
        return df
    return df.drop_duplicates(["problem", "seed"], keep="last").reset_index(drop=True)


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100.0 * k / n:.1f} %)" if n else "n/a"


def _num(x, fmt="{:.4g}") -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _load_pack(pack, df):
    from .problems import Pack, load

    if isinstance(pack, Pack):
        return pack
    name = pack or (df["pack"].iloc[0] if "pack" in df and len(df) else None)
    try:
        return load(name) if name else None
    except (ValueError, OSError) as exc:
        log.info("summary without pack details: %s", exc)
        return None


def _per_problem(df: pd.DataFrame, pack) -> pd.DataFrame:
    rows = []
    for name, g in df.groupby("problem", sort=False):
        status = g["status"].value_counts()
        ex = g["exact"].dropna()
        row = dict(
            problem=name,
            pack=g["pack"].iloc[0],
            srbench=bool(g["srbench"].iloc[0]),
            seeds=len(g),
            exact=float(ex.astype(bool).mean()) if len(ex) else None,
            r2=g["r2"].median(),
            rmse=g["rmse"].median(),
            seconds=g["seconds"].median(),
            status=status.index[0] if len(status) == 1 else ", ".join(f"{k} {v}" for k, v in status.items()),
            strategy=g["strategy"].iloc[0],
            formula=g["formula"].iloc[0],
            truth=g["truth"].iloc[0],
        )
        if pack is not None and name in pack:
            row["kan_paper_rmse"] = pack[name].meta.get("kan_paper_rmse")
        rows.append(row)
    table = pd.DataFrame(rows)
    if "kan_paper_rmse" in table and table["kan_paper_rmse"].isna().all():
        table = table.drop(columns="kan_paper_rmse")
    return table


def _stats(runs: pd.DataFrame) -> dict:
    truth = runs[runs["truth"].notna()]
    r2 = pd.to_numeric(runs["r2"], errors="coerce")
    secs = pd.to_numeric(runs["seconds"], errors="coerce").dropna()
    return dict(
        runs=len(runs),
        exact=int(truth["exact"].fillna(False).astype(bool).sum()),
        with_truth=len(truth),
        r2_ok=int((r2 > 0.999).sum()),
        median_s=secs.median() if len(secs) else None,
        max_s=secs.max() if len(secs) else None,
        errors=int((runs["status"] == "error").sum()),
        timeouts=int((runs["status"] == "timeout").sum()),
    )


def _noise_key(noise: float) -> Optional[float]:
    return next((k for k in (0.0, 0.01) if math.isclose(noise, k, abs_tol=1e-12)), None)


def _plot_recovery(path: Path, rate: float, label: str, noise_key) -> None:
    from matplotlib.figure import Figure

    key = 0.0 if noise_key is None else noise_key
    names = [label, *PUBLISHED]
    values = [rate, *(PUBLISHED[m][key] for m in PUBLISHED)]
    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    bars = ax.bar(range(len(names)), values, color=["tab:red"] + ["tab:gray"] * len(PUBLISHED))
    for b, v in zip(bars, values):
        ax.annotate(
            f"{v:.1f}",
            (b.get_x() + b.get_width() / 2, v),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("exact recovery (%)")
    ax.set_title(f"Feynman exact recovery; published SRBench rates at noise {key:g}", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_times(path: Path, seconds: np.ndarray) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.4))
    ax = fig.subplots()
    ax.hist(seconds, bins=max(5, min(40, int(np.sqrt(max(len(seconds), 1))) * 2)), color="tab:blue")
    if len(seconds):
        ax.axvline(float(np.median(seconds)), color="black", ls="--", lw=1, label=f"median {np.median(seconds):.1f} s")
        ax.legend(fontsize=8)
    ax.set_xlabel("seconds per problem")
    ax.set_ylabel("runs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_rmse(path: Path, table: pd.DataFrame) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6, 0.45 * len(table) + 2), 3.6))
    ax = fig.subplots()
    pos = np.arange(len(table))
    ours = pd.to_numeric(table["rmse"], errors="coerce").to_numpy(dtype=float)
    ax.bar(pos - 0.2, np.where(np.isfinite(ours), ours, np.nan), 0.4, label="kandiscover", color="tab:red")
    if "kan_paper_rmse" in table:
        ref = pd.to_numeric(table["kan_paper_rmse"], errors="coerce").to_numpy(dtype=float)
        ax.bar(pos + 0.2, ref, 0.4, label="KAN paper (best KAN)", color="tab:gray")
    ax.set_yscale("log")
    ax.set_xticks(pos, table["problem"], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("test RMSE")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def summarize(out, pack=None) -> Path:
    """Write ``summary.md``, ``summary.csv`` and PNG plots into ``out`` from its ``results.jsonl``.

    ``pack`` (name or Pack; default: the one named in the results) adds the pack's size and the
    KAN paper's RMSE of data-only problems. Returns the path of ``summary.md``.
    """
    out = Path(out)
    df = load_results(out)
    path = out / "summary.md"
    if df.empty:
        pd.DataFrame(columns=["problem", "srbench", "seeds", "exact", "r2", "rmse", "seconds", "status"]).to_csv(
            out / "summary.csv", index=False
        )
        path.write_text("# kandiscover suite\n\nNo results yet in `results.jsonl`.\n", encoding="utf-8")
        return path
    pack = _load_pack(pack, df)
    table = _per_problem(df, pack)
    table.to_csv(out / "summary.csv", index=False)
    has_truth = bool(df["truth"].notna().any())
    everything, sub = _stats(df), _stats(df[df["srbench"].astype(bool)])
    lines = _header(df, table, pack) + _totals(everything, sub, has_truth)
    if has_truth and str(df["pack"].iloc[0]) == "feynman":  # the published rates are Feynman's
        lines += _beside_published(out, df, pack, everything, sub)
    if has_truth:
        lines += _by_strategy(df) + _by_family(df, pack)
    if "kan_paper_rmse" in table or not has_truth:
        _plot_rmse(out / "rmse.png", table)
        lines += ["![test RMSE per problem](rmse.png)", ""]
    _plot_times(out / "times.png", pd.to_numeric(df["seconds"], errors="coerce").dropna().to_numpy(dtype=float))
    lines += ["![time per run](times.png)", ""] + _per_problem_lines(table, has_truth) + _failures(df)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _budget_text(df: pd.DataFrame) -> str:
    return ", ".join(f"{b:g}" for b in sorted(set(df["time_budget"])))


def _noise_text(df: pd.DataFrame) -> str:
    return ", ".join(f"{v:g}" for v in sorted(set(df["noise"])))


def _header(df: pd.DataFrame, table: pd.DataFrame, pack) -> list[str]:
    size = f" of the {len(pack)} in the pack" if pack is not None else ""
    plan = df["plan"].dropna().unique() if "plan" in df else []
    planned = f" Strategies: {', '.join(map(str, plan))}." if len(plan) else ""
    planned += " With units (dimensional analysis)." if _with_units(df) else " Without units."
    if "hint" in df and not df["hint"].fillna(True).astype(bool).all():
        planned += " The noise level was not given to `discover` (estimated from the data)."
    elif (df["noise"] > 0).any():
        planned += " The noise level was given to `discover` as `noise_hint`."
    return [
        f"# kandiscover suite: {df['pack'].iloc[0]}",
        "",
        f"{len(table)} problems{size} × {df['seed'].nunique()} seed(s) = {len(df)} runs; "
        f"n = {int(df['n'].iloc[0])} rows, noise = {_noise_text(df)}, "
        f"time budget {_budget_text(df)} s per run.{planned} Raw records: `results.jsonl`; per problem: "
        "`summary.csv`.",
        "",
    ]


def _totals(everything: dict, sub: dict, has_truth: bool) -> list[str]:
    cols = [("all problems", everything)] + ([("SRBench subset", sub)] if sub["runs"] else [])
    lines = ["| | " + " | ".join(c for c, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    metrics = [("runs", lambda s: str(s["runs"]))]
    if has_truth:
        metrics.append(("exact recovery", lambda s: _pct(s["exact"], s["with_truth"])))
    metrics += [
        ("R² > 0.999", lambda s: _pct(s["r2_ok"], s["runs"])),
        ("median time (s)", lambda s: _num(s["median_s"], "{:.1f}")),
        ("max time (s)", lambda s: _num(s["max_s"], "{:.1f}")),
        ("errors / timeouts", lambda s: f"{s['errors']} / {s['timeouts']}"),
    ]
    return lines + [f"| {m} | " + " | ".join(f(s) for _, s in cols) + " |" for m, f in metrics] + [""]


def _with_units(df: pd.DataFrame) -> bool:
    return "units" in df and bool(df["units"].fillna(False).astype(bool).any())


def _beside_published(out: Path, df: pd.DataFrame, pack, everything: dict, sub: dict) -> list[str]:
    """The run's exact-recovery rate beside SRBench's published ones, with its bar chart."""
    ref = sub if sub["runs"] else everything
    rate = 100.0 * ref["exact"] / max(ref["with_truth"], 1)
    noises = sorted(set(df["noise"]))
    key = _noise_key(float(noises[0])) if len(noises) == 1 else None
    budget = _budget_text(df)
    lines = [
        "## Beside published exact-recovery rates (Feynman; without units: SRBench 2021)",
        "",
        "| method | noise 0 | noise 0.01 | budget per problem |",
        "|---|---|---|---|",
    ]
    here = f"{rate:.1f} % ({ref['exact']}/{ref['with_truth']} runs)"
    row = [here if key == 0.0 else "", here if key == 0.01 else ""]
    lines.append(f"| **kandiscover** (this run) | {row[0]} | {row[1]} | {budget} s |")
    if _with_units(df):
        for m, r in PUBLISHED_UNITS.items():
            lines.append(f"| {m} | {r:.1f} % | – | {'1 h or more' if 'QDSR' in m else 'hours'} |")
    for m, r in PUBLISHED.items():
        lines.append(
            f"| {m} | {r[0.0]:.1f} % | {r[0.01]:.1f} % | {'500 s' if m == 'PySR' else '8 h / 1M evaluations'} |"
        )
    notes = []
    if key is None:
        notes.append(
            f"this run used noise {_noise_text(df)}, the published rates are at 0 and 0.01: kandiscover {here}"
        )
    if sub["runs"] and pack is not None and sub["runs"] < len(pack.srbench()) * df["seed"].nunique():
        notes.append(
            f"only {len(set(df.loc[df['srbench'].astype(bool), 'problem']))} of the "
            f"{len(pack.srbench())} SRBench problems were run: the rates are not comparable yet"
        )
    lines += [""] + [f"Note: {n}." for n in notes] + [""] * bool(notes)
    _plot_recovery(out / "recovery.png", rate, f"kandiscover\n({ref['with_truth']} runs)", key)
    return lines + ["![exact recovery beside published methods](recovery.png)", ""]


def _by_strategy(df: pd.DataFrame) -> list[str]:
    """Exact recoveries per strategy of the chosen formula (the part a polish step adds, `` (raw)``,
    counted with its strategy)."""
    runs = df[df["truth"].notna()].copy()
    runs["by"] = runs["strategy"].fillna("(none)").astype(str).str.replace(" (raw)", "", regex=False)
    runs["hit"] = runs["exact"].fillna(False).astype(bool)
    runs["kan"] = runs["by"].str.replace("direct-", "", regex=False).isin(KAN_TRAINED)
    lines = [
        "## Exact recoveries by strategy",
        "",
        "Strategy that produced the chosen formula (`linear` is the baseline every search scores; "
        "`direct-` marks the plan on the original inputs of a search with units).",
        "",
        "| strategy | trains a KAN | exact | runs chosen from it |",
        "|---|---|---|---|",
    ]
    grouped = runs.groupby("by").agg(sum=("hit", "sum"), count=("hit", "count"), kan=("kan", "first"))
    grouped = grouped.sort_values(["sum", "count"], ascending=False)
    lines += [
        f"| {name} | {'yes' if r['kan'] else ''} | {int(r['sum'])} | {int(r['count'])} |"
        for name, r in grouped.iterrows()
    ]
    hits = int(runs["hit"].sum())
    by_kan = int((runs["hit"] & runs["kan"]).sum())
    share = f" ({100 * by_kan / hits:.1f} %)" if hits else ""
    lines += ["", f"Strategies that train a KAN produced {by_kan} of the {hits} exact recoveries{share}."]
    return lines + [""]


def _by_family(df: pd.DataFrame, pack) -> list[str]:
    """Exact recoveries per family of problems (the ``family`` of each problem's ``meta``), when the
    pack has families (the zoo)."""
    family = {name: p.meta.get("family") for name, p in pack.items()} if pack is not None else {}
    runs = df[df["truth"].notna()].assign(family=df["problem"].map(family))
    if runs["family"].isna().all():
        return []
    runs["hit"] = runs["exact"].fillna(False).astype(bool)
    grouped = runs.groupby("family", sort=False)["hit"].agg(["sum", "count"])
    return (
        ["## Exact recoveries by family", "", "| family | exact | runs |", "|---|---|---|"]
        + [f"| {name} | {int(r['sum'])} | {int(r['count'])} |" for name, r in grouped.iterrows()]
        + [""]
    )


def _per_problem_lines(table: pd.DataFrame, has_truth: bool) -> list[str]:
    head = (
        ["problem", "SRBench"]
        + (["exact"] if has_truth else [])
        + ["R²", "RMSE"]
        + (["KAN paper RMSE"] if "kan_paper_rmse" in table else [])
        + ["time (s)", "status", "formula"]
    )
    lines = ["## Per problem", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in table.itertuples(index=False):
        cells = [r.problem, "yes" if r.srbench else "no"]
        if has_truth:
            cells.append(
                ""
                if r.exact is None or pd.isna(r.exact)
                else ("yes" if r.exact == 1 else "no" if r.exact == 0 else f"{r.exact:.2f}")
            )
        cells += [_num(r.r2, "{:.6f}"), _num(r.rmse, "{:.3g}")]
        if "kan_paper_rmse" in table:
            cells.append(_num(r.kan_paper_rmse, "{:.2g}"))
        formula = "" if r.formula is None or (isinstance(r.formula, float)) else f"`{r.formula}`"
        cells += [_num(r.seconds, "{:.1f}"), str(r.status), formula.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _failures(df: pd.DataFrame) -> list[str]:
    failed = df[df["status"] != "ok"]
    if not len(failed):
        return []
    return ["", "## Errors and timeouts", ""] + [
        f"- {r.problem} (seed {r.seed}): {r.status}: {str(r.error).splitlines()[0][:300] if r.error else ''}"
        for r in failed.itertuples(index=False)
    ]
