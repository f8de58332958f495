"""Plotting helpers shared by the notebooks (not graded; no exercise lives here).

Four functions, each returning what it drew so a notebook can add to it:

- :func:`plot_contours` -- the level sets of a 2-D function (a landscape or any
  callable ``f(x) -> float`` with ``x`` of shape ``(2,)``) with optimizer paths
  drawn on top, start and end marked, and a legend.
- :func:`plot_training_curves` -- loss (left) and accuracy (right) side by side
  for one or several training runs (CS231n ``Solver`` objects or dicts holding
  ``loss_history``, ``train_acc_history``, ``val_acc_history``).
- :func:`animate_paths` -- the same contour with the paths growing step by step,
  as an ``IPython.display.HTML`` built with ``FuncAnimation.to_jshtml`` (plays in
  any notebook viewer, needs no running kernel).
- :func:`interactive` -- a plotting function's figure at its default values
  (always an image output, so rendered notebooks show it), with sliders that
  redraw it in place when ipywidgets and a live frontend are present; it never
  waits for input, so a notebook runs top to bottom under ``nbclient``/``nbgrader``.

Conventions: every figure gets a title, labelled axes and a legend where there
are lines. Paths are arrays of shape ``(T, 2)`` (row t = the point after t
steps; row 0 = the start), as ``landscapes.run_optimizer`` returns them.
"""
from __future__ import annotations

import io
import os
from typing import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import LogFormatter, NullFormatter

__all__ = ["plot_contours", "plot_training_curves", "animate_paths", "interactive", "STATIC_ENV"]

#: Set this environment variable to ``1`` to make :func:`interactive` always draw
#: the static fallback (useful for headless runs and tests).
STATIC_ENV = "CS231N_LEC7_STATIC"


def _as_function(f) -> Callable[[np.ndarray], float]:
    """A callable ``x -> float`` from a landscape object (``.value``) or a callable."""
    if hasattr(f, "value") and callable(f.value):
        return f.value
    if callable(f):
        return f
    raise TypeError(f"expected a callable f(x) or an object with a .value(x) method, got {type(f).__name__}")


def _grid_values(f, xlim, ylim, resolution):
    """(X, Y, Z) with Z[i, j] = f([X[i, j], Y[i, j]]) on a resolution x resolution grid."""
    func = _as_function(f)
    xs = np.linspace(xlim[0], xlim[1], resolution)
    ys = np.linspace(ylim[0], ylim[1], resolution)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(over="ignore", invalid="ignore"):
        if callable(getattr(f, "value_grid", None)):      # landscapes evaluate a whole grid at once
            Z = np.asarray(f.value_grid(X, Y), dtype=float)
        else:
            Z = np.array([float(func(np.array([x, y]))) for x, y in zip(X.ravel(), Y.ravel())]).reshape(X.shape)
    return X, Y, Z


def _auto_limits(paths, margin=0.15):
    pts = np.concatenate([np.asarray(p, dtype=float).reshape(-1, 2) for p in paths.values()])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    return (lo[0] - margin * span[0], hi[0] + margin * span[0]), (lo[1] - margin * span[1], hi[1] + margin * span[1])


def _draw_contours(ax, X, Y, Z, levels, log_levels):
    """Contour lines of Z; log-spaced levels of Z - min(Z) when ``log_levels``."""
    Z = np.where(np.isfinite(Z), Z, np.nan)
    if log_levels:
        Zs = Z - np.nanmin(Z)
        top = np.nanmax(Zs)
        if top > 0:
            floor = max(top * 1e-6, np.nanmin(Zs[Zs > 0]))
            ax.contour(X, Y, np.maximum(Zs, floor), levels=np.geomspace(floor, top, levels),
                       norm=LogNorm(), cmap="viridis", linewidths=0.8)
            return
    ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)


