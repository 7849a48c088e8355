"""Labor market: separations, random matching of job seekers to vacancies, a wage index.

Pure tensor functions. A worker's job is ``employer [E, M]`` (long; ``-1`` = not employed).
Firms are indexed ``0 .. K-1``. Everything is batched over economies with no Python loop
over agents: ranks within groups come from one sort.
"""
from __future__ import annotations

import torch


def headcount(employer: torch.Tensor, num_firms: int, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Workers (or the sum of ``weight``, e.g. skills) at each firm: ``[E, M] -> [E, K]``."""
    E = employer.shape[0]
    w = torch.ones_like(employer, dtype=torch.float64) if weight is None else weight.to(torch.float64)
    out = torch.zeros(E, num_firms + 1, dtype=w.dtype, device=employer.device)
    out.scatter_add_(1, (employer + 1).clamp_min(0), w)  # column 0 collects the unemployed
    return out[:, 1:]


def separate(employer: torch.Tensor, layoffs: torch.Tensor, priority: torch.Tensor) -> torch.Tensor:
    """Each firm ``f`` lets go of its ``layoffs[e, f]`` workers with the lowest ``priority``
    (uniform draws, so who goes is random). Returns the new ``employer``."""
    E, M = employer.shape
    employed = employer >= 0
    # sort by (employer, priority); unemployed sort last
    key = torch.where(employed, employer.to(priority.dtype) * 2.0 + priority, torch.full_like(priority, 1e9))
    order = torch.argsort(key, dim=1)
    emp_sorted = torch.gather(employer, 1, order)
    K = layoffs.shape[1]
    counts = headcount(employer, K)
    start = torch.cumsum(counts, dim=1) - counts                      # [E, K] first sorted slot of each firm
    pos = torch.arange(M, device=employer.device).expand(E, M).to(counts.dtype)
    firm_sorted = emp_sorted.clamp_min(0)
    rank = pos - torch.gather(start, 1, firm_sorted)                  # rank within own firm
    fired_sorted = (emp_sorted >= 0) & (rank < torch.gather(layoffs.to(counts.dtype), 1, firm_sorted))
    fired = torch.zeros_like(fired_sorted).scatter(1, order, fired_sorted)
    return torch.where(fired, torch.full_like(employer, -1), employer)


def match(employer: torch.Tensor, seeking: torch.Tensor, vacancies: torch.Tensor,
          priority: torch.Tensor, efficiency: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Match unemployed job seekers to vacancies.

    Hires follow a Cobb-Douglas matching function, ``H = min(U, V, efficiency * sqrt(U V))``
    (Petrongolo and Pissarides 2001), and are split over firms in proportion to their
    vacancies; the seekers hired are those with the lowest ``priority`` (random).
    Returns ``(employer, hires [E, K])``.
    """
    E, M = employer.shape
    vac = vacancies.to(torch.float64).clamp_min(0)
    looking = seeking & (employer < 0)
    U = looking.sum(1, keepdim=True).to(torch.float64)
    V = vac.sum(1, keepdim=True)
    H = torch.minimum(torch.minimum(U, V), torch.floor(efficiency * torch.sqrt(U * V)))
    hires = torch.floor(vac * H / V.clamp_min(1.0))                  # [E, K], sum <= H
    key = torch.where(looking, priority, torch.full_like(priority, 1e9))
    rank = torch.argsort(torch.argsort(key, dim=1), dim=1).to(torch.float64)  # seeker rank 0..U-1
    cum = torch.cumsum(hires, dim=1)
    hired = looking & (rank < cum[:, -1:])
    firm = torch.searchsorted(cum.contiguous(), rank.contiguous(), right=True).clamp_max(vac.shape[1] - 1)
    employer = torch.where(hired, firm, employer)
    return employer, hires


def update_wage_index(wage_index: torch.Tensor, unemployment: torch.Tensor, past_inflation_monthly: torch.Tensor,
                      natural_unemployment: float, flexibility: float, indexation: float,
                      floor: float = -0.02) -> torch.Tensor:
    """Nominal wage per unit of skill.

    A wage Phillips curve with partial indexation (Blanchard and Gali 2010 style):
    ``W_t = W_{t-1} * (1 + indexation * pi_{t-1} + flexibility * (u* - u_t))``, where ``u_t`` is
    this period's unemployment after matching. This is a market rule, not a learned choice.
    ``floor`` bounds monthly wage growth from below (0 = downward nominal wage rigidity, Akerlof,
    Dickens and Perry 1996); growth is capped at +2% a month.
    """
    growth = indexation * past_inflation_monthly + flexibility * (natural_unemployment - unemployment)
    return wage_index * (1.0 + growth.clamp(floor, 0.02))
