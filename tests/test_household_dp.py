"""The household's consumption DP (macrobook.analysis.household_dp) against closed forms.

Tolerances fixed before the solver was run: the consumption rule within 0.1% of the cake-eating
closed form on cash on hand in [0.01, 500]; the response of log consumption to a rate change within
0.001 of the closed form's."""
import numpy as np
import pytest

from macrobook.analysis.household_dp import (closed_form_consumption, economy_household_response, rate_response,
                                             solve_household_dp)
from macrobook.envs.monetary import MonetaryConfig

BETA = 0.95


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("rate_annual", [0.0, 0.03])
def test_consumption_rule_matches_cake_eating_closed_form(sigma, rate_annual):
    r = (1 + rate_annual) ** (1 / 12) - 1
    dp = solve_household_dp(BETA, r, sigma=sigma)
    x = dp.x[(dp.x >= 0.01) & (dp.x <= 500)]
    rel = np.abs(dp.consumption(x) / closed_form_consumption(x, BETA, r, sigma) - 1)
    assert rel.max() < 1e-3, (sigma, rate_annual, rel.max())


@pytest.mark.parametrize("sigma", [1.0, 2.0, 0.5])
def test_rate_response_matches_closed_form(sigma):
    x = 5.0
    out = rate_response(BETA, 0.01, wealth=x, income=0.0, change_annual=0.01, sigma=sigma)
    r0, r1 = ((1 + r) ** (1 / 12) - 1 for r in (0.01, 0.02))
    want = 100 * np.log(closed_form_consumption(x, BETA, r1, sigma) / closed_form_consumption(x, BETA, r0, sigma))
    assert out["response_pct"] == pytest.approx(want, abs=0.1)   # 0.1 pp of consumption = 0.001 in logs
    if sigma == 1.0:
        assert abs(out["response_pct"]) < 0.1      # log utility: income and substitution effects cancel
    elif sigma > 1:
        assert out["response_pct"] > 0             # the income effect wins
    else:
        assert out["response_pct"] < 0             # the substitution effect wins


def test_economy_household_rule_is_sane():
    """Chapter 4's household (log(c + 0.05) + w log(1 + a')): consumption rises with cash on hand with a
    marginal propensity in (0, 1], and a household with labour income consumes less at a higher rate
    (its future income is worth less)."""
    cfg = MonetaryConfig()
    dp = solve_household_dp(BETA, 0.001, income=1.0, floor=0.05, wealth_weight=cfg.savings_weight)
    c = dp.c
    mpc = np.diff(c) / np.diff(dp.x)
    assert (mpc > 0).all() and (mpc <= 1 + 1e-6).all()
    assert (c <= dp.x + 1e-12).all()
    out = economy_household_response(cfg, BETA, wealth=3.0, income=1.0, rate_annual=0.0)
    assert out["response_pct"] < 0


@pytest.mark.parametrize("kw,msg", [(dict(beta=1.0, rate_monthly=0.0), "beta"), (dict(beta=0.9, rate_monthly=-1.5), "rate_monthly"),
                                   (dict(beta=0.9, rate_monthly=0.0, income=-1.0), "income")])
def test_bad_input_is_one_clear_line(kw, msg):
    with pytest.raises(ValueError, match=msg) as e:
        solve_household_dp(**kw)
    assert "\n" not in str(e.value)
