"""plots.generalization._clean_log: a log axis of under two decades is labelled at 1, 2 and 5 of
each decade and widened to the labels around the data, so that its end values can be read."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from plots.generalization import _clean_log  # noqa: E402


def test_under_two_decades_is_labelled_at_1_2_5_and_widened_to_them():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.24, 4.21])
    ax.set_yscale("log")
    _clean_log(ax)
    low, high = ax.get_ylim()
    assert np.isclose(low, 0.2) and np.isclose(high, 5.0)
    # the ends within rounding: the locator's 2·10⁻¹ need not be the limit's bits
    ticks = [t for t in ax.get_yticks() if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
    assert np.allclose(ticks, [0.2, 0.5, 1, 2, 5])
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "0.5"
    plt.close(fig)


def test_more_than_two_decades_and_under_one_are_left_to_the_default_rules():
    fig, (wide, narrow) = plt.subplots(1, 2)
    wide.plot([0, 1], [1e-3, 4.0])
    narrow.plot([0, 1], [1.0, 3.0])
    for ax in (wide, narrow):
        ax.set_yscale("log")
    before = wide.get_ylim()
    _clean_log(wide)
    _clean_log(narrow)
    assert wide.get_ylim() == before and wide.get_yscale() == "log"
    assert narrow.get_yscale() == "linear"  # under a decade: no major label on a log axis
    plt.close(fig)
