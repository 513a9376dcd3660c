"""Markdown and HTML reports of a :class:`~kandiscover.result.Discovery`.

:func:`write_report` writes into a folder ``report.md`` (figures linked as files), ``report.html``
(one self-contained page: figures embedded as data URIs; only MathJax is loaded from a CDN, and the
formula is also given as plain text) and the figures ``pareto.png``, ``residuals.png`` and
``kan.png`` (the KAN behind the answer: the one that produced it, or the formula compiled into one).
"""

from __future__ import annotations

import base64
import html
import logging
import math
from pathlib import Path
from typing import Optional

import numpy as np

from .symbolic.uncertainty import CONSTANT_HEAD, constant_cells

log = logging.getLogger("kandiscover")

__all__ = ["write_report"]

MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
_DPI = 110

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr.chosen td { font-weight: bold; background: #fff4e5; }
code { background: #f6f6f6; padding: 0.1rem 0.3rem; border-radius: 3px; }
figure { margin: 1rem 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: 0.9rem; }
.formula { font-size: 1.25rem; overflow-x: auto; }
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _md(value) -> str:
    """A user string safe inside a Markdown table cell (no raw HTML, no cell breaks)."""
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(v) if not math.isfinite(v) else f"{v:.4g}"
    return str(value)


def _figures(discovery, out: Path) -> tuple[dict, list]:
    """Write the figures; return ``{file name: caption}`` of those written and notes on failures."""
    from .plot import plot_kan, plot_pareto, plot_residuals

    made, problems = {}, []

    def save(name: str, caption: str, build) -> None:
        try:
            fig = build()
            fig.savefig(out / name, dpi=_DPI)
            made[name] = caption
        except Exception as exc:  # a figure must never cost the user the whole report
            log.warning("report: could not draw %s: %s", name, exc)
            problems.append(f"{name} could not be drawn: {exc}")

    if discovery.pareto is not None and len(discovery.pareto):
        save(
            "pareto.png",
            "Complexity vs validation loss; the star marks the chosen formula.",
            lambda: plot_pareto(discovery.pareto),
        )
    test = discovery.test_data
    if test is not None and len(test[1]):
        X_test, y_test = test
        held_out = _scored_on(discovery) == "test"
        caption = (
            f"Residuals on the {len(y_test)} held-out test rows."
            if held_out
            else f"Residuals on all {len(y_test)} rows, constants fitted on all of them (the scores are "
            f"out of fold: {getattr(discovery, 'validation', '')})."
        )
        save("residuals.png", caption, lambda: plot_residuals(y_test, discovery.predict(X_test)))
    model = discovery.model
    if model is not None:
        origin = getattr(discovery, "model_origin", "")
        how = (
            "The chosen formula compiled into a KAN"
            if origin.startswith("compiled")
            else f"The KAN whose edges produced the chosen formula ({origin})"
        )
        named = model.width_in[0] == len(discovery.inputs) and model.width_in[-1] == 1
        save(
            "kan.png",
            f"{how}; inputs and output named by the columns, red edges symbolic with their matches.",
            lambda: plot_kan(
                model,
                in_vars=list(discovery.inputs) if named else None,
                out_vars=[discovery.target] if named else None,
                title=f"{discovery.target} = {discovery.formula}",
            ),
        )
    return made, problems


def _scored_on(discovery) -> str:
    """``"test"`` or ``"cross-validated"`` (a discovery without ``scored_on`` is a test-split one)."""
    return str(getattr(discovery, "scored_on", "test"))


def _rows(discovery) -> list[tuple[str, str]]:
    n_test = len(discovery.test_data[1]) if discovery.test_data is not None else 0
    on = _scored_on(discovery)
    rows = [
        ("target", discovery.target),
        ("inputs", ", ".join(map(str, discovery.inputs))),
        (f"{on} R²", f"{discovery.r2:.10g}"),
        (f"{on} RMSE", f"{discovery.rmse:.4g}"),
        (f"{on} max |error|", f"{discovery.max_abs_error:.4g}"),
        ("test rows" if on == "test" else "rows", str(n_test)),
    ]
    if getattr(discovery, "validation", ""):
        rows.append(("rows used", discovery.validation))
    noise = getattr(discovery, "noise", None)
    if noise is not None:
        rows.append(("noise", f"{noise:.3g} of the target's RMS ({getattr(discovery, 'noise_source', '')})"))
    if getattr(discovery, "selection", ""):
        rows.append(("chosen by", discovery.selection))
    return rows + [("strategy", discovery.strategy or "—"), ("search time", f"{discovery.seconds:.1f} s")]


def _constant_rows(discovery) -> list[list[str]]:
    """One row per constant of the discovery's table (``Discovery.constants``), as text."""
    return constant_cells(getattr(discovery, "constants", None))


def _pareto_rows(pareto) -> tuple[list[str], list[list[str]], list[bool]]:
    cols = [c for c in ("complexity", "loss", "score", "formula", "strategy") if c in pareto.columns]
    rows, chosen = [], []
    for _, r in pareto.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            cells.append(f"{float(v):.3e}" if c == "loss" else _fmt(v))
        rows.append(cells)
        chosen.append(bool(r["chosen"]) if "chosen" in pareto.columns else False)
    return cols, rows, chosen


def _history_rows(history) -> tuple[list[str], list[list[str]]]:
    cols: list[str] = []
    for h in history or []:
        cols.extend(k for k in h if k not in cols)
    return cols, [[_fmt(h.get(c, "")) for c in cols] for h in history or []]


def _html_table(head: list[str], rows: list[list[str]], highlight: Optional[list[bool]] = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>"]
    for k, r in enumerate(rows):
        cls = ' class="chosen"' if highlight and highlight[k] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _md_table(head: list[str], rows: list[list[str]], highlight: Optional[list[bool]] = None) -> str:
    lines = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    for k, r in enumerate(rows):
        cells = [_md(c) for c in r]
        if highlight and highlight[k]:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(discovery, out) -> Path:
    """Write ``report.md``, ``report.html`` and the figures of a discovery into folder ``out``.

    Parameters
    ----------
    discovery : Discovery
    out : str or Path
        Folder (created if missing).

    Returns
    -------
    Path
        The HTML report.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder for the report files; {out} is a file")
    out.mkdir(parents=True, exist_ok=True)
    figs, fig_notes = _figures(discovery, out)
    latex = discovery.to_latex()
    plain = f"{discovery.target} = {discovery.formula}"
    metrics = _rows(discovery)
    notes = [str(n) for n in discovery.notes or []] + fig_notes
    p_head, p_rows, p_chosen = _pareto_rows(discovery.pareto) if discovery.pareto is not None else ([], [], [])
    c_rows = _constant_rows(discovery)
    with_symbols = getattr(discovery, "formula_with_symbols", None)
    c_intro = "Fitted constants with their standard errors and 95 % intervals"
    inputs = {str(n) for n in discovery.inputs}
    if with_symbols is not None and c_rows and {str(s) for s in with_symbols.free_symbols} - inputs:
        c_intro += f"; the formula in their symbols: {discovery.target} = {with_symbols}"
    c_intro += (
        ". A constant snapped to a simple value lists the fit it had before; the value lies in its interval."
        if any(r[-1] != "—" for r in c_rows)
        else "."
    )
    h_head, h_rows = _history_rows(discovery.history)

    # ---- Markdown
    md = [
        f"# kandiscover report: {_md(discovery.target)}",
        "",
        "```math",
        latex,
        "```",
        "",
        "```",
        plain,
        "```",
        "",
        "## Metrics",
        "",
        _md_table(["metric", "value"], [list(r) for r in metrics]),
        "",
    ]
    if c_rows:
        md += ["## Constants", "", _md(c_intro), "", _md_table(CONSTANT_HEAD, c_rows), ""]
    if notes:
        md += ["## Notes", ""] + [f"- {_md(n)}" for n in notes] + [""]
    if p_rows:
        md += ["## Pareto front", "", "The chosen formula is in bold.", "", _md_table(p_head, p_rows, p_chosen), ""]
    if figs:
        md += ["## Figures", ""]
        for name, caption in figs.items():
            md += [f"![{_md(caption)}]({name})", "", f"*{_md(caption)}*", ""]
    if h_rows:
        md += ["## Strategies tried", "", _md_table(h_head, h_rows), ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")

    # ---- HTML
    body = [
        f"<h1>kandiscover report: {_esc(discovery.target)}</h1>",
        f'<p class="formula">\\[{_esc(latex)}\\]</p>',
        f"<p>Plain text: <code>{_esc(plain)}</code></p>",
        "<h2>Metrics</h2>",
        _html_table(["metric", "value"], [list(r) for r in metrics]),
    ]
    if c_rows:
        body += ["<h2>Constants</h2>", f"<p>{_esc(c_intro)}</p>", _html_table(CONSTANT_HEAD, c_rows)]
    if notes:
        body += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>"]
    if p_rows:
        body += [
            "<h2>Pareto front</h2>",
            "<p>The chosen formula is highlighted.</p>",
            _html_table(p_head, p_rows, p_chosen),
        ]
    if figs:
        body.append("<h2>Figures</h2>")
        for name, caption in figs.items():
            data = base64.b64encode((out / name).read_bytes()).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(caption)}">'
                f"<figcaption>{_esc(caption)} (<code>{_esc(name)}</code>)</figcaption></figure>"
            )
    if h_rows:
        body += ["<h2>Strategies tried</h2>", _html_table(h_head, h_rows)]
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>kandiscover report: {_esc(discovery.target)}</title>",
            f"<style>{_CSS}</style>",
            f'<script id="MathJax-script" async src="{MATHJAX}"></script>',
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
