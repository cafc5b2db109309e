"""plots.common: a title longer than its figure is wrapped at print size, not clipped."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from plots.common import CM, legible, print_size, wrap_titles  # noqa: E402


def test_a_long_title_is_wrapped_inside_a_half_width_figure():
    fig, ax = plt.subplots()
    long = "Straight line from the initial to the trained weights of a 64-32-10 net on digits 8×8"
    fig.suptitle(long)
    ax.set_title("short")
    print_size(fig, "half")
    legible(fig)
    assert wrap_titles(fig) == 1  # the suptitle only
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.get_size_inches()[0] * fig.dpi  # inside the figure
    assert fig._suptitle.get_text().replace("\n", " ") == long and ax.get_title() == "short"
    assert abs(fig.get_size_inches()[0] / CM - 7.8) < 0.01
    plt.close(fig)