def plot_contours(f, paths: Mapping[str, np.ndarray] | None = None, *, xlim=None, ylim=None,
                  ax=None, title: str = "Optimizer paths", resolution: int = 80, levels: int = 25,
                  log_levels: bool = True, minimum=None, markers: bool | int = False,
                  legend: str = "outside"):
    """Contour plot of a 2-D function with optimizer paths on top.

    Inputs:
    - f: a landscape (anything with ``.value(x)``; ``.value_grid(X, Y)`` is used
      when present) or a callable ``f(x) -> float`` for ``x`` of shape (2,).
    - paths: {label: array of shape (T, 2)}; each drawn as a line from its start
      (circle) to its end (cross). Non-finite points (a diverged run) are dropped.
    - xlim, ylim: (low, high) of the axes; default: the paths' extent plus a margin.
    - ax: an existing matplotlib Axes; default: a new 6 x 5 figure.
    - title: the axes title (every figure has one).
    - resolution: grid points per axis for the contour.
    - levels: number of contour levels; log-spaced when ``log_levels`` (good for
      ill-conditioned and Rosenbrock-like functions).
    - minimum: optional point of shape (2,) marked with a star.
    - markers: also mark the iterates with dots: True marks every iterate, an
      int k every k-th one (for long paths).
    - legend: "outside" (default: below the axes, never over the paths),
      "inside" (matplotlib's best place) or "none".

    Paths that overlap stay visible: the first is drawn widest and solid, each
    later one thinner and dashed/dotted on top of it.

    Returns: the Axes.
    """
    paths = dict(paths or {})
    if xlim is None or ylim is None:
        if not paths:
            raise ValueError("plot_contours: give xlim and ylim, or at least one path")
        auto_x, auto_y = _auto_limits(paths)
        xlim = auto_x if xlim is None else xlim
        ylim = auto_y if ylim is None else ylim
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    X, Y, Z = _grid_values(f, xlim, ylim, resolution)
    _draw_contours(ax, X, Y, Z, levels, log_levels)
    if legend not in ("outside", "inside", "none"):
        raise ValueError(f"plot_contours: legend must be 'outside', 'inside' or 'none', got {legend!r}")
    if isinstance(markers, (bool, np.bool_)):
        markevery = 1 if markers else None
    elif isinstance(markers, (int, np.integer)) and markers >= 1:
        markevery = int(markers)
    else:
        raise ValueError(f"plot_contours: markers must be True, False or a positive int, got {markers!r}")
    for k, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float).reshape(-1, 2)
        path = path[np.all(np.isfinite(path), axis=1)]
        if len(path) == 0:
            continue
        style = _PATH_STYLES[k % len(_PATH_STYLES)]
        (line,) = ax.plot(path[:, 0], path[:, 1], linestyle=style[0], lw=style[1], label=label, zorder=2 + k,
                          marker="o" if markevery else None, ms=style[2], markevery=markevery)
        ax.plot(path[0, 0], path[0, 1], "o", color=line.get_color(), ms=7, zorder=2 + k)
        ax.plot(path[-1, 0], path[-1, 1], "x", color=line.get_color(), ms=9, mew=2, zorder=2 + k)
    if minimum is not None:
        ax.plot(minimum[0], minimum[1], "*", color="k", ms=12, label="minimum", zorder=20)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0] and legend != "none":
        if legend == "inside":
            ax.legend(loc="best", fontsize="small")
        else:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize="small", frameon=False)
    return ax


# (line style, width, marker size) of the 1st, 2nd, ... path: wide and solid first, thinner on top
_PATH_STYLES = [("-", 3.0, 4.5), ("--", 2.0, 3.5), (":", 1.8, 2.5), ("-.", 1.4, 2.0)]



def plain_log_labels(ax, axes: str = "y") -> None:
    """Label the log-scaled ``axes`` ("x", "y" or "xy") of ``ax`` as plain text (1e-02, not a typeset 10^-2).

    Matplotlib typesets its default log labels as mathtext, which costs tens of milliseconds per new
    label; the plain labels read the same and keep a notebook with many log plots fast.
    """
    if not axes or set(axes) - {"x", "y"}:
        raise ValueError(f'plain_log_labels: axes must be "x", "y" or "xy", got {axes!r}')
    for name in axes:
        axis = ax.xaxis if name == "x" else ax.yaxis
        axis.set_major_formatter(LogFormatter())
        axis.set_minor_formatter(NullFormatter())

def _history(run, key):
    if isinstance(run, Mapping):
        return run.get(key, [])
    return getattr(run, key, [])


