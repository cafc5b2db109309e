"""Issue 20: the independent checker recomputes every quantity it reports, so tampering with
minimal_ratio, grad_norm or the config's sizes in a results folder is caught (exit 1)."""
import json
import shutil

import numpy as np
import pytest

from experiments.minratio import check


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from experiments.harness.parallel import RunOptions
    from experiments.minratio.experiment import Config, run

    out = tmp_path_factory.mktemp("minratio") / "r"
    run(Config.quick(), out, RunOptions(jobs=1))
    return out


def _run_check(folder):
    try:
        check.main([str(folder)])
    except SystemExit as done:
        return done.code
    return 0


def _tamper_npz(folder, key, change):
    path = folder / "summary.npz"
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays[key] = change(arrays[key])
    np.savez_compressed(path, **arrays)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["untouched", "1 - minimal_ratio", "grad_norm 1e-30",
                                  "hidden contradicts sizes"])
def test_the_checker_catches_tampering(quick, tmp_path, case, capsys):
    folder = tmp_path / "r"
    shutil.copytree(quick, folder)
    if case == "1 - minimal_ratio":
        _tamper_npz(folder, "minimal_ratio", lambda a: 1.0 - a)
    elif case == "grad_norm 1e-30":
        _tamper_npz(folder, "grad_norm", lambda a: np.full_like(a, 1e-30))
    elif case == "hidden contradicts sizes":
        path = folder / "summary.json"
        meta = json.loads(path.read_text())
        meta["config"]["hidden"] = [5, 5]
        path.write_text(json.dumps(meta))
    code = _run_check(folder)
    out = capsys.readouterr()
    if case == "untouched":
        assert code in (0, None), out.err
    else:
        assert code == 1, out.out + out.err
        word = {"1 - minimal_ratio": "minimal_ratio", "grad_norm 1e-30": "grad_norm",
                "hidden contradicts sizes": "contradict the config's hidden"}[case]
        assert word in out.out + out.err
