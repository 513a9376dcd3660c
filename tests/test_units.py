"""Units: parsing with pint, Buckingham reduction, the dimension of a formula, and discover(units=)."""

import numpy as np
import pandas as pd
import pytest
import sympy

import kandiscover as kd
from kandiscover.units import UnitError, dimension_of, parse_units, reduce_dimensions, unit_mismatch

S = sympy.Symbol


def _rows(n_rows, seed, **ranges):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n_rows) for k, (lo, hi) in ranges.items()}


def _reduce(units, inputs, target, law, **ranges):
    cols = _rows(200, 0, **ranges)
    X = np.column_stack([cols[n] for n in inputs])
    dims = parse_units(units, [*inputs, target])
    return reduce_dimensions(inputs, target, dims, X, law(**cols))


def test_ideal_gas_reduces_to_a_constant_times_its_monomial():
    red = _reduce(
        {"n": "mol", "R": "J/(mol*K)", "T": "K", "V": "m**3", "P": "Pa"},
        ["n", "R", "T", "V"],
        "P",
        lambda n, R, T, V: n * R * T / V,
        n=(1, 2),
        R=(8, 9),
        T=(250, 400),
        V=(1, 3),
    )
    assert red.groups == ()  # P·V/(n·R·T) is the one group, and it is constant
    assert sympy.simplify(red.prefactor_expr() - S("n") * S("R") * S("T") / S("V")) == 0


def test_relativistic_energy_is_m_c2_times_a_function_of_v_over_c():
    red = _reduce(
        {"m": "kg", "v": "m/s", "c": "m/s", "E": "J"},
        ["m", "v", "c"],
        "E",
        lambda m, v, c: m * c**2 / np.sqrt(1 - v**2 / c**2),
        m=(1, 5),
        v=(1, 2),
        c=(3, 10),
    )
    assert red.prefactor_expr() == S("m") * S("c") ** 2
    (group,) = red.group_exprs()
    assert group in (S("v") / S("c"), S("c") / S("v"))
    assert red.describe()[1].startswith("pi1 = ")
    law = red.lift(1 / sympy.sqrt(1 - S("pi1") ** 2)) if group == S("v") / S("c") else None
    assert law is None or sympy.simplify(law - S("m") * S("c") ** 2 / sympy.sqrt(1 - S("v") ** 2 / S("c") ** 2)) == 0


def test_no_dimensionless_group_and_a_dimensionless_input_kept_by_name():
    red = _reduce(
        {"m": "kg", "a": "m/s**2", "theta": "", "F": "N"},
        ["m", "a", "theta"],
        "F",
        lambda m, a, theta: m * a * np.cos(theta),
        m=(1, 2),
        a=(1, 2),
        theta=(0, 1),
    )
    assert red.names == ("theta",) and red.prefactor_expr() == S("a") * S("m")
    red0 = _reduce({"m": "kg", "a": "m/s**2", "F": "N"}, ["m", "a"], "F", lambda m, a: m * a, m=(1, 2), a=(1, 2))
    assert red0.groups == ()


def test_a_target_unit_no_product_of_inputs_makes_is_a_clear_error():
    with pytest.raises(UnitError, match=r"target 'E'.*no product of powers.*add the missing dimensional constant"):
        _reduce({"m": "kg", "v": "m/s", "E": "K"}, ["m", "v"], "E", lambda m, v: m * v, m=(1, 2), v=(1, 2))


def test_a_unit_pint_cannot_read_names_the_column():
    with pytest.raises(UnitError, match=r"column 'v'.*'furlongs per blorp'"):
        parse_units({"v": "furlongs per blorp", "y": "m"}, ["v", "y"])
    with pytest.raises(UnitError, match=r"column 'y' has no unit"):
        parse_units({"v": "m/s"}, ["v", "y"])


