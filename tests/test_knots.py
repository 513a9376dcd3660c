"""The shipped knot-invariant data (problems/knots/knots.csv.gz) and its loader.

Reads the committed file only: SnapPy is not needed.
"""

import numpy as np
import pandas as pd
import pytest

from kandiscover.problems import knots

CORE = ["volume", "meridional_translation_real", "meridional_translation_imag", "longitudinal_translation", "signature"]

# Published KnotInfo values (database-knotinfo 2026.11.2) for the knots of at most 10 crossings
# that are in the shipped file, keyed by HT census name ("K" + KnotInfo's dt_name).  The
# signature is KnotInfo's, negated when the census manifold is the mirror image of KnotInfo's
# diagram: of these only K10a10 = 10_71 (KnotInfo signature 0 anyway), as found by
# ``generate.py --check-knotinfo`` (see problems/knots/README.md).  The figure-eight knot
# (K4a1 = 4_1, volume 2.0298832128) and 5_2 (K5a1, 2.8281220883) are not in the random sample.
REFERENCE = {
    # census name: (KnotInfo name, volume, signature of the census knot)
    "K6a3": ("6_1", 3.1639632288, 0),
    "K7a6": ("7_4", 5.1379412018, -2),
    "K7a3": ("7_5", 6.4435373808, -4),
    "K8a8": ("8_2", 4.9352426782, -4),
    "K8a6": ("8_7", 7.022196589, 2),
    "K8a5": ("8_12", 8.9358569274, 0),
    "K8a7": ("8_13", 8.5312322014, 0),
    "K8a12": ("8_18", 12.3509062091, 0),
    "K9a38": ("9_3", 4.9948564041, -6),
    "K9a36": ("9_5", 5.6984417509, -2),
    "K9a23": ("9_6", 7.2036007616, -6),
    "K9a22": ("9_12", 8.8366423438, -2),
    "K9a10": ("9_15", 9.8854986603, 2),
    "K9a3": ("9_19", 10.0325474478, 0),
    "K9n3": ("9_43", 5.9040858585, -4),
    "K9n5": ("9_46", 4.7517019655, 0),
    "K10a59": ("10_2", 5.1148414603, -6),
    "K10a65": ("10_7", 9.1159063956, -2),
    "K10a110": ("10_9", 8.2940996752, -2),
    "K10a33": ("10_14", 10.9376894144, -4),
    "K10a60": ("10_21", 9.6751411441, -4),
    "K10a112": ("10_22", 9.9818665178, 0),
    "K10a111": ("10_26", 11.3520175579, 0),
    "K10a5": ("10_36", 10.4761855403, -2),
    "K10a49": ("10_37", 10.9658105324, 0),
    "K10a29": ("10_38", 11.3493135472, -2),
    "K10a79": ("10_48", 10.378901449, 0),
    "K10a28": ("10_56", 12.3988021558, -4),
    "K10a10": ("10_71", 13.385228746, 0),
    "K10a4": ("10_72", 12.929594687, -4),
    "K10a27": ("10_75", 13.4307487842, 0),
    "K10a87": ("10_83", 14.2580518491, 2),
    "K10a86": ("10_85", 11.7977736599, 4),
    "K10a21": ("10_89", 15.5660589231, 2),
    "K10a106": ("10_91", 13.4870224202, 0),
    "K10a104": ("10_100", 12.8108825664, 4),
    "K10a72": ("10_105", 15.1816955046, -2),
    "K10a77": ("10_114", 15.3049043434, 0),
    "K10a99": ("10_117", 16.1254435239, 2),
    "K10a102": ("10_120", 16.2713682821, -4),
    "K10n25": ("10_141", 7.9364742292, 0),
    "K10n38": ("10_164", 12.5066879308, 0),
}


@pytest.fixture(scope="module")
def frame():
    return knots.load_frame()


def test_shipped_file_has_at_least_10000_distinct_knots(frame):
    assert len(frame) >= 10_000
    assert not frame["name"].duplicated().any()
    assert not frame["census_index"].duplicated().any()
    assert frame["name"].str.fullmatch(r"K\d+[an]\d+").all()