def plot_training_curves(runs: Mapping[str, object], *, title: str = "Training curves",
                         smooth: int = 1, axes=None):
    """Loss per iteration (left) and accuracy per epoch (right), side by side.

    Inputs:
    - runs: {label: run}; a run is a CS231n ``Solver`` (after ``train()``) or a dict
      with ``loss_history`` (per iteration) and ``train_acc_history`` /
      ``val_acc_history`` (per epoch; either may be missing).
    - title: the figure's title (each panel gets its own title too).
    - smooth: moving-average window for the loss curve (1 = raw).
    - axes: an existing pair of Axes; default: a new 12 x 4 figure.

    Returns: the pair of Axes (loss, accuracy). Training accuracy is dashed,
    validation accuracy solid, in the run's colour; the legend has one entry per run.
    """
    if axes is None:
        # spacing fixed here: tight_layout would lay out every label once more before the
        # inline backend's own tight bounding box does it again
        fig, axes = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw=dict(wspace=0.22, top=0.84))
    else:
        fig = axes[0].figure
    ax_loss, ax_acc = axes
    for label, run in runs.items():
        loss = np.asarray(_history(run, "loss_history"), dtype=float)
        if smooth > 1 and len(loss) >= smooth:
            loss = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
        (line,) = ax_loss.plot(np.arange(len(loss)), loss, lw=1.2, label=label)
        colour = line.get_color()
        train_acc = np.asarray(_history(run, "train_acc_history"), dtype=float)
        val_acc = np.asarray(_history(run, "val_acc_history"), dtype=float)
        # one legend entry per run (its colour); the line style says train (dashed) or validation (solid)
        if len(train_acc):
            ax_acc.plot(np.arange(len(train_acc)), train_acc, "--", color=colour,
                        label="_nolegend_" if len(val_acc) else label)
        if len(val_acc):
            ax_acc.plot(np.arange(len(val_acc)), val_acc, "-", color=colour, label=label)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("training loss" + (f" (moving average of {smooth})" if smooth > 1 else ""))
    ax_loss.set_title("Loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Accuracy (dashed: train, solid: validation)")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.suptitle(title)
    return ax_loss, ax_acc


def animate_paths(f, paths: Mapping[str, np.ndarray], *, xlim=None, ylim=None,
                  title: str = "Optimizer race", frames: int = 30, interval: int = 100,
                  resolution: int = 60, levels: int = 20, log_levels: bool = True,
                  minimum=None, figsize=(5, 4), dpi: int = 72):
    """The paths growing step by step over the contour, as an HTML animation.

    Inputs: as :func:`plot_contours`, plus
    - frames: number of frames (the paths are sub-sampled to fit; keep it small,
      every frame is a PNG in the notebook).
    - interval: milliseconds between frames.
    - figsize, dpi: size of each frame.

    The static part (contours, axes, labels, legend) is drawn once and reused as
    a background image, so a frame only draws the paths: fast enough to build
    30 frames in a few seconds.

    Returns: ``IPython.display.HTML`` holding ``FuncAnimation.to_jshtml()``
    (display it, or make it a cell's last expression). The figures are closed so
    the notebook shows no extra static copy.
    """
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation
    from matplotlib.patches import Rectangle

    paths = {k: np.asarray(v, dtype=float).reshape(-1, 2) for k, v in paths.items()}
    if not paths:
        raise ValueError("animate_paths: give at least one path")
    if xlim is None or ylim is None:
        auto_x, auto_y = _auto_limits(paths)
        xlim = auto_x if xlim is None else xlim
        ylim = auto_y if ylim is None else ylim
    longest = max(len(p) for p in paths.values())
    ends = np.unique(np.linspace(1, longest, max(1, min(frames, longest))).round().astype(int))
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])

    # 1. the static background, rendered once
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    X, Y, Z = _grid_values(f, xlim, ylim, resolution)
    _draw_contours(ax, X, Y, Z, levels, log_levels)
    for k, label in enumerate(paths):
        ax.plot([], [], "-", lw=1.5, color=colours[k % len(colours)], label=label)
    if minimum is not None:
        ax.plot(minimum[0], minimum[1], "*", color="k", ms=10, label="minimum")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.canvas.draw()
    background = np.asarray(fig.canvas.buffer_rgba()).copy()
    to_pixels = ax.transData.transform
    box = ax.bbox.bounds  # (x0, y0, width, height) in pixels, origin bottom-left
    pixel_paths = {}
    with np.errstate(invalid="ignore"):
        for label, path in paths.items():
            finite = np.all(np.isfinite(path), axis=1)
            pix = np.full_like(path, np.nan)
            pix[finite] = to_pixels(path[finite])
            pixel_paths[label] = pix
    plt.close(fig)

    # 2. the frames: the background image plus the paths so far
    height, width = background.shape[:2]
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    canvas = fig.add_axes((0, 0, 1, 1))
    canvas.axis("off")
    canvas.imshow(background, extent=(0, width, 0, height), origin="upper", interpolation="nearest")
    canvas.set_xlim(0, width)
    canvas.set_ylim(0, height)
    clip = Rectangle(box[:2], box[2], box[3], transform=canvas.transData)
    lines, heads = {}, {}
    for k, label in enumerate(paths):
        colour = colours[k % len(colours)]
        (lines[label],) = canvas.plot([], [], "-", lw=1.5, color=colour, clip_path=clip)
        (heads[label],) = canvas.plot([], [], "o", ms=5, color=colour, clip_path=clip)
    counter = canvas.text(box[0] + 6, box[1] + 6, "", fontsize="small",
                          bbox=dict(facecolor="white", alpha=0.8, edgecolor="none"))

    def draw(k):
        n = ends[k]
        for label, pix in pixel_paths.items():
            shown = pix[: min(n, len(pix))]
            shown = shown[np.all(np.isfinite(shown), axis=1)]
            lines[label].set_data(shown[:, 0], shown[:, 1])
            heads[label].set_data(shown[-1:, 0], shown[-1:, 1])
        counter.set_text(f"step {n - 1}")
        return list(lines.values()) + list(heads.values()) + [counter]

    anim = FuncAnimation(fig, draw, frames=len(ends), interval=interval, blit=False)
    try:
        html = anim.to_jshtml(default_mode="once")
    finally:
        plt.close(fig)
    return HTML(html)