def test_dimension_of_formulas_and_the_mismatch_sentence():
    dims = parse_units({"m": "kg", "v": "m/s", "c": "m/s", "E": "J"}, ["m", "v", "c", "E"])
    assert dimension_of(S("m") * S("v") ** 2 / 2, dims) == dims["E"]
    assert unit_mismatch(S("m") * S("c") ** 2 * sympy.exp(S("v") / S("c")), dims, "E") is None
    assert unit_mismatch(S("m") * S("c"), dims, "E") == "the formula has unit kg·m/s, the target E has kg·m^2/s^2"
    assert "sum disagree" in unit_mismatch(S("m") * S("c") ** 2 + S("v"), dims, "E")
    assert "argument" in unit_mismatch(S("m") * S("c") ** 2 * sympy.sin(S("v")), dims, "E")


def test_discover_with_units_searches_the_reduced_problem():
    cols = _rows(300, 1, q1=(1, 5), q2=(1, 5), epsilon=(1, 5), r=(1, 5))
    df = pd.DataFrame(cols)
    df["F"] = df.q1 * df.q2 / (4 * np.pi * df.epsilon * df.r**2)
    units = {"q1": "C", "q2": "C", "epsilon": "F/m", "r": "m", "F": "N"}
    found = kd.discover(df, target="F", time_budget=10, progress=False, units=units)
    truth = S("q1") * S("q2") / (4 * sympy.pi * S("epsilon") * S("r") ** 2)
    assert kd.is_equivalent(found.formula, truth)
    assert any(n.startswith("units: M = ") for n in found.notes)


def test_discover_reads_units_from_headers_and_names_a_bad_one():
    cols = _rows(200, 2, m=(1, 3), v=(1, 3))
    df = pd.DataFrame({"m [kg]": cols["m"], "v [m/s]": cols["v"], "p [kg*m/s]": cols["m"] * cols["v"]})
    found = kd.discover(df, target="p", time_budget=5, progress=False)
    assert found.inputs == ["m", "v"] and sympy.simplify(found.formula - S("m") * S("v")) == 0
    df = df.rename(columns={"v [m/s]": "v [blorps]"})
    with pytest.raises(UnitError, match="column 'v'"):
        kd.discover(df, target="p", time_budget=5, progress=False)


