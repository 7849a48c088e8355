"""Market clearing as pure tensor functions: labor, credit and goods (with rationing)."""
from . import credit, goods, labor

__all__ = ["credit", "goods", "labor"]
