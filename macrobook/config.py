"""Configuration dataclasses that validate themselves.

Every config in macrobook is a dataclass that subclasses :class:`Config`. On
construction it runs ``validate()``; a bad value raises :class:`ConfigError`
naming the field, the value and what is allowed::

    >>> CournotConfig(num_firms=0)
    ConfigError: CournotConfig.num_firms must be an integer >= 1, got 0
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable


class ConfigError(ValueError):
    """A configuration value is out of range or of the wrong type."""


def _name(obj: Any, field: str) -> str:
    return f"{type(obj).__name__}.{field}" if obj is not None else field


def check_int(obj: Any, field: str, *, min: int | None = None, max: int | None = None) -> None:
    """Raise ConfigError unless ``obj.field`` is an int in [min, max]."""
    v = getattr(obj, field)
    ok = isinstance(v, int) and not isinstance(v, bool)
    if ok and min is not None and v < min:
        ok = False
    if ok and max is not None and v > max:
        ok = False
    if not ok:
        raise ConfigError(f"{_name(obj, field)} must be an integer {_range_text(min, max)}, got {v!r}")


def check_float(
    obj: Any,
    field: str,
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
) -> None:
    """Raise ConfigError unless ``obj.field`` is a finite real number in the range."""
    v = getattr(obj, field)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if ok and min is not None and (v < min or (min_open and v == min)):
        ok = False
    if ok and max is not None and (v > max or (max_open and v == max)):
        ok = False
    if not ok:
        lo = "" if min is None else ("(" if min_open else "[") + f"{min}"
        hi = "" if max is None else f"{max}" + (")" if max_open else "]")
        if min is not None and max is not None:
            allowed = f"in {lo}, {hi}"
        elif min is not None:
            allowed = f"{'>' if min_open else '>='} {min}"
        elif max is not None:
            allowed = f"{'<' if max_open else '<='} {max}"
        else:
            allowed = "finite"
        raise ConfigError(f"{_name(obj, field)} must be a real number {allowed}, got {v!r}")


def check_choice(obj: Any, field: str, choices: Iterable[Any]) -> None:
    """Raise ConfigError unless ``obj.field`` is one of ``choices``."""
    v = getattr(obj, field)
    choices = list(choices)
    if v not in choices:
        raise ConfigError(f"{_name(obj, field)} must be one of {choices}, got {v!r}")


def check(condition: bool, obj: Any, field: str, allowed: str) -> None:
    """Raise ConfigError with ``allowed`` as the rule when ``condition`` is false."""
    if not condition:
        raise ConfigError(f"{_name(obj, field)} must be {allowed}, got {getattr(obj, field)!r}")


def _range_text(min: Any, max: Any) -> str:
    if min is not None and max is not None:
        return f"in [{min}, {max}]"
    if min is not None:
        return f">= {min}"
    if max is not None:
        return f"<= {max}"
    return ""


@dataclasses.dataclass
class Config:
    """Base class: subclasses override :meth:`validate` and call the ``check_*`` helpers."""

    def __post_init__(self) -> None:
        check_types(self)
        try:
            self.validate()
        except ConfigError:
            raise
        except (TypeError, ValueError, ArithmeticError, AttributeError, IndexError, KeyError) as e:
            # a combination validate() did not foresee: still one ConfigError, never a raw TypeError
            raise ConfigError(f"{type(self).__name__} is not a valid configuration: {type(e).__name__}: {e}") from None

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        """Build from a dict, refusing unknown keys with a clear message."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"{cls.__name__} has no field(s) {unknown}; allowed: {sorted(names)}")
        return cls(**d)

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


#: the largest number of agents or economies (a ``num_*`` field) any config accepts: beyond it the
#: tensors cannot be allocated on any machine the book targets
MAX_COUNT = 10_000_000
#: no magnitude a config holds may exceed this (beyond it products of two values overflow float32)
MAX_MAGNITUDE = 1e15
#: nor be smaller than this unless it is 0 (float32 turns 1e-300 into 0, and a division by it into inf)
MIN_MAGNITUDE = 1e-30


def _numbers(v: Any):
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _numbers(x)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        yield v


