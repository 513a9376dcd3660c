"""Safe parsing of user formulas into sympy expressions.

Formulas typed by users (command line, CSV metadata, notebooks) are untrusted text. They are
parsed with Python's :mod:`ast` module and converted node by node into sympy objects; only a
whitelisted grammar is accepted and the text is never handed to ``eval``, ``exec``,
``sympify`` or ``parse_expr``.

Accepted grammar
----------------
* integer and float literals (``3``, ``2.5``, ``1e-3``); ``1/3`` stays the exact rational 1/3;
* names: variables, and the constants ``pi`` and ``e`` (Euler's number). A variable is matched
  as typed: Python folds identifiers to NFKC (``µ`` micro sign -> ``μ`` mu, ``ℌ`` -> ``H``), so
  the spelling is read back from the text, and the folded name is only a fallback;
* binary ``+ - * / **`` (``^`` is accepted as a synonym of ``**``), unary ``+`` and ``-``;
* parentheses and calls of the functions in :data:`FUNCTIONS` (positional arguments only).

Everything else raises :class:`ValueError` with a one-line message naming the offending token and
its (1-based) character position in the input.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import sympy

__all__ = ["parse_formula", "FUNCTIONS", "CONSTANTS", "MAX_LENGTH", "MAX_DEPTH"]

#: Longest accepted formula, in characters.
MAX_LENGTH = 10_000
#: Deepest accepted nesting (parentheses, calls, unary operators, powers).
MAX_DEPTH = 100
#: Largest exact integer or rational (numerator, denominator) accepted as a literal, as a power
#: or as a function argument, in bits: sympy factors big integers (``sqrt(10**4000)`` takes
#: seconds) and ``9**9**9`` would not fit in memory.
_MAX_BITS = 2048

#: Whitelisted functions: name in the formula -> sympy callable. Aliases share a callable.
FUNCTIONS: Mapping[str, Callable] = MappingProxyType(
    {
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "cot": sympy.cot,
        "sec": sympy.sec,
        "csc": sympy.csc,
        "asin": sympy.asin,
        "arcsin": sympy.asin,
        "acos": sympy.acos,
        "arccos": sympy.acos,
        "atan": sympy.atan,
        "arctan": sympy.atan,
        "atan2": sympy.atan2,
        "arctan2": sympy.atan2,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "tanh": sympy.tanh,
        "asinh": sympy.asinh,
        "arcsinh": sympy.asinh,
        "acosh": sympy.acosh,
        "arccosh": sympy.acosh,
        "atanh": sympy.atanh,
        "arctanh": sympy.atanh,
        "exp": sympy.exp,
        "log": sympy.log,
        "ln": sympy.log,
        "sqrt": sympy.sqrt,
        "cbrt": sympy.cbrt,
        "abs": sympy.Abs,
        "Abs": sympy.Abs,
        "sign": sympy.sign,
        "sgn": sympy.sign,
        "gamma": sympy.gamma,
        "erf": sympy.erf,
        "erfc": sympy.erfc,
    }
)

#: Accepted numbers of positional arguments; functions not listed take exactly one.
_ARITY: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "atan2": (2,),
        "arctan2": (2,),
        "log": (1, 2),
        "ln": (1, 2),
    }
)

#: Named constants. A variable of the same name (listed in ``variables``) takes precedence.
CONSTANTS: Mapping[str, sympy.Expr] = MappingProxyType({"pi": sympy.pi, "e": sympy.E})

_FORBIDDEN = MappingProxyType(
    {  # node type -> what to call it in the error message
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.ListComp: "comprehension",
        ast.SetComp: "comprehension",
        ast.DictComp: "comprehension",
        ast.GeneratorExp: "comprehension",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean operator",
        ast.IfExp: "conditional expression",
        ast.Starred: "starred argument",
        ast.List: "list",
        ast.Tuple: "tuple",
        ast.Dict: "dict",
        ast.Set: "set",
        ast.NamedExpr: "assignment",
        ast.JoinedStr: "f-string",
        ast.Slice: "slice",
        ast.Await: "await",
    }
)
_BINOPS = frozenset({ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow})


def _one_line(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _listing(names: Iterable[str], limit: int = 25) -> str:
    names = sorted(names)
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more if names else "(none)"


class _Converter:
    """Turns a whitelisted :mod:`ast` tree into sympy; one instance per call (no shared state)."""

    def __init__(self, text, source, positions, symbols, functions):
        self.text, self.source, self.positions = text, source, positions
        self.symbols, self.functions = symbols, functions

    # -- error reporting ---------------------------------------------------------------------
    def index(self, lineno: int, col: int, *, byte_col: bool = True) -> int:
        """0-based position in the original text of (1-based line, column) of the parsed source.

        ``col`` is a UTF-8 byte offset for ast nodes and a character offset for syntax errors.
        """
        lines = self.source.split("\n")
        lineno = min(max(lineno, 1), len(lines))
        line = lines[lineno - 1]
        if byte_col:
            col = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        index = sum(len(ln) + 1 for ln in lines[: lineno - 1]) + col
        return self.positions[min(max(index, 0), len(self.positions) - 1)]

    def fail(self, node: ast.AST, what: str) -> ValueError:
        start = self.index(node.lineno, node.col_offset)
        end = self.index(node.end_lineno, max(node.end_col_offset - 1, 0)) + 1
        return ValueError(
            f"{what} {_one_line(self.text[start:end])} at position {start + 1} is not allowed in a formula"
        )

    def _underscore(self, node: ast.AST, name: str) -> ValueError:
        return ValueError(
            f"name {name!r} {self.where(node)} is not allowed in a formula (names starting with '_' are reserved)"
        )

    def where(self, node: ast.AST) -> str:
        return f"at position {self.index(node.lineno, node.col_offset) + 1}"

    def spelling(self, node: ast.Name) -> str:
        """The name as typed; ``node.id`` is its NFKC folding (``µ`` micro sign -> ``μ`` mu)."""
        start = self.index(node.lineno, node.col_offset)
        typed = self.text[start : self.index(node.end_lineno, node.end_col_offset)]
        return typed if typed.isidentifier() else node.id

    # -- conversion --------------------------------------------------------------------------
    def convert(self, node: ast.AST, depth: int = 0) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise ValueError(f"formula is nested more than {MAX_DEPTH} levels deep {self.where(node)}")
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.convert(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, depth + 1)
            raise self.fail(node, "unary operator")
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        what = next((v for k, v in _FORBIDDEN.items() if isinstance(node, k)), "syntax")
        raise self.fail(node, what)

    def _constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if type(value) is int:
            if value.bit_length() > _MAX_BITS:
                raise self.fail(node, f"number of more than {_MAX_BITS} bits")
            return sympy.Integer(value)
        if type(value) is float:
            if value != value or value in (float("inf"), float("-inf")):
                raise self.fail(node, "non-finite number")
            return sympy.Float(value)
        kind = {str: "string literal", bytes: "bytes literal", complex: "complex number"}.get(type(value), "constant")
        raise self.fail(node, kind)

    def _name(self, node: ast.Name) -> sympy.Expr:
        name, typed = node.id, self.spelling(node)
        if name.startswith("_") or typed.startswith("_"):
            raise self._underscore(node, typed)
        if self.symbols is not None:
            for key in (typed, name):
                if key in self.symbols:
                    return self.symbols[key]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.functions:
            raise ValueError(
                f"function {name!r} {self.where(node)} is used without arguments; "
                f"call it as {name}(...) or list {name!r} in variables"
            )
        if self.symbols is not None:
            raise ValueError(
                f"unknown variable {typed!r} {self.where(node)}; allowed variables: {_listing(self.symbols)}"
            )
        return sympy.Symbol(typed)

    def _binop(self, node: ast.BinOp, depth: int) -> sympy.Expr:
        op = type(node.op)
        if op not in _BINOPS:
            raise self.fail(node, "operator")
        if op is ast.Pow:
            base = self.convert(node.left, depth + 1)
            return self._power(base, self.convert(node.right, depth + 1), node)
        # Walk the left spine of a same-precedence chain (a + b - c + ...) iteratively, so long
        # sums and products neither recurse deeply nor cost a quadratic number of sympy ops.
        family = (ast.Add, ast.Sub) if op in (ast.Add, ast.Sub) else (ast.Mult, ast.Div)
        if op not in family:
            raise self.fail(node, "operator")
        chain = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, family):
            chain.append((type(node.op), node.right))
            node = node.left
        terms = [self.convert(node, depth + 1)]
        for kind, right in reversed(chain):
            term = self.convert(right, depth + 1)
            if kind is ast.Sub:
                term = -term
            elif kind is ast.Div:
                term = sympy.Pow(term, -1)
            terms.append(term)
        return sympy.Add(*terms) if family[0] is ast.Add else sympy.Mul(*terms)

    def _check_size(self, exprs: Iterable[sympy.Expr], node: ast.AST) -> None:
        for expr in exprs:
            for number in expr.atoms(sympy.Rational):
                if max(number.p.bit_length(), number.q.bit_length()) > _MAX_BITS:
                    raise ValueError(
                        f"number {self.where(node)} is too large (more than {_MAX_BITS} bits) in {_one_line(self.text)}"
                    )

    def _power(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.AST) -> sympy.Expr:
        self._check_size((base, exponent), node)
        if base.is_Rational and exponent.is_Rational and abs(base) not in (0, 1):
            bits = math.log2(max(abs(base.p), base.q)) * abs(float(exponent))
            if bits > _MAX_BITS:
                raise ValueError(f"power {self.where(node)} is too large to evaluate exactly in {_one_line(self.text)}")
        return sympy.Pow(base, exponent)

    def _call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node.func, _FORBIDDEN.get(type(node.func), "call of a non-function"))
        name, typed = node.func.id, self.spelling(node.func)
        if name.startswith("_") or typed.startswith("_"):
            raise self._underscore(node.func, typed)
        if self.symbols is not None and (typed in self.symbols or name in self.symbols):
            raise ValueError(f"{typed!r} {self.where(node)} is a variable and cannot be called")
        if name not in self.functions:
            raise ValueError(
                f"unknown function {typed!r} {self.where(node)}; allowed functions: {_listing(self.functions)}"
            )
        if node.keywords:
            raise self.fail(node, "keyword argument in call")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(arg, "starred argument")
        arity = _ARITY.get(name, (1,)) if name in FUNCTIONS and self.functions[name] is FUNCTIONS[name] else None
        if arity is not None and len(node.args) not in arity:
            want = " or ".join(map(str, arity))
            raise ValueError(
                f"function {name!r} {self.where(node)} takes {want} argument"
                f"{'s' if arity != (1,) else ''}, got {len(node.args)}"
            )
        args = [self.convert(a, depth + 1) for a in node.args]
        self._check_size(args, node)
        func = self.functions[name]
        try:
            if func is sympy.gamma and args[0].is_Rational and abs(args[0]) > 1000:
                return sympy.gamma(args[0], evaluate=False)  # don't compute a huge factorial
            result = func(*args)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ValueError(
                f"cannot apply function {name!r} {self.where(node)}: {' '.join(str(exc).split())}"
            ) from None
        if not isinstance(result, sympy.Expr):
            raise ValueError(f"function {name!r} {self.where(node)} did not return a sympy expression")
        return result


def _symbol_table(variables) -> dict[str, sympy.Symbol] | None:
    if variables is None:
        return None
    if isinstance(variables, str):
        raise TypeError("variables must be an iterable of names or a dict name -> sympy.Symbol, not a single string")
    if isinstance(variables, Mapping):
        table = dict(variables)
        for name, sym in table.items():
            if not isinstance(name, str) or not isinstance(sym, sympy.Symbol):
                raise TypeError(f"variables must map str to sympy.Symbol; got {name!r}: {sym!r}")
        return table
    table = {}
    for name in variables:
        if isinstance(name, sympy.Symbol):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"variable names must be strings or sympy.Symbol, got {name!r}")
        table[name] = sympy.Symbol(name)
    return table


def _function_table(functions) -> dict[str, Callable]:
    table = dict(FUNCTIONS)
    for name, func in (functions or {}).items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"functions: {name!r} is not a valid function name")
        if not callable(func):
            raise TypeError(f"functions[{name!r}] must be callable, got {type(func).__name__}")
        table[name] = func
    return table


def parse_formula(text: str, variables=None, *, functions=None) -> sympy.Expr:
    """Parse an untrusted formula string into a sympy expression.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"exp(y^2 + sin(pi*x))"``. At most :data:`MAX_LENGTH` characters.
    variables : iterable of str, or dict of str -> sympy.Symbol, optional
        Allowed variable names. Any other name raises :class:`ValueError` naming it. A listed
        variable takes precedence over a function or constant of the same name (so columns
        called ``gamma``, ``beta``, ``E``, ``I`` or ``e`` work). When ``None``, every identifier
        that is not a function or constant becomes ``sympy.Symbol(name)``.
    functions : dict of str -> callable, optional
        Extra (or overriding) functions, name -> sympy callable returning a sympy expression.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        For anything outside the whitelisted grammar (attribute access, subscripts, strings,
        comparisons, keyword arguments, unknown names or functions, wrong arity, syntax
        errors, empty, too long or too deeply nested input, division by zero). The message is
        one line naming the offending token and its position.
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> parse_formula("x^2 + ln(y)")
    x**2 + log(y)
    """
    if not isinstance(text, str):
        raise TypeError(f"formula must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.strip():
        raise ValueError("formula is empty")
    if "\x00" in text:
        raise ValueError("formula contains a null character")
    symbols, funcs = _symbol_table(variables), _function_table(functions)

    parts, positions, level = [], [], 0
    for i, ch in enumerate(text):  # '^' -> '**', keeping a map back to original positions
        parts.append("**" if ch == "^" else ch)
        positions.extend((i, i) if ch == "^" else (i,))
        if ch == "#":
            raise ValueError(f"comments ('#') are not allowed in a formula (position {i + 1})")
        level += ch in "([{"
        level -= ch in ")]}"
        if level > MAX_DEPTH:
            raise ValueError(f"formula is nested more than {MAX_DEPTH} levels deep at position {i + 1}")
    source = "".join(parts)
    positions.append(len(text))
    lead = len(source) - len(source.lstrip())  # eval mode rejects leading indentation
    source, positions = source[lead:], positions[lead:]
    converter = _Converter(text, source, positions, symbols, funcs)
    try:
        with warnings.catch_warnings():  # '1and x' warns "invalid decimal literal" on stderr;
            warnings.simplefilter("ignore", SyntaxWarning)  # it is rejected with one message below
            tree = ast.parse(source, mode="eval")
        expr = converter.convert(tree.body)
    except SyntaxError as exc:
        pos = converter.index(exc.lineno or 1, (exc.offset or 1) - 1, byte_col=False) + 1
        raise ValueError(
            f"invalid formula syntax at position {min(pos, len(text))}: "
            f"{' '.join(str(exc.msg).split())} in {_one_line(text)}"
        ) from None
    except (RecursionError, MemoryError):
        raise ValueError(f"formula is too long or nested too deeply to parse ({_one_line(text)})") from None
    except ValueError as exc:  # ours are one line already; sympy's may not be
        raise ValueError(" ".join(str(exc).split())) from None
    except (TypeError, ArithmeticError, AttributeError) as exc:  # sympy failing on odd input
        raise ValueError(f"cannot build formula {_one_line(text)}: {' '.join(str(exc).split())}") from None
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ValueError(f"formula is not finite (division by zero?): {_one_line(text)}")
    return expr
