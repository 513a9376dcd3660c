"""Plain JSON values: what every JSON writer of kandiscover (CLI, suites, ``to_dict``) emits."""

from __future__ import annotations

import math

__all__ = ["json_safe", "finite_or_none"]


def finite_or_none(value):
    """``float(value)``, or ``None`` when it is ``None``, NaN or infinite (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value):
    """Plain JSON: numpy scalars to Python, non-finite floats to None, other objects to str."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
