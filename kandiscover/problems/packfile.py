"""What the pack generators under ``problems/`` share: the CSV text of a pack and their command line.

``problems/feynman/generate.py`` and ``problems/zoo/generate.py`` build a deterministic CSV from a
source table; :func:`csv_text` writes it and :func:`generator_main` gives both the same options
(``--data``, ``--out``, ``--check``).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["csv_text", "generator_main"]


def csv_text(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """The rows as CSV text with a header, ``\\n`` line ends (the same bytes on every platform)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def generator_main(doc: str, build: Callable[[Path], str], data: Path, out: Path, data_help: str, argv=None) -> int:
    """The command line of a pack generator: build from ``--data`` and write ``--out``, or with
    ``--check`` exit 1 when ``--out`` differs from a fresh build."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, default=data, help=f"{data_help} (default {data})")
    parser.add_argument("--out", type=Path, default=out, help=f"output file (default {out})")
    parser.add_argument("--check", action="store_true", help="only compare with --out; exit 1 if it differs")
    args = parser.parse_args(argv)
    text = build(args.data)
    if args.check:
        current = args.out.read_bytes() if args.out.is_file() else b""
        if current != text.encode("utf-8"):
            print(f"{args.out} is stale; rerun the generator", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(text.encode("utf-8"))
    print(f"wrote {text.count(chr(10)) - 1} problems to {args.out}")
    return 0
