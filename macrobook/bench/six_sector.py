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

from ..envs.six_sector import (ACTIONS, SixSectorConfig, SixSectorEconomy, SixSectorState, euler_tilt, initial_state,
                               reset_draws, step_draws)
from ..envs.base import state_where
from .core import BenchCase, policy_actors  # noqa: F401
from .monetary import sell_to_order_loop

NAME = "six_sector"

# --------------------------------------------------------------------------- per-agent loop reference


def transition_loop(s: SixSectorState, act: Mapping[str, torch.Tensor], draws: Mapping[str, torch.Tensor],
                    shocks: Mapping[str, torch.Tensor], cfg: SixSectorConfig):
    """The same quarter as :func:`macrobook.envs.six_sector.transition`, written the agent-based
    way: a Python loop over economies and, inside, over households and firms, on Python floats
    (the goods market by :func:`macrobook.bench.monetary.sell_to_order_loop`, buyer by buyer and
    firm by firm). The reference the batched step must reproduce (tests) and the bench's
    baseline. Returns ``(new_state, flows, rewards)`` with a subset of the batched flows' keys."""
    L = {f.name: getattr(s, f.name).tolist() for f in dataclasses.fields(s)}
    A = {k: v.double().tolist() for k, v in act.items()}
    D = {k: v.double().tolist() for k, v in draws.items()}
    S = {k: v.double().tolist() for k, v in shocks.items()}
    E, H, F = len(L["wage"]), cfg.num_households, cfg.num_firms
    al, eta = cfg.capital_share, cfg.frisch_elasticity
    mu = cfg.price_elasticity / (cfg.price_elasticity - 1.0)
    out = {f.name: [] for f in dataclasses.fields(s)}
    keys = ("gdp", "consumption", "investment", "government_spending", "exports", "imports", "loans_issued",
            "loans_repaid", "deposit_interest", "loan_interest_paid", "bank_dividends", "monetized", "seized",
            "reserve_tax", "taxes", "deficit", "real_gdp", "current_account")
    flows = {k: [] for k in keys}
    rew = {k: [] for k in ACTIONS}
    for e in range(E):
        g = {k: L[k][e] for k in L}
        ah, af = A["household"][e], A["firm"][e]
        tax_base, g_share = A["government"][e][0]
        g_share = max(g_share + S["government_spending"][e], 0.0)
        policy = max(A["central_bank"][e][0][0] + S["policy_rate"][e], 0.0)
        spread = A["bank"][e][0][0]
        import_demand, fx_push = A["foreign"][e][0]
        # 1. prices, rates, exchange rate, tax rule
        price = [g["price"][j] * (1 + af[j][0]) for j in range(F)]
        p_dom = math.exp(sum(math.log(p) for p in price) / F)
        nref_open = g["p_dom"] * g["ref_gdp"]
        debt_open = sum(g["hh_bonds"]) + g["cb_claim"]
        tax = min(max(tax_base + cfg.tax_debt_response * (debt_open / (4 * nref_open) - cfg.debt_target), 0.0), 0.8)
        log_e = (cfg.fx_persistence * math.log(g["exchange_rate"]) + fx_push
                 - cfg.fx_rate_sensitivity * (policy - cfg.foreign_rate)
                 + cfg.fx_debt_sensitivity * min(max(g["foreign_deposits"] / (4 * nref_open), -4.0), 4.0)
                 + cfg.fx_volatility * D["fx"][e])
        xr = math.exp(log_e)
        pf = g["foreign_price"] * (1 + cfg.inflation_target)
        pm = xr * pf
        r_l = policy + spread
        base = (sum(max(d, 0.0) for d in g["hh_deposits"]) + sum(max(d, 0.0) for d in g["firm_deposits"])
                + max(g["foreign_deposits"], 0.0))
        income = sum(g["loans"]) * r_l + max(g["reserves"] * policy, 0.0)
        r_d = min(cfg.deposit_passthrough * policy, income / max(base, 1e-300))
        # 2. interest on opening stocks
        hh_int = [d * r_d for d in g["hh_deposits"]]
        firm_int = [d * r_d for d in g["firm_deposits"]]
        for_int = g["foreign_deposits"] * r_d
        dep_int = sum(hh_int) + sum(firm_int) + for_int
        bond_int = [b * policy for b in g["hh_bonds"]]
        ior = g["reserves"] * policy
        pos = sum(max(d, 0.0) for d in g["hh_deposits"])
        ior_tax = [ior * max(d, 0.0) / max(pos, 1e-300) for d in g["hh_deposits"]]
        hh = [g["hh_deposits"][i] + hh_int[i] + bond_int[i] - ior_tax[i] for i in range(H)]
        fd = [g["firm_deposits"][j] + firm_int[j] for j in range(F)]
        fx_dep = g["foreign_deposits"] + for_int
        # 3. spending plans
        spend, imp_budget, dom = [], [], []
        tilt = euler_tilt(policy - g["inflation"], cfg)
        for i in range(H):
            cash = hh[i] + g["hh_bonds"][i] + g["hh_net_income"][i]
            sp = min(ah[i][0] * tilt * max(cash, 0.0), max(hh[i], 0.0))
            sh = min(max(g["import_pref"][i] * (pm / p_dom) ** (-cfg.import_price_elasticity), 0.0), 0.6)
            spend.append(sp)
            imp_budget.append(sh * sp)
            dom.append(sp - sh * sp)
        vol = sum(imp_budget) / pm
        supply = cfg.import_supply * g["ref_gdp"]
        scale = supply / vol if vol > supply else 1.0
        imports_hh = [b * scale for b in imp_budget]
        room, inv_budget = [], []
        for j in range(F):
            room.append(max(_limit(g, j, r_l, cfg) - g["loans"][j], 0.0))
            inv_budget.append(min(af[j][1] * p_dom * g["capital"][j], room[j] + max(fd[j], 0.0)))
        g_budget = g_share * p_dom * g["ref_gdp"]
        xvol = (cfg.export_share * g["ref_gdp"] * import_demand
                * math.exp(g["log_foreign_demand"] + S["foreign_demand"][e]) * (pm / p_dom) ** cfg.export_price_elasticity)
        x_budget = max(xvol * p_dom + cfg.foreign_spending_rate * fx_dep, 0.0)
        # 4. goods market, to order
        z = math.exp(g["log_tfp"])
        zA = [g["productivity"][j] * z for j in range(F)]
        cap_h = [g["ref_hours"][j] / cfg.reference_hours for j in range(F)]
        capacity = [zA[j] * g["capital"][j] ** al * cap_h[j] ** (1 - al) for j in range(F)]
        bought, spent, sold = sell_to_order_loop(dom + inv_budget + [g_budget, x_budget], price, capacity,
                                                 cfg.price_elasticity)
        revenue = [price[j] * sold[j] for j in range(F)]
        c_dom, i_act = spent[:H], spent[H:H + F]
        g_act, x_act = spent[H + F], spent[H + F + 1]
        hh = [hh[i] - c_dom[i] - imports_hh[i] for i in range(H)]
        fx_dep = fx_dep + sum(imports_hh) - x_act
        inv_loans = [min(i_act[j], room[j]) for j in range(F)]
        fd = [fd[j] + revenue[j] - i_act[j] + inv_loans[j] for j in range(F)]
        capital = [(1 - cfg.depreciation) * g["capital"][j] + bought[H + j] for j in range(F)]
        # 5. hours
        hours_f = [max(sold[j] / (zA[j] * g["capital"][j] ** al), 0.0) ** (1 / (1 - al)) for j in range(F)]
        Lh = sum(hours_f)
        offered = sum(ah[i][1] * g["skill"][i] for i in range(H))
        full = sum(g["skill"])
        hours = []
        for i in range(H):
            if Lh <= offered:
                hours.append(ah[i][1] * (Lh / offered if offered > 0 else 0.0))
            else:
                extra = min(max((Lh - offered) / max(full - offered, 1e-300), 0.0), 1.0)
                hours.append(ah[i][1] + (1 - ah[i][1]) * extra)
        unemp = max(1 - Lh / offered, 0.0) if offered > 0 else 0.0
        W = g["wage"]
        mc = []
        for j in range(F):
            hm = max(hours_f[j], 1e-3 * cap_h[j])
            mc.append(W * hm / ((1 - al) * max(zA[j] * g["capital"][j] ** al * hm ** (1 - al), 1e-12)))
        # 6. bills: wages, price-change costs (fees to households), loan interest; pro rata when short
        wage_due = [W * h for h in hours_f]
        adjust_due = [0.5 * cfg.rotemberg * (price[j] / g["price"][j] - 1 - cfg.inflation_target) ** 2
                      * max(revenue[j], 0.0) for j in range(F)]
        int_due = [l * r_l for l in g["loans"]]
        wage_bill, adjust, loan_int, paid = [], [], [], []
        for j in range(F):
            due = wage_due[j] + adjust_due[j] + int_due[j]
            avail = fd[j] + max(_limit(g, j, r_l, cfg) - g["loans"][j] - inv_loans[j], 0.0)
            sh = max(avail, 0.0) / max(due, 1e-300) if due > avail else 1.0
            paid.append(sh)
            wage_bill.append(wage_due[j] * sh), adjust.append(adjust_due[j] * sh), loan_int.append(int_due[j] * sh)
            fd[j] -= wage_bill[j] + adjust[j] + loan_int[j]
        wps = sum(wage_bill) / sum(wage_due) if sum(wage_due) > 0 else 1.0
        wage_inc = [W * g["skill"][i] * hours[i] * wps for i in range(H)]
        hh = [hh[i] + wage_inc[i] for i in range(H)]
        fee = sum(adjust) / H
        hh = [x + fee for x in hh]
        # 7. loans
        loans, issued, seized, loss, repaid, defaulted = [], [], [], [], [], []
        exp_loss = 0.0
        for j in range(F):
            need = max(-fd[j], 0.0)
            od = min(need, max(_limit(g, j, r_l, cfg) - (g["loans"][j] + inv_loans[j]), 0.0))
            fd[j] = max(fd[j] + od, 0.0)
            lo = g["loans"][j] + inv_loans[j] + od
            lev = g["loans"][j] / max(g["price"][j] * g["capital"][j], 1e-12)
            pd = min(max(cfg.default_base * math.exp(cfg.default_leverage_sensitivity * (lev - cfg.reference_leverage)
                                                    + cfg.default_rate_sensitivity * (r_l - 0.02)), 0.0), 0.5)
            exp_loss += pd * g["loans"][j]
            dflt = D["default_u"][e][j] < pd or paid[j] < 1.0
            wo = lo if dflt else 0.0
            sz = min(max(fd[j], 0.0), wo)
            lo, fd[j] = lo - wo, fd[j] - sz
            rp = min(cfg.loan_repayment_rate * lo, max(fd[j], 0.0))
            lo, fd[j] = lo - rp, fd[j] - rp
            loans.append(lo), issued.append(inv_loans[j] + od), seized.append(sz)
            loss.append(wo - sz), repaid.append(rp), defaulted.append(dflt)
        # 8. dividends, bank
        fdiv = [cfg.dividend_payout * max(fd[j] - 0.5 * revenue[j], 0.0) for j in range(F)]
        fd = [fd[j] - fdiv[j] for j in range(F)]
        bprofit = sum(loan_int) + ior - dep_int - sum(loss)
        equity = g["bank_equity"] + bprofit
        bdiv = min(cfg.bank_payout * max(bprofit, 0.0), max(equity - cfg.capital_requirement * sum(loans), 0.0))
        equity -= bdiv
        divs = sum(fdiv) + bdiv
        dinc = [g["ownership"][i] * divs for i in range(H)]
        hh = [hh[i] + dinc[i] for i in range(H)]
        # 9. government
        taxes_i = [tax * (wage_inc[i] + dinc[i] + bond_int[i]) for i in range(H)]
        hh = [hh[i] - taxes_i[i] for i in range(H)]
        deficit = g_act + sum(bond_int) - sum(taxes_i)
        if deficit > 0:
            pos = sum(max(x, 0.0) for x in hh)
            buy = [min(deficit * max(x, 0.0) / max(pos, 1e-300), cfg.bond_share_cap * max(x, 0.0)) for x in hh]
        else:
            held = sum(max(b, 0.0) for b in g["hh_bonds"])
            buy = [max(deficit * max(b, 0.0) / max(held, 1e-300), -max(b, 0.0)) for b in g["hh_bonds"]]
        monetized = deficit - sum(buy)
        hh = [hh[i] - buy[i] for i in range(H)]
        bonds = [g["hh_bonds"][i] + buy[i] for i in range(H)]
        # 10. wages, prices, shocks
        cpi = math.exp((1 - cfg.import_share) * math.log(p_dom) + cfg.import_share * math.log(pm))
        infl = cpi / g["cpi"] - 1
        growth = min(max(cfg.wage_indexation * g["inflation"] + cfg.wage_flexibility * (cfg.natural_unemployment - unemp),
                         -0.02), 0.02)
        # 11. accounts and rewards
        gdp = sum(revenue)
        imports = sum(imports_hh)
        real_gdp = gdp / p_dom
        gap = real_gdp / g["ref_gdp"] - 1
        nref = p_dom * g["ref_gdp"]
        c_ref = 0.6 * g["ref_gdp"] / H
        util = [math.log(max((bought[i] + imports_hh[i] / pm) / c_ref, 1e-3))
                - g["chi"][i] * hours[i] ** (1 + 1 / eta) / (1 + 1 / eta) for i in range(H)]
        rew["household"].append(util)
        rew["firm"].append([(revenue[j] - wage_due[j] - adjust_due[j] + firm_int[j]
                             - (r_l + cfg.depreciation) * p_dom * g["capital"][j]) / cpi / g["ref_output"][j]
                            for j in range(F)])
        debt = sum(bonds) + g["cb_claim"] + monetized
        rew["government"].append([sum(util) / H + cfg.public_goods_weight * math.log(max(g_act / nref / 0.2, 1e-2))
                                  - cfg.debt_penalty * (debt / (4 * nref) - cfg.debt_target) ** 2])
        rew["central_bank"].append([-0.01 * ((400 * (infl - cfg.inflation_target)) ** 2
                                             + cfg.output_gap_weight * (100 * gap) ** 2)])
        rew["bank"].append([(bprofit - cfg.risk_weight * exp_loss) / (0.1 * nref)])
        rew["foreign"].append([0.5 * math.log(max(x_act / p_dom / (cfg.export_share * g["ref_gdp"]), 1e-3))
                               + (imports - x_act) / pm / (cfg.export_share * g["ref_gdp"]) - 100 * fx_push ** 2])
        net_inc = [wage_inc[i] + dinc[i] + bond_int[i] + fee - taxes_i[i] + hh_int[i] - ior_tax[i] for i in range(H)]
        new = dict(g)
        new.update(
            hh_deposits=hh, hh_bonds=bonds, hh_net_income=net_inc, hh_hours=hours, price=price, firm_deposits=fd,
            loans=loans, capital=capital, last_sales=sold, last_capacity=capacity, last_mc=mc, wage=W * (1 + growth),
            exchange_rate=xr, cb_claim=g["cb_claim"] + monetized, reserves=g["reserves"] + monetized,
            foreign_price=pf, foreign_deposits=fx_dep, bank_equity=equity,
            log_tfp=cfg.tfp_persistence * g["log_tfp"] + cfg.tfp_volatility * D["tfp"][e] + S["tfp"][e],
            log_foreign_demand=cfg.foreign_demand_persistence * g["log_foreign_demand"]
            + cfg.foreign_demand_volatility * D["foreign_demand"][e],
            cpi=cpi, p_dom=p_dom, policy_rate=policy, tax_rate=tax, lending_rate=r_l, spending_share=g_share,
            inflation=infl, output_gap=gap, unemployment=unemp, deficit_ratio=deficit / nref,
            trade_balance_ratio=(x_act - imports) / nref, default_rate=sum(defaulted) / F,
            wage_growth=growth, exports_ratio=x_act / nref, imports_ratio=imports / nref, spread=spread, t=g["t"] + 1)
        for k in out:
            out[k].append(new[k])
        for k, v in dict(gdp=gdp, consumption=sum(c_dom) + imports, investment=sum(i_act), government_spending=g_act,
                         exports=x_act, imports=imports, loans_issued=sum(issued), loans_repaid=sum(repaid),
                         deposit_interest=dep_int, loan_interest_paid=sum(loan_int), bank_dividends=bdiv,
                         monetized=monetized, seized=sum(seized), reserve_tax=ior,
                         taxes=sum(taxes_i), deficit=deficit, real_gdp=real_gdp,
                         current_account=x_act - imports - for_int).items():
            flows[k].append(v)
    dev, dt = s.wage.device, s.wage.dtype
    new_state = SixSectorState(**{k: torch.tensor(v, dtype=torch.long if k == "t" else dt, device=dev)
                                  for k, v in out.items()})
    flows_t = {k: torch.tensor(v, dtype=dt, device=dev) for k, v in flows.items()}
    rew_t = {k: torch.tensor(v, dtype=dt, device=dev) for k, v in rew.items()}
    return new_state, flows_t, rew_t


def _limit(g, j, r_l, cfg):
    """A firm's credit limit (debt-service and loan-to-value rules), from its opening state."""
    rev_prev = g["last_sales"][j] * g["price"][j]
    return min(cfg.dsr_limit * max(rev_prev, 0.0) / (max(r_l, 0.0) + cfg.loan_repayment_rate),
               cfg.ltv_limit * max(g["price"][j] * g["capital"][j], 0.0))


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
