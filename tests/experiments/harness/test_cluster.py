"""Units on a real dask.distributed cluster (2 worker processes): the same numbers as loky, no
shared filesystem needed (the parent saves), a killed worker loses no finished unit, and shards
of a job array merge into the single-machine result."""
import functools
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from engine.io.results import Store, load_summary
from experiments import trajectory
from experiments.harness.config import main
from experiments.harness.parallel import RunOptions, compute, run_seeds
from experiments.minratio import experiment as minratio
from plots.minratio import render as render_minratio
from plots.trajectory import render as render_trajectory

distributed = pytest.importorskip(
    "distributed", reason="the optional extra `cluster` (dask.distributed) is not installed; "
    "`pip install -e .[cluster]` (CI installs it)")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler():
    """The address of a LocalCluster of 2 single-threaded worker processes."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


EXPERIMENTS = {"minratio": (minratio, render_minratio), "trajectory": (trajectory,
                                                                      render_trajectory)}


def _run(name, out, *flags):
    module, render = EXPERIMENTS[name]
    main(module.Config, module.run, render, prog=f"experiments.{name}",
         argv=["--quick", "--out", str(out), "--figures", str(out / "figures"), *flags])
    return load_summary(out, name)[0]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_dask_cluster_gives_the_loky_numbers_bit_for_bit(name, scheduler, tmp_path):
    loky = _run(name, tmp_path / "loky", "--jobs", "2")
    dask = _run(name, tmp_path / "dask", "--backend", "dask", "--scheduler", scheduler)
    assert set(dask) == set(loky)
    for key in loky:
        assert_array_equal(dask[key], loky[key], err_msg=key)


def test_shards_into_one_folder_then_a_merge_equal_one_run(tmp_path):
    whole = _run("trajectory", tmp_path / "whole", "--jobs", "1")
    out = tmp_path / "sharded"
    for shard in ("1/2", "0/2"):
        main(trajectory.Config, trajectory.run, render_trajectory, prog="experiments.trajectory",
             argv=["--quick", "--out", str(out), "--jobs", "1", "--shard", shard])
        # a shard builds the summary only once no unit of another shard is missing
        assert (out / "summary.json").exists() == (shard == "0/2")
    merged = _run("trajectory", out, "--jobs", "1")  # the merge: nothing left to compute
    for key in whole:
        assert_array_equal(merged[key], whole[key], err_msg=key)


def _fragile(marker: str, index: int):
    """A unit whose first attempt at index 2 kills its worker process (SIGKILL)."""
    if index == 2 and not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return {"x": np.random.default_rng(run_seeds(7, 6)[index]).normal(size=4)}, {"i": index}


def test_a_killed_worker_loses_no_finished_unit(scheduler, tmp_path):
    store = Store(tmp_path / "r", "toy", {"seed": 7})
    unit = functools.partial(_fragile, str(tmp_path / "killed"))
    options = RunOptions(backend="dask", scheduler=scheduler)
    assert sorted(compute(store, unit, range(6), options)) == list(range(6))
    assert (tmp_path / "killed").exists()  # the worker did die, and the unit was retried
    for i in range(6):
        expected = np.random.default_rng(run_seeds(7, 6)[i]).normal(size=4)
        assert_array_equal(store.load_run(i)[0]["x"], expected)
    assert compute(store, unit, range(6), options) == []  # a rerun computes nothing
