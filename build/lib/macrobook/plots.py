"""The book's figures share one style: ``import macrobook.plots as mp; mp.style()``."""
from __future__ import annotations

from typing import Iterable, Sequence

import matplotlib

# Okabe-Ito: readable for colour-blind readers and in grey scale
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def style() -> None:
    """Apply the book's matplotlib style."""
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({
        "figure.figsize": (7.0, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "font.size": 10,
    })


def band(ax, x, samples, label=None, color=None, q: Sequence[float] = (0.1, 0.9)):
    """Plot the mean of ``samples`` [n_runs, len(x)] with a shaded quantile band."""
    import numpy as np

    s = np.asarray(samples, dtype=float)
    mean = s.mean(0)
    lo, hi = np.quantile(s, q[0], axis=0), np.quantile(s, q[1], axis=0)
    line, = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def training_curves(log, columns: Iterable[str], ax=None, smooth: int = 1, xlabel: str = "iteration"):
    """Plot columns of a Trainer log (a DataFrame), optionally with a moving average."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    x = log["iteration"] if "iteration" in log else range(len(log))
    for c in columns:
        y = log[c].rolling(smooth, min_periods=1).mean() if smooth > 1 else log[c]
        ax.plot(x, y, label=c)
    ax.set_xlabel(xlabel)
    ax.legend()
    return ax