def check_types(obj: Any) -> None:
    """What every config field must satisfy, whatever its own ``validate`` adds: the declared type
    (``int``, ``float``, ``bool``, ``str``, ``tuple``, optionally ``| None``), finite numbers (also
    inside tuples), sizes (``num_*`` fields) at most :data:`MAX_COUNT`, integers below 2**63 and real
    magnitudes in [:data:`MIN_MAGNITUDE`, :data:`MAX_MAGNITUDE`] or 0. Raises ConfigError naming the field."""
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        t = str(f.type).replace(" ", "")
        optional = "None" in t or "Optional" in t
        if v is None:
            if optional:
                continue
            raise ConfigError(f"{_name(obj, f.name)} must not be None")
        base = t.replace("Optional[", "").replace("|None", "").replace("None|", "").rstrip("]") if optional else t
        is_num = isinstance(v, (int, float)) and not isinstance(v, bool)
        if base == "int" and not (isinstance(v, int) and not isinstance(v, bool)):
            raise ConfigError(f"{_name(obj, f.name)} must be an integer, got {v!r}")
        if base == "float" and not is_num:
            raise ConfigError(f"{_name(obj, f.name)} must be a real number, got {v!r}")
        if base == "float" and isinstance(v, int):
            object.__setattr__(obj, f.name, float(v))   # 0 means 0.0: tensors built from it must not be integer
        if base == "bool" and not isinstance(v, bool):
            raise ConfigError(f"{_name(obj, f.name)} must be True or False, got {v!r}")
        if base == "str" and not isinstance(v, str):
            raise ConfigError(f"{_name(obj, f.name)} must be a string, got {v!r}")
        if (base.startswith(("tuple", "Sequence", "list"))) and not isinstance(v, (tuple, list)):
            raise ConfigError(f"{_name(obj, f.name)} must be a tuple, got {v!r}")
        for x in _numbers(v):
            if isinstance(x, float) and not math.isfinite(x):
                raise ConfigError(f"{_name(obj, f.name)} must hold finite numbers, got {v!r}")
            if 0 < abs(x) < MIN_MAGNITUDE:
                raise ConfigError(f"{_name(obj, f.name)} must hold 0 or numbers of magnitude >= {MIN_MAGNITUDE:g} "
                                  f"(float32 rounds smaller ones to 0), got {v!r}")
            if isinstance(x, float) and abs(x) > MAX_MAGNITUDE:
                raise ConfigError(f"{_name(obj, f.name)} must hold numbers of magnitude <= {MAX_MAGNITUDE:g}, got {v!r}")
        if base == "int" and f.name.startswith("num_") and v > MAX_COUNT:
            raise ConfigError(f"{_name(obj, f.name)} must be an integer <= {MAX_COUNT:,}, got {v!r}")
        if base == "int" and abs(v) > 2**63 - 1:
            raise ConfigError(f"{_name(obj, f.name)} must be an integer of magnitude < 2**63, got {v!r}")


# ----------------------------------------------------------------------------- command-line values
def int_arg(flag: str, *, min: int | None = None, max: int | None = None):
    """An argparse ``type=`` that accepts an integer in [min, max] and otherwise fails with one line
    naming the flag and what is allowed. The one integer parser of the command line."""
    import argparse

    def parse(s: str) -> int:
        try:
            v = int(s)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{flag} must be an integer {_range_text(min, max)}, got {s!r}")
        if (min is not None and v < min) or (max is not None and v > max):
            raise argparse.ArgumentTypeError(f"{flag} must be an integer {_range_text(min, max)}, got {v}")
        return v

    return parse


def float_arg(flag: str, *, min: float | None = None, max: float | None = None):
    """An argparse ``type=`` for a finite real number in [min, max] (NaN and infinities refused)."""
    import argparse

    def parse(s: str) -> float:
        try:
            v = float(s)
        except (TypeError, ValueError):
            v = float("nan")
        if not math.isfinite(v) or (min is not None and v < min) or (max is not None and v > max):
            raise argparse.ArgumentTypeError(f"{flag} must be a finite number {_range_text(min, max)}, got {s!r}")
        return v

    return parse
