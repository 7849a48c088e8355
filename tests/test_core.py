"""The core contract: configs, spaces, economies, networks, PPO, Trainer, checkpoints."""
from dataclasses import dataclass

import math

import pytest
import torch

from macrobook import ConfigError, resolve_device, seed_everything
from macrobook.algos.ppo import PPO, PPOConfig, gae
from macrobook.config import Config, check_float, check_int
from macrobook.envs import AgentSpec, BatchedEconomy, Box, Discrete, History, MultiDiscrete
from macrobook.envs.base import Transition
from macrobook.io import CheckpointError, load_checkpoint, read_checkpoint_header, save_checkpoint
from macrobook.nets import Actor, Critic, DeterministicActor, QCritic
from macrobook.train import Trainer


class TargetEconomy(BatchedEconomy):
    """n agents each observe a private target in [0, 1] and are rewarded -(a - target)^2.

    With a Discrete space the action k means the value k / (K - 1). The optimum is known, so
    a learner can be graded exactly."""

    def __init__(self, n=3, num_envs=8, space="discrete", K=11, horizon=4, device="cpu"):
        super().__init__(num_envs, device)
        self.n, self.K, self.horizon, self.kind = n, K, horizon, space
        action = Discrete(K) if space == "discrete" else Box(0.0, 1.0, (1,))
        self.specs = {"agent": AgentSpec(n, 2, action)}

    def initial_state(self, num_envs):
        return TargetState(self.rand(num_envs, self.n), torch.zeros(num_envs, device=self.device))

    def observe(self, state=None):
        s = self.state if state is None else state
        return {"agent": torch.stack([s.target, (s.t_ep / self.horizon)[:, None].expand_as(s.target)], -1)}

    def transition(self, state, actions):
        a = actions["agent"]
        value = a.float() / (self.K - 1) if self.kind == "discrete" else a[..., 0]
        reward = -(value - state.target) ** 2
        macro = {"mean_action": value.mean(1), "mean_target": state.target.mean(1)}
        t_ep = state.t_ep + 1
        return Transition(TargetState(state.target, t_ep), {"agent": reward}, t_ep >= self.horizon, macro)


@dataclass
class TargetState:
    target: torch.Tensor   # [E, n]
    t_ep: torch.Tensor     # [E] periods played in this episode


# ------------------------------------------------------------------ config
@dataclass
class Demo(Config):
    households: int = 10
    beta: float = 0.95

    def validate(self):
        check_int(self, "households", min=1)
        check_float(self, "beta", min=0, max=1, max_open=True)


def test_config_errors_name_field_value_and_rule():
    with pytest.raises(ConfigError, match=r"Demo.households must be an integer >= 1, got 0"):
        Demo(households=0)
    with pytest.raises(ConfigError, match=r"Demo.beta must be a real number in \[0, 1\), got 1.0"):
        Demo(beta=1.0)
    with pytest.raises(ConfigError, match="no field"):
        Demo.from_dict({"housholds": 3})
    assert Demo.from_dict({"households": 3}).households == 3


def test_ppo_config_validates():
    with pytest.raises(ConfigError, match="PPOConfig.clip_eps"):
        PPOConfig(clip_eps=0)
    with pytest.raises(ConfigError, match="PPOConfig.box_head"):
        PPOConfig(box_head="uniform")


def test_seed_and_device():
    with pytest.raises(ConfigError, match="seed"):
        seed_everything(-1)
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="device"):
        resolve_device("tpu")


# ------------------------------------------------------------------ spaces and economy contract
def test_spaces_sample_and_contain():
    g = torch.Generator().manual_seed(0)
    for sp in (Discrete(5), MultiDiscrete((3, 5, 5)), Box(-1.0, 2.0, (2,))):
        x = sp.sample((4, 3), generator=g)
        assert tuple(x.shape) == (4, 3) + sp.event_shape
        assert sp.contains(x)
    assert not Discrete(5).contains(torch.tensor([5]))
    assert not Box(0.0, 1.0, (1,)).contains(torch.tensor([[1.5]]))
    with pytest.raises(ConfigError):
        Box(1.0, 0.0)
    with pytest.raises(ConfigError):
        MultiDiscrete((3, 0))


