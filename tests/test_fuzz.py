"""Hypothesis fuzzing (issue 18): every config class with hostile values, and every economy's step()
with wrong action types. A value is either accepted (and then the economy's first step is finite)
or refused with a ConfigError that names the field; never a raw TypeError, never NaN at step 0."""
import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from economies import SMALL
from macrobook.config import Config, ConfigError

import macrobook.algos.a2c, macrobook.algos.ddpg, macrobook.algos.maddpg, macrobook.algos.ppo  # noqa: E401,F401
import macrobook.algos.q_learning, macrobook.algos.reinforce, macrobook.llm.client  # noqa: E401,F401
import macrobook.llm.diverseland, macrobook.recipes.monetary, macrobook.recipes.rbc  # noqa: E401,F401
from macrobook.envs.cake import CakeConfig, CakeEatingEconomy
from macrobook.envs.cournot import CournotConfig, CournotEconomy
from macrobook.envs.diverseland import Diverseland, DiverselandConfig
from macrobook.envs.monetary import MonetaryConfig, MonetaryEconomy
from macrobook.envs.rbc import RBCConfig, RBCEconomy
from macrobook.envs.six_sector import SixSectorConfig, SixSectorEconomy


def _all_configs():
    out, todo = [], list(Config.__subclasses__())
    while todo:
        c = todo.pop()
        out.append(c)
        todo += c.__subclasses__()
    return sorted({c for c in out if c.__module__.startswith("macrobook")}, key=lambda c: c.__name__)


CONFIGS = _all_configs()
ECONOMY_OF = {CakeConfig: CakeEatingEconomy, CournotConfig: CournotEconomy, DiverselandConfig: Diverseland,
              MonetaryConfig: MonetaryEconomy, RBCConfig: RBCEconomy, SixSectorConfig: SixSectorEconomy}
#: smaller sizes for economies built from a fuzzed config (so that a step takes milliseconds)
SMALL_SIZES = {"num_households": 4, "num_firms": 2, "num_banks": 2, "num_consumers": 4}

NASTY = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 0, -1, 1, 0.0, -0.5, 1e-300, 1e300, 2**70, 10**9,
                     True, False, None, "", "x", (), (1,), (0, 500, float("nan")), (float("inf"), 50.0, 10.0), [1, 2],
                     {"a": 1}]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(min_value=-10, max_value=10**7),
)


def test_every_config_class_is_fuzzed():
    names = {c.__name__ for c in CONFIGS}
    assert {"RBCConfig", "DiverselandConfig", "MonetaryConfig", "PPOConfig", "SimulationConfig"} <= names
    assert len(CONFIGS) >= 16


def _fields(cls):
    return [f.name for f in dataclasses.fields(cls)]


def _finite_first_step(cls, cfg):
    sizes = {k: v for k, v in SMALL_SIZES.items() if hasattr(cfg, k) and getattr(cfg, k) > v}
    try:
        cfg = dataclasses.replace(cfg, **sizes)
    except ConfigError:
        return   # the smaller size is not valid with the fuzzed value: the full config was
    econ = ECONOMY_OF[cls](cfg, num_envs=2, device="cpu")
    obs = econ.reset(seed=0)
    torch.manual_seed(0)
    out = econ.step(econ.sample_actions())
    for name, group in (("obs", obs), ("next obs", out.obs), ("reward", out.reward), ("macro", out.macro)):
        for k, v in group.items():
            assert bool(torch.isfinite(v.float()).all()), f"{cls.__name__}{cfg} gives non-finite {name}[{k!r}] at step 0"


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_config_accepts_or_refuses_clearly(cls, data):
    fields = _fields(cls)
    if not fields:
        return
    changed = data.draw(st.dictionaries(st.sampled_from(fields), NASTY, min_size=1, max_size=2))
    try:
        cfg = cls(**changed)
    except ConfigError as e:
        msg = str(e)
        assert "\n" not in msg and cls.__name__ in msg, msg
        return
    if cls in ECONOMY_OF:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _finite_first_step(cls, cfg)


@pytest.mark.parametrize("name", sorted(SMALL))
@settings(max_examples=25, deadline=None, derandomize=True)
@given(kind=st.sampled_from(["numpy", "list", "None", "bool", "uint8", "int32", "float64", "booltensor", "nan",
                             "scalar", "wrongshape", "str", "notadict"]))
def test_step_accepts_or_refuses_wrong_action_types(name, kind):
    econ = SMALL[name](num_envs=2)
    econ.reset(seed=0)
    good = econ.sample_actions()

    def conv(v):
        return {"numpy": lambda: v.numpy(), "list": lambda: v.tolist(), "None": lambda: None, "bool": lambda: True,
                "uint8": lambda: v.to(torch.uint8) if not v.is_floating_point() else v,
                "int32": lambda: v.to(torch.int32) if not v.is_floating_point() else v,
                "float64": lambda: v.double(), "booltensor": lambda: v.bool(), "nan": lambda: v.double() * np.nan,
                "scalar": lambda: 1, "wrongshape": lambda: v[:1], "str": lambda: "abc", "notadict": lambda: v}[kind]()

    actions = [conv(v) for v in good.values()][0] if kind == "notadict" else {k: conv(v) for k, v in good.items()}
    try:
        out = econ.step(actions)
    except ConfigError as e:
        assert "\n" not in str(e) and ("actions" in str(e)), str(e)
        return
    for group in (out.obs, out.reward, out.macro):
        for k, v in group.items():
            assert bool(torch.isfinite(v.float()).all()), (name, kind, k)


@pytest.mark.parametrize("make", [
    lambda: RBCConfig(price_grid=(0, 500, float("nan"))),
    lambda: DiverselandConfig(initial_prices=(float("inf"), 50, 10)),
    lambda: DiverselandConfig(wage=1e-300),
    lambda: RBCConfig(num_consumers=10**12),
    lambda: MonetaryConfig(sim_length="120"),
], ids=["rbc-nan-price", "diverseland-inf-price", "diverseland-tiny-wage", "rbc-huge-size", "monetary-str"])
def test_the_issues_examples_are_refused(make):
    """Findings: these were accepted (NaN at step 0) or raised raw TypeErrors / allocation errors."""
    with pytest.raises(ConfigError) as e:
        make()
    assert "\n" not in str(e.value) and "Config." in str(e.value)
