"""The shards of a job array (`--shard I/K`, README "More than one machine") compute into one
folder side by side — the whole-run folder lock of issue 20 made them take turns — while the
folder stays refused to another configuration as long as any shard computes in it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.io.folders import busy_shards, shard_lock_name
from engine.io.results import Store, UsageError, load_summary

ROOT = Path(__file__).resolve().parents[2]


def _minratio(out, figures, *flags):
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.minratio", "--quick", "--jobs", "1", "--runs", "6",
         *flags, "--out", str(out), "--figures", str(figures)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_shards_compute_side_by_side_and_merge_to_the_whole_run(tmp_path):
    out = tmp_path / "shared"
    shards = [_minratio(out, tmp_path / f"f{i}", "--shard", f"{i}/2") for i in (0, 1)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in shards]
    assert [code for code, _ in results] == [0, 0], results
    # neither waited for the other: the message a shard prints when it must take turns
    assert not any("waiting" in err for _, err in results), results
    whole = _minratio(tmp_path / "whole", tmp_path / "fw")
    assert whole.wait(timeout=600) == 0, whole.stderr.read()
    merged = _minratio(out, tmp_path / "fm")  # builds the summary if no shard did
    assert merged.wait(timeout=600) == 0, merged.stderr.read()
    (a, _), (b, _) = load_summary(out), load_summary(tmp_path / "whole")
    for key in ("theta", "eigenvalues", "loss"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_folder_a_shard_computes_in_is_refused_to_another_configuration(tmp_path):
    out = tmp_path / "D"
    first = Store(out, "toy", {"seed": 0})
    first.share((0, 2))
    assert busy_shards(out) == [shard_lock_name((0, 2))]
    # the folder's own lock is free again, a shard lock is not, and nothing is saved yet: a
    # folder nobody held would be taken over, this one is refused
    with pytest.raises(UsageError, match="claimed by a process running now.*another "
                                         "configuration.*seed: 0 there, 1 now"):
        Store(out, "toy", {"seed": 1})
    first.release()
    assert busy_shards(out) == []