def test_economy_checks_actions_and_seed_reproduces():
    econ = TargetEconomy()
    obs = econ.reset(seed=3)
    assert obs["agent"].shape == (8, 3, 2)
    with pytest.raises(ConfigError, match="shape"):
        econ.step({"agent": torch.zeros(8, 2, dtype=torch.long)})
    with pytest.raises(ConfigError, match="outside its space"):
        econ.step({"agent": torch.full((8, 3), 11, dtype=torch.long)})
    with pytest.raises(ConfigError, match="agent types"):
        econ.step({"firm": torch.zeros(8, 3, dtype=torch.long)})
    a = econ.reset(seed=3)["agent"]
    b = TargetEconomy().reset(seed=3)["agent"]
    assert torch.equal(a, b)
    assert not torch.equal(a, TargetEconomy().reset(seed=4)["agent"])


def test_history_tidy_frame():
    econ = TargetEconomy(num_envs=4)
    econ.reset(seed=0)
    h = History()
    for t in range(3):
        h.record(econ.step(econ.sample_actions()).macro, t)
    tidy = h.to_frame()
    assert set(tidy.columns) == {"t", "env", "variable", "value"}
    assert len(tidy) == 3 * 4 * 2
    assert len(h.mean()) == 3


# ------------------------------------------------------------------ networks
@pytest.mark.parametrize("space", [Discrete(4), MultiDiscrete((2, 3)), Box(0.0, 1.0, (2,)), Box(-2.0, 2.0, (1,))])
@pytest.mark.parametrize("head", ["beta", "gaussian"])
def test_actor_heads_give_valid_actions_and_logprobs(space, head):
    torch.manual_seed(0)
    actor = Actor(5, space, (16, 16), box_head=head)
    obs = torch.randn(3, 4, 5)
    a, logp = actor.act(obs)
    assert logp.shape == (3, 4)
    assert space.contains(actor.to_env(a))
    lp2, ent = actor.evaluate(obs, a)
    assert torch.allclose(logp, lp2, atol=1e-5)
    assert ent.shape == (3, 4) and torch.isfinite(ent).all()


def test_critics_and_deterministic_actor_shapes():
    assert Critic(5)(torch.randn(3, 4, 5)).shape == (3, 4)
    mu = DeterministicActor(5, Box(-1.0, 3.0, (2,)))
    out = mu(torch.randn(7, 5) * 100)
    assert out.shape == (7, 2) and (out >= -1).all() and (out <= 3).all()
    assert QCritic(7)(torch.randn(6, 5), torch.randn(6, 2)).shape == (6,)


# ------------------------------------------------------------------ PPO
def test_gae_matches_hand_computation():
    r = torch.tensor([[1.0], [2.0], [3.0]])
    v = torch.tensor([[0.5], [0.5], [0.5]])
    d = torch.tensor([[0.0], [1.0], [0.0]])
    adv, ret = gae(r, v, d, torch.tensor([10.0]), gamma=0.9, lam=0.5)
    # t=2: 3 + 0.9*10 - 0.5 = 11.5 ; t=1 (terminal): 2 - 0.5 = 1.5 ; t=0: 1 + 0.9*0.5 - 0.5 + 0.45*1.5
    assert torch.allclose(adv[:, 0], torch.tensor([0.95 + 0.675, 1.5, 11.5]))
    assert torch.allclose(ret, adv + v)


@pytest.mark.parametrize("space", ["discrete", "box"])
def test_ppo_learns_known_optimum_with_parameter_sharing(space):
    seed_everything(0)
    econ = TargetEconomy(n=4, num_envs=32, space=space)
    ppo = PPO(econ.specs["agent"], PPOConfig(lr=3e-3, gamma=0.0, ent_coef=0.0, hidden=(32, 32)))
    trainer = Trainer(econ, {"agent": ppo}, rollout_len=8, progress=False)
    log = trainer.train(60)
    first, last = log["reward/agent"].iloc[:5].mean(), log["reward/agent"].iloc[-5:].mean()
    assert last > first
    # the optimum is a = target; a uniform random policy earns about -1/6
    assert last > -0.01, last
    obs = econ.reset(seed=1)["agent"]
    a = ppo.policy(obs)
    val = a.float() / 10 if space == "discrete" else a[..., 0]
    assert (val - obs[..., 0]).abs().mean() < 0.1


