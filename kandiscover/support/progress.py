"""Progress bars: tqdm's notebook widget where it can be drawn, the text bar elsewhere.

``tqdm.auto`` picks the widget in any Jupyter kernel and, when ``ipywidgets`` is missing, warns
("IProgress not found") on every bar before falling back to text. Asking for the widget only
when ``ipywidgets`` imports gives the same bars without the warning.
"""

from __future__ import annotations

import functools

__all__ = ["progress_bar"]


@functools.lru_cache(maxsize=1)
def _tqdm_class():
    try:
        import ipywidgets  # noqa: F401  (only to learn whether the widget can be drawn)
    except ImportError:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


def progress_bar(*args, **kwargs):
    """A ``tqdm`` bar (same arguments); see the module docstring for which kind."""
    return _tqdm_class()(*args, **kwargs)
