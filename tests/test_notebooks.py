"""The example notebooks run top to bottom without an error, and are committed without outputs.

Each notebook runs in a fresh Jupyter kernel of *this* interpreter (``sys.executable``): a private
kernelspec is written to a temporary ``JUPYTER_PATH`` entry, so neither a user-level ``python3``
kernel pointing at another Python nor a missing ``jupyter kernelspec install`` matters. Only
``pip install -e .[test]`` (nbclient, nbformat, ipykernel) is needed.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest

try:
    import ipykernel  # noqa: F401 - the kernel the notebooks run in
    import nbclient
    import nbformat
except ImportError as exc:  # a failure, not a skip: the notebooks must be checked
    raise ImportError(f"{exc}: the notebook tests need the test extra: pip install -e '.[test]'") from exc

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL_NAME = "kandiscover-tests"
CELL_TIMEOUT = 180  # seconds per cell


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", NB_DIR / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOTEBOOKS = sorted(_generator().NOTEBOOKS)


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A kernelspec for this interpreter in a private JUPYTER_PATH, plus a private IPYTHONDIR."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "share" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"kandiscover tests ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    (root / "ipython").mkdir()
    return {
        "JUPYTER_PATH": str(root / "share"),
        "IPYTHONDIR": str(root / "ipython"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_env, monkeypatch, tmp_path):
    workdir, scratch = tmp_path / "cwd", tmp_path / "tmp"
    workdir.mkdir()
    scratch.mkdir()
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TMPDIR", str(scratch))  # the notebooks' tempfile folders land under pytest's tmp_path
    nb = nbformat.read(NB_DIR / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(workdir)}}
    )
    start = time.monotonic()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{name}: a cell raised:\n{exc}", pytrace=False)
    except nbclient.exceptions.CellTimeoutError as exc:
        pytest.fail(f"{name}: a cell ran longer than {CELL_TIMEOUT} s:\n{exc}", pytrace=False)
    print(f"{name}: {time.monotonic() - start:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    stderr = "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "stream" and o.get("name") == "stderr"
    )
    assert "IProgress not found" not in stderr, "a progress bar asked for the notebook widget without ipywidgets"
    assert list(workdir.iterdir()) == [], "a notebook wrote into its working directory; use a temporary folder"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_generated_and_has_no_outputs(name):
    path = NB_DIR / name
    assert path.exists(), f"{path} is missing: run python notebooks/make_notebooks.py"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name} holds outputs: regenerate it with python notebooks/make_notebooks.py"
            )
    assert path.read_text(encoding="utf-8") == _generator().render(name), (
        f"{name} differs from what notebooks/make_notebooks.py writes: edit the script and rerun it"
    )


def test_every_notebook_file_comes_from_the_generator():
    on_disk = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
    assert on_disk == NOTEBOOKS
