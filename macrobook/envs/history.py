"""History: collect macro aggregates step by step into a tidy pandas DataFrame."""
from __future__ import annotations

from typing import Dict, Mapping

import numpy as np
import torch


class History:
    """Records ``StepResult.macro`` (``{name: [num_envs]}``) each step.

    ``to_frame()`` gives the tidy (long) form, one row per (t, env, variable);
    ``wide()`` gives one row per (t, env) and a column per variable;
    ``mean()`` averages over economies: one row per t.
    """

    def __init__(self) -> None:
        self._t: list[int] = []
        self._rows: list[Dict[str, np.ndarray]] = []

    def record(self, macro: Mapping[str, torch.Tensor], t: int | None = None) -> None:
        t = len(self._t) if t is None else int(t)
        self._t.append(t)
        self._rows.append({k: torch.as_tensor(v).detach().float().reshape(-1).cpu().numpy() for k, v in macro.items()})

    def __len__(self) -> int:
        return len(self._t)

    def wide(self):
        import pandas as pd

        frames = []
        for t, row in zip(self._t, self._rows):
            n = max(len(v) for v in row.values()) if row else 0
            d = {"t": np.full(n, t), "env": np.arange(n)}
            d.update({k: np.broadcast_to(v, (n,)) for k, v in row.items()})
            frames.append(pd.DataFrame(d))
        if not frames:
            return pd.DataFrame(columns=["t", "env"])
        return pd.concat(frames, ignore_index=True)

    def to_frame(self):
        """Tidy form: columns ``t, env, variable, value``."""
        w = self.wide()
        return w.melt(id_vars=["t", "env"], var_name="variable", value_name="value")

    def mean(self):
        """Average over economies: one row per period, a column per variable."""
        w = self.wide()
        return w.drop(columns="env").groupby("t", as_index=False).mean()
