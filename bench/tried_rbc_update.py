"""Two designs for the consumers' PPO update (Chapter 6) tried and not kept; prints milliseconds.

    .venv/bin/python bench/tried_rbc_update.py

1. ``torch.compile`` of the consumers' loss (actor log-probabilities and entropy, critic, PPO's clipped
   objective) on one minibatch of 8,000 samples, forward and backward, against eager mode, with
   autograd's heads and with the closed-form heads (``Actor.evaluate(..., analytic=True)``).
2. One matrix product for the first layers of actor and critic together (46 -> 128) against two
   (46 -> 64 each), forward and backward of both networks on 64,000 samples.

Timings, not tests: run it on a quiet machine; bench/README.md reports one run.
"""
import time

import torch

from macrobook.contract import MultiDiscrete
from macrobook.nets import Actor, Critic

torch.set_num_threads(2)


def timed(f, n=10):
    f()
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n * 1e3


def compile_trial(B=8000):
    space = MultiDiscrete((11,) * 10 + (5, 10))
    actor, critic = Actor(46, space, (64, 64), "relu"), Critic(46, (64, 64), "relu")
    x = torch.randn(B, 46)
    a = torch.stack([torch.randint(0, n, (B,)) for n in space.nvec], -1)
    adv, old_logp, ret = torch.randn(B), torch.randn(B), torch.randn(B)

    def loss(analytic):
        logp, ent = actor.evaluate(x, a, analytic)
        ratio = (logp - old_logp).exp()
        pg = -torch.min(ratio * adv, ratio.clamp(0.9, 1.1) * adv).mean()
        return pg + 0.5 * ((critic(x) - ret) ** 2).mean() - 0.05 * ent.mean()

    rows = {}
    for analytic in (False, True):
        name = "closed-form heads" if analytic else "autograd heads"
        rows[f"eager, {name}"] = timed(lambda: loss(analytic).backward())
        compiled = torch.compile(lambda: loss(analytic))
        t0 = time.perf_counter()
        compiled().backward()
        rows[f"compile time (s), {name}"] = time.perf_counter() - t0
        rows[f"compiled, {name}"] = timed(lambda: compiled().backward())
    return rows


def fused_first_layer_trial(B=64000):
    x = torch.randn(B, 46)
    p = lambda *s: torch.randn(*s, requires_grad=True)  # noqa: E731
    Wa1, Wc1, Wa2, Wc2, Wh, Wv, W1 = p(46, 64), p(46, 64), p(64, 64), p(64, 64), p(64, 125), p(64, 1), p(46, 128)

    def separate():
        ha = torch.relu(torch.relu(x @ Wa1) @ Wa2)
        hc = torch.relu(torch.relu(x @ Wc1) @ Wc2)
        ((ha @ Wh).sum() + (hc @ Wv).sum()).backward()

    def fused():
        h = torch.relu(x @ W1)
        ha, hc = torch.relu(h[:, :64] @ Wa2), torch.relu(h[:, 64:] @ Wc2)
        ((ha @ Wh).sum() + (hc @ Wv).sum()).backward()

    return {"two first-layer products": timed(separate, 8), "one fused product": timed(fused, 8)}


if __name__ == "__main__":
    for name, ms in {**compile_trial(), **fused_first_layer_trial()}.items():
        print(f"{name:<40} {ms:8.1f}" + ("" if name.startswith("compile time") else " ms"))
