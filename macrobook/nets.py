"""Actor and critic networks and action heads.

A stochastic ``Actor`` maps observations ``[..., obs_dim]`` to a distribution over one
agent's action; its head follows the action space:

* ``Discrete``       -> categorical head (logits)
* ``MultiDiscrete``  -> one categorical per component (log-probabilities add up)
* ``Box``            -> Gaussian head (state-independent log std; the sample is clipped to
  the bounds when sent to the economy) or Beta head (samples live in the bounds, so no
  clipping bias: Chou, Maturana and Scherer 2017).

``DeterministicActor`` and ``QCritic`` are the pieces of DDPG and MADDPG.
All networks take any number of leading batch dimensions, e.g. ``[E, n, obs_dim]``.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.distributions import Beta, Categorical, Normal

from .config import ConfigError
from .contract import Box, Discrete, MultiDiscrete, Space

class WeierstrassTanh(nn.Module):
    """A fractal activation: tanh plus a truncated Weierstrass series under an exponential envelope,

        phi(x) = tanh(x) + exp(-c |x|) * sum_{n=0}^{N-1} (-1)^n a^n cos(b^n pi x),

    the "modified Weierstrass-tanh" of the fractal-activation preprint (Preprints.org 202508.0478,
    2025, sec. 2.3.3) with the defaults of its released code (Raubkatz/Fractal_Activation_Functions:
    ``a = 0.5``, ``b = 1.5``, ``c = 0.75``). The code sums 100 terms in float64; here the series is
    truncated at ``n_terms`` (default 8): with ``a = 0.5`` the omitted terms sum to less than ``2^-7`` in value,
    and automatic differentiation sees only the truncated sum (the paper's own remark). Far from 0 the
    envelope removes the oscillation and the function is tanh. Defined in Chapter 7, which tests the claim
    that such activations stabilise training.
    """

    def __init__(self, a: float = 0.5, b: float = 1.5, envelope: float = 0.75, n_terms: int = 8):
        super().__init__()
        if not (0.0 < a < 1.0) or b <= 0 or envelope < 0 or n_terms < 1:
            raise ConfigError(f"WeierstrassTanh needs 0 < a < 1, b > 0, envelope >= 0, n_terms >= 1; "
                              f"got a={a}, b={b}, envelope={envelope}, n_terms={n_terms}")
        n = torch.arange(n_terms, dtype=torch.float64)
        self.register_buffer("amp", ((-a) ** n).float(), persistent=False)              # (-1)^n a^n
        self.register_buffer("freq", (b ** n * math.pi).float(), persistent=False)      # b^n pi
        self.envelope = float(envelope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        series = (torch.cos(x.unsqueeze(-1) * self.freq) * self.amp).sum(-1)
        return torch.tanh(x) + torch.exp(-self.envelope * x.abs()) * series


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if autocast made it a half-precision type (bfloat16 or float16), else unchanged: the
    heads' distributions and the losses stay in full precision when the matrix products are not."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU, "elu": nn.ELU,
               "weierstrass_tanh": WeierstrassTanh}


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (64, 64), activation: str = "tanh",
        out_gain: float = 1.0) -> nn.Sequential:
    """A multilayer perceptron with orthogonal initialisation (the PPO habit, Engstrom et al. 2020)."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        lin = nn.Linear(d, h)
        nn.init.orthogonal_(lin.weight, math.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers += [lin, ACTIVATIONS[activation]()]
        d = h
    out = nn.Linear(d, out_dim)
    nn.init.orthogonal_(out.weight, out_gain)
    nn.init.zeros_(out.bias)
    layers.append(out)
    return nn.Sequential(*layers)


class MultiCategorical:
    """Independent categoricals over the last dimension of a MultiDiscrete action.

    Built from per-head logits (a list of ``[..., n_i]`` tensors) or, by
    :class:`MultiCategoricalHead`, from one ``[R, B]`` tensor laid out *level-major*.
    Consecutive heads of the same size form a group held as ``[n, m, B]`` (levels x heads x
    batch; Chapter 6's consumers: ten goods of 11 levels, then hours (5) and employer (10),
    three groups). Every reduction over a head's levels is then an elementwise operation
    between ``[m, B]`` slices instead of a reduction over a short last dimension, which is slow
    on a CPU: sampling, log-probabilities and entropies cost a few passes over the logits
    whatever the number of heads. Sampling is by the inverse CDF: one uniform per head (drawn
    as ``[..., H]``), scaled by the head's total of ``exp(logit - max)`` and compared with the
    cumulative sums. (``torch.multinomial`` per head, and later heads padded to one width,
    were most of the cost of an RBC step.) ``log_p``, all heads padded to ``[..., H, K]`` at
    -inf beyond a head's size, is built only when asked for. A flat ``[R, B]`` tensor is taken
    over: sampling without gradients shifts it in place (no probability changes).
    """

    def __init__(self, logits, nvec: Sequence[int] | None = None, batch_shape: Sequence[int] | None = None):
        if isinstance(logits, (list, tuple)):
            nvec = [int(l.shape[-1]) for l in logits]
            batch_shape = tuple(torch.broadcast_shapes(*[l.shape[:-1] for l in logits]))
            groups = _head_groups(nvec)
            B = math.prod(batch_shape)
            self.L = [torch.stack([logits[i].expand(*batch_shape, n).reshape(B, n) for i in range(h, h + m)], -1)
                      .permute(1, 2, 0).contiguous() for h, _, m, n in groups]         # [n, m, B]
        else:
            groups = _head_groups(nvec)
            B = math.prod(batch_shape)
            # split, not slices: the gradient of a split is one concatenation, that of three slices is
            # three zero-filled copies of the whole [R, B] tensor added up (the same numbers, slower)
            parts = torch.split(logits, [m * n for _, _, m, n in groups], 0) if len(groups) > 1 else (logits,)
            self.L = [part.view(n, m, B) for part, (_, _, m, n) in zip(parts, groups)]
        self.nvec, self.groups = [int(n) for n in nvec], groups
        self.batch_shape, self.B = tuple(batch_shape), B
        self._flat = None if isinstance(logits, (list, tuple)) else logits
        self._z = self._s = None
        self.last = torch.tensor([n - 1 for n in self.nvec], device=self.L[0].device)

    def _zs(self):
        """Per group: ``z = logits - max`` over levels and the head totals ``s = sum_k exp(z_k)``."""
        if self._z is None:
            self._z = [_ShiftByMax.apply(L) if L.requires_grad else L - L.amax(0, keepdim=True) for L in self.L]
        if self._s is None:
            self._s = [z.exp().sum(0) for z in self._z]
        return self._z, self._s

    def _normalised(self):
        """``z``, ``e = exp(z)`` and ``s`` per group (the entropy needs all three)."""
        z, s = self._zs()
        return z, [zg.exp() for zg in z], s

    def _out(self, parts) -> torch.Tensor:
        """``[m, B]`` per group -> ``[*batch, H]``."""
        return torch.cat(parts, 0).T.reshape(*self.batch_shape, len(self.nvec))

    def sample(self) -> torch.Tensor:
        with torch.no_grad():
            u = torch.rand(*self.batch_shape, len(self.nvec), device=self.L[0].device, dtype=self.L[0].dtype)
            u = u.reshape(self.B, -1).T.contiguous()                                 # [H, B]
            # z and the totals are reused by log_prob only when no gradient is wanted (acting); then
            # the logits are shifted in place (a shift changes no probability) to spare memory traffic
            keep = not self.L[0].requires_grad
            if self._z is not None:
                zs = self._z
            elif keep:
                zs = self._z = [L.sub_(L.amax(0, keepdim=True)) for L in self.L]
            else:
                zs = [L.detach() - L.detach().amax(0, keepdim=True) for L in self.L]
            out, totals = [], []
            for (h, _, m, n), z in zip(self.groups, zs):
                cdf = z.exp()
                for k in range(1, n):
                    cdf[k].add_(cdf[k - 1])
                totals.append(cdf[-1].clone())
                a = cdf.lt_(u[h:h + m] * totals[-1]).sum(0)                      # levels below the draw
                out.append(a.clamp_(max=n - 1))
            if keep and self._s is None:
                self._s = totals
            return self._out(out).long()

    def log_prob(self, a: torch.Tensor) -> torch.Tensor:
        z, s = self._zs()
        aT = a.reshape(self.B, -1).T.long()
        total = 0
        for (h, _, m, n), zg, sg in zip(self.groups, z, s):
            total = total + (zg.gather(0, aT[h:h + m].unsqueeze(0)).squeeze(0) - sg.log()).sum(0)
        return total.reshape(self.batch_shape)

    def entropy(self) -> torch.Tensor:
        # per head: H = log s - sum_k e_k z_k / s, with e = exp(z) and s = sum_k e_k
        z, e, s = self._normalised()
        total = 0
        for zg, eg, sg in zip(z, e, s):
            total = total + (sg.log() - (eg * zg).sum(0) / sg).sum(0)
        return total.reshape(self.batch_shape)

    def log_prob_entropy(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log_prob(a), entropy())`` at once, with their gradients in closed form (:class:`_LogProbEntropy`).

        Equal to the two calls above up to float rounding, in about half the passes over the logits; used
        by :meth:`Actor.evaluate` when the learner asks for it (``PPOConfig.analytic_heads``)."""
        if self._flat is None or not self._flat.requires_grad:
            return self.log_prob(a), self.entropy()
        aT = a.reshape(self.B, -1).T.long().contiguous()
        lp, ent = _LogProbEntropy.apply(self._flat, aT, self.groups)
        return lp.reshape(self.batch_shape), ent.reshape(self.batch_shape)

    @property
    def mode(self) -> torch.Tensor:
        return self._out([L.argmax(0) for L in self.L])

    @property
    def log_p(self) -> torch.Tensor:
        """Log-probabilities of every head padded to ``[..., H, K]`` (-inf beyond a head's size)."""
        z, s = self._zs()
        K = max(self.nvec)
        parts = [nn.functional.pad((zg - sg.log()).permute(2, 1, 0),
                                   (0, K - zg.shape[0]), value=float("-inf")) for zg, sg in zip(z, s)]
        return torch.cat(parts, 1).reshape(*self.batch_shape, len(self.nvec), K)


class _ShiftByMax(torch.autograd.Function):
    """``L - L.amax(0, keepdim=True)`` with the gradient autograd computes for it, bit for bit, in fewer passes.

    Autograd's own backward of ``amax`` rebuilds the mask ``L == max`` and converts it twice (to
    integers for the count of maxima, to floats for the product): three passes over the logits in
    every update. Here the mask is made once, as floats, in the forward pass. The backward is the
    same arithmetic as autograd's: the subtraction sends ``g`` to ``L`` and ``sum_0(-g)`` to the
    maximum; ``amax`` spreads that over the maxima as ``(g_max / count) * mask`` (a count of small
    integers is exact in floats); the two contributions to ``L`` add up (IEEE addition commutes, so
    their order does not matter)."""

    @staticmethod
    def forward(ctx, L):
        m = L.amax(0, keepdim=True)
        mask = (L == m).to(L.dtype)
        ctx.save_for_backward(mask)
        return L - m

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        g_max = g.neg().sum(0, keepdim=True)
        return g + (g_max / mask.sum(0, keepdim=True)) * mask


class _LogProbEntropy(torch.autograd.Function):
    """Per sample, the summed log-probability of the taken levels and the summed entropy of independent
    categorical heads, from level-major logits ``[R, B]`` (:class:`MultiCategorical`'s layout), with the
    backward pass written out instead of recorded.

    Per head, with ``p = softmax(l)``, ``log p_k = l_k - logsumexp(l)`` and ``H = -sum_k p_k log p_k``:
    ``d log p_a / d l_k = 1[k = a] - p_k`` and ``d H / d l_k = -p_k (log p_k + H)``, so the gradient is
    ``-p * (g_lp + g_H * (log p + H)) + g_lp * onehot(a)``: five passes over the logits, where autograd's
    record of the same formulas (shift, exponentials, totals, gather, products) takes about twice as many
    and allocates a tensor for each. Saved for the backward pass: ``p`` and ``log p``."""

    @staticmethod
    def forward(ctx, logits, aT, groups):
        B = logits.shape[1]
        parts = torch.split(logits, [m * n for _, _, m, n in groups], 0) if len(groups) > 1 else (logits,)
        lp = logits.new_zeros(B)
        ent = logits.new_zeros(B)
        saved = []
        for (h, _, m, n), part in zip(groups, parts):
            L = part.view(n, m, B)
            logp = L - L.amax(0, keepdim=True)
            p = logp.exp()
            s = p.sum(0)
            logp.sub_(s.log())                  # log p = z - log sum exp z
            p.div_(s)
            H = (p * logp).sum(0).neg_()        # [m, B], per head
            idx = aT[h:h + m].unsqueeze(0)
            lp.add_(logp.gather(0, idx).squeeze(0).sum(0))
            ent.add_(H.sum(0))
            saved += [p, logp, H]
        ctx.groups = groups
        ctx.save_for_backward(aT, *saved)
        return lp, ent

    @staticmethod
    def backward(ctx, g_lp, g_ent):
        aT, *saved = ctx.saved_tensors
        groups = ctx.groups
        g_lp = torch.zeros_like(saved[2][0]) if g_lp is None else g_lp
        g_ent = torch.zeros_like(saved[2][0]) if g_ent is None else g_ent
        R = sum(m * n for _, _, m, n in groups)
        B = aT.shape[1]
        grad = g_lp.new_empty(R, B)
        outs = torch.split(grad, [m * n for _, _, m, n in groups], 0) if len(groups) > 1 else (grad,)
        for i, ((h, _, m, n), out) in enumerate(zip(groups, outs)):
            p, logp, H = saved[3 * i:3 * i + 3]
            o = out.view(n, m, B)
            torch.add(logp, H.unsqueeze(0), out=o)            # log p + H
            o.mul_(g_ent).add_(g_lp).mul_(p).neg_()           # -p (g_lp + g_H (log p + H))
            o.scatter_add_(0, aT[h:h + m].unsqueeze(0), g_lp.expand(1, m, B))
        return grad, None, None


def _head_groups(nvec: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """Runs of consecutive heads of equal size: ``(first head, offset into the logits, heads, size)``."""
    groups: list[list[int]] = []
    h = off = 0
    for n in nvec:
        n = int(n)
        if groups and groups[-1][3] == n:
            groups[-1][2] += 1
        else:
            groups.append([h, off, 1, n])
        h += 1
        off += n
    return [tuple(g) for g in groups]


class CategoricalHead(nn.Module):
    def __init__(self, in_dim: int, n: int):
        super().__init__()
        self.linear = nn.Linear(in_dim, n)
        nn.init.orthogonal_(self.linear.weight, 0.01)
        nn.init.zeros_(self.linear.bias)

    def forward(self, h):
        return Categorical(logits=full_precision(self.linear(h)), validate_args=False)


class MultiCategoricalHead(nn.Module):
    """One linear layer for all heads. Its rows are head-major (head 0's levels, then head 1's, ...);
    ``forward`` reorders them level-major within each group of equal-sized heads and computes the
    logits as ``[R, B]``, the layout :class:`MultiCategorical` works in."""

    def __init__(self, in_dim: int, nvec: Sequence[int]):
        super().__init__()
        self.nvec = list(nvec)
        self.linear = nn.Linear(in_dim, sum(self.nvec))
        nn.init.orthogonal_(self.linear.weight, 0.01)
        nn.init.zeros_(self.linear.bias)
        starts = [0]
        for n in self.nvec:
            starts.append(starts[-1] + n)
        perm = [starts[h + j] + k for h, _, m, n in _head_groups(self.nvec) for k in range(n) for j in range(m)]
        self.register_buffer("perm", torch.tensor(perm), persistent=False)

    def forward(self, h):
        batch = h.shape[:-1]
        h2 = h.reshape(-1, h.shape[-1])
        logits = torch.addmm(self.linear.bias.index_select(0, self.perm).unsqueeze(1),
                             self.linear.weight.index_select(0, self.perm), h2.T)
        return MultiCategorical(full_precision(logits), self.nvec, batch)   # float32 even under autocast


class GaussianHead(nn.Module):
    """Diagonal Gaussian with a learned, state-independent log standard deviation."""

    def __init__(self, in_dim: int, dim: int, init_log_std: float = -0.5):
        super().__init__()
        self.mean = nn.Linear(in_dim, dim)
        nn.init.orthogonal_(self.mean.weight, 0.01)
        nn.init.zeros_(self.mean.bias)
        self.log_std = nn.Parameter(torch.full((dim,), float(init_log_std)))

    def forward(self, h):
        mu = full_precision(self.mean(h))
        return _Independent(Normal(mu, self.log_std.clamp(-5, 2).exp().expand_as(mu), validate_args=False))


class SquashedGaussianHead(GaussianHead):
    """A Gaussian on an unbounded pre-action ``u``; the economy receives ``low + (high - low) * sigmoid(u)``.

    The learner stores ``u``, so PPO's probability ratio needs no Jacobian (it cancels). The
    standard deviation is ``exp(log_std)``: it can shrink by orders of magnitude as learning
    proceeds, so the deterministic read-out ``sigmoid(mean)`` (the median of the squashed action)
    approaches the optimum of a near-deterministic policy. A Beta head's concentration grows only
    linearly, and a still-wide policy's best *mean* differs from the best deterministic action
    whenever the reward is curved (Jensen's inequality); compare both in Chapter 1's exercises.
    """


class BetaHead(nn.Module):
    """Beta distribution on [low, high]: alpha, beta = 1 + softplus(.) so the density is unimodal."""

    def __init__(self, in_dim: int, dim: int, low: torch.Tensor, high: torch.Tensor):
        super().__init__()
        self.linear = nn.Linear(in_dim, 2 * dim)
        nn.init.orthogonal_(self.linear.weight, 0.01)
        nn.init.zeros_(self.linear.bias)
        self.register_buffer("low", low.clone())
        self.register_buffer("high", high.clone())

    def forward(self, h):
        a, b = torch.chunk(nn.functional.softplus(full_precision(self.linear(h))) + 1.0, 2, dim=-1)
        return _ScaledBeta(Beta(a, b, validate_args=False), self.low, self.high)


class _Independent:
    """Sum log-probabilities and entropies over the action dimensions."""

    def __init__(self, base):
        self.base = base

    def sample(self):
        return self.base.sample()

    def log_prob(self, a):
        return self.base.log_prob(a).sum(-1)

    def entropy(self):
        return self.base.entropy().sum(-1)

    @property
    def mode(self):
        return self.base.mean


class _ScaledBeta:
    def __init__(self, base: Beta, low, high):
        self.base, self.low, self.high = base, low, high

    def _to_unit(self, a):
        return ((a - self.low) / (self.high - self.low)).clamp(1e-6, 1 - 1e-6)

    def sample(self):
        return self.low + (self.high - self.low) * self.base.sample()

    def log_prob(self, a):
        return (self.base.log_prob(self._to_unit(a)) - torch.log(self.high - self.low)).sum(-1)

    def entropy(self):
        return (self.base.entropy() + torch.log(self.high - self.low)).sum(-1)

    @property
    def mode(self):
        """The deterministic read-out: the Beta's *mean*, not its peak. A Beta squeezed against a bound is
        skewed, and its peak then sits far from where its mass is (mean 0.1 can have its peak at 0.03)."""
        return self.low + (self.high - self.low) * self.base.mean


class Actor(nn.Module):
    """Stochastic policy pi(a | o) for one agent type; shared by all agents of the type.

    ``box_head`` chooses "beta" (default), "gaussian" (clipped to the bounds) or "squashed" (a Gaussian
    mapped into the bounds by a logistic function) for Box spaces.
    """

    def __init__(self, obs_dim: int, space: Space, hidden: Sequence[int] = (64, 64),
                 activation: str = "tanh", box_head: str = "beta"):
        super().__init__()
        self.space = space
        self.trunk = mlp(obs_dim, hidden[-1], hidden[:-1], activation)
        self.act_fn = ACTIVATIONS[activation]()
        h = hidden[-1]
        if isinstance(space, Discrete):
            self.head = CategoricalHead(h, space.n)
        elif isinstance(space, MultiDiscrete):
            self.head = MultiCategoricalHead(h, space.nvec)
        elif isinstance(space, Box):
            lo, hi = space.bounds()
            dim = int(torch.tensor(space.shape).prod())
            if box_head == "beta":
                self.head = BetaHead(h, dim, lo.reshape(-1), hi.reshape(-1))
            elif box_head == "gaussian":
                self.head = GaussianHead(h, dim)
            elif box_head == "squashed":
                self.head = SquashedGaussianHead(h, dim)
            else:
                raise ConfigError(f"box_head must be 'beta', 'gaussian' or 'squashed', got {box_head!r}")
        else:
            raise ConfigError(f"unsupported action space {space!r}")
        self.box_head = box_head

    def dist(self, obs: torch.Tensor):
        return self.head(self.act_fn(self.trunk(obs)))

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """Returns ``(action, log_prob)``; the action is what the learner stores."""
        d = self.dist(obs)
        a = d.mode if deterministic else d.sample()
        return a, d.log_prob(a)

    def to_env(self, action: torch.Tensor) -> torch.Tensor:
        """The action as the economy takes it: Gaussian samples are clipped to the Box bounds,
        squashed ones mapped into them."""
        if isinstance(self.space, Box) and self.box_head == "gaussian":
            lo, hi = self.space.bounds(action.device)
            return torch.maximum(torch.minimum(action, hi.reshape(-1)), lo.reshape(-1))
        if isinstance(self.space, Box) and self.box_head == "squashed":
            lo, hi = self.space.bounds(action.device)
            lo, hi = lo.reshape(-1), hi.reshape(-1)
            return lo + (hi - lo) * torch.sigmoid(action)
        return action

    def evaluate(self, obs: torch.Tensor, action: torch.Tensor, analytic: bool = False):
        """``(log_prob, entropy)`` of stored actions under the current policy. ``analytic``: for a
        MultiDiscrete head, both with their gradients in closed form (:meth:`MultiCategorical.log_prob_entropy`)."""
        d = self.dist(obs)
        if analytic and isinstance(d, MultiCategorical):
            return d.log_prob_entropy(action)
        return d.log_prob(action), d.entropy()


class Critic(nn.Module):
    """State-value function V(o): ``[..., obs_dim] -> [...]``."""

    def __init__(self, obs_dim: int, hidden: Sequence[int] = (64, 64), activation: str = "tanh"):
        super().__init__()
        self.net = mlp(obs_dim, 1, hidden, activation, out_gain=1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).squeeze(-1)


class DeterministicActor(nn.Module):
    """mu(o) for DDPG/MADDPG: a tanh output scaled to the Box bounds [low, high]."""

    def __init__(self, obs_dim: int, space: Box, hidden: Sequence[int] = (64, 64), activation: str = "relu"):
        super().__init__()
        if not isinstance(space, Box):
            raise ConfigError(f"DeterministicActor needs a Box action space, got {space!r}")
        lo, hi = space.bounds()
        self.register_buffer("low", lo.reshape(-1).clone())
        self.register_buffer("high", hi.reshape(-1).clone())
        self.net = mlp(obs_dim, self.low.numel(), hidden, activation, out_gain=0.01)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        u = torch.tanh(self.net(obs))
        return self.low + (self.high - self.low) * (u + 1) / 2


class QCritic(nn.Module):
    """Q(o, a): takes the concatenation of observation(s) and action(s). For MADDPG the input is
    every agent's observation and action (the centralized critic, Lowe et al. 2017)."""

    def __init__(self, in_dim: int, hidden: Sequence[int] = (64, 64), activation: str = "relu"):
        super().__init__()
        self.net = mlp(in_dim, 1, hidden, activation)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat(inputs, dim=-1)).squeeze(-1)