# ------------------------------------------------------------------ Trainer and checkpoints
def test_curriculum_freezes_inactive_types():
    econ = TargetEconomy()
    ppo = PPO(econ.specs["agent"], PPOConfig(hidden=(8,)))
    before = [p.clone() for p in ppo.actor.parameters()]
    tr = Trainer(econ, {"agent": ppo}, curriculum=lambda it, t: [] if it < 2 else ["agent"], rollout_len=4, progress=False)
    tr.train(2)
    assert all(torch.equal(a, b) for a, b in zip(before, ppo.actor.parameters()))
    tr.train(1)
    assert not all(torch.equal(a, b) for a, b in zip(before, ppo.actor.parameters()))
    with pytest.raises(ConfigError, match="curriculum named unknown"):
        Trainer(econ, {"agent": ppo}, curriculum=lambda it, t: ["bank"], progress=False).train(1)
    with pytest.raises(ConfigError, match="one entry per agent type"):
        Trainer(econ, {"firm": ppo})


def test_same_seed_same_training():
    def run():
        seed_everything(7)
        econ = TargetEconomy(num_envs=4)
        tr = Trainer(econ, {"agent": PPO(econ.specs["agent"], PPOConfig(hidden=(8,)))}, rollout_len=4, seed=7, progress=False)
        return tr.train(3)["reward/agent"].tolist()

    assert run() == run()


def test_checkpoint_roundtrip_resume_and_refusals(tmp_path):
    seed_everything(0)
    econ = TargetEconomy(num_envs=4)
    tr = Trainer(econ, {"agent": PPO(econ.specs["agent"], PPOConfig(hidden=(8,)))}, rollout_len=4, progress=False)
    tr.train(3)
    path = tr.save(tmp_path / "ckpt.safetensors", config={"n": 3})
    assert read_checkpoint_header(path)["metadata"]["iteration"] == 3
    assert (tmp_path / "ckpt.json").exists() and (tmp_path / "ckpt.log.csv").exists()
    assert not list(tmp_path.glob("*.tmp")), "temporary files left behind"

    tr2 = Trainer(econ, {"agent": PPO(econ.specs["agent"], PPOConfig(hidden=(8,)))}, rollout_len=4, progress=False)
    tr2.load(path)
    assert tr2.iteration == 3 and len(tr2.log) == 3
    for p, q in zip(tr.learners["agent"].actor.parameters(), tr2.learners["agent"].actor.parameters()):
        assert torch.equal(p, q)
    s1 = tr.learners["agent"].optimizer.state_dict()["state"]
    s2 = tr2.learners["agent"].optimizer.state_dict()["state"]
    assert all(torch.equal(s1[k]["exp_avg"], s2[k]["exp_avg"]) for k in s1)

    # another network shape is refused with a message naming the parameter
    big = PPO(econ.specs["agent"], PPOConfig(hidden=(16,)))
    with pytest.raises(CheckpointError, match="has shape"):
        load_checkpoint(path, {"agent.actor": big.actor, "agent.critic": big.critic})
    with pytest.raises(CheckpointError, match="modules"):
        load_checkpoint(path, {"agent.actor": big.actor})
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        read_checkpoint_header(tmp_path / "junk.safetensors")
    with pytest.raises(CheckpointError, match=".safetensors"):
        save_checkpoint(tmp_path / "x.pt", {})


def test_atomic_writes_replace_whole_files_with_ordinary_permissions(tmp_path):
    """An output is either the old file or the new one, readable like any new file (not mkstemp's 0600)."""
    import os

    from macrobook.io import atomic_write_json, atomic_write_text

    p = atomic_write_text(tmp_path / "out" / "a.txt", "old")
    atomic_write_text(p, "new")
    assert p.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~umask)

    with pytest.raises(TypeError):
        atomic_write_json(p, {"x": object()})   # not JSON: the old file stays, no temporary is left
    assert p.read_text() == "new"
    assert sorted(x.name for x in p.parent.iterdir()) == ["a.txt"]


