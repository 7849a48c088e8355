"""The per-agent reference loop of :mod:`macrobook.envs.six_sector` and its bench case.

The loop computes the same economics as the batched step with Python numbers, economy by economy
and agent by agent. It is slow on purpose: the benchmark's baseline (``python -m macrobook bench
six_sector``) and the batched step's oracle in the tests.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import torch

from ..envs.six_sector import ACTIONS, SixSectorConfig, SixSectorEconomy, SixSectorState, initial_state, reset_draws, step_draws
from ..envs.base import state_where
from .core import BenchCase, policy_actors  # noqa: F401

NAME = "six_sector"

# --------------------------------------------------------------------------- per-agent loop reference


def transition_loop(s: SixSectorState, act: Mapping[str, torch.Tensor], draws: Mapping[str, torch.Tensor],
                    shocks: Mapping[str, torch.Tensor], cfg: SixSectorConfig):
    """The same quarter as :func:`transition`, written the agent-based way: a Python loop over
    economies and, inside, over households and firms, on Python floats. It exists as the
    reference that the batched step must reproduce (tests) and as the bench's baseline.
    Returns ``(new_state, flows, rewards)`` with the same keys as :func:`transition`."""
    L = {f.name: getattr(s, f.name).tolist() for f in dataclasses.fields(s)}
    A = {k: v.double().tolist() for k, v in act.items()}
    D = {k: v.double().tolist() for k, v in draws.items()}
    S = {k: v.double().tolist() for k, v in shocks.items()}
    E, H, F = len(L["wage"]), cfg.num_households, cfg.num_firms
    al, eta = cfg.capital_share, cfg.frisch_elasticity
    out = {f.name: [] for f in dataclasses.fields(s)}
    flows = {k: [] for k in ("gdp", "consumption", "investment", "government_spending", "exports", "imports",
                             "loans_issued", "loans_repaid", "deposit_interest", "loan_interest_paid",
                             "bank_dividends", "primary_deficit", "write_offs", "real_gdp")}
    rew = {k: [] for k in ACTIONS}
    for e in range(E):
        ah, af = A["household"][e], A["firm"][e]
        tax_rate, g_share = A["government"][e][0]
        g_share = max(g_share + S["government_spending"][e], 0.0)
        policy_rate = max(A["central_bank"][e][0][0] + S["policy_rate"][e], 0.0)
        spread = A["bank"][e][0][0]
        import_demand, fx_change = A["foreign"][e][0]
        g = {k: L[k][e] for k in L}
        # 1. prices and rates
        price = [g["price"][j] * (1 + af[j][0]) for j in range(F)]
        p_dom = math.exp(sum(math.log(p) for p in price) / F)
        xr = g["exchange_rate"] * math.exp(fx_change - cfg.fx_rate_sensitivity * (policy_rate - cfg.foreign_rate)
                                           + cfg.fx_volatility * D["fx"][e])
        r_d, r_l = cfg.deposit_passthrough * policy_rate, policy_rate + spread
        # 2. interest
        hh_dep = [d * (1 + r_d) for d in g["hh_deposits"]]
        int_recv = [d * r_d for d in g["firm_deposits"]]
        loan_int = [l * r_l for l in g["loans"]]
        firm_dep = [g["firm_deposits"][j] + int_recv[j] - loan_int[j] for j in range(F)]
        foreign_dep = g["foreign_deposits"] * (1 + r_d)
        dep_int = (sum(g["hh_deposits"]) + sum(g["firm_deposits"]) + g["foreign_deposits"]) * r_d
        gov_int, res_int = g["gov_debt"] * policy_rate, g["reserves"] * policy_rate
        # 3. labor market
        supply = [ah[i][1] * g["skill"][i] for i in range(H)]
        demand = [af[j][1] * g["ref_hours"][j] for j in range(F)]
        ts, td = sum(supply), sum(demand)
        emp = min(ts, td)
        hf = emp / ts if ts > 0 else 0.0
        ff = emp / td if td > 0 else 0.0
        wage = g["wage"]
        hours = [ah[i][1] * hf for i in range(H)]
        labor = [demand[j] * ff for j in range(F)]
        wage_inc = [wage * supply[i] * hf for i in range(H)]
        wage_bill = [wage * labor[j] for j in range(F)]
        unemp = 1 - emp / ts if ts > 0 else 0.0
        # 4. production
        z = math.exp(g["log_tfp"])
        output = [g["productivity"][j] * z * g["capital"][j] ** al * labor[j] ** (1 - al) for j in range(F)]
        avail = [g["inventory"][j] + output[j] for j in range(F)]
        # 5. plans
        wtax = [tax_rate * w for w in wage_inc]
        cash = [hh_dep[i] + wage_inc[i] - wtax[i] for i in range(H)]
        spend = [ah[i][0] * cash[i] for i in range(H)]
        rel = xr / p_dom
        imp = [min(max(g["import_pref"][i] * rel ** (-cfg.import_price_elasticity), 0.0), 0.9) * spend[i] for i in range(H)]
        dom = [spend[i] - imp[i] for i in range(H)]
        g_plan = g_share * p_dom * g["ref_gdp"]
        xvol = (cfg.export_share * g["ref_gdp"] * import_demand
                * math.exp(g["log_foreign_demand"] + S["foreign_demand"][e]) * rel ** cfg.export_price_elasticity)
        x_plan = xvol * p_dom
        i_plan = [af[j][2] * p_dom * g["capital"][j] for j in range(F)]
        zp = sum(dom) + g_plan + x_plan + sum(i_plan)
        # 6. goods market
        wc = [p ** (-cfg.price_elasticity) for p in price]
        sw = sum(wc)
        sales = [min(zp * wc[j] / sw / price[j], avail[j]) for j in range(F)]
        revenue = [price[j] * sales[j] for j in range(F)]
        fill = sum(revenue) / zp if zp > 0 else 1.0
        inventory = [avail[j] - sales[j] for j in range(F)]
        bpm = sum(sales) / zp if zp > 0 else 0.0
        # 7. payments
        c_dom = [d * fill for d in dom]
        g_act, x_act = g_plan * fill, x_plan * fill
        i_act = [i * fill for i in i_plan]
        hh_dep = [cash[i] - c_dom[i] - imp[i] for i in range(H)]
        foreign_dep = foreign_dep + sum(imp) - x_act
        firm_dep = [firm_dep[j] - wage_bill[j] + revenue[j] - i_act[j] for j in range(F)]
        capital = [(1 - cfg.depreciation) * g["capital"][j] + i_plan[j] * bpm for j in range(F)]
        real_c = [dom[i] * bpm + imp[i] / xr for i in range(H)]
        # 8. defaults
        loans, wo, el, ndef = [], [], 0.0, 0
        for j in range(F):
            lev = g["loans"][j] / max(g["price"][j] * g["capital"][j], 1e-12)
            pd = min(max(cfg.default_base * math.exp(cfg.default_leverage_sensitivity * (lev - cfg.reference_leverage)
                                                    + cfg.default_rate_sensitivity * (r_l - 0.02)), 0.0), 0.5)
            dflt = D["default_u"][e][j] < pd
            ndef += int(dflt)
            w_j = cfg.loss_given_default * g["loans"][j] if dflt else 0.0
            wo.append(w_j)
            loans.append(g["loans"][j] - w_j)
            el += pd * cfg.loss_given_default * g["loans"][j]
        # 9. profits and dividends
        cprofit = [revenue[j] - wage_bill[j] - loan_int[j] + int_recv[j] for j in range(F)]
        fdiv = [min(cfg.dividend_payout * max(cprofit[j], 0.0), max(firm_dep[j], 0.0)) for j in range(F)]
        firm_dep = [firm_dep[j] - fdiv[j] for j in range(F)]
        bprofit = sum(loan_int) + gov_int + res_int - dep_int - sum(wo)
        bdiv = cfg.bank_payout * max(bprofit, 0.0)
        divs = sum(fdiv) + bdiv
        dinc = [g["ownership"][i] * divs for i in range(H)]
        dtax = [tax_rate * d for d in dinc]
        hh_dep = [hh_dep[i] + dinc[i] - dtax[i] for i in range(H)]
        # 10. financing
        issued = [max(-firm_dep[j], 0.0) for j in range(F)]
        firm_dep = [firm_dep[j] + issued[j] for j in range(F)]
        loans = [loans[j] + issued[j] for j in range(F)]
        repaid = [min(cfg.loan_repayment_rate * loans[j], firm_dep[j]) for j in range(F)]
        firm_dep = [firm_dep[j] - repaid[j] for j in range(F)]
        loans = [loans[j] - repaid[j] for j in range(F)]
        # 11. government
        taxes = sum(wtax) + sum(dtax)
        deficit = g_act + gov_int - taxes
        # 12. wages, prices, shocks
        tight = td / ts if ts > 0 else 1.0
        wg = min(max(g["inflation"] + cfg.wage_flexibility * (tight - 1), -0.05), 0.05)
        cpi = (1 - cfg.import_share) * p_dom + cfg.import_share * xr
        infl = cpi / g["cpi"] - 1
        # 13. accounts and rewards
        gdp = sum(price[j] * output[j] for j in range(F))
        inv_inv = sum(price[j] * (inventory[j] - g["inventory"][j]) for j in range(F))
        imports = sum(imp)
        real_gdp = gdp / p_dom
        gap = real_gdp / g["ref_gdp"] - 1
        nref = p_dom * g["ref_gdp"]
        c_ref = 0.6 * g["ref_gdp"] / H
        util = [math.log(max(real_c[i] / c_ref, 1e-3)) - g["chi"][i] * hours[i] ** (1 + 1 / eta) / (1 + 1 / eta)
                for i in range(H)]
        rew["household"].append(util)
        rew["firm"].append([(cprofit[j] - cfg.depreciation * price[j] * g["capital"][j]) / (price[j] * g["ref_output"][j])
                            for j in range(F)])
        dr, debt = deficit / nref, (g["gov_debt"] + deficit) / (4 * nref)
        rew["government"].append([sum(util) / H - cfg.deficit_penalty * dr ** 2 - cfg.debt_penalty * max(debt - 0.6, 0.0) ** 2])
        rew["central_bank"].append([-0.01 * ((400 * (infl - cfg.inflation_target)) ** 2 + cfg.output_gap_weight * (100 * gap) ** 2)])
        rew["bank"].append([(bprofit - cfg.risk_weight * el) / (0.1 * nref)])
        rew["foreign"].append([0.5 * math.log(max(xvol * fill / (cfg.export_share * g["ref_gdp"]), 1e-3))
                               + (imports - x_act) / xr / (cfg.export_share * g["ref_gdp"]) - 100 * fx_change ** 2])
        new = dict(g)
        new.update(
            hh_deposits=hh_dep, hh_net_income=[wage_inc[i] - wtax[i] + dinc[i] - dtax[i] for i in range(H)],
            hh_hours=hours, price=price, firm_deposits=firm_dep, loans=loans, capital=capital, inventory=inventory,
            last_sales=sales, wage=wage * (1 + wg), exchange_rate=xr, gov_debt=g["gov_debt"] + deficit,
            reserves=g["reserves"] + res_int, foreign_deposits=foreign_dep, bank_equity=g["bank_equity"] + bprofit - bdiv,
            log_tfp=cfg.tfp_persistence * g["log_tfp"] + cfg.tfp_volatility * D["tfp"][e] + S["tfp"][e],
            log_foreign_demand=cfg.foreign_demand_persistence * g["log_foreign_demand"]
            + cfg.foreign_demand_volatility * D["foreign_demand"][e],
            cpi=cpi, policy_rate=policy_rate, tax_rate=tax_rate, lending_rate=r_l, spending_share=g_share,
            inflation=infl, output_gap=gap, unemployment=unemp, deficit_ratio=dr,
            trade_balance_ratio=(x_act - imports) / nref, default_rate=ndef / F, wage_growth=wg,
            exports_ratio=x_act / nref, imports_ratio=imports / nref, spread=spread, t=g["t"] + 1)
        for k in out:
            out[k].append(new[k])
        for k, v in dict(gdp=gdp, consumption=sum(c_dom) + imports, investment=sum(i_act) + inv_inv,
                         government_spending=g_act, exports=x_act, imports=imports, loans_issued=sum(issued),
                         loans_repaid=sum(repaid), deposit_interest=dep_int, loan_interest_paid=sum(loan_int),
                         bank_dividends=bdiv, primary_deficit=g_act - taxes, write_offs=sum(wo),
                         real_gdp=real_gdp).items():
            flows[k].append(v)
    dev, dt = s.wage.device, s.wage.dtype
    new_state = SixSectorState(**{k: torch.tensor(v, dtype=torch.long if k == "t" else dt, device=dev)
                                  for k, v in out.items()})
    flows_t = {k: torch.tensor(v, dtype=dt, device=dev) for k, v in flows.items()}
    rew_t = {k: torch.tensor(v, dtype=dt, device=dev) for k, v in rew.items()}
    return new_state, flows_t, rew_t


def bench_case(num_envs: int, device="cpu", config: SixSectorConfig | None = None, seed: int = 0):
    """For ``python -m macrobook bench six_sector``: one quarter of ``num_envs`` economies with
    the policy forward pass of every agent (untrained MADDPG-style deterministic actors, one per
    type). ``batched_step``: one actor call per type + the tensor transition. ``loop_step``: one
    actor call per agent and :func:`transition_loop` (Python numbers, economy by economy, agent by
    agent). Observations are built by the same tensor code in both (this favours the loop)."""
    
    from ..nets import DeterministicActor

    cfg = config if config is not None else SixSectorConfig()
    econ = SixSectorEconomy(cfg, num_envs=num_envs, device=device)
    econ.reset(seed=seed)
    econ.check_actions = False
    torch.manual_seed(seed)
    actors = {k: DeterministicActor(sp.obs_dim, sp.action).to(econ.device) for k, sp in econ.specs.items()}
    loop = {"s": econ.state.clone()}

    def batched_step():
        obs = econ.observe(econ.state)
        econ.step({k: actors[k](obs[k]) for k in actors})

    def loop_step():
        obs = econ.observe(loop["s"])
        acts = {}
        for k, sp in econ.specs.items():
            acts[k] = torch.stack([torch.stack([actors[k](obs[k][e, i]) for i in range(sp.count)])
                                   for e in range(econ.num_envs)])
        d = step_draws(cfg, econ.num_envs, econ.rand, econ.randn)
        s_new, _, _ = transition_loop(loop["s"], acts, d, econ.shocks, cfg)
        done = s_new.t >= cfg.episode_len
        if bool(done.any()):
            fresh = initial_state(cfg, reset_draws(cfg, econ.num_envs, econ.rand, econ.randn), econ.dtype)
            s_new = state_where(done, fresh, s_new)
        loop["s"] = s_new

    sync = (lambda: torch.cuda.synchronize(econ.device)) if econ.device.type == "cuda" else (lambda: None)
    agents = sum(sp.count for sp in econ.specs.values())
    return BenchCase(batched_step=batched_step, loop_step=loop_step, agents_per_env=agents, sync=sync)
