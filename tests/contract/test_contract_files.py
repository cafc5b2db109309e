"""Issue 20: readers of user files — data files, results summaries, figures — refuse damaged
input in one line naming the file; sizes are checked before memory is asked for."""
import dataclasses
import errno
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import cli

from engine import MLP
from engine.data.files import read_idx
from engine.io.results import Store


def _idx(path, dims):
    path.write_bytes(b"\0\0\x08" + bytes([len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
                     + bytes(int(np.prod(dims))))
    return path


def test_an_idx_file_of_0_images_names_the_file(tmp_path):
    path = _idx(tmp_path / "t10k-images-idx3-ubyte", (0, 28, 28))
    with pytest.raises(ValueError, match=f"{path} holds no items"):
        read_idx(path)


def test_a_read_error_names_the_file(tmp_path, monkeypatch):
    path = _idx(tmp_path / "train-labels-idx1-ubyte", (3,))

    def eio(self):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Path, "read_bytes", eio)
    with pytest.raises(ValueError, match=f"{path} cannot be read \\(Input/output error\\)"):
        read_idx(path)


def test_an_mlp_too_large_for_memory_is_refused_with_its_size(rng):
    with pytest.raises(ValueError, match=r"GiB to initialize, more than the .* GiB of memory"):
        MLP((1, 10**11, 1)).init(rng)


def _summary(folder, experiment, config, summary, arrays=None):
    Store(folder, experiment, config).save_summary(arrays or {"x": np.zeros(1)}, summary)
    return folder


def test_plots_minratio_on_a_summary_with_an_empty_config_is_one_line(tmp_path,
                                                                      one_line_error):
    folder = _summary(tmp_path / "r", "minratio", {}, {"sizes": [1, 2, 1]})
    one_line_error(lambda: cli("plots.minratio")([folder, "--figures", tmp_path / "f"]),
                   "plots.minratio", "lacks ['config.band'")
    assert not (tmp_path / "f").exists()


def _fake_results(tmp_path, monkeypatch):
    """A results tree the report's checks accept up to its first write: one finished summary per
    section (surface with every unit) and a valid PNG and vector PDF for every figure. The fake
    summaries hold only what naming the figures needs, so the check of their structure
    (experiments.report.schema.check_meta, tested on real quick results in
    tests/contract/test_make_all.py) is switched off here: these tests are about
    the figures, the files' JSON and a section's missing values."""
    from PIL import Image

    from experiments.report import assemble
    from experiments.report.assemble import all_figures, load_metas

    monkeypatch.setattr(assemble, "check_meta", lambda *args: None)
    from experiments.report.sections import REGISTRY, saved_as
    from experiments.surface.experiment import UNITS

    results, figures = tmp_path / "results", tmp_path / "figures"
    for name in REGISTRY:  # what each plots module reads to name its figures
        summary = ({u: {} for u in UNITS} if name == "surface" else
                   {"tasks": {"sinc": {}, "dnn": {"dataset": "digits"}}} if name == "gradnorm"
                   else {"n": 1})
        config = {"seed": 0, "functions": ["sinc"], "weight_decay": 1e-5 * (name != "minratio")}
        _summary(results / name, saved_as(name), config, summary)
    figures.mkdir()
    vector = _figure_pdf()
    for fig in all_figures(load_metas(results)):
        Image.new("RGB", (4, 4)).save(figures / f"{fig}.png")
        (figures / f"{fig}.pdf").write_bytes(vector)
    return results, figures, next(iter(REGISTRY))


def _figure_pdf() -> bytes:
    """A small matplotlib figure as PDF (a line and a label: drawing and font streams)."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0, 1])
    ax.set_xlabel("a label")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="pdf")
    return buffer.getvalue()


def _damage_a_stream(data: bytes) -> bytes:
    """`data` with 40 bytes inside its first compressed stream overwritten by zeros: the file
    still opens, its drawing does not decode."""
    start = data.index(b"stream\n") + len(b"stream\n") + 8
    return data[:start] + bytes(40) + data[start + 40:]


def _shorten_a_stream(data: bytes) -> bytes:
    """`data` with the last 10 bytes of its first stream cut out: qpdf opens it only by
    repairing it (a warning, no error), with part of a drawing lost."""
    end = data.index(b"endstream")
    return data[:end - 10] + data[end:]


PDF_CASES = {
    "empty pdf": lambda p: p.write_bytes(b""),
    "garbage pdf": lambda p: p.write_bytes(b"not a pdf at all"),
    "truncated pdf": lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]),
    "damaged stream pdf": lambda p: p.write_bytes(_damage_a_stream(p.read_bytes())),
    "shortened stream pdf": lambda p: p.write_bytes(_shorten_a_stream(p.read_bytes())),
    "missing pdf": lambda p: p.unlink(),
}


@pytest.mark.parametrize("case", list(PDF_CASES))
def test_the_report_on_a_damaged_figure_pdf_is_one_line_and_writes_nothing(case, tmp_path,
                                                                           one_line_error,
                                                                           monkeypatch):
    """report.pdf draws each figure from its vector PDF: a damaged one is refused in one line
    naming it, before anything is written; the gallery, which reads only the PNGs, still works."""
    results, figures, _ = _fake_results(tmp_path, monkeypatch)
    pdf = sorted(figures.glob("*.pdf"))[-1]
    PDF_CASES[case](pdf)
    word = (f"figures missing: {pdf}" if case == "missing pdf" else
            f"{pdf} cannot be read as a PDF figure")
    out = tmp_path / "report"
    one_line_error(lambda: cli("experiments.report")(
        ["--results", results, "--figures", figures, "--out", out]), "experiments.report", word)
    assert not out.exists()
    cli("experiments.report")(["--results", results, "--figures", figures,
                               "--gallery", tmp_path / "g"])
    assert len(list((tmp_path / "g").glob("*.png"))) == len(list(figures.glob("*.png")))


REPORT_CASES = {
    "{}": lambda p: p.write_text("{}"),
    "another experiment's": lambda p: p.write_text(json.dumps(
        json.loads(p.read_text()) | {"experiment": "somethingelse"})),
    "no summary key": lambda p: p.write_text(json.dumps(
        {k: v for k, v in json.loads(p.read_text()).items() if k != "summary"})),
    "no versions key": lambda p: p.write_text(json.dumps(
        {k: v for k, v in json.loads(p.read_text()).items() if k != "versions"})),
}


@pytest.mark.parametrize("case", list(REPORT_CASES) + ["empty png", "garbage png"])
def test_the_report_on_damaged_inputs_is_one_line_and_writes_nothing(case, tmp_path,
                                                                      one_line_error,
                                                                      monkeypatch):
    results, figures, first = _fake_results(tmp_path, monkeypatch)
    if case in REPORT_CASES:
        REPORT_CASES[case](results / first / "summary.json")
        word = str(results / first)
    else:
        png = sorted(figures.glob("*.png"))[0]
        png.write_bytes(b"" if case == "empty png" else b"not a png at all")
        word = f"{png} cannot be read as an image"
    out = tmp_path / "report"
    one_line_error(lambda: cli("experiments.report")(
        ["--results", results, "--figures", figures, "--out", out]), "experiments.report", word)
    assert not out.exists()  # no report.md without its report.pdf
    if case not in REPORT_CASES:  # the gallery too
        one_line_error(lambda: cli("experiments.report")(
            ["--results", results, "--figures", figures, "--gallery", tmp_path / "g"]),
            "experiments.report", word)
        assert not (tmp_path / "g").exists()


def test_a_summary_without_a_value_a_section_reads_is_bad_input(tmp_path, one_line_error,
                                                               monkeypatch):
    """The fake summaries hold none of the numbers the sections read: one line naming the file
    and the missing path (MissingFact), nothing written."""
    results, figures, _ = _fake_results(tmp_path, monkeypatch)
    out = tmp_path / "report"
    one_line_error(lambda: cli("experiments.report")(
        ["--results", results, "--figures", figures, "--out", out]), "experiments.report",
        "summary.json lacks")
    assert not out.exists()


def test_a_key_error_of_the_code_is_not_disguised_as_bad_input(tmp_path, monkeypatch):
    """A KeyError raised by a section's own code (a bug) stays an internal failure: it is not
    reported as a damaged summary.json."""
    from engine.io.errors import UsageError
    from experiments.report import assemble, sections

    results, figures, first = _fake_results(tmp_path, monkeypatch)

    def buggy(facts):
        raise KeyError("a key the code got wrong")

    monkeypatch.setitem(sections.REGISTRY, first,
                        dataclasses.replace(sections.REGISTRY[first], section=buggy))
    with pytest.raises(KeyError, match="the code got wrong") as caught:
        assemble.build(results, figures, tmp_path / "report")
    assert not isinstance(caught.value, UsageError)
    assert not (tmp_path / "report").exists()
