"""The stylized-facts scorecard: every check on synthetic series built to pass and built to fail;
fit_taylor_rule flags an unidentified fit; the CLI's errors on bad run directories."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from macrobook.analysis import scorecard as sc
from macrobook.analysis.taylor import fit_taylor_rule

RNG = np.random.default_rng(0)


def _taylor_data(phi, T=240, E=4, spread=0.02, noise=0.001):
    pi = 0.02 + spread * RNG.standard_normal((T, E)) / 2
    gap = 0.01 * RNG.standard_normal((T, E))
    rate = 0.01 + 0.02 + phi * (pi - 0.02) + 0.5 * gap + noise * RNG.standard_normal((T, E))
    return rate, pi, gap


def test_taylor_check_passes_above_one_and_fails_below():
    assert sc.check_taylor(fit_taylor_rule(*_taylor_data(1.5)))["pass"]
    bad = sc.check_taylor(fit_taylor_rule(*_taylor_data(0.6)))
    assert not bad["pass"] and bad["interval"][1] < 1


def test_an_unidentified_taylor_fit_flags_itself():
    # the old chapter's case: inflation with a spread of 0.18 pp, rate an exact function of it
    T = 120
    pi = 0.02 + 0.0009 * np.sin(np.arange(T) / 5)
    gap = 0.01 * np.cos(np.arange(T) / 7)
    rate = 0.1 - 7.7 * pi + 0.3 * gap
    fit = fit_taylor_rule(rate, pi, gap)
    assert fit.r2 > 0.999 and fit.phi_pi == pytest.approx(-7.7, abs=1e-6)
    assert not fit.identified and fit.taylor_principle == "not identified"
    assert "spread" in fit.problems[0]
    assert not sc.check_taylor(fit)["pass"]
    # huge standard errors also flag it
    r, p, g = _taylor_data(1.5, T=30, E=1, spread=0.02, noise=0.2)
    f2 = fit_taylor_rule(r, p, g)
    assert f2.se["phi_pi"] > 1 and not f2.identified


def _irf(shape, E=16, H=40):
    t = np.arange(H)[:, None]
    return shape(t) + 0.02 * RNG.standard_normal((H, E))


def test_output_response_needs_a_negative_hump_between_6_and_24_months():
    hump = _irf(lambda t: -0.5 * np.exp(-((t - 10) / 6.0) ** 2) + 0 * t)
    assert sc.check_output_response(hump)["pass"]
    assert not sc.check_output_response(-hump)["pass"]                      # wrong sign
    impact = _irf(lambda t: -0.8 * 0.7 ** t)                              # trough at month 0
    r = sc.check_output_response(impact)
    assert not r["pass"] and r["trough_month"] < 6
    assert not sc.check_output_response(_irf(lambda t: 0 * t))["pass"]      # no effect


def test_inflation_response_must_be_negative_at_6_to_24_months():
    assert sc.check_inflation_response(_irf(lambda t: -0.2 * (t >= 4)))["pass"]
    assert not sc.check_inflation_response(_irf(lambda t: 0.2 * (t >= 4)))["pass"]


def test_mean_inflation_and_price_frequency_and_sold_out():
    ok = 0.02 + 0.002 * RNG.standard_normal((100, 4))
    assert sc.check_mean_inflation(ok, 0.02)["pass"]
    assert not sc.check_mean_inflation(ok + 0.015, 0.02)["pass"]     # 3.5%: inside 0-5 but > 1 pp off
    assert not sc.check_mean_inflation(ok - 0.04, 0.02)["pass"]
    assert sc.check_price_frequency(np.full(50, 0.12))["pass"]
    assert not sc.check_price_frequency(np.full(50, 1.0))["pass"]
    assert not sc.check_price_frequency(np.full(50, 0.01))["pass"]
    assert sc.check_sold_out(np.full(50, 0.05))["pass"]
    assert not sc.check_sold_out(np.full(50, 0.6))["pass"]


def _phillips_data(slope, T=240, E=4):
    u = 0.05 + 0.01 * RNG.standard_normal((T // 3, E)).repeat(3, 0)
    dpi = slope * 100 * (u[::3] - 0.05) / 100 + 0.0005 * RNG.standard_normal((T // 3, E))
    pi = 0.02 + np.cumsum(np.vstack([np.zeros((1, E)), dpi[1:]]), 0).repeat(3, 0)
    return pi, u


def test_phillips_slope_sign():
    pi, u = _phillips_data(-0.3)
    assert sc.check_phillips(pi, u, 0.05)["pass"]
    pi, u = _phillips_data(+0.3)
    assert not sc.check_phillips(pi, u, 0.05)["pass"]


def test_okun_coefficient_range():
    T, E = 240, 4
    u = 0.05 + np.cumsum(0.002 * RNG.standard_normal((T // 3, E)), 0).repeat(3, 0)
    for beta, ok in [(-2.0, True), (-6.0, False), (0.5, False)]:
        gap = beta * (u - 0.05) + 0.0002 * RNG.standard_normal((T, E))
        assert sc.check_okun(gap, u)["pass"] == ok, beta


def test_volatility_and_comovement():
    T, E = 360, 3
    cyc = np.cumsum(0.01 * RNG.standard_normal((T, E)), 0) * 0.3
    y = np.exp(cyc)
    good = sc.cycle_moments(y, np.exp(0.75 * cyc), np.exp(3.0 * cyc), np.exp(0.9 * cyc))
    checks = sc.check_volatility(good)
    assert all(c["pass"] for c in checks), checks
    bad = sc.cycle_moments(y, np.exp(1.5 * cyc), np.exp(0.5 * cyc), np.exp(-0.9 * cyc))
    assert not any(c["pass"] for c in sc.check_volatility(bad))


def test_equilibrium_check():
    assert sc.check_equilibrium({"firm": 0.01, "household": 0.02}, 0.8)["pass"]
    assert not sc.check_equilibrium({"firm": 0.2}, 0.8)["pass"]
    assert not sc.check_equilibrium({"firm": 0.01}, 0.2)["pass"]
    r = sc.check_equilibrium(None, 0.9)
    assert not r["pass"] and "not measured" in r["note"]


def test_pass_ranges_are_fixed_constants_with_sources():
    assert len(sc.CRITERIA) == 12
    assert all(c.source for c in sc.CRITERIA.values())
    assert sc.CRITERIA["price_change_frequency"].low == 0.05 and sc.CRITERIA["sold_out_share"].high == 0.10


@pytest.mark.parametrize("make,msg", [
    (lambda p: p / "nope", "does not exist"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "not a macrobook run directory"),
    (lambda p: ((p / "foreign").mkdir(), (p / "foreign/run.json").write_text(json.dumps({"economy": "rbc", "args": {}})))[0] or p / "foreign",
     "scorecard covers"),
    (lambda p: ((p / "broken").mkdir(), (p / "broken/run.json").write_text("{not json"))[0] or p / "broken", "damaged"),
])
def test_scorecard_cli_errors_are_one_clear_line(tmp_path, make, msg):
    d = make(tmp_path)
    r = subprocess.run([sys.executable, "-m", "macrobook", "scorecard", str(d), "--json"], capture_output=True, text=True)
    assert r.returncode != 0
    lines = [l for l in r.stderr.strip().splitlines() if l]
    assert len(lines) == 1 and msg in lines[0], r.stderr


def test_generic_checks_build_a_card_in_the_shared_schema():
    from macrobook.analysis.scorecard import build_scorecard, card_json, make_check

    a = make_check("sectoral_comovement", 0.7, 0.5, 1.0, source="Long and Plosser 1983")
    b = make_check("gini", 0.9, 0.2, 0.6)
    c = make_check("nan_value", float("nan"), -1.0, 1.0)
    d = make_check("forced", 2.0, 0.0, 1.0, passed=True, note="judged on an interval")
    assert a["pass"] and not b["pass"] and not c["pass"] and d["pass"]
    card = build_scorecard("six_sector", [a, b, c, d])
    assert set(card) == {"economy", "checks", "passed", "total"}
    assert card["economy"] == "six_sector" and card["passed"] == 2 and card["total"] == 4
    for ch in card["checks"]:
        assert {"name", "value", "low", "high", "pass"} <= set(ch)
    import json
    assert json.loads(card_json(card))["checks"][2]["value"] is None
    with pytest.raises(ValueError, match="lacks"):
        build_scorecard("x", [{"name": "bad", "value": 1.0}])
