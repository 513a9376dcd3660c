"""KANRegressor: the scikit-learn contract, pipelines, and the formula it finds."""

import numpy as np
import pandas as pd
import pytest
import sympy

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from kandiscover.estimator import KANRegressor  # noqa: E402

a, b, x0, x1 = sympy.symbols("a b x0 x1")


@pytest.fixture
def law():
    """y = 2*a*b**2 with positive inputs: the monomial stage finds it at once."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 3, 120), "b": rng.uniform(1, 3, 120)})
    return X, 2 * X["a"] * X["b"] ** 2


def test_check_estimator_closed_form_stages():
    # ("linear", "monomial") keeps each of the ~45 fits at milliseconds and exactly reproducible,
    # which the idempotence and data-type checks require.
    results = check_estimator(KANRegressor(time_budget=5, strategies=("linear", "monomial")), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) > 40


@pytest.mark.slow
def test_check_estimator_all_stages():
    # every stage, as users get it: about 45 fits of up to 2 s each (2.5 min on a busy 2-core machine)
    check_estimator(KANRegressor(time_budget=2))


def test_fit_predict_and_sympy_on_a_monomial_law(law):
    X, y = law
    reg = KANRegressor(time_budget=10).fit(X, y)
    assert sympy.simplify(reg.sympy() - 2 * a * b**2) == 0
    np.testing.assert_allclose(reg.predict(X), y, rtol=1e-12)
    assert reg.score(X, y) > 1 - 1e-12
    assert list(reg.feature_names_in_) == ["a", "b"]
    assert reg.n_features_in_ == 2
    assert reg.discovery_.formula == reg.sympy()
    assert {"complexity", "loss", "formula", "chosen"} <= set(reg.equations_.columns)
    assert reg.equations_["chosen"].sum() == 1
    assert reg.latex() == "y = 2 a b^{2}"


def test_arrays_get_generic_names(law):
    X, y = law
    reg = KANRegressor(time_budget=10).fit(X.to_numpy(), y.to_numpy())
    assert not hasattr(reg, "feature_names_in_")
    assert sympy.simplify(reg.sympy() - 2 * x0 * x1**2) == 0


def test_non_identifier_columns_fall_back_to_generic_names(law):
    X, y = law
    reg = KANRegressor(strategies=("monomial",)).fit(X.rename(columns={"a": "mass (kg)", "b": "lambda"}), y)
    assert sympy.simplify(reg.sympy() - 2 * x0 * x1**2) == 0


def test_pipeline_and_cross_val_score(law):
    X, y = law
    scores = cross_val_score(make_pipeline(KANRegressor(time_budget=10)), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(scores > 1 - 1e-10)


def test_params_clone_and_set_params(law):
    reg = KANRegressor(time_budget=3, seed=4)
    assert clone(reg).get_params() == {
        "time_budget": 3,
        "seed": 4,
        "noise_hint": None,
        "progress": False,
        "strategies": None,
    }
    reg.set_params(strategies=("linear",), seed=1)
    assert reg.seed == 1 and reg.strategies == ("linear",)
    X, y = law
    assert reg.fit(X, y).equations_["strategy"].str.startswith("linear").all()


def test_constant_target_gives_the_constant(law):
    X, _ = law
    reg = KANRegressor().fit(X, np.full(len(X), 3.0))
    assert reg.sympy() == 3
    np.testing.assert_array_equal(reg.predict(X), 3.0)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"time_budget": 0}, "time_budget must be a positive number"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"noise_hint": -0.1}, "noise_hint must be None or a non-negative number"),
        ({"strategies": ("linear", "genetic")}, "strategies must be None or a non-empty list"),
    ],
)
def test_bad_parameters_are_named(law, params, match):
    X, y = law
    with pytest.raises(ValueError, match=match):
        KANRegressor(**params).fit(X, y)


def test_too_few_samples_and_wrong_feature_count(law):
    X, y = law
    with pytest.raises(ValueError, match=r"at least 5 samples .*2 features .*n_samples = 4"):
        KANRegressor().fit(X.head(4), y.head(4))
    reg = KANRegressor(strategies=("monomial",)).fit(X.to_numpy(), y.to_numpy())
    with pytest.raises(ValueError, match="3 features"):
        reg.predict(np.ones((4, 3)))