def test_columns(frame):
    assert tuple(frame.columns) == knots.COLUMNS
    assert set(knots.features()) <= set(frame.columns)
    assert knots.TARGET not in knots.features() and "slope" not in knots.features()


def test_core_columns_are_finite(frame):
    values = frame[CORE].to_numpy(dtype=float)
    assert np.isfinite(values).all()
    assert np.isfinite(frame[knots.features()].to_numpy(dtype=float)).mean() > 0.99


def test_signatures_are_even_integers_and_determinants_odd(frame):
    sig = frame["signature"].to_numpy()
    assert np.issubdtype(sig.dtype, np.integer)
    assert (sig % 2 == 0).all()
    assert (np.abs(sig) <= 2 * 14).all()
    assert (frame["determinant"] % 2 == 1).all()


def test_geometry_is_consistent(frame):
    assert (frame["volume"] > 2.0).all()  # the figure-eight knot (2.0299) has the smallest volume
    assert (frame["meridional_translation_imag"] > 0).all()
    assert (frame["longitudinal_translation"] > 0).all()
    # maximal cusp: volume = Im(mu) * lambda / 2
    cusp = frame["meridional_translation_imag"] * frame["longitudinal_translation"] / 2
    np.testing.assert_allclose(frame["cusp_volume"], cusp, rtol=1e-8)
    mu = frame["meridional_translation_real"].to_numpy() + 1j * frame["meridional_translation_imag"].to_numpy()
    slope = (frame["longitudinal_translation"].to_numpy() / mu).real
    np.testing.assert_allclose(frame["slope"], slope, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(frame["injectivity_radius"], frame["short_geodesic_real"] / 2, rtol=1e-8)
    assert frame["crossing_number"].between(3, 14).all()


def test_known_knots_match_published_values(frame):
    by_name = frame.set_index("name")
    present = [c for c in REFERENCE if c in by_name.index]
    assert len(present) >= 30, "the reference knots should be in the shipped file"
    for census in present:
        ki_name, volume, signature = REFERENCE[census]
        row = by_name.loc[census]
        assert row["volume"] == pytest.approx(volume, abs=2e-9), (census, ki_name)
        assert row["signature"] == signature, (census, ki_name)


def test_signature_tracks_half_the_slope(frame):
    # Davies et al. (2021) / the KAN paper: signature ~ slope / 2.
    r = np.corrcoef(frame["signature"], frame["slope"])[0, 1]
    assert r > 0.9
    fit = np.polyfit(frame["slope"], frame["signature"], 1)
    assert 0.4 < fit[0] < 0.6


def test_load_pack_signature_problem():
    pack = knots.load_pack()
    assert list(pack) == ["signature"]
    p = pack["signature"]
    assert p.name == "signature" and p.pack == "knots" and p.target == "signature"
    assert tuple(p.variables) == tuple(knots.features())
    assert p.formula is None and p.srbench is False
    assert len(p.ranges) == len(p.variables)
    a = p.sample(n=500, seed=1)
    b = p.sample(n=500, seed=1)
    assert isinstance(a, pd.DataFrame) and len(a) == 500
    assert list(a.columns) == [*p.variables, p.target]
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(p.sample(n=500, seed=2))
    assert np.isfinite(a.to_numpy(dtype=float)).all()
    full = p.sample(seed=0)
    assert len(full) == p.meta["n_rows"] >= 10_000
    noisy = p.sample(n=500, seed=1, noise=0.1)
    pd.testing.assert_frame_equal(noisy[list(p.variables)], a[list(p.variables)])
    assert not np.allclose(noisy[p.target], a[p.target])
    with pytest.raises(ValueError):
        p.sample(n=0)
    with pytest.raises(ValueError):
        p.sample(n=10, noise=-1.0)


def test_missing_file_is_a_clear_value_error(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        knots.load_frame(tmp_path / "nope.csv.gz")


def test_packs_layer_loads_knots():
    problems = pytest.importorskip("kandiscover.problems")
    if not hasattr(problems, "load"):
        pytest.skip("problems layer without load()")
    pack = problems.load("knots")
    assert "signature" in pack
    assert len(pack["signature"].sample(n=50, seed=0)) == 50
