"""Units and dimensional analysis (layer 4): pint units of columns, the dimension matrix,
Buckingham π groups and the dimension of a formula."""

from .analysis import Reduction, dimension_matrix, reduce_dimensions
from .consistency import dimension_of, unit_mismatch
from .parsing import Dimension, UnitError, format_dimension, parse_unit, parse_units, units_from_headers

__all__ = [
    "Dimension",
    "Reduction",
    "UnitError",
    "dimension_matrix",
    "dimension_of",
    "format_dimension",
    "parse_unit",
    "parse_units",
    "reduce_dimensions",
    "unit_mismatch",
    "units_from_headers",
]
