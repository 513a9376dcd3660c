"""Bad inputs get one clear error (naming the column and the fix) through prepare() and discover()."""

import numpy as np
import pandas as pd
import pytest

from kandiscover.data import DataError, prepare, read_csv, split_rows
from kandiscover.support.params import ParameterError
from kandiscover.discover import discover


@pytest.fixture
def law():
    """y = 2*a*b**2 on positive inputs (found by the monomial strategy in well under a second)."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.uniform(1, 3, 60), "b": rng.uniform(1, 3, 60)})
    df["y"] = 2 * df["a"] * df["b"] ** 2
    return df


def run_prepare(df, **kw):
    return prepare(df, "y", **kw)


def run_discover(df, **kw):
    return discover(df, "y", time_budget=5, progress=False, **kw)


API = pytest.mark.parametrize("call", [run_prepare, run_discover], ids=["prepare", "discover"])


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


@API
def test_missing_target_column_lists_the_columns(law, call):
    with pytest.raises(DataError, match=r"target column 'y' not found; columns are \['a', 'b', 'z'\]"):
        call(law.rename(columns={"y": "z"}))


def test_missing_input_column(law):
    with pytest.raises(DataError, match=r"input columns \['c'\] not found"):
        prepare(law, "y", ["a", "c"])


def test_no_target_given():
    df = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 2})
    with pytest.raises(DataError, match="no target given: pass target="):
        prepare(df)


@API
def test_text_column_is_named_with_examples(law, call):
    law["label"] = ["p", "q"] * 30
    expected = r"column 'label' is not numeric \(e\.g\. \['p', 'q', 'p'\]\); convert or drop it"
    with pytest.raises(DataError, match=expected):
        call(law)


@API
def test_nan_and_inf_cells_give_count_columns_and_first_rows(law, call):
    law.loc[3, "a"] = np.nan
    law.loc[7, "b"] = np.inf
    with pytest.raises(DataError) as info:
        call(law)
    msg = str(info.value)
    assert msg.startswith("2 rows hold NaN or inf")
    assert "['a', 'b']" in msg and "first rows [3, 7]" in msg
    assert "drop_invalid=True" in msg
    assert "\n" not in msg


def test_drop_invalid_drops_rows_and_says_how_many(law):
    law.loc[[3, 7, 11], "a"] = np.nan
    table = prepare(law, "y", drop_invalid=True)
    assert table.X.shape == (57, 2)
    assert table.notes == ["dropped 3 rows with NaN or inf"]


def test_drop_invalid_through_discover_keeps_the_note_and_finds_the_law(law):
    law.loc[[3, 7], "b"] = -np.inf
    res = run_discover(law, drop_invalid=True)
    assert "dropped 2 rows with NaN or inf" in res.notes
    assert str(res.formula) == "2*a*b**2"


@API
def test_constant_column_is_dropped_with_a_note(law, call):
    law["c"] = 3.0
    out = call(law)
    assert out.inputs == ["a", "b"]
    assert "dropped constant columns ['c']" in out.notes


def test_constant_column_discover_still_finds_the_law(law):
    law["c"] = 3.0
    assert str(run_discover(law).formula) == "2*a*b**2"


def test_all_inputs_constant():
    df = pd.DataFrame({"a": np.ones(20), "y": np.arange(20.0)})
    with pytest.raises(DataError, match=r"every input column is constant \(\['a'\]\)"):
        prepare(df, "y")


@API
def test_too_few_rows_for_the_inputs(law, call):
    # two inputs need max(5, 2 + 3) = 5 rows
    with pytest.raises(DataError, match=r"^only 4 usable rows; 2 inputs need at least 5 rows") as info:
        call(law.head(4))
    assert "\n" not in str(info.value)
    law["c"] = np.arange(60.0)  # three inputs need 6
    with pytest.raises(DataError, match=r"only 5 usable rows; 3 inputs need at least 6 rows"):
        call(law.head(5))


def test_too_few_rows_after_dropping_invalid(law):
    law.loc[4:, "a"] = np.nan
    with pytest.raises(DataError, match="only 4 usable rows"):
        prepare(law, "y", drop_invalid=True)


@API
def test_duplicate_column_names(law, call):
    dup = pd.concat([law, law[["a"]]], axis=1)
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]: rename them"):
        call(dup)


@API
def test_constant_target(law, call):
    law["y"] = 4.0
    with pytest.raises(DataError, match="target 'y' is constant \\(4\\); there is nothing to explain"):
        call(law)


def test_target_listed_as_input(law):
    with pytest.raises(DataError, match="also listed as an input"):
        prepare(law, "y", ["a", "y"])


def test_arrays_with_names(law):
    table = prepare((law[["a", "b"]].to_numpy(), law["y"].to_numpy()), names=["a", "b"])
    assert table.inputs == ["a", "b"] and table.target == "y"
    np.testing.assert_array_equal(table.y, law["y"].to_numpy())


def test_arrays_with_wrong_names_or_lengths(law):
    X, y = law[["a", "b"]].to_numpy(), law["y"].to_numpy()
    with pytest.raises(DataError, match="names has 1 entries but X has 2 columns"):
        prepare((X, y), names=["a"])
    with pytest.raises(DataError, match="X has 60 rows but y has 59"):
        prepare((X, y[:-1]))


def test_unsupported_data_type():
    with pytest.raises(DataError, match="data must be a pandas DataFrame or a tuple"):
        prepare([[1, 2], [3, 4]], "y")


def test_bad_time_budget_and_noise_hint(law):
    with pytest.raises(ParameterError, match="time_budget must be a positive number"):
        discover(law, "y", time_budget=0)
    with pytest.raises(ParameterError, match="noise_hint must be a non-negative number"):
        discover(law, "y", noise_hint=-1)


# ------------------------------------------------------------------------------ files


def test_read_csv_round_trip(tmp_path, law):
    path = tmp_path / "law.csv"
    law.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_csv(path), law)


def test_read_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_csv(tmp_path / "nope.csv")


def test_read_csv_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty: give a CSV file with a header row"):
        read_csv(path)


def test_read_csv_unparsable_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match="could not be read as CSV .*check the delimiter and quoting"):
        read_csv(path)


def test_read_csv_binary_file(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\x82" * 50)
    with pytest.raises(DataError, match="could not be read as CSV"):
        read_csv(path)


def test_read_csv_duplicate_header(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,a,y\n" + "".join(f"{i},{i + 1},{i * 2}\n" for i in range(12)))
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]; rename them"):
        read_csv(path)


def test_split_rows_is_seeded_and_disjoint():
    tr, va, te = split_rows(100, seed=3)
    again = split_rows(100, seed=3)
    assert all(np.array_equal(u, v) for u, v in zip((tr, va, te), again))
    assert (len(tr), len(va), len(te)) == (60, 20, 20)
    assert len(np.union1d(np.union1d(tr, va), te)) == 100


def test_array_input_named_like_the_target_is_rejected(law):
    X, y = law[["a", "b"]].to_numpy(), law["y"].to_numpy()
    with pytest.raises(DataError, match="named like the target"):
        prepare((X, y), names=["y", "b"])


def test_inputs_as_a_string_or_with_repeats_is_rejected(law):
    with pytest.raises(DataError, match="list of column names"):
        prepare(law, "y", inputs="ab")
    with pytest.raises(DataError, match="twice"):
        prepare(law, "y", inputs=["a", "a"])


def test_columns_named_like_pandas_mangled_duplicates_are_fine(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("x,x.1,y\n" + "\n".join(f"{k},{k + 1},{2 * k}" for k in range(12)))
    assert list(read_csv(path).columns) == ["x", "x.1", "y"]
