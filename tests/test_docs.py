"""The documentation: the quickstart's code runs as written, and the site builds without a warning."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "docs" / "quickstart.md"


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_quickstart_code_blocks_run_in_order(tmp_path, monkeypatch):
    blocks = _python_blocks(QUICKSTART)
    assert len(blocks) >= 3, f"expected the quickstart's ```python blocks in {QUICKSTART}"
    monkeypatch.chdir(tmp_path)  # the quickstart saves files into the working directory
    namespace = {"__name__": "__quickstart__"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{QUICKSTART.name}, python block {number}", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - re-raised with the block that failed
            raise AssertionError(
                f"{QUICKSTART} python block {number} raised {type(exc).__name__}: {exc}\n--- block {number} ---\n{code}"
            ) from exc
    assert str(namespace["formula"]) == "exp(y**2 + sin(pi*x))"
    assert str(namespace["res"].formula) == "2*a*b**2"
    assert namespace["chk"].ok


def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
        pytest.fail("mkdocs is not installed: install the docs extra, pip install -e '.[docs]'", pytrace=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # mkdocs-material's end-of-life banner
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "site" / "api" / "index.html").exists()