def _has_widget_frontend() -> bool:
    """True when ipywidgets imports and we run inside an IPython kernel."""
    if os.environ.get(STATIC_ENV, "") not in ("", "0"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _figure_png(plot_fn: Callable, kwargs) -> tuple[object, bytes]:
    """Call ``plot_fn(**kwargs)`` and return (its result, the figure it drew as PNG bytes); closes it."""
    before = set(plt.get_fignums())
    result = plot_fn(**kwargs)
    drawn = [n for n in plt.get_fignums() if n not in before] or plt.get_fignums()[-1:]
    if not drawn:
        raise ValueError("interactive: the plotting function drew no figure")
    fig = plt.figure(drawn[-1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    for number in drawn:
        plt.close(number)
    return result, buffer.getvalue()


def interactive(plot_fn: Callable, **sliders):
    """One static figure at the default values, plus sliders that redraw it where widgets work.

    Inputs:
    - plot_fn: a function drawing one figure from keyword arguments.
    - sliders: ``name=(low, high, step, default)`` for a float slider, or
      ``name=[choice, ...]`` for a drop-down (default: the first choice), or
      ``name=value`` for a fixed argument.

    The figure at the defaults is always an ordinary image output, so a saved or
    rendered notebook (nbconvert HTML, nbgrader feedback) shows it. With
    ipywidgets inside a Jupyter kernel the controls appear above it, and moving
    one redraws the same image in place; without them -- plain Python, or
    ``CS231N_LEC7_STATIC=1`` -- only the figure is shown. Either way it never
    waits for user input, so nbclient/nbgrader execution cannot hang.

    Returns: the controls (an ``ipywidgets.VBox``) with a widget frontend, otherwise
    ``plot_fn``'s return value at the defaults.
    """
    defaults, widget_args = {}, {}
    for name, spec in sliders.items():
        if isinstance(spec, tuple) and len(spec) == 4:
            low, high, step, default = spec
            if not low <= default <= high:
                raise ValueError(f"interactive: the default of {name!r} ({default}) is outside [{low}, {high}]")
            defaults[name] = default
            widget_args[name] = ("float", low, high, step, default)
        elif isinstance(spec, list) and spec:
            defaults[name] = spec[0]
            widget_args[name] = ("choice", spec)
        else:
            defaults[name] = spec
            widget_args[name] = ("fixed", spec)
    if not _has_widget_frontend():
        result = plot_fn(**defaults)
        plt.show()
        return result

    import ipywidgets as widgets
    from IPython.display import Image, display

    controls = {}
    for name, spec in widget_args.items():
        if spec[0] == "float":
            _, low, high, step, default = spec
            controls[name] = widgets.FloatSlider(value=default, min=low, max=high, step=step,
                                                 description=name, continuous_update=False,
                                                 readout_format=".3g")
        elif spec[0] == "choice":
            controls[name] = widgets.Dropdown(options=spec[1], value=spec[1][0], description=name)
    box = widgets.VBox(list(controls.values()))
    display(box)
    _, png = _figure_png(plot_fn, defaults)
    handle = display(Image(data=png, format="png"), display_id=True)

    def redraw(_change):
        values = {**defaults, **{name: control.value for name, control in controls.items()}}
        handle.update(Image(data=_figure_png(plot_fn, values)[1], format="png"))

    for control in controls.values():
        control.observe(redraw, names="value")
    return box
