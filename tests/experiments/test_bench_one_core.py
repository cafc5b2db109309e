"""experiments.bench.hvp.one_core: the side-by-side tables run on one CPU, and the process gets
its CPUs back afterwards, also when the block fails."""
import os

import pytest

from experiments.bench.hvp import one_core

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                                reason="this OS has no CPU affinity call")


def test_one_core_pins_the_block_and_restores_the_cpus():
    before = os.sched_getaffinity(0)
    with one_core():
        assert os.sched_getaffinity(0) == {max(before)}
    assert os.sched_getaffinity(0) == before
    with pytest.raises(RuntimeError, match="inside"), one_core():
        raise RuntimeError("inside")
    assert os.sched_getaffinity(0) == before
