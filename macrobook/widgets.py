"""One scenario-slider idiom for every chapter: live in Jupyter and Colab, precomputed in the book.

    from macrobook.widgets import Param, scenario_slider
    scenario_slider(draw, [Param("rate", [0.0, 0.2, 0.4], label="tax rate", fmt="{:.0%}")])

``draw(**values)`` returns a matplotlib figure (or a ``(figure, text)`` pair: the text is shown under
the figure). The same function serves both places a reader meets the chapter:

- **In Jupyter or Colab** (a kernel is running) the sliders are live ipywidgets: moving one calls
  ``draw`` with the chosen values and redraws.
- **In the static book** there is no kernel behind the page, so an ipywidget slider would move and
  change nothing. When the build executes a notebook (it sets ``MACROBOOK_STATIC=1``) the function
  instead calls ``draw`` for every combination of the grid values, stores each figure as an inline
  PNG with its text, and emits a small HTML/JavaScript control that swaps them in the page: no
  kernel, no network, no external script.

Each parameter carries its label with units and its default, so what a slider says is what the
figure shows (the chapters' figure titles repeat the chosen values).
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

__all__ = ["Param", "scenario_slider", "live_slider", "static_mode", "render_static", "glue", "Words"]


@dataclass
class Param:
    """One slider: the argument ``name`` of ``draw``, its grid of ``values``, a ``label`` with units,
    a format for each value (``"{:.0%}"`` or a callable) and the default (the first value if None)."""

    name: str
    values: Sequence[Any]
    label: str = ""
    fmt: str | Callable[[Any], str] = "{}"
    default: Any = None
    labels: list[str] = field(init=False, repr=False)

    def __post_init__(self):
        self.values = list(self.values)
        if not self.values:
            raise ValueError(f"Param {self.name!r}: values must not be empty")
        if self.default is None:
            self.default = self.values[0]
        if self.default not in self.values:
            raise ValueError(f"Param {self.name!r}: default {self.default!r} is not one of {self.values!r}")
        self.label = self.label or self.name
        f = self.fmt if callable(self.fmt) else self.fmt.format
        self.labels = [f(v) for v in self.values]


def static_mode() -> bool:
    """True when the book's build executes the notebook (no kernel will be behind the page)."""
    return os.environ.get("MACROBOOK_STATIC", "") not in ("", "0")


def _figure_and_text(result) -> tuple[Any, str]:
    if isinstance(result, tuple):
        fig, text = result
        return fig, str(text or "")
    return result, ""


def _png(fig, dpi: int) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def render_static(draw: Callable[..., Any], params: Sequence[Param], *, title: str = "", dpi: int = 72) -> str:
    """The HTML of a client-side slider: every combination of the grid drawn once, swapped by script.

    The HTML holds one ``<input type="range">`` per parameter (value = index into its grid), the value's
    label beside it, one ``<img>`` and one text block; its script only reads the precomputed frames."""
    frames = {}
    for idx in itertools.product(*(range(len(p.values)) for p in params)):
        fig, text = _figure_and_text(draw(**{p.name: p.values[i] for p, i in zip(params, idx)}))
        frames[",".join(map(str, idx))] = {"img": _png(fig, dpi), "text": text}
    uid = "mb-slider-" + uuid.uuid4().hex[:10]
    start = [p.values.index(p.default) for p in params]
    first = frames[",".join(map(str, start))]
    rows = []
    for k, (p, i) in enumerate(zip(params, start)):
        rows.append(
            f'<label style="display:flex;gap:0.6em;align-items:center;margin:0.2em 0">'
            f'<span style="min-width:14em">{html.escape(p.label)}</span>'
            f'<input type="range" class="mb-param" data-k="{k}" min="0" max="{len(p.values) - 1}" step="1" '
            f'value="{i}" aria-label="{html.escape(p.label)}" style="flex:1;max-width:22em">'
            f'<output class="mb-value" data-k="{k}" style="min-width:7em;font-weight:bold">'
            f'{html.escape(p.labels[i])}</output></label>')
    labels = [p.labels for p in params]
    script = (
        "(function(){var root=document.getElementById(%s);var F=%s;var L=%s;"
        "var ins=root.querySelectorAll('input.mb-param'),outs=root.querySelectorAll('output.mb-value');"
        "function upd(){var key=[];for(var k=0;k<ins.length;k++){var i=+ins[k].value;key.push(i);"
        "outs[k].textContent=L[k][i];}var f=F[key.join(',')];root.querySelector('img.mb-frame').src=f.img;"
        "root.querySelector('pre.mb-text').textContent=f.text;root.setAttribute('data-frame',key.join(','));}"
        "for(var k=0;k<ins.length;k++){ins[k].addEventListener('input',upd);ins[k].addEventListener('change',upd);}"
        "})();" % (json.dumps(uid), json.dumps(frames), json.dumps(labels)))
    head = f'<div style="font-weight:bold;margin-bottom:0.3em">{html.escape(title)}</div>' if title else ""
    return (
        f'<div id="{uid}" class="mb-scenario-slider" data-frame="{",".join(map(str, start))}" '
        f'style="border:1px solid #ccc;border-radius:4px;padding:0.6em;max-width:100%;overflow-x:auto">'
        f'{head}{"".join(rows)}'
        f'<img class="mb-frame" src="{first["img"]}" alt="{html.escape(title or "scenario")}" style="max-width:100%">'
        f'<pre class="mb-text" style="white-space:pre-wrap;margin:0.3em 0 0 0">{html.escape(first["text"])}</pre>'
        f'<script>{script}</script></div>')


