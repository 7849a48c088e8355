"""macrobook.widgets: one slider idiom, precomputed in the static book and live with a kernel."""
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from macrobook.widgets import Param, Words, live_slider, render_static, scenario_slider, static_mode  # noqa: E402

calls = []


def draw(rate=0.2, shock="a"):
    calls.append((rate, shock))
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, rate])
    return fig, f"{shock} at {rate:.0%}"


def test_every_combination_is_drawn_once_and_the_default_is_shown():
    calls.clear()
    params = [Param("rate", [0.0, 0.2, 0.4], label="tax rate", fmt="{:.0%}", default=0.2),
              Param("shock", ["a", "b"], label="experiment")]
    page = render_static(draw, params, title="t")
    assert sorted(calls) == sorted((r, s) for r in (0.0, 0.2, 0.4) for s in ("a", "b"))
    frames = json.loads(re.search(r"var F=(\{.*?\});var L=", page).group(1))
    assert set(frames) == {f"{i},{j}" for i in range(3) for j in range(2)}
    assert frames["2,1"]["text"] == "b at 40%" and frames["2,1"]["img"].startswith("data:image/png;base64,")
    assert 'data-frame="1,0"' in page and "a at 20%" in page      # the default (20%, a) is what shows first
    assert ">20%</output>" in page and "tax rate" in page
    assert "http" not in page.replace("http://www.w3.org", "")     # nothing to fetch


def test_a_default_outside_the_grid_is_an_error():
    with pytest.raises(ValueError, match="default"):
        Param("rate", [0.0, 0.2], default=0.3)


def test_static_mode_follows_the_build(monkeypatch):
    monkeypatch.setenv("MACROBOOK_STATIC", "1")
    assert static_mode()
    monkeypatch.setenv("MACROBOOK_STATIC", "0")
    assert not static_mode()


def test_live_mode_builds_sliders_with_the_same_labels(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv("MACROBOOK_STATIC", raising=False)
    assert scenario_slider(draw, [Param("rate", [0.0, 0.2])]) is None   # nothing echoed under the slider
    box = live_slider(draw, [Param("rate", [0.0, 0.2], label="tax rate", fmt="{:.0%}", default=0.2)])
    slider = box.children[0]
    # the slider holds positions (a value may be None): the default 0.2 is position 1, labelled 20%
    assert slider.description == "tax rate" and slider.value == 1 and slider.options[slider.value][0] == "20%"
    assert slider.options[0][0] == "0%"
    calls.clear()
    slider.value = 0
    assert calls == [(0.0, "a")]


def test_live_mode_accepts_none_as_a_value(monkeypatch):
    """A parameter whose value is None ("the learned tax rate") is a position like any other."""
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv("MACROBOOK_STATIC", raising=False)
    seen = []

    def draw_tax(tax_rate=None):
        seen.append(tax_rate)
        return draw(rate=0.0)

    box = live_slider(draw_tax, [Param("tax_rate", [None, 0.2], fmt=lambda v: "learned" if v is None else f"{v:.0%}")])
    slider = box.children[0]
    assert slider.options[slider.value][0] == "learned" and seen == [None]
    slider.value = 1
    assert seen == [None, 0.2]


def test_words_glue_without_quotes():
    assert repr(Words("PPO and REINFORCE")) == "PPO and REINFORCE"


def test_static_slider_returns_nothing_to_echo(monkeypatch):
    monkeypatch.setenv("MACROBOOK_STATIC", "1")
    assert scenario_slider(draw, [Param("rate", [0.0, 0.2])]) is None