def test_multicategorical_matches_independent_categoricals():
    """The padded, vectorised MultiCategorical (Chapter 6's 12-head consumers) is the product of
    independent categoricals: same log-probabilities and entropies, sampling frequencies right."""
    from torch.distributions import Categorical

    from macrobook.nets import MultiCategorical

    torch.manual_seed(0)
    logits = [torch.randn(40, 3, n, requires_grad=True) for n in (2, 5, 3)]
    d = MultiCategorical(logits)
    a = d.sample()
    assert a.shape == (40, 3, 3) and all(int(a[..., i].max()) < n for i, n in enumerate((2, 5, 3)))
    ref_lp = sum(Categorical(logits=l).log_prob(a[..., i]) for i, l in enumerate(logits))
    ref_h = sum(Categorical(logits=l).entropy() for l in logits)
    assert torch.allclose(d.log_prob(a), ref_lp, atol=1e-5) and torch.allclose(d.entropy(), ref_h, atol=1e-5)
    (d.log_prob(a).sum() + d.entropy().sum()).backward()
    assert all(bool(torch.isfinite(l.grad).all()) for l in logits)
    p = torch.tensor([0.1, 0.2, 0.7])
    s = MultiCategorical([p.log().expand(100_000, 3), torch.zeros(100_000, 2)]).sample()
    assert torch.allclose(torch.bincount(s[:, 0], minlength=3) / 1e5, p, atol=0.01)
    assert abs(s[:, 1].float().mean().item() - 0.5) < 0.01
    assert MultiCategorical([torch.tensor([[0.0, 5.0]]), torch.tensor([[3.0, 0.0, 1.0]])]).mode.tolist() == [[1, 0]]


def test_multicategorical_head_level_major_layout_matches_its_head_major_weights():
    """The head computes logits level-major in groups of equal-sized heads (the fast layout) from a
    linear layer whose rows stay head-major (so checkpoints keep their meaning): every head's
    probabilities must be the softmax of its own slice of ``linear(h)``; sampling while acting
    (no gradient, logits shifted in place) must give the log-probabilities the update recomputes."""
    from macrobook.nets import MultiCategoricalHead

    torch.manual_seed(1)
    nvec = [3, 3, 2, 4, 4, 4]
    head = MultiCategoricalHead(8, nvec)
    torch.nn.init.normal_(head.linear.weight, std=1.0)       # far from uniform
    h = torch.randn(5, 7, 8)
    ref = [torch.log_softmax(x, -1) for x in torch.split(head.linear(h), nvec, dim=-1)]
    lp = head(h).log_p
    for i, r in enumerate(ref):
        assert torch.allclose(lp[..., i, :nvec[i]], r, atol=1e-5)
        assert bool(torch.isinf(lp[..., i, nvec[i]:]).all())
    with torch.no_grad():
        d = head(h)
        a = d.sample()
        lp_act = d.log_prob(a)
    assert a.shape == (5, 7, 6) and all(int(a[..., i].max()) < n and int(a[..., i].min()) >= 0 for i, n in enumerate(nvec))
    lp_upd = head(h).log_prob(a)                             # the PPO update's path, with gradients
    assert lp_upd.requires_grad and torch.allclose(lp_act, lp_upd, atol=1e-5)
    assert torch.allclose(lp_upd, sum(r.gather(-1, a[..., i:i + 1]).squeeze(-1) for i, r in enumerate(ref)), atol=1e-5)
    assert torch.equal(head(h).mode, torch.stack([r.argmax(-1) for r in ref], -1))
    # frequencies of a grouped head follow its probabilities
    many = h[:1, :1].expand(40_000, 1, 8)
    with torch.no_grad():
        s = head(many).sample()
    for i in (1, 4):
        freq = torch.bincount(s[:, 0, i], minlength=nvec[i]).double() / s.shape[0]
        assert (freq - ref[i][0, 0].exp().double()).abs().max() < 0.012, (i, freq)
    assert "perm" not in head.state_dict()                   # the checkpoint format is unchanged


