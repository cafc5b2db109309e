"""The dtype of every array a reader reads: numbers, integers, booleans or text, as the experiment
writes it (plots.schema's Holding). An array of a foreign dtype is bad input (one line, exit 2,
naming the file and the array) — not a TypeError at `~mask`, a ValueError at arithmetic on
strings or a slice by floats while drawing (exit 1), nor a mask of integers that `~` turns into
-1 and -2 without a word. Numbers saved as integers are numbers, given to the reader as float64."""
import numpy as np
import pytest
from conftest import cli, with_arrays
from readerresults import reader_results

from engine.io.results import UsageError, load_summary
from plots import census as census_plots
from plots import schema

globals().update(reader_results())  # census, deepshallow, …: each reader's quick results
READERS = sorted(reader_results())
# the dtype kinds each kind of array is written with (numbers: floats, integers where counts)
WRITTEN = {"numbers": "f", "integers": "i", "booleans": "b", "text": "U"}


def _checked(name, results):
    """(plots module, meta, arrays, {array: kind}) of a reader's quick results."""
    import importlib

    module = importlib.import_module(f"plots.{name}")
    arrays, meta = load_summary(results, name)
    return module, meta, arrays, schema.check_results(results, name, meta, arrays, module.SCHEMA)


def _foreign(values, kind):
    """Arrays of the same shape and of every dtype `kind` refuses."""
    shape = np.shape(values)
    strings, halves = np.full(shape, "x"), np.full(shape, 0.5)
    return {"numbers": [strings, np.zeros(shape, bool)],
            "integers": [halves, strings, np.zeros(shape, bool)],
            "booleans": [halves, np.ones(shape, np.int64), strings],
            "text": [halves, np.ones(shape, np.int64)]}[kind]


@pytest.mark.parametrize("name", READERS)
def test_every_array_read_is_declared_of_the_kind_the_experiment_writes(name, request):
    _, _, arrays, kinds = _checked(name, request.getfixturevalue(name)[0])
    assert kinds, name
    written = {key: arrays[key].dtype.kind for key in kinds}
    assert written == {key: WRITTEN[kind] for key, kind in kinds.items()}


@pytest.mark.parametrize("name", READERS)
def test_every_array_of_a_foreign_dtype_is_refused_naming_it(name, request):
    results = request.getfixturevalue(name)[0]
    module, meta, arrays, kinds = _checked(name, results)
    for key, kind in kinds.items():
        for damaged in _foreign(arrays[key], kind):
            with pytest.raises(UsageError) as refused:
                schema.check_results(results, name, meta, {**arrays, key: damaged},
                                     module.SCHEMA)
            assert f"{key!r} of dtype {damaged.dtype}, not {kind}" in str(refused.value)


def _resaved(results, tmp_path, key, change):
    return with_arrays(results, tmp_path / "r", lambda arrays: {key: change(arrays[key])})


@pytest.mark.parametrize("name, key, change", [
    # the census's mask as 0.0/1.0: `~settled` raised a TypeError while drawing
    ("census", "settled", lambda s: s.astype(float)),
    # the radii as text: minratio's legend formatted them as numbers, a ValueError
    ("minratio", "radii", lambda r: r.astype(str)),
    # the runs' labels as numbers: no run was 'critical', and the figure said so
    ("minratio", "label", lambda label: np.arange(len(label))),
    # the training path's epochs as floats: they label the path's points as counts
    ("surface", "sinc_train/epochs", lambda e: e + 0.5)])
def test_a_foreign_dtype_is_one_line(name, key, change, request, tmp_path, one_line_error,
                                     capsys):
    folder = _resaved(request.getfixturevalue(name)[0], tmp_path, key, change)
    capsys.readouterr()
    line = one_line_error(lambda: cli(f"plots.{name}")([folder, "--figures", tmp_path / "f"]),
                          f"plots.{name}", str(folder / "summary.npz"))
    assert f"{key!r} of dtype" in line
    assert not (tmp_path / "f").exists()


def test_numbers_saved_as_integers_are_drawn_as_float64(census, tmp_path):
    """The census's indices saved as integers are numbers all the same: given to the reader as
    float64, they draw."""
    folder = _resaved(census[0], tmp_path, "index", lambda i: i.astype(np.int64))
    arrays, _ = schema.load_results(folder, "census", census_plots.SCHEMA)
    assert arrays["index"].dtype == np.float64 and arrays["label"].dtype.kind == "U"
    cli("plots.census")([folder, "--figures", tmp_path / "f"])
    assert (tmp_path / "f" / "census.png").exists()


def test_holding_names_its_kinds():
    with pytest.raises(ValueError, match="kind must be one of"):
        schema.Holding("floats", 1)
