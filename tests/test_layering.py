"""The package's layers: imports go down only, and no layer has a cycle.

The layers are listed in ``tests/import_graph.py`` (``LAYERS``); the graph is read from the source
with ``ast`` (nothing is imported), and imports inside functions count. ``python
tests/import_graph.py`` prints the graph layer by layer.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import import_graph as ig
import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "kandiscover"


@pytest.fixture(scope="module")
def graph() -> ig.ImportGraph:
    return ig.read_graph(PACKAGE_DIR)


def _report(title: str, lines: list[str]) -> str:
    return f"{title} ({len(lines)}):\n" + "\n".join(f"  {line}" for line in lines)


# --- the real package -------------------------------------------------------------------------


def test_every_module_is_in_a_layer(graph):
    missing = [f"{m} ({graph.files[m].relative_to(PACKAGE_DIR.parent)})" for m in graph.unlayered()]
    assert not missing, _report("modules in no layer of tests/import_graph.py LAYERS", missing)


def test_every_import_of_kandiscover_resolves_to_a_module(graph):
    assert not graph.unresolved, _report(
        "imports of kandiscover modules that do not exist", [str(i) for i in graph.unresolved]
    )


def test_no_import_cycle(graph):
    lines = []
    for comp, imps in zip(graph.cycles(), graph.cycle_imports()):
        lines.append("cycle " + " <-> ".join(comp) + ":")
        lines += [f"  {i}" for i in imps]
    assert not lines, _report("import cycles", lines)


def test_no_upward_import(graph):
    lines = [f"{i}  ({ig.layer_of(i.module)[1]} -> {ig.layer_of(i.imported)[1]})" for i in graph.upward()]
    assert not lines, _report("upward imports (a module may import only its own layer or lower)", lines)


def test_no_private_name_crosses_modules():
    found = ig.private_imports(PACKAGE_DIR)
    assert not found, _report("private names imported by another module", found)


# --- the helper itself, on a synthetic tree ---------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "kandiscover"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return pkg


@pytest.fixture
def toy(tmp_path) -> ig.ImportGraph:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "from .discover import discover\n",
            "support/__init__.py": "",
            "support/progress.py": "",
            "kan/__init__.py": "from .network import KAN\n",
            "kan/grid.py": "from .splines import basis\n",  # cycle grid <-> splines
            "kan/splines.py": "from . import grid\n",
            "kan/network.py": (
                "from ..support.progress import bar\n"  # relative, downward
                "import kandiscover.kan.grid\n"  # absolute, same layer
                "def plot(self):\n"
                "    from ..plot import plot_kan\n"  # upward, in a function
                "    return plot_kan(self)\n"
            ),
            "symbolic/__init__.py": "",
            "symbolic/fit.py": (
                "from kandiscover.kan import KAN\n"  # absolute, downward
                "from .. import symbolic\n"
            ),  # a submodule by name
            "plot.py": "",
            "report.py": "from . import __version__\n",  # the package: upward
            "discover.py": "from .symbolic import fit\nfrom .strategies import plan\n",
            "problems/__init__.py": "",
            "problems/packs.py": (
                "import importlib\n"
                "_KNOTS = 'kandiscover.problems.knots'\n"
                "def load():\n"
                "    return importlib.import_module(_KNOTS)\n"
            ),  # by name
            "problems/knots.py": "",
            "oddity.py": "",  # in no layer
        },
    )
    return ig.read_graph(pkg)


def test_helper_names_modules_and_packages(toy):
    assert "kandiscover" in toy.files and "kandiscover.kan" in toy.files
    assert "kandiscover.kan.network" in toy.files
    assert ig.layer_of("kandiscover") == (11, "entry points")
    assert ig.layer_of("kandiscover.kan.network") == (2, "engine")
    assert ig.layer_of("kandiscover.suite_summary")[1] == "problems and suites"  # not "suite" prefix
    assert ig.layer_of("kandiscover.units.pi") == (4, "units")
    assert ig.layer_of("kandiscover.oddity") is None
    assert toy.unlayered() == ["kandiscover.oddity"]


def test_helper_resolves_relative_and_absolute_imports(toy):
    edges = toy.edges
    assert "kandiscover.support.progress" in edges["kandiscover.kan.network"]  # from ..x.y import
    assert "kandiscover.kan.grid" in edges["kandiscover.kan.network"]  # import a.b.c
    assert edges["kandiscover.kan.splines"] == {"kandiscover.kan.grid"}  # from . import mod
    assert "kandiscover.kan" in edges["kandiscover.symbolic.fit"]  # from pkg import X
    assert "kandiscover.symbolic" in edges["kandiscover.symbolic.fit"]  # from .. import sub
    assert "kandiscover.symbolic.fit" in edges["kandiscover.discover"]  # from .pkg import sub
    # parent packages initialised on the way are not edges
    assert "kandiscover" not in edges["kandiscover.kan.network"]
    assert edges["kandiscover.kan.grid"] == {"kandiscover.kan.splines"}


def test_helper_finds_an_import_inside_a_function(toy):
    assert ig.Import("kandiscover.kan.network", 4, "kandiscover.plot") in toy.imports


def test_helper_finds_an_import_by_name(toy):
    assert ig.Import("kandiscover.problems.packs", 4, "kandiscover.problems.knots") in toy.imports


def test_helper_finds_the_cycle(toy):
    assert toy.cycles() == [["kandiscover.kan.grid", "kandiscover.kan.splines"]]
    assert [str(i) for i in toy.cycle_imports()[0]] == [
        "kandiscover.kan.grid:1 -> kandiscover.kan.splines",
        "kandiscover.kan.splines:1 -> kandiscover.kan.grid",
    ]


def test_helper_finds_upward_imports(toy):
    assert [str(i) for i in toy.upward()] == [
        "kandiscover.kan.network:4 -> kandiscover.plot",
        "kandiscover.report:1 -> kandiscover",  # `from . import X` reaches the package's init
    ]


def test_helper_reports_unresolved_imports(toy):
    assert [str(i) for i in toy.unresolved] == ["kandiscover.discover:2 -> kandiscover.strategies"]


def test_helper_report_lists_every_problem(toy):
    text = "\n".join(ig.problems(toy))
    for needle in (
        "not in any layer: kandiscover.oddity",
        "unresolved import: kandiscover.discover:2 -> kandiscover.strategies",
        "cycle: kandiscover.kan.grid <-> kandiscover.kan.splines",
        "upward: kandiscover.kan.network:4 -> kandiscover.plot",
    ):
        assert needle in text


def test_helper_prints_markdown_and_mermaid(toy):
    md = ig.markdown(toy)
    assert "### 2. engine" in md and "| `kan.network` |" in md and "⚠ upward" in md
    assert "_(no module yet)_" in md  # units, model, search
    diagram = ig.mermaid(toy)
    assert diagram.startswith("```mermaid\nflowchart BT") and "L2 -.->|upward| L5" in diagram


def test_helper_finds_a_private_name_imported_by_another_module(tmp_path):
    root = _write(
        tmp_path,
        {"__init__.py": "", "a.py": "_x = 1\ny = 2\n", "b.py": "from .a import _x, y\nfrom . import a as _a\n"},
    )
    assert ig.private_imports(root) == ["kandiscover.b:1 -> kandiscover.a._x"]


def test_a_clean_tree_has_no_problem(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "from .cli import main\n",
            "cli.py": "def main():\n    from .discover import discover\n",
            "discover.py": "from .kan import KAN\n",
            "kan/__init__.py": "from .network import KAN\n",
            "kan/network.py": "",
        },
    )
    assert ig.problems(ig.read_graph(pkg)) == []
