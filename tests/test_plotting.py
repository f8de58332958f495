"""The shared plotting helpers: titles, labels, legends, the animation and the slider fallback."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n_lec7 import plotting  # noqa: E402


def bowl(x):
    return 0.5 * (x[0] ** 2 + 10.0 * x[1] ** 2)


class Landscape:
    """Duck-typed landscape: plot_contours only needs ``.value``."""

    def value(self, x):
        return bowl(x)


PATHS = {"a": np.array([[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]]),
         "b": np.array([[-1.0, 1.0], [-0.5, 0.5], [np.nan, np.nan]])}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("f", [bowl, Landscape()])
def test_plot_contours_titles_labels_legend(f):
    ax = plotting.plot_contours(f, PATHS, title="Bowl", minimum=[0, 0])
    assert ax.get_title() == "Bowl"
    assert ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "b", "minimum"]
    # the diverged (NaN) point is dropped, the limits come from the finite points with a margin
    lo, hi = ax.get_xlim()
    assert lo < -1.0 and hi > 1.0 and np.isfinite([lo, hi]).all()


def test_plot_contours_needs_limits_or_paths():
    with pytest.raises(ValueError, match="xlim"):
        plotting.plot_contours(bowl)
    ax = plotting.plot_contours(bowl, xlim=(-1, 1), ylim=(-1, 1), log_levels=False, title="t")
    assert ax.get_legend() is None  # no lines, no legend
    with pytest.raises(TypeError):
        plotting.plot_contours(42, xlim=(-1, 1), ylim=(-1, 1))


def test_plot_contours_on_saddle_with_negative_values():
    ax = plotting.plot_contours(lambda x: x[0] ** 2 - x[1] ** 2, {"p": np.zeros((2, 2))},
                                xlim=(-1, 1), ylim=(-1, 1), title="Saddle")
    assert ax.get_title() == "Saddle"


class FakeSolver:
    loss_history = list(np.linspace(2.3, 0.5, 50))
    train_acc_history = [0.1, 0.5, 0.8]
    val_acc_history = [0.1, 0.45, 0.7]


def test_training_curves_from_solver_and_dict():
    runs = {"sgd": FakeSolver(), "adam": {"loss_history": [2.0, 1.0, 0.5], "val_acc_history": [0.2, 0.6]}}
    ax_loss, ax_acc = plotting.plot_training_curves(runs, title="Digits", smooth=5)
    assert ax_loss.figure is ax_acc.figure
    assert ax_loss.figure._suptitle.get_text() == "Digits"
    assert ax_loss.get_title() and ax_acc.get_title()
    assert ax_loss.get_xlabel() == "iteration" and ax_acc.get_xlabel() == "epoch"
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()] == ["sgd", "adam"]
    acc_labels = [t.get_text() for t in ax_acc.get_legend().get_texts()]
    assert acc_labels == ["sgd", "adam"]  # one entry per run; dashed train + solid val share the colour
    styles = [line.get_linestyle() for line in ax_acc.get_lines()]
    assert styles == ["--", "-", "-"]
    # smoothing with a window of 5 shortens the curve by 4 points
    assert len(ax_loss.get_lines()[0].get_xdata()) == 46


def test_animate_paths_returns_jshtml_and_closes_figure():
    before = len(plt.get_fignums())
    html = plotting.animate_paths(bowl, PATHS, frames=3, title="Race")
    assert "<script" in html.data and "Animation" in html.data
    assert len(plt.get_fignums()) == before
    with pytest.raises(ValueError):
        plotting.animate_paths(bowl, {})


def test_interactive_static_fallback_calls_once_with_defaults(monkeypatch):
    monkeypatch.setenv(plotting.STATIC_ENV, "1")
    calls = []

    def draw(alpha, rule, steps):
        calls.append((alpha, rule, steps))
        return "drawn"

    out = plotting.interactive(draw, alpha=(0.0, 1.0, 0.1, 0.3), rule=["sgd", "adam"], steps=5)
    assert out == "drawn"
    assert calls == [(0.3, "sgd", 5)]


def test_interactive_outside_a_kernel_is_static(monkeypatch):
    monkeypatch.delenv(plotting.STATIC_ENV, raising=False)
    assert not plotting._has_widget_frontend()  # pytest is not a Jupyter kernel
    assert plotting.interactive(lambda rho: rho * 2, rho=(0.0, 0.99, 0.01, 0.9)) == pytest.approx(1.8)


def test_plot_contours_uses_value_grid_of_a_real_landscape():
    from cs231n_lec7 import landscapes

    bowl = landscapes.Quadratic(condition_number=10.0, dim=2, rotation=0.3)
    path = landscapes.run_optimizer("sgd", bowl, np.array([1.0, 1.0]), 5, {"learning_rate": 0.1})
    ax = plotting.plot_contours(bowl, {"sgd": path}, minimum=bowl.minimum, title="Quadratic")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sgd", "minimum"]


def test_plot_contours_marks_iterates_and_keeps_overlapping_paths_visible():
    same = np.array([[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]])
    ax = plotting.plot_contours(bowl, {"first": same, "second": same.copy()}, markers=True, title="t")
    first, second = [line for line in ax.get_lines() if line.get_label() in ("first", "second")]
    # a dot on every iterate (the format string "-." would have drawn a dash-dot line without dots)
    assert first.get_marker() == "o" and second.get_marker() == "o"
    assert first.get_markevery() == 1
    # the later path is thinner and dashed, drawn on top: both stay visible where they coincide
    assert second.get_linewidth() < first.get_linewidth()
    assert second.get_linestyle() != first.get_linestyle() and second.get_zorder() > first.get_zorder()
    ax = plotting.plot_contours(bowl, {"p": same}, markers=5, title="t")
    assert ax.get_lines()[0].get_markevery() == 5
    with pytest.raises(ValueError, match="markers"):
        plotting.plot_contours(bowl, {"p": same}, markers=-1, title="t")


def test_plot_contours_legend_outside_the_data_by_default():
    ax = plotting.plot_contours(bowl, PATHS, title="t")
    ax.figure.canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    axes_box = ax.get_window_extent()
    assert legend_box.y1 <= axes_box.y0, "the legend should sit below the axes, not over the paths"
    inside = plotting.plot_contours(bowl, PATHS, title="t", legend="inside")
    inside.figure.canvas.draw()
    assert inside.get_legend().get_window_extent().y1 > inside.get_window_extent().y0
    with pytest.raises(ValueError, match="legend"):
        plotting.plot_contours(bowl, PATHS, title="t", legend="left")


def test_interactive_with_widgets_shows_a_static_figure_and_redraws_it(monkeypatch):
    import IPython.display

    monkeypatch.setattr(plotting, "_has_widget_frontend", lambda: True)
    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj)

    def fake_display(obj, display_id=None):
        shown.append((obj, display_id))
        return Handle() if display_id else None

    monkeypatch.setattr(IPython.display, "display", fake_display)
    calls = []

    def draw(rho, rule):
        calls.append((rho, rule))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, rho], label=rule)
        ax.set_title("t")
        return ax

    box = plotting.interactive(draw, rho=(0.0, 0.99, 0.01, 0.9), rule=["a", "b"])
    images = [obj for obj, _ in shown if isinstance(obj, IPython.display.Image)]
    assert len(images) == 1, "the default figure must be an image output (a static render shows it)"
    assert images[0].data[:4] == b"\x89PNG"
    assert calls == [(0.9, "a")]
    assert plt.get_fignums() == [], "the drawn figure is closed, not shown a second time"
    box.children[0].value = 0.5          # moving the slider redraws the same image
    assert calls[-1] == (0.5, "a")
    assert len(updates) == 1 and updates[0].data[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="outside"):
        plotting.interactive(draw, rho=(0.0, 0.99, 0.01, 2.0))


def test_plain_log_labels_are_plain_numbers_not_mathtext():
    fig, ax = plt.subplots()
    ax.loglog([1e-3, 1e2], [1e-4, 1e1])
    fig.canvas.draw()
    assert any("$" in t.get_text() for t in ax.get_yticklabels())   # matplotlib's default: typeset 10^-2
    plotting.plain_log_labels(ax, "xy")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert labels and not any("$" in text for text in labels)
    assert "1e\u221202" in labels and "10" in labels   # plain text, matplotlib's minus sign
    plt.close(fig)


def test_plain_log_labels_names_a_wrong_axis():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="axes must be"):
        plotting.plain_log_labels(ax, "z")
    plt.close(fig)
