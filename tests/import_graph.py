"""The import graph of the kandiscover package, read from the source with ``ast``.

Nothing is imported or executed: every ``.py`` file under ``kandiscover/`` is parsed, and every
``import`` / ``from ... import`` statement in it — at module level, inside functions, classes,
``if TYPE_CHECKING:`` blocks or ``try`` blocks alike — is resolved to the kandiscover modules it
loads. Imports of other packages are ignored.

Resolution rules:

* ``import kandiscover.a.b`` is an edge to ``kandiscover.a.b``. The parent packages
  (``kandiscover``, ``kandiscover.a``) that Python initialises on the way are side effects, not
  edges: otherwise every module would depend on the package ``kandiscover`` and on its own
  package's ``__init__``.
* ``from M import y`` (absolute or relative, ``from . import y``, ``from ..symbolic import y``,
  ``from .x import y``) is an edge to ``M.y`` when ``M.y`` is a module of the tree (``y`` is a
  submodule), otherwise to ``M``.
* So an explicit ``from kandiscover import X`` or ``from .. import X`` that resolves to
  ``kandiscover/__init__.py`` (``X`` not a submodule) is an edge to the package itself, which is in
  the top (entry-point) layer; ``import kandiscover`` is one too.
* ``importlib.import_module("kandiscover.x")`` (or ``__import__``) with a literal name, or with a
  module-level string constant holding it, is an edge to ``kandiscover.x``.
* An import of a kandiscover module that does not exist in the tree is reported as unresolved.

Every module is assigned to a layer by the longest prefix in :data:`LAYERS` (matched on whole
dotted components); a module that matches no layer is reported.

``python tests/import_graph.py`` prints the graph layer by layer as Markdown (for
``docs/architecture.md``); ``--mermaid`` adds a diagram of the layers and the imports between them.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "kandiscover"

#: ``(rank, name, holds, prefixes)``, bottom to top. A module may import modules of its own rank
#: or lower ones. A prefix matches the module itself and everything below it; the bare package name
#: ``kandiscover`` matches only ``kandiscover/__init__.py`` (see :func:`layer_of`).
LAYERS: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (1, "support", "progress bars, sympy time limits, parameter checks, JSON cleaning", ("kandiscover.support",)),
    (2, "engine", "splines, layers, the network, training, pruning, checkpoints", ("kandiscover.kan",)),
    (
        3,
        "symbolic",
        "primitives, edge fits, assembly, refits, equivalence, parsing, exports",
        ("kandiscover.symbolic",),
    ),
    (4, "units", "units of columns, dimensional analysis", ("kandiscover.units",)),
    (5, "views", "figures and reports, duck-typed on models and results", ("kandiscover.plot", "kandiscover.report")),
    (6, "model", "the full KAN with its pykan-style methods", ("kandiscover.model", "kandiscover.formula_kan")),
    (7, "search", "the candidate generators and the plan", ("kandiscover.search",)),
    (
        8,
        "pipeline",
        "data checks, discover(), Discovery",
        (
            "kandiscover.data",
            "kandiscover.unit_columns",
            "kandiscover.result",
            "kandiscover.rows",
            "kandiscover.selection",
            "kandiscover.discover",
        ),
    ),
    (9, "interfaces", "verify(), the scikit-learn estimator", ("kandiscover.verify", "kandiscover.estimator")),
    (
        10,
        "problems and suites",
        "problem packs, the suite runner and its summaries",
        ("kandiscover.problems", "kandiscover.suite", "kandiscover.suite_summary"),
    ),
    (11, "entry points", "the command line and the package namespace", ("kandiscover.cli", PACKAGE)),
)


@dataclass(frozen=True, order=True)
class Import:
    """One resolved import statement: ``module:line -> imported``."""

    module: str
    line: int
    imported: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} -> {self.imported}"


@dataclass
class ImportGraph:
    """Modules, their files, and every import between them (see :func:`read_graph`)."""

    files: dict[str, Path]
    imports: list[Import]
    unresolved: list[Import] = field(default_factory=list)

    @property
    def modules(self) -> list[str]:
        return sorted(self.files)

    @property
    def edges(self) -> dict[str, set[str]]:
        """module -> set of kandiscover modules it imports (every module is a key)."""
        graph: dict[str, set[str]] = {m: set() for m in self.files}
        for imp in self.imports:
            graph[imp.module].add(imp.imported)
        return graph

    def unlayered(self) -> list[str]:
        """Modules that match no entry of :data:`LAYERS`."""
        return [m for m in self.modules if layer_of(m) is None]

    def upward(self) -> list[Import]:
        """Imports of a module in a higher layer than the importer's."""
        out = []
        for imp in self.imports:
            src, dst = layer_of(imp.module), layer_of(imp.imported)
            if src is not None and dst is not None and dst[0] > src[0]:
                out.append(imp)
        return sorted(out)

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (or a module importing itself),
        each sorted, the list sorted by its first module."""
        graph = self.edges
        comps = [
            sorted(c)
            for c in strongly_connected_components(graph)
            if len(c) > 1 or next(iter(c)) in graph[next(iter(c))]
        ]
        return sorted(comps)

    def cycle_imports(self) -> list[list[Import]]:
        """For each cycle, the import statements that run between its modules."""
        out = []
        for comp in self.cycles():
            members = set(comp)
            out.append(sorted(i for i in self.imports if i.module in members and i.imported in members))
        return out


def layer_of(module: str) -> tuple[int, str] | None:
    """``(rank, name)`` of the layer whose longest prefix matches ``module``, or None."""
    best: tuple[int, int, str] | None = None  # (prefix length, rank, name)
    for rank, name, _holds, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix == PACKAGE:
                hit = module == PACKAGE
            else:
                hit = module == prefix or module.startswith(prefix + ".")
            if hit and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank, name)
    return None if best is None else (best[1], best[2])


def module_name(path: Path, root: Path) -> str:
    """``kandiscover/kan/network.py`` -> ``kandiscover.kan.network``; ``.../__init__.py`` -> the
    package. ``root`` is the directory of the package (``.../kandiscover``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([root.name, *parts])


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(package) - 1:
        return None  # beyond the top-level package
    base = package[: len(package) - (level - 1)]
    return ".".join(base + (target.split(".") if target else []))


def _in_package(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _is_import_call(func: ast.expr) -> bool:
    """``importlib.import_module(...)``, ``import_module(...)`` or ``__import__(...)``."""
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> tuple[list[Import], list[Import]]:
    """Resolved and unresolved imports of one module's source (see the module docstring)."""
    tree = ast.parse(source)
    found: list[Import] = []
    unresolved: list[Import] = []

    def add(line: int, name: str) -> None:
        if name == module:
            return  # `from . import x` inside x's own package init
        (found if name in known else unresolved).append(Import(module, line, name))

    constants = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_import_call(node.func) and node.args:
            arg = node.args[0]
            name = (
                arg.value
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                else constants.get(arg.id)
                if isinstance(arg, ast.Name)
                else None
            )
            if isinstance(name, str) and _in_package(name):
                add(node.lineno, name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _in_package(alias.name):
                    add(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(module, is_package, node.level, node.module)
                if base is None:
                    unresolved.append(Import(module, node.lineno, "." * node.level + (node.module or "")))
                    continue
            else:
                base = node.module or ""
            if not _in_package(base):
                continue
            targets = set()
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if alias.name != "*" and sub in known else base)
            for name in sorted(targets):
                add(node.lineno, name)
    return found, unresolved


def read_graph(root: str | Path) -> ImportGraph:
    """Parse every ``.py`` under ``root`` (the package directory, e.g. ``.../kandiscover``)."""
    root = Path(root)
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}
    known = set(files)
    imports: list[Import] = []
    unresolved: list[Import] = []
    for name, path in files.items():
        found, missing = imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known)
        imports += found
        unresolved += missing
    return ImportGraph(files, sorted(set(imports)), sorted(set(unresolved)))


def private_imports(root: str | Path) -> list[str]:
    """``module:line -> imported.name`` for every name with a leading underscore (not a dunder)
    that a module imports from another kandiscover module: a name private to its module must stay
    there (make it public, or move it)."""
    root = Path(root)
    out = []
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        module = module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = (
                _resolve_relative(module, path.name == "__init__.py", node.level, node.module)
                if node.level
                else node.module or ""
            )
            if base is None or not _in_package(base):
                continue
            out += [
                f"{module}:{node.lineno} -> {base}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return out


def strongly_connected_components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.add(member)
                        if member == node:
                            break
                    comps.append(comp)
    return comps


def problems(graph: ImportGraph) -> list[str]:
    """Every violation as one line; empty when the layering holds."""
    lines = [f"not in any layer: {m} ({graph.files[m]})" for m in graph.unlayered()]
    lines += [f"unresolved import: {i}" for i in graph.unresolved]
    for comp, imps in zip(graph.cycles(), graph.cycle_imports()):
        lines.append(f"cycle: {' <-> '.join(comp)}")
        lines += [f"  {i}" for i in imps]
    for imp in graph.upward():
        src, dst = layer_of(imp.module), layer_of(imp.imported)
        lines.append(f"upward: {imp}  ({src[1]} imports {dst[1]})")
    return lines


def _short(module: str) -> str:
    return "kandiscover" if module == PACKAGE else module.removeprefix(PACKAGE + ".")


def markdown(graph: ImportGraph) -> str:
    """The graph layer by layer, top layer first: one table per layer."""
    edges = graph.edges
    by_layer: dict[int, list[str]] = defaultdict(list)
    for m in graph.modules:
        layer = layer_of(m)
        by_layer[layer[0] if layer else 0].append(m)
    upward = {(i.module, i.imported) for i in graph.upward()}
    cyclic = {m for comp in graph.cycles() for m in comp}
    out = []
    for rank, name, holds, _prefixes in reversed(LAYERS):
        out.append(f"### {rank}. {name}\n\n{holds[0].upper() + holds[1:]}.\n")
        mods = by_layer.get(rank, [])
        if not mods:
            out.append("_(no module yet)_\n")
            continue
        out.append("| module | imports (kandiscover modules) |\n|---|---|")
        for m in mods:
            names = []
            for d in sorted(edges[m]):
                mark = " ⚠ upward" if (m, d) in upward else ""
                mark += " ⚠ cycle" if m in cyclic and _same_cycle(graph, m, d) else ""
                names.append(f"`{_short(d)}`{mark}")
            out.append(f"| `{_short(m)}` | {', '.join(names) or '—'} |")
        out.append("")
    if by_layer.get(0):
        out.append("### not in any layer\n")
        out += [f"- `{m}`" for m in by_layer[0]]
        out.append("")
    return "\n".join(out)


def _same_cycle(graph: ImportGraph, a: str, b: str) -> bool:
    return any(a in comp and b in comp for comp in graph.cycles())


def _is_package(graph: ImportGraph, module: str) -> bool:
    path = graph.files.get(module)
    return module != PACKAGE and path is not None and path.name == "__init__.py"


def mermaid(graph: ImportGraph) -> str:
    """A mermaid flowchart of the layers, bottom to top, with one arrow per pair of layers that
    some import connects (dashed and labelled when it points upward)."""
    lines = ["```mermaid", "flowchart BT"]
    for rank, name, _holds, prefixes in LAYERS:
        mods = ", ".join(_short(p) + ("/" if _is_package(graph, p) else "") for p in prefixes)
        lines.append(f'    L{rank}["{rank}. {name}<br/><small>{mods}</small>"]')
    pairs: dict[tuple[int, int], bool] = {}
    for imp in graph.imports:
        src, dst = layer_of(imp.module), layer_of(imp.imported)
        if src and dst and src[0] != dst[0]:
            pairs[(src[0], dst[0])] = dst[0] > src[0]
    ranks = [r for r, *_ in LAYERS]
    for lower, upper in itertools.pairwise(ranks):  # the stack itself, drawn as invisible links
        if (upper, lower) not in pairs:
            lines.append(f"    L{upper} ~~~ L{lower}")
    for (src, dst), up in sorted(pairs.items()):
        lines.append(f"    L{src} -.->|upward| L{dst}" if up else f"    L{src} --> L{dst}")
    lines.append("```")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parents[1] / PACKAGE,
        help="the package directory (default: the kandiscover/ beside tests/)",
    )
    parser.add_argument("--mermaid", action="store_true", help="also print a mermaid diagram of the layers")
    args = parser.parse_args(argv)
    graph = read_graph(args.root)
    if args.mermaid:
        print(mermaid(graph))
        print()
    print(markdown(graph))
    found = problems(graph)
    if found:
        print("### Violations\n")
        print("```text")
        print("\n".join(found))
        print("```")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
