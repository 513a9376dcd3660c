"""From trained edges to exact formulas: library, edge fitting, assembly, constants, checks.

Modules: ``library`` (primitives), ``fit`` (affine edge fit), ``auto`` (suggest/fix/auto on a KAN),
``assemble`` (sympy formula of a KAN), ``refit`` (constant refit, snapping, simplification),
``equivalence`` (SRBench rule), ``parse`` (safe formula parser), ``export`` (numpy/torch/LaTeX),
``evaluate`` (the one formula runtime: compiling, the evaluation rule, the constant fitter),
``complexity`` (node count of a formula).
"""

from .assemble import symbolic_formula
from .auto import EdgeReport, auto_symbolic, fix_symbolic, suggest_symbolic
from .complexity import complexity
from .equivalence import is_equivalent, round_constants
from .evaluate import ConstantFit, compile_formula, formula_mse, formula_predictions
from .export import to_latex, to_numpy, to_torch
from .fit import EdgeFit, fit_affine
from .library import Library, Primitive, default_library
from .parse import parse_formula
from .refit import polish, refit_constants, simplify_timed, snap_constants

__all__ = [
    "ConstantFit",
    "EdgeFit",
    "EdgeReport",
    "Library",
    "Primitive",
    "auto_symbolic",
    "compile_formula",
    "complexity",
    "default_library",
    "fit_affine",
    "fix_symbolic",
    "formula_mse",
    "formula_predictions",
    "is_equivalent",
    "parse_formula",
    "polish",
    "refit_constants",
    "round_constants",
    "simplify_timed",
    "snap_constants",
    "suggest_symbolic",
    "symbolic_formula",
    "to_latex",
    "to_numpy",
    "to_torch",
]
