"""The same seed gives the same numbers whatever ran the unit: the parent (--jobs 1) or a loky
worker (--jobs 2) with another heap and another hash seed (experiments.harness.parallel).

The unit is minratio's search on the deep linear autoencoder (--task dlae), where scipy's MINPACK
read 8 bytes past the Jacobian's buffer and the search ended at another point of the symmetry
orbit in another process (engine.critical.minpack). The worker starts with glibc's
MALLOC_PERTURB_, so freed memory holds a pattern the parent's does not: whatever the unit reads
that it did not write differs between the two."""
import dataclasses
import functools

import numpy as np
from joblib.externals.loky import get_reusable_executor
from numpy.testing import assert_array_equal, assert_equal

from experiments.harness import parallel
from experiments.minratio.experiment import Config, search_unit

# measured times and the finder's wall time are the only things allowed to differ
_CLOCKS = {"train_time", "wall_time", "cpu_time"}


def _numbers(info):
    out = {k: v for k, v in info.items() if k not in _CLOCKS}
    out["finder"] = {k: v for k, v in info["finder"].items() if k != "wall_time"}
    return out


def test_a_unit_gives_the_same_bits_in_the_parent_and_in_a_worker():
    config = dataclasses.replace(Config.quick(), task="dlae", hidden=(4,), activation="linear",
                                 trainer="adam")
    unit, run = functools.partial(search_unit, config), 1
    here, here_info = parallel._single_threaded(unit, run)
    executor = get_reusable_executor(max_workers=1, reuse=False, kill_workers=True,
                                     env={"MALLOC_PERTURB_": "85", "PYTHONHASHSEED": "1"})
    try:
        index, (there, there_info) = executor.submit(parallel._indexed, unit, run).result()
    finally:
        executor.shutdown(wait=True, kill_workers=True)
    assert index == run
    assert here.keys() == there.keys()
    for key in here:
        assert_array_equal(np.asarray(there[key]), np.asarray(here[key]), err_msg=key,
                           strict=True)
    assert_equal(_numbers(there_info), _numbers(here_info))  # nan equals nan here
