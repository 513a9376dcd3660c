"""The ``kandiscover`` command line: ``discover``, ``verify``, ``demo``, ``problems``, ``suite``.

Results go to stdout, progress and log messages to stderr. Exit status: 0 on success, 2 on bad
input (one line ``kandiscover: error: <message>`` on stderr), 1 on an internal failure (one line
with a hint to rerun with ``--debug``, which prints the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import traceback
from pathlib import Path

from . import __version__
from .search.plan import GROUPS, NAMES

log = logging.getLogger("kandiscover")

__all__ = ["main"]

PROG = "kandiscover"


class _UsageError(ValueError):
    """Bad command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise instead of exiting."""

    def error(self, message):  # noqa: D102 - argparse API
        raise _UsageError(f"{message} (see '{self.prog} --help')")


# ------------------------------------------------------------------------------------------ helpers


def _columns_list(text, flag="--inputs"):
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise _UsageError(f"{flag} needs comma-separated names, e.g. {flag} a,b")
    return names


def _read(path, target):
    from .data import read_csv

    df = read_csv(path)
    cols = [str(c) for c in df.columns]
    if target is None:
        if "y" not in cols:
            raise _UsageError(
                f"no --target given and {path} has no column 'y'; pass --target COLUMN (columns: {', '.join(cols)})"
            )
        target = "y"
    return df, target


def _dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)


def _print_discovery(res, out):
    print(res.summary(), file=out)
    for note in res.notes:
        print(f"  note: {note}", file=out)
    if res.noise is not None:
        print(f"  noise: {res.noise:.3g} of the target's RMS ({res.noise_source})", file=out)
    if res.selection:
        print(f"  chosen by: {res.selection}", file=out)
    if len(res.pareto) > 1:
        print("Pareto front (complexity, validation MSE, formula):", file=out)
        for r in res.pareto.itertuples():
            mark = "*" if r.chosen else " "
            print(f" {mark} {int(r.complexity):4d}  {r.loss:10.4g}  {r.formula}", file=out)


# ------------------------------------------------------------------------------------------ commands


def _cmd_discover(args, out) -> int:
    from .discover import discover

    df, target = _read(args.data, args.target)
    res = discover(
        df,
        target,
        _columns_list(args.inputs),
        time_budget=args.time_budget,
        seed=args.seed,
        noise_hint=args.noise_hint,
        progress=not args.quiet,
        drop_invalid=args.drop_invalid,
        plan=_columns_list(args.plan, "--plan"),
        units=_units(args),
        sigma=args.sigma,
    )
    payload = res.to_dict()
    if args.out is not None:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").write_text(_dump(payload) + "\n", encoding="utf-8")
        log.info("wrote %s", folder / "result.json")
        try:
            report = res.report(folder)
            log.info("wrote the report %s", report)
        except (ImportError, NotImplementedError) as exc:
            print(f"note: no report written ({type(exc).__name__}: {exc})", file=sys.stderr)
    if args.json:
        print(_dump(payload), file=out)
    else:
        _print_discovery(res, out)
    return 0


def _units(args) -> dict | None:
    """``column -> unit`` from ``--units "m=kg,v=m/s"`` or ``--units-file FILE`` (a CSV with the
    columns ``column`` and ``unit``), or None."""
    if args.units is not None and args.units_file is not None:
        raise _UsageError("give --units or --units-file, not both")
    if args.units is not None:
        pairs = [p.strip() for p in args.units.split(",") if p.strip()]
        bad = [p for p in pairs if "=" not in p]
        if bad or not pairs:
            raise _UsageError(
                f"--units needs column=unit pairs separated by commas, e.g. 'm=kg,v=m/s'; got {args.units!r}"
            )
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}
    if args.units_file is not None:
        import pandas as pd

        try:
            table = pd.read_csv(args.units_file, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise _UsageError(f"--units-file {args.units_file}: cannot read it ({exc})") from None
        if not {"column", "unit"} <= set(table.columns):
            raise _UsageError(
                f"--units-file {args.units_file} needs the columns 'column' and 'unit'; got {list(table.columns)}"
            )
        return dict(zip(table["column"].str.strip(), table["unit"].str.strip()))
    return None


def _cmd_verify(args, out) -> int:
    from .verify import verify

    df, target = _read(args.data, args.target)
    chk = verify(
        args.formula,
        df,
        target,
        inputs=_columns_list(args.inputs),
        fit_constants=args.fit_constants,
        tol=args.tol,
        drop_invalid=args.drop_invalid,
        sigma=args.sigma,
        units=_units(args),
    )
    print(_dump(chk.to_dict()) if args.json else chk.summary(), file=out)
    return 0


def _demo_data(seed: int = 0, n: int = 500):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"n": rng.uniform(0.5, 2.0, n), "T": rng.uniform(250.0, 400.0, n), "V": rng.uniform(0.01, 0.05, n)}
    )
    df["P"] = 8.314 * df["n"] * df["T"] / df["V"]
    return df


def _cmd_demo(args, out) -> int:
    import sympy

    from .discover import discover
    from .symbolic import is_equivalent, parse_formula

    df = _demo_data(args.seed)
    truth = parse_formula("8.314*n*T/V", variables=["n", "T", "V"])
    print(
        "demo: the ideal gas law P = n*R*T/V (R = 8.314 J/(mol K)); 500 exact rows of "
        "n in [0.5, 2] mol, T in [250, 400] K, V in [0.01, 0.05] m^3",
        file=out,
    )
    res = discover(df, "P", time_budget=args.time_budget, seed=args.seed, progress=not args.quiet)
    same = is_equivalent(res.formula, truth)
    print(f"found:  P = {res.formula}", file=out)
    print(f"truth:  P = {sympy.sstr(truth)}", file=out)
    print(f"equivalent to the truth: {'yes' if same else 'no'}", file=out)
    print(
        f"test R² = {res.r2:.10g}, RMSE = {res.rmse:.4g}, max |error| = {res.max_abs_error:.4g} "
        f"({res.seconds:.1f} s, strategy {res.strategy})",
        file=out,
    )
    return 0


def _cmd_problems(args, out) -> int:
    from . import problems

    if args.pack is None:
        for name in problems.available():
            try:
                count = len(problems.load(name))
                size = f"{count} problem{'' if count == 1 else 's'}"
            except (ValueError, OSError) as exc:
                size = f"unavailable: {exc}"
            print(f"{name:10s} {size}", file=out)
        return 0
    frame = problems.load(args.pack).to_frame()
    width = max([len(str(n)) for n in frame.index] + [4])
    vwidth = min(40, max([len(str(v)) for v in frame["variables"]] + [9]))
    for name, row in frame.iterrows():
        law = (
            f"{row['target']} = {row['formula']}"
            if isinstance(row["formula"], str)
            else f"{row['target']} = {row['source']}"
        )
        print(f"{str(name):{width}s}  {str(row['variables']):{vwidth}s}  {law}", file=out)
    return 0


def _cmd_suite(args, out) -> int:
    try:
        from .suite import run_suite
    except ModuleNotFoundError as exc:
        if exc.name in ("kandiscover.suite", __package__ + ".suite"):
            print(
                "kandiscover: error: the suite runner (kandiscover.suite) is not available in this installation",
                file=sys.stderr,
            )
            return 1
        raise
    kwargs = dict(jobs=args.jobs, resume=args.resume, progress=not args.quiet)
    if args.problems is not None:
        kwargs["problems"] = _columns_list(args.problems, "--problems")
    if args.plan is not None:
        kwargs["plan"] = _columns_list(args.plan, "--plan")
    if args.scheduler is not None:
        kwargs["scheduler"] = args.scheduler
    if args.units:
        kwargs["units"] = True
    if args.no_hint:
        kwargs["hint"] = False
    for key in ("time_budget", "n", "noise", "limit", "timeout"):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    if args.seeds is not None:
        try:
            kwargs["seeds"] = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            raise _UsageError(f"--seeds needs comma-separated integers, e.g. --seeds 0,1; got {args.seeds!r}") from None
    summary = run_suite(args.pack, args.out, **kwargs)
    print(summary, file=out)
    return 0


# ------------------------------------------------------------------------------------------ parser


def _checked(cast, ok, what):
    """An argparse type: ``cast`` the text, then require ``ok(value)``; errors say ``what``."""
    noun = "an integer" if cast is int else "a number"

    def parse(text):
        try:
            v = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    return parse


_positive_float = _checked(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
_nonneg_float = _checked(float, lambda v: math.isfinite(v) and v >= 0, "a non-negative number")
_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")


def _add_output_flags(p, func) -> None:
    """The flags shared by the commands that read a CSV file (``discover``, ``verify``), and the handler."""
    p.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    p.add_argument("--drop-invalid", action="store_true", help="drop rows with NaN/inf instead of failing")
    p.set_defaults(func=func)


def _add_plan_flag(p) -> None:
    """``--plan``: the strategies to run, named as in the plan registry."""
    p.add_argument(
        "--plan",
        metavar="NAMES",
        help="comma-separated strategies to run instead of the default plan: " + ", ".join(NAMES + tuple(GROUPS)),
    )


def _build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only warnings and errors on stderr, no progress bar",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="debug logging, and the full traceback on errors",
    )

    parser = _Parser(
        prog=PROG,
        parents=[common],
        description="Discover closed-form equations in tabular data with Kolmogorov-Arnold networks.",
        epilog="Examples:\n  kandiscover demo\n  kandiscover discover data.csv --target y\n"
        "  kandiscover verify data.csv --target E --formula 'm*c**2'\n"
        "  kandiscover problems feynman\n"
        "  kandiscover suite feynman --jobs 2 --out results/feynman\n\n"
        "Run 'kandiscover COMMAND --help' for the options of a command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_add_discover, _add_verify, _add_demo, _add_problems, _add_suite):
        add(sub, common)
    return parser


def _add_discover(sub, common) -> None:
    p = sub.add_parser(
        "discover",
        parents=[common],
        help="find a formula target = f(inputs) in a CSV file",
        description="Find a closed-form law in a CSV file and print it with its held-out metrics.",
    )
    p.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    p.add_argument("--target", "-t", help="column to explain (default: the column 'y')")
    p.add_argument("--inputs", help="comma-separated input columns (default: all other columns)")
    p.add_argument(
        "--time-budget", type=_positive_float, default=60.0, metavar="S", help="seconds for the search (default: 60)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of row splits and KAN initialisations (default: 0)")
    p.add_argument(
        "--noise-hint",
        type=_nonneg_float,
        metavar="F",
        help="expected relative noise (std / RMS of the target); the search stops when reached",
    )
    p.add_argument("--out", metavar="DIR", help="write DIR/result.json and the report into this folder")
    p.add_argument(
        "--sigma",
        metavar="COLUMN",
        help="column of standard deviations of the target (not an input): weighted fits, the constants' "
        "errors from it, chi-squared per degree of freedom in the result",
    )
    _add_units_flags(p)
    _add_plan_flag(p)
    _add_output_flags(p, _cmd_discover)


def _add_units_flags(p) -> None:
    p.add_argument(
        "--units",
        metavar="COL=UNIT,...",
        help="units of the columns, e.g. 'm=kg,v=m/s,E=J' (pint syntax; '' dimensionless); a name that is "
        "no column with a value ('g=9.81 m/s**2') is a dimensional constant",
    )
    p.add_argument("--units-file", metavar="FILE", help="CSV with columns 'column' and 'unit' (instead of --units)")


def _add_verify(sub, common) -> None:
    p = sub.add_parser(
        "verify",
        parents=[common],
        help="check a formula against a CSV file",
        description="Check how well a formula explains a column of a CSV file (R², RMSE, max |error|, verdict).",
    )
    p.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    p.add_argument("--target", "-t", help="column the formula should equal (default: the column 'y')")
    p.add_argument(
        "--formula",
        "-f",
        required=True,
        help="the formula in the column names, e.g. 'm*c**2' (^ means power; pi and e are constants)",
    )
    p.add_argument("--inputs", help="comma-separated columns the formula may use (default: all but the target)")
    p.add_argument(
        "--fit-constants", action="store_true", help="fit names that are not columns as free constants (least squares)"
    )
    p.add_argument(
        "--tol",
        type=_nonneg_float,
        metavar="T",
        help="judge by R² >= 1 - T alone (default: exact if R² >= 1 - 1e-6, else by the noise: "
        "chi-squared with --sigma, or the residuals against the noise estimated from them)",
    )
    p.add_argument(
        "--sigma",
        metavar="COLUMN",
        help="column of standard deviations of the target: weighted fit, constants' errors from it, "
        "verdict by chi-squared (p >= 0.01)",
    )
    _add_units_flags(p)
    _add_output_flags(p, _cmd_verify)


def _add_demo(sub, common) -> None:
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="discover the ideal gas law from generated data",
        description="Generate 500 rows of the ideal gas law P = n*R*T/V, discover it and "
        "compare with the truth. Takes seconds.",
    )
    p.add_argument(
        "--time-budget", type=_positive_float, default=30.0, metavar="S", help="seconds for the search (default: 30)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the search (default: 0)")
    p.set_defaults(func=_cmd_demo)


def _add_problems(sub, common) -> None:
    p = sub.add_parser(
        "problems",
        parents=[common],
        help="list problem packs, or the problems of one pack",
        description="Without PACK: the available packs. With PACK: one line per problem (name, variables, formula).",
    )
    p.add_argument("pack", nargs="?", metavar="PACK", help="pack name, e.g. feynman, special, knots")
    p.set_defaults(func=_cmd_problems)


def _add_suite(sub, common) -> None:
    p = sub.add_parser(
        "suite",
        parents=[common],
        help="run discovery on every problem of a pack (resumable)",
        description="Run discovery on the problems of a pack and write per-problem results "
        "and a summary into DIR. Prints the summary path.",
    )
    p.add_argument("pack", metavar="PACK", help="pack name, e.g. feynman")
    p.add_argument("--out", required=True, metavar="DIR", help="results folder")
    p.add_argument("--jobs", "-j", type=_positive_int, default=1, metavar="N", help="parallel workers (default: 1)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="'local' (a Dask LocalCluster) or a scheduler address tcp://host:8786 (needs kandiscover[dask])",
    )
    p.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip problems already done in DIR (default: --resume)",
    )
    p.add_argument("--time-budget", type=_positive_float, metavar="S", help="seconds per problem")
    p.add_argument("--n", type=_positive_int, metavar="ROWS", help="rows sampled per problem")
    p.add_argument("--noise", type=_nonneg_float, metavar="F", help="relative noise (std = F * RMS(y))")
    p.add_argument("--seeds", metavar="0,1", help="comma-separated seeds")
    p.add_argument("--limit", type=_positive_int, metavar="K", help="run only the first K problems")
    p.add_argument("--problems", metavar="NAMES", help="comma-separated problem names to run (default: all)")
    p.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="S",
        help="seconds before a problem's worker is stopped (default: 2 * time budget + 30)",
    )
    p.add_argument("--units", action="store_true", help="search with the problems' units (the Feynman pack)")
    p.add_argument(
        "--no-hint",
        action="store_true",
        help="do not tell discover the noise level (it estimates it from the data)",
    )
    _add_plan_flag(p)
    p.set_defaults(func=_cmd_suite)


# ------------------------------------------------------------------------------------------ main


def _one_line(exc) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 1 internal failure)."""
    from .data import DataError

    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        print(
            f"{PROG}: error: choose a command: discover, verify, demo, problems, suite (see '{PROG} --help')",
            file=sys.stderr,
        )
        return 2
    args.quiet = getattr(args, "quiet", False)
    args.debug = getattr(args, "debug", False)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = log.level
    log.setLevel(logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO)
    log.addHandler(handler)
    try:
        return args.func(args, sys.stdout)
    except (DataError, ValueError, OSError) as exc:
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a command-line tool
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
