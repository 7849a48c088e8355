"""Best-response checks of a learned equilibrium: the epsilon of Curry et al. (2022, Sec. 7).

Used in Chapter 6. Agents of one type share one policy, so the game is read as a meta-game
whose players are the *types*. For each type: freeze every other type, retrain that type
starting from its equilibrium policy, and measure how much its mean reward per step rises.
The gain is a lower bound on that type's epsilon; the paper reports it as a fraction of the
reward the type gained during training (Table 3: consumers < 3%, firms < 10%,
government < 1%)::

    eps = max(gain_from_retraining, gain_from_playing_the_mode, 0) / training_gain

(undefined, reported as NaN and "not within the bound", when the type gained nothing in training).
Two deviations are tried, and each gain is a lower bound on the true epsilon, so the larger one
counts: retraining (the paper's best response; here PPO, by default without an entropy bonus in
the CLI and Chapter 6) and, with no search at all, every agent of the type playing its policy's
most likely action (:class:`Greedy`). Both are reported with standard errors from the paired
per-economy differences (``gain_se``, ``greedy_gain_se``, ``epsilon_se``).

What "the reward it gained in training" is needs a baseline, and the paper does not spell it
out. Two are offered (``baseline=``):

* ``"own"`` (the default): the type's reward at the learned profile minus its reward when *it
  alone* plays its untrained policy against the others' learned ones. This is what the type's
  own learning earned it, holding the rest of the economy fixed, the same comparison the
  best response makes. It stays defined when the other types' learning lowers this type's
  reward (firms raising prices lower consumers' utility: the paper's Fig. 3).
* ``"profile"``: its reward at the learned profile minus its reward when *every* type plays
  its untrained policy, the reward curve's rise from the start of training. For consumers it
  is usually negative, so their epsilon is undefined.

Both are reported (``training_gain_own``, ``training_gain_profile``); ``epsilon`` uses the chosen one.

Rewards are evaluated on a separate set of economies with common random numbers (the same
seeds before and after retraining), so the comparison is not drowned by sampling noise; the
economies are independent, so the spread of the per-economy differences gives the error.

CLI: ``python -m macrobook best-response RUN_DIR [--iterations N] [--json]``.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Dict, Iterable, Optional

import torch

#: the paper's bounds on epsilon (Curry et al. 2022, Table 3)
PAPER_BOUNDS = {"consumer": 0.03, "firm": 0.10, "government": 0.01}


def epsilon_of(gain: float, training_gain: float) -> float:
    """The paper's epsilon: the best-response gain as a share of what the type gained in training.

    ``max(gain, 0) / training_gain`` when the type did gain in training. When it did not
    (its reward at the learned profile is no higher than under the untrained policies, which
    happens when the other types' learning hurts it), the share is undefined and this returns
    NaN: such a type is reported as *not* within the bound, never as a tiny epsilon.
    """
    if not training_gain > 0:
        return float("nan")
    return max(float(gain), 0.0) / float(training_gain)


def within_bounds(table) -> bool:
    """True when every type in an :func:`epsilon_table` has epsilon under the paper's bound."""
    return bool(len(table)) and all(bool(r["epsilon"] < PAPER_BOUNDS.get(r["type"], float("nan")))
                                    for r in table.to_dict("records"))


@torch.no_grad()
def rewards_by_economy(trainer, economy, episodes: int = 2, seed: int = 777,
                       deterministic: bool = False) -> Dict[str, torch.Tensor]:
    """Mean reward per agent per step of every type in each economy of ``economy`` (a separate
    evaluation copy), over ``episodes`` episodes, with the policies' own sampling seeded by
    ``seed``: {type: tensor [E]}. The economies are independent draws, so two profiles evaluated
    with the same seed give paired differences whose spread is the comparison's standard error.
    ``trainer`` may also be a plain ``{type: learner}`` mapping (a mixed profile)."""
    learners = trainer if isinstance(trainer, dict) else trainer.learners
    T = getattr(economy.config, "episode_length", 10) * episodes
    torch.manual_seed(seed)
    obs = economy.reset(seed=seed)
    sums: Dict[str, torch.Tensor] = {}
    for _ in range(T):
        acts = {k: l.act(obs[k], deterministic=deterministic)[0] for k, l in learners.items()}
        out = economy.step(acts)
        for k in learners:
            r = out.reward[k].float()
            sums[k] = sums.get(k, 0) + r.reshape(r.shape[0], -1).mean(1).double().cpu()
        obs = out.obs
    return {k: v / T for k, v in sums.items()}


def mean_rewards(trainer, economy, episodes: int = 2, seed: int = 777, deterministic: bool = False) -> Dict[str, float]:
    """Mean reward per agent per step of every type over all economies (see :func:`rewards_by_economy`)."""
    return {k: float(v.mean()) for k, v in rewards_by_economy(trainer, economy, episodes, seed, deterministic).items()}


def paired_gain(after: torch.Tensor, before: torch.Tensor) -> tuple[float, float]:
    """Mean of the per-economy differences and its standard error (NaN with one economy)."""
    d = (after - before).double()
    se = float(d.std(unbiased=True) / math.sqrt(d.numel())) if d.numel() > 1 else float("nan")
    return float(d.mean()), se


class Greedy:
    """A learner's deterministic read-out (its most likely action in every state) as a policy of
    its own: a deviation every agent of a type could make together, so the reward it gains over the
    learned (stochastic) policy is another lower bound on that type's epsilon, found without any search."""

    def __init__(self, learner):
        self.learner = learner

    def act(self, obs, deterministic=False):
        return self.learner.act(obs, deterministic=True)


def deviation_gain(trainer, agent_type: str, policy, eval_economy, episodes: int = 2, seed: int = 777) -> tuple[float, float]:
    """``(gain, standard error)``: the mean reward per step of ``agent_type`` when it plays ``policy``
    (anything with ``act``) against the others' learned policies, minus its reward under its own
    learned policy, on the same seeds; the error comes from the per-economy paired differences."""
    if agent_type not in trainer.learners:
        raise ValueError(f"unknown agent type {agent_type!r}; known: {sorted(trainer.learners)}")
    base = rewards_by_economy(trainer, eval_economy, episodes, seed)[agent_type]
    dev = rewards_by_economy({**trainer.learners, agent_type: policy}, eval_economy, episodes, seed)[agent_type]
    return paired_gain(dev, base)


def _snapshot(learner):
    return {name: copy.deepcopy(m.state_dict()) for name, m in learner.modules().items()}


def _restore(learner, snap):
    for name, m in learner.modules().items():
        m.load_state_dict(snap[name])


def best_response(trainer, agent_type: str, iterations: int, eval_economy, initial_rewards: Optional[Dict[str, float]] = None,
                  episodes: int = 2, seed: int = 777, prepare: Optional[Callable] = None,
                  ent_coef: Optional[float] = None, restore: bool = True, untrained=None,
                  baseline: str = "own", greedy: bool = True) -> dict:
    """Retrain ``agent_type`` alone for ``iterations`` iterations from its current policy.

    ``prepare(trainer)`` puts the economy in the full model (no curriculum masks);
    ``initial_rewards`` are the types' rewards when every type plays its untrained policy
    (the ``"profile"`` baseline); ``untrained`` (a Trainer built the same way, not trained)
    gives the ``"own"`` baseline: this type untrained against the others' learned policies.
    ``ent_coef`` is the entropy bonus during the retraining (None keeps the learner's).
    With ``greedy`` the type's other deviation, playing its policy's most likely action
    (:class:`Greedy`), is measured too, and epsilon is the larger of the two lower bounds.
    Returns reward before/after, the gains with their standard errors over the evaluation
    economies, both training gains and epsilon under ``baseline``.
    The learners' weights are restored afterwards unless ``restore`` is False.
    """
    if baseline not in ("own", "profile"):
        raise ValueError(f"baseline must be 'own' or 'profile', got {baseline!r}")
    if agent_type not in trainer.learners:
        raise ValueError(f"unknown agent type {agent_type!r}; known: {sorted(trainer.learners)}")
    learner = trainer.learners[agent_type]
    if prepare is not None:
        prepare(trainer)
    before_e = rewards_by_economy(trainer, eval_economy, episodes, seed)[agent_type]
    before = float(before_e.mean())
    greedy_gain = greedy_se = None
    if greedy:
        dev = rewards_by_economy({**trainer.learners, agent_type: Greedy(learner)}, eval_economy, episodes, seed)
        greedy_gain, greedy_se = paired_gain(dev[agent_type], before_e)
    own_untrained = None
    if untrained is not None:
        mixed = {**trainer.learners, agent_type: untrained.learners[agent_type]}
        own_untrained = mean_rewards(mixed, eval_economy, episodes, seed)[agent_type]
    snap = _snapshot(learner)
    opt_snap = {k: copy.deepcopy(o.state_dict()) for k, o in learner.optimizers().items()}
    old_curriculum, old_progress = trainer.curriculum, trainer.progress
    old_ent = getattr(getattr(learner, "config", None), "ent_coef", None)
    if ent_coef is not None and old_ent is not None:
        learner.config.ent_coef = ent_coef
    trainer.curriculum = lambda it, tr: [agent_type]
    trainer.progress = False
    n_records, it0, steps0 = len(trainer.records), trainer.iteration, trainer.env_steps
    try:
        trainer.train(iterations)
        after_e = rewards_by_economy(trainer, eval_economy, episodes, seed)[agent_type]
        after = float(after_e.mean())
    finally:
        trainer.curriculum, trainer.progress = old_curriculum, old_progress
        del trainer.records[n_records:]
        trainer.iteration, trainer.env_steps = it0, steps0
        if old_ent is not None:
            learner.config.ent_coef = old_ent
        if restore:
            _restore(learner, snap)
            for k, o in learner.optimizers().items():
                o.load_state_dict(opt_snap[k])
    gain, gain_se = paired_gain(after_e, before_e)
    out = {"type": agent_type, "iterations": iterations, "reward_before": before, "reward_after": after,
           "gain": gain, "gain_se": gain_se, "baseline": baseline}
    best, best_se = gain, gain_se
    if greedy_gain is not None:
        out["greedy_gain"], out["greedy_gain_se"] = greedy_gain, greedy_se
        if greedy_gain > gain:
            best, best_se = greedy_gain, greedy_se
    if own_untrained is not None:
        out["reward_own_untrained"] = own_untrained
        out["training_gain_own"] = before - own_untrained
    if initial_rewards is not None and agent_type in initial_rewards:
        out["reward_untrained"] = initial_rewards[agent_type]
        out["training_gain_profile"] = before - initial_rewards[agent_type]
    key = f"training_gain_{baseline}"
    if key in out:
        train_gain = out[key]
        out["training_gain"] = train_gain
        out["epsilon_retrain"] = epsilon_of(gain, train_gain)
        if greedy_gain is not None:
            out["epsilon_greedy"] = epsilon_of(greedy_gain, train_gain)
        out["epsilon"] = epsilon_of(best, train_gain)            # the larger of the lower bounds
        out["epsilon_se"] = best_se / train_gain if train_gain > 0 else float("nan")
        # epsilon is "a fraction of what training gained": it reads as the paper's only when
        # training raised this type's reward; otherwise it is NaN and the type is not within the bound
        out["training_improved"] = bool(train_gain > 0)
        out["paper_bound"] = PAPER_BOUNDS.get(agent_type)
        out["within_bound"] = bool(out["epsilon"] < PAPER_BOUNDS.get(agent_type, float("nan")))
    return out


def epsilon_table(trainer, untrained, eval_economy, iterations: int, types: Optional[Iterable[str]] = None,
                  episodes: int = 2, seed: int = 777, prepare: Optional[Callable] = None,
                  ent_coef: Optional[float] = None, baseline: str = "own", greedy: bool = True):
    """Best response of every (learned) type; ``untrained`` is a Trainer with the initial policies
    (built the same way, not trained). Returns a pandas DataFrame, one row per type, with both
    training gains; ``epsilon`` uses ``baseline`` ("own" or "profile", see the module's docstring)."""
    import pandas as pd

    if prepare is not None:
        prepare(trainer)
        prepare(untrained)
    initial = mean_rewards(untrained, eval_economy, episodes, seed)
    rows = []
    for k in (types or trainer.learners):
        if not trainer.learners[k].modules():  # a fixed (not learned) policy has no best response to train
            continue
        rows.append(best_response(trainer, k, iterations, eval_economy, initial, episodes, seed, prepare, ent_coef,
                                  untrained=untrained, baseline=baseline, greedy=greedy))
    return pd.DataFrame(rows)


def train_until_epsilon(trainer, untrained, eval_economy, iterations: int, check_every: int, br_iterations: int,
                        first_check: int = 0, max_seconds: Optional[float] = None, episodes: int = 2,
                        seed: int = 777, prepare: Optional[Callable] = None, ent_coef: Optional[float] = None,
                        baseline: str = "own") -> dict:
    """Train, and every ``check_every`` iterations from ``first_check`` on compute the epsilon
    table; stop as soon as every type is within the paper's bounds, after ``iterations``, or
    once ``max_seconds`` of wall time are spent. Training time is what the paper's "time to
    convergence" counts; the time spent on the checks themselves is reported separately.

    Returns {"reached": bool, "iterations": int, "train_seconds", "check_seconds",
    "wall_seconds", "checks": [one dict per check with the iteration and every type's epsilon]}.
    """
    import time

    t_start = time.perf_counter()
    train_s = check_s = 0.0
    checks, reached = [], False
    while trainer.iteration < iterations:
        n = min(check_every, iterations - trainer.iteration)
        if trainer.iteration < first_check:
            n = min(n, first_check - trainer.iteration) or n
        t0 = time.perf_counter()
        trainer.train(n)
        train_s += time.perf_counter() - t0
        if trainer.iteration >= first_check:
            t0 = time.perf_counter()
            table = epsilon_table(trainer, untrained, eval_economy, br_iterations, episodes=episodes, seed=seed,
                                  prepare=prepare, ent_coef=ent_coef, baseline=baseline)
            check_s += time.perf_counter() - t0
            reached = within_bounds(table)
            checks.append({"iteration": trainer.iteration, "train_seconds": train_s, "all_within_bounds": reached,
                           **{f"epsilon/{r['type']}": r["epsilon"] for r in table.to_dict("records")}})
            if reached:
                break
        if max_seconds is not None and time.perf_counter() - t_start > max_seconds:
            break
    return {"reached": reached, "iterations": trainer.iteration, "train_seconds": train_s,
            "check_seconds": check_s, "wall_seconds": time.perf_counter() - t_start, "checks": checks}