def test_cli_discover_with_units_and_a_bad_unit(tmp_path, capsys):
    from kandiscover.cli import main

    cols = _rows(200, 3, m=(1, 3), v=(1, 3))
    path = tmp_path / "ke.csv"
    pd.DataFrame({"m": cols["m"], "v": cols["v"], "E": cols["m"] * cols["v"] ** 2 / 2}).to_csv(path, index=False)
    assert main(["discover", str(path), "--target", "E", "--units", "m=kg,v=m/s,E=J", "--time-budget", "5", "-q"]) == 0
    assert "E = m*v**2/2" in capsys.readouterr().out
    assert main(["discover", str(path), "--target", "E", "--units", "m=kg,v=m/s,E=K", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "target 'E' has unit 'K'" in err[0]


def test_suite_with_units_records_the_setting(tmp_path):
    from kandiscover.suite import run_suite

    summary = run_suite("feynman", tmp_path, problems=["I.12.2"], time_budget=5, n=200, units=True, progress=False)
    text = summary.read_text()
    assert "With units (dimensional analysis)." in text and "QDSR (with units)" in text
    with pytest.raises(ValueError, match="units=True"):
        run_suite("feynman", tmp_path, problems=["I.12.2"], time_budget=5, n=200, units=False, progress=False)


def test_a_dimensional_constant_makes_the_pendulum_possible():
    L = np.random.default_rng(4).uniform(0.2, 2, 40)
    df = pd.DataFrame({"L": L, "T": 2 * np.pi * np.sqrt(L / 9.81)})
    with pytest.raises(UnitError, match="no product of powers"):
        kd.discover(df, target="T", units={"L": "m", "T": "s"}, time_budget=5, progress=False)
    found = kd.discover(df, target="T", units={"L": "m", "T": "s", "g": "9.81 m/s**2"}, time_budget=10, progress=False)
    assert found.inputs == ["L"]
    assert kd.is_equivalent(found.formula, 2 * sympy.pi * sympy.sqrt(S("L") / 9.81))
    law = [n for n in found.notes if "law in the dimensional constants" in n]
    assert law and "T = 2*pi*sqrt(L)/sqrt(g)" in law[0] and "g = 9.81 m / s ** 2" in law[0]
    assert np.allclose(found.predict(df), df["T"])


def test_the_units_guide_runs_as_written():
    import re
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "docs" / "guide" / "units.md"
    blocks = re.findall(r"^```python\n(.*?)^```", guide.read_text(encoding="utf-8"), flags=re.S | re.M)
    namespace: dict = {}
    for code in blocks[1:]:  # the first block is the one-line summary
        exec(compile(code, str(guide), "exec"), namespace)  # noqa: S102 - our own documentation
    assert str(namespace["res"].formula) == "8.314*T*n/V"


def test_verify_names_the_unit_mismatch_of_a_wrong_formula(tmp_path, capsys):
    import json

    from kandiscover.cli import main

    cols = _rows(200, 5, m=(1, 3), c=(1, 3))
    df = pd.DataFrame({"m": cols["m"], "c": cols["c"], "E": cols["m"] * cols["c"] ** 2})
    units = {"m": "kg", "c": "m/s", "E": "J"}
    wrong = kd.verify("m*c", df, target="E", units=units)
    assert not wrong.ok and wrong.unit_mismatch == "the formula has unit kg·m/s, the target E has kg·m^2/s^2"
    right = kd.verify("m*c**2", df, target="E", units=units)
    assert right.ok and right.unit_mismatch is None
    # the formula fits but adds a length to an energy: not a law
    df["E2"] = df["E"] + df["c"]
    bad_sum = kd.verify("m*c**2 + c", df[["m", "c", "E2"]], target="E2", units={"m": "kg", "c": "m/s", "E2": "J"})
    assert bad_sum.r2 > 0.999999 and not bad_sum.ok and "sum disagree" in bad_sum.unit_mismatch
    path = tmp_path / "e.csv"
    df[["m", "c", "E"]].to_csv(path, index=False)
    code = main(["verify", str(path), "--target", "E", "--formula", "m*c", "--units", "m=kg,c=m/s,E=J", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["ok"] is False and "kg·m/s" in payload["unit_mismatch"]


def test_a_mistyped_unit_the_data_refutes_gives_the_fitting_law_and_says_so():
    # R typed as a resistivity (ohm·m): the only consistent laws are C·V·L/R, which the data,
    # made by Ohm's law with L unrelated, refutes
    cols = _rows(300, 2, V=(1, 5), R=(1, 5), L=(1, 5))
    df = pd.DataFrame(cols)
    df["I"] = df.V / df.R
    units = {"V": "V", "R": "ohm*m", "L": "m", "I": "A"}
    found = kd.discover(df, target="I", time_budget=10, progress=False, units=units)
    assert kd.is_equivalent(found.formula, S("V") / S("R"))
    assert any("no dimensionally consistent formula fits" in n for n in found.notes)
    assert unit_mismatch(found.formula, parse_units(units, list(units)), "I") is not None


def test_logarithms_of_dimensional_quantities_count_together():
    units = {"T": "K", "kb": "J/K", "n": "", "V1": "m^3", "V2": "m^3", "E": "J"}
    dims = parse_units(units, list(units))
    T, kb, n, V1, V2 = (S(k) for k in ("T", "kb", "n", "V1", "V2"))
    assert unit_mismatch(T * kb * n * (sympy.log(V2) - sympy.log(V1)), dims, "E") is None
    assert unit_mismatch(T * kb * n * sympy.log(V2) - T * kb * n * sympy.log(V1), dims, "E") is None
    assert "do not combine" in unit_mismatch(T * kb * (2 * sympy.log(V2) - sympy.log(V1)), dims, "E")
    assert "argument V2 of log" in unit_mismatch(T * kb * n * sympy.log(V2), dims, "E")
