"""Market clearing as pure tensor functions: labor, credit and goods (with rationing)."""
from . import credit, goods, labor, money, pricing

__all__ = ["credit", "goods", "labor", "money", "pricing"]