@pytest.mark.parametrize("nvec", [[3, 3, 2, 4, 4, 4], [11] * 10 + [5, 10], [6]])
def test_closed_form_head_gradients_equal_autograds(nvec):
    """``MultiCategorical.log_prob_entropy`` writes the backward pass out (d log p_a / d l = onehot - p,
    d H / d l = -p (log p + H)): its values and the gradients it sends to the head's weights and to the
    trunk must be autograd's on the same formulas (float64, so rounding cannot hide a wrong term), with
    either output alone carrying the loss as well as both."""
    from macrobook.nets import MultiCategoricalHead

    torch.manual_seed(2)
    head = MultiCategoricalHead(8, nvec).double()
    torch.nn.init.normal_(head.linear.weight, std=1.0)
    h0 = torch.randn(4, 9, 8, dtype=torch.float64)
    a = torch.stack([torch.randint(0, n, (4, 9)) for n in nvec], -1)
    w1, w2 = torch.randn(4, 9, dtype=torch.float64), torch.randn(4, 9, dtype=torch.float64)
    for c1, c2 in ((1.0, 1.0), (1.0, 0.0), (0.0, 1.0)):
        grads = []
        for closed in (False, True):
            h = h0.clone().requires_grad_()
            d = head(h)
            lp, ent = d.log_prob_entropy(a) if closed else (d.log_prob(a), d.entropy())
            loss = (c1 * w1 * lp).sum() + (c2 * w2 * ent).sum() if c1 and c2 else \
                (w1 * lp).sum() if c1 else (w2 * ent).sum()
            grads.append([lp.detach(), ent.detach()] + list(torch.autograd.grad(loss, [h, *head.parameters()])))
        for ref, got in zip(*grads):
            assert torch.allclose(ref, got, rtol=1e-10, atol=1e-12), (c1, c2, (ref - got).abs().max())
    assert torch.autograd.gradcheck(lambda x: head(x).log_prob_entropy(a), (h0.clone().requires_grad_(),))


def test_ppo_closed_form_heads_and_bfloat16_products():
    """The two speed options of PPO: closed-form heads change an update's numbers only in the last bits;
    bfloat16 products keep values, log-probabilities and losses in float32 and still learn (finite,
    the same structure of statistics). A bad dtype names the field."""
    from macrobook.algos.ppo import PPO, PPOConfig
    from macrobook.contract import AgentSpec, MultiDiscrete
    from macrobook.train import Rollout

    spec = AgentSpec(3, 5, MultiDiscrete((4, 4, 3)))
    torch.manual_seed(0)
    T, E = 6, 4
    obs = torch.randn(T + 1, E, 3, 5)
    stats = {}
    for name, over in (("autograd", {}), ("closed", {"analytic_heads": True}),
                       ("bf16", {"analytic_heads": True, "matmul_dtype": "bfloat16"})):
        ppo = PPO(spec, PPOConfig(hidden=(16, 16), **over), seed=0)
        torch.manual_seed(1)
        acts, ext = zip(*(ppo.act(obs[t]) for t in range(T)))
        assert ext[0]["value"].dtype == torch.float32 and ext[0]["logp"].dtype == torch.float32
        ex = {k: torch.stack([e[k] for e in ext]) for k in ext[0]}
        r = Rollout(obs={"a": obs}, actions={"a": torch.stack(acts)}, extras={"a": ex},
                    rewards={"a": torch.randn(T, E, 3)}, dones=torch.zeros(T, E, dtype=torch.bool), macro={})
        torch.manual_seed(2)
        stats[name] = ppo.update(r, "a")
        assert all(math.isfinite(v) for v in stats[name].values())
    for k in ("policy_loss", "value_loss", "entropy"):
        assert abs(stats["closed"][k] - stats["autograd"][k]) <= 1e-5 * (1 + abs(stats["autograd"][k]))
    with pytest.raises(ConfigError, match="matmul_dtype"):
        PPOConfig(matmul_dtype="float16")