def live_slider(draw: Callable[..., Any], params: Sequence[Param], *, title: str = ""):
    """The ipywidgets box for a kernel: one SelectionSlider per parameter (same labels, units and
    default as the static slider); moving one calls ``draw`` and redraws below the sliders."""
    from IPython.display import display
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    out = widgets.Output()
    # the sliders hold each value's position, not the value: a value may be None ("learned"), which
    # ipywidgets would read as "nothing selected"
    sliders = {p.name: widgets.SelectionSlider(options=list(zip(p.labels, range(len(p.values)))),
                                               value=p.values.index(p.default),
                                               description=p.label, continuous_update=False,
                                               style={"description_width": "initial"},
                                               layout=widgets.Layout(width="32em"))
               for p in params}
    by_name = {p.name: p for p in params}

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            fig, text = _figure_and_text(draw(**{k: by_name[k].values[s.value] for k, s in sliders.items()}))
            display(fig)
            plt.close(fig)
            if text:
                print(text)

    for s in sliders.values():
        s.observe(redraw, names="value")
    box = widgets.VBox(([widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []) + list(sliders.values()) + [out])
    redraw()
    return box


def scenario_slider(draw: Callable[..., Any], params: Sequence[Param], *, title: str = "",
                    static: bool | None = None, dpi: int = 72) -> None:
    """Show ``draw`` under one slider per parameter: precomputed in the static book, live with a kernel.

    ``static=None`` decides from the environment (:func:`static_mode`). Displays and returns nothing
    (a returned value would be echoed under the slider as text)."""
    from IPython.display import HTML, display

    params = list(params)
    if static is None:
        static = static_mode()
    if static:
        display(HTML(render_static(draw, params, title=title, dpi=dpi)))
    else:
        display(live_slider(draw, params, title=title))


class Words(str):
    """Text to glue into prose: its repr is the text itself, so ``{glue:text}`` shows no quotes."""

    def __repr__(self) -> str:
        return str(self)


def glue(name: str, value, display: bool = False):
    """Store ``value`` under ``name`` for the book's prose (myst-nb's ``glue``; ``{glue:text}`name```
    in a markdown cell, with a format spec for numbers: ``{glue:text}`name:.1%```). Strings are glued
    as :class:`Words`. Where myst-nb is not installed (Colab) nothing is stored: the printed outputs
    next to each glue call carry the same numbers."""
    if isinstance(value, str) and not isinstance(value, Words):
        value = Words(value)
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return None
    return _glue(name, value, display=display)
