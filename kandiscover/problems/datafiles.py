"""Where the packs' data files live: ``kandiscover/problems/data/``, inside the package.

The files ship in the wheel (``[tool.setuptools.package-data]``) and are located with
:mod:`importlib.resources`, so ``kandiscover.problems.load(...)`` works from an installed package
as well as from a source checkout. The generators under the top-level ``problems/`` folder write
here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["data_dir", "data_file", "FILES"]

FILES = {"feynman": "feynman.csv", "special": "special.json", "zoo": "zoo.csv", "knots": "knots.csv.gz"}
"""The data file of each pack, by pack name."""


def _folder() -> Path:
    return Path(str(resources.files("kandiscover.problems") / "data"))


def data_dir() -> Path:
    """The folder that holds the packs' data files (``kandiscover/problems/data``).

    Raises
    ------
    FileNotFoundError
        When the installed package has no data folder (a build that left the package data out).
    """
    path = _folder()
    if not path.is_dir():
        raise FileNotFoundError(_MISSING.format(path=path))
    return path


def data_file(pack: str, check: bool = True) -> Path:
    """The data file of ``pack`` (one of :data:`FILES`); ``check`` raises ``FileNotFoundError``
    with a message that says what to do when it is missing."""
    path = _folder() / FILES[pack]
    if check and not path.is_file():
        raise FileNotFoundError(_MISSING.format(path=path))
    return path


_MISSING = (
    "problem data file {path} not found: this installation of kandiscover was built without its "
    "package data; reinstall it from the wheel or a source checkout (or regenerate the file with the "
    "generator under problems/ in a checkout)"
)
