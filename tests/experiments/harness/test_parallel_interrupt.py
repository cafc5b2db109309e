"""An interrupt that reaches the parent while it saves a result — outside joblib's generator —
closes that generator unfinished. joblib 1.6 then warns that "N tasks which were still being
processed by the workers have been cancelled", a second line after the interrupt's one
(tests/contract/test_contract_processes.py caught it in CI, when the signal fell in that
window). This test makes the window certain: it takes one result and closes the run."""
import time
import warnings

from experiments.harness import parallel


def _slow_but_first(index):
    time.sleep(0.0 if index == 0 else 1.0)
    return index


def test_closing_a_run_with_units_in_flight_warns_nothing():
    run = parallel._results(_slow_but_first, [0, 1, 2, 3],
                            parallel.RunOptions(jobs=2), desc="units")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index, value = next(run)
        run.close()  # what KeyboardInterrupt in the saving caller does to the generator
    assert (index, value) == (0, 0)
    assert [str(w.message) for w in caught] == []
