import pytest
import sympy

from kandiscover.symbolic.parse import FUNCTIONS, MAX_LENGTH, parse_formula

x, y, z = sympy.symbols("x y z")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("exp(y**2 + sin(pi*x))", sympy.exp(y**2 + sympy.sin(sympy.pi * x))),
        ("x^2 + y^-1", x**2 + 1 / y),
        ("2^3^2", sympy.Integer(2**9)),  # right-associative like **
        ("-x**2", -(x**2)),
        ("+x - -y", x + y),
        ("1/3*x", sympy.Rational(1, 3) * x),
        ("x / y / z", x / (y * z)),
        ("2.5e-3 * x + 1E2", sympy.Float("2.5e-3") * x + sympy.Float(100.0)),
        ("ln(x) + arcsin(y) + arctan(z)", sympy.log(x) + sympy.asin(y) + sympy.atan(z)),
        ("abs(x) + sgn(y) + sqrt(z)", sympy.Abs(x) + sympy.sign(y) + sympy.sqrt(z)),
        ("e**x * pi", sympy.exp(x) * sympy.pi),
        ("log(x, 10)", sympy.log(x, 10)),
        ("atan2(y, x)", sympy.atan2(y, x)),
        ("  (x\n + y)  ", x + y),
        ("+".join(["x"] * 500), 500 * x),
    ],
)
def test_valid_formulas_parse_to_sympy(text, expected):
    result = parse_formula(text)
    assert result == expected
    assert sympy.simplify(result - expected) == 0


def test_variables_take_precedence_over_functions_and_constants():
    names = ["gamma", "beta", "E", "S", "N", "I", "Q", "e", "pi"]
    result = parse_formula("gamma*beta + E + S + N + I + Q + e + pi", variables=names)
    symbols = [sympy.Symbol(n) for n in names]
    assert result == symbols[0] * symbols[1] + sum(symbols[2:])
    assert result.free_symbols == set(symbols)


def test_variables_dict_uses_given_symbols():
    xp = sympy.Symbol("x", positive=True)
    assert parse_formula("sqrt(x**2)", {"x": xp}) == xp


def test_unknown_variable_is_named_with_allowed_ones():
    with pytest.raises(ValueError) as info:
        parse_formula("x + zeta", variables=["x", "y"])
    message = str(info.value)
    assert "'zeta'" in message and "x, y" in message and "\n" not in message


def test_without_variables_any_name_is_a_plain_symbol():
    result = parse_formula("m*c**2 + theta1")
    assert result == sympy.Symbol("m") * sympy.Symbol("c") ** 2 + sympy.Symbol("theta1")
    assert sympy.Symbol("E") in parse_formula("E*x").free_symbols


def test_extra_functions():
    f = sympy.Function("f")
    assert parse_formula("f(x) + 1", functions={"f": f}) == f(x) + 1
    with pytest.raises(ValueError, match="'_f'"):
        parse_formula("x", functions={"_f": f})


def test_function_table_is_frozen():
    with pytest.raises(TypeError):
        FUNCTIONS["system"] = print  # type: ignore[index]


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError, match="str"):
        parse_formula(x)


BAD = [
    ("__import__('os').system('x')", "attribute"),
    ("__import__('os')", "__import__"),
    ("x.__class__", "attribute"),
    ("lambda: 1", "lambda"),
    ("[x for x in y]", "comprehension"),
    ('"abc"', "string"),
    ("b'abc'", "bytes"),
    ("x[0]", "subscript"),
    ("f(x)", "'f'"),
    ("sin(x, y)", "sin"),
    ("sin()", "sin"),
    ("open('f')", "'open'"),
    ("exec('1')", "'exec'"),
    ("eval('1')", "'eval'"),
    ("x if y else z", "conditional"),
    ("x == y", "comparison"),
    ("x < y", "comparison"),
    ("x and y", "boolean"),
    ("not x", "unary"),
    ("~x", "unary"),
    ("x // y", "operator"),
    ("x % y", "operator"),
    ("x @ y", "operator"),
    ("1 +", "syntax"),
    ("2x", "syntax"),
    ("x = 1", "syntax"),
    ("", "empty"),
    ("   ", "empty"),
    ("x" * (MAX_LENGTH + 1), "too long"),
    ("(" * 500 + "x" + ")" * 500, "nested"),
    ("-" * 5000 + "x", "nested"),
    ("sin(x=1)", "keyword"),
    ("sin(**d)", "keyword"),
    ("*x", "syntax"),
    ("sin(*x)", "starred"),
    ("(x, y)", "tuple"),
    ("{x: 1}", "dict"),
    ("(x := 1)", "assignment"),
    ("f'{x}'", "f-string"),
    ("1j", "complex"),
    ("True", "constant"),
    ("None", "constant"),
    ("_x + 1", "'_x'"),
    ("sin", "without arguments"),
    ("x(1)", "'x'"),
    ("9**9**9", "too large"),
    ("2**3000 * x", "too large"),
    ("sqrt(" + "9" * 700 + ")", "bits"),
    ("1/0", "not finite"),
    ("x # comment", "comment"),
    ("x\x00", "null"),
    ("x $ y", "syntax"),
]


@pytest.mark.parametrize("text, hint", BAD, ids=[repr(t[:30]) for t, _ in BAD])
def test_malicious_or_malformed_input_is_rejected(text, hint):
    variables = ["x", "y"] if text == "x(1)" else None
    with pytest.raises(ValueError) as info:
        parse_formula(text, variables)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    assert hint.lower() in message.lower()


def test_error_names_position_of_offending_token():
    with pytest.raises(ValueError, match="position 5"):
        parse_formula("x + y.real")
    with pytest.raises(ValueError, match=r"position 7"):  # '^' maps back to the original text
        parse_formula("x^2 + foo(x)")
