"""Every economy of the library in a small configuration, for the tests that run all of them
(adapters, fuzzing, long episodes). Adding an economy: one entry here."""
from macrobook.envs.cake import CakeConfig, CakeEatingEconomy
from macrobook.envs.cournot import CournotConfig, CournotEconomy
from macrobook.envs.diverseland import Diverseland, DiverselandConfig
from macrobook.envs.monetary import MonetaryConfig, MonetaryEconomy
from macrobook.envs.rbc import RBCConfig, RBCEconomy
from macrobook.envs.six_sector import SixSectorConfig, SixSectorEconomy

SMALL = {
    "cake": lambda **kw: CakeEatingEconomy(CakeConfig(), device="cpu", **kw),
    "cournot": lambda **kw: CournotEconomy(CournotConfig(num_firms=3, episode_length=8), device="cpu", **kw),
    "diverseland": lambda **kw: Diverseland(DiverselandConfig(episode_len=8), device="cpu", **kw),
    "monetary": lambda **kw: MonetaryEconomy(MonetaryConfig(num_banks=2, num_households=6, num_firms=3, sim_length=8),
                                             device="cpu", **kw),
    "rbc": lambda **kw: RBCEconomy(RBCConfig(num_consumers=4, num_firms=2, episode_length=8), device="cpu", **kw),
    "six_sector": lambda **kw: SixSectorEconomy(SixSectorConfig(num_households=4, num_firms=2, episode_len=8),
                                                device="cpu", **kw),
}
