"""Checkpoints (safetensors + JSON) and atomic file writing.

A checkpoint is one ``.safetensors`` file: the tensors of named modules (and optimizers),
plus a JSON header holding the config and metadata (macrobook version, format version,
shapes). A ``.json`` copy of the header sits beside it for readers. Loading never
unpickles code: safetensors stores raw tensors only. Every file is written to a temporary
name in the same folder and moved into place with ``os.replace``, so an interruption
leaves either the old file or the new one, never half of one.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint does not fit the model it is loaded into, or is unreadable."""


# ---------------------------------------------------------------------------- atomic writes
def _atomic_write(path: str | os.PathLike, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        # mkstemp creates the file 0600; give the result the permissions of an ordinary new file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    def w(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return _atomic_write(path, w)


def atomic_write_json(path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def atomic_write_csv(path, frame) -> Path:
    """Write a pandas DataFrame as CSV atomically."""
    return _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def atomic_savefig(path, fig, **kwargs) -> Path:
    """Save a matplotlib figure atomically (format from the file suffix)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    return _atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, **kwargs))


def _json_default(o):
    if isinstance(o, torch.Tensor):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


# ---------------------------------------------------------------------------- optimizer state
def _optimizer_to_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[Dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors: Dict[str, torch.Tensor] = {}
    scalars: dict = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{prefix}.state.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_from_tensors(prefix: str, opt: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], meta: dict) -> None:
    state: dict = {}
    for key, v in tensors.items():
        if not key.startswith(prefix + ".state."):
            continue
        pid, k = key[len(prefix) + 7:].split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    for key, v in meta.get("scalars", {}).items():
        pid, k = key.split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


# ---------------------------------------------------------------------------- checkpoints
def save_checkpoint(
    path: str | os.PathLike,
    modules: Mapping[str, nn.Module],
    config: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
) -> Path:
    """Write ``modules`` (and optionally ``optimizers``) to ``path`` (.safetensors), atomically.

    Tensor names are ``<module>.<parameter>``; the header holds config, metadata and shapes.
    """
    from .version import __version__

    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"checkpoint path must end in .safetensors, got {str(path)!r}")
    tensors: Dict[str, torch.Tensor] = {}
    for name, m in modules.items():
        for k, v in m.state_dict().items():
            tensors[f"{name}.{k}"] = v.detach().cpu().contiguous()
    opt_meta = {}
    for name, opt in (optimizers or {}).items():
        t, meta = _optimizer_to_tensors(f"__opt__.{name}", opt)
        tensors.update(t)
        opt_meta[name] = meta
    header = {
        "format_version": FORMAT_VERSION,
        "macrobook_version": __version__,
        "torch_version": torch.__version__,
        "modules": sorted(modules),
        "shapes": {k: list(v.shape) for k, v in tensors.items() if not k.startswith("__opt__")},
        "config": dict(config or {}),
        "metadata": dict(metadata or {}),
        "optimizers": opt_meta,
    }
    header_json = json.dumps(header, sort_keys=True, default=_json_default)
    _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"macrobook": header_json}))
    atomic_write_text(path.with_suffix(".json"), json.dumps(json.loads(header_json), indent=2, sort_keys=True) + "\n")
    return path


def read_checkpoint_header(path: str | os.PathLike) -> dict:
    """The JSON header of a checkpoint (config, metadata, shapes), without loading tensors."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {str(path)!r}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as e:  # safetensors raises several types for a damaged file
        raise CheckpointError(f"{str(path)!r} is not a readable safetensors checkpoint: {e}") from e
    if "macrobook" not in meta:
        raise CheckpointError(f"{str(path)!r} is a safetensors file but not a macrobook checkpoint (no header)")
    return json.loads(meta["macrobook"])


def load_checkpoint(
    path: str | os.PathLike,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    strict: bool = True,
) -> dict:
    """Load tensors into ``modules`` in place and return the header.

    Refuses, with a message naming what differs, a checkpoint of another format version, a
    missing or unexpected module or parameter, or a parameter of another shape.
    """
    from .version import __version__

    path = Path(path)
    header = read_checkpoint_header(path)
    if header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{str(path)!r} has checkpoint format {header.get('format_version')}, this macrobook "
            f"({__version__}) reads format {FORMAT_VERSION}"
        )
    saved_major = str(header.get("macrobook_version", "0")).split(".")[0]
    if saved_major != __version__.split(".")[0]:
        raise CheckpointError(
            f"{str(path)!r} was written by macrobook {header.get('macrobook_version')}, "
            f"incompatible with {__version__}"
        )
    if strict and sorted(modules) != sorted(header["modules"]):
        raise CheckpointError(f"checkpoint holds modules {header['modules']}, asked to load {sorted(modules)}")
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for name, m in modules.items():
        own = m.state_dict()
        saved = {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")}
        missing = sorted(set(own) - set(saved))
        extra = sorted(set(saved) - set(own))
        if strict and (missing or extra):
            raise CheckpointError(f"module {name!r}: missing parameters {missing}, unexpected {extra} in {str(path)!r}")
        for k, v in saved.items():
            if k in own and tuple(own[k].shape) != tuple(v.shape):
                raise CheckpointError(
                    f"module {name!r} parameter {k!r} has shape {list(v.shape)} in the checkpoint "
                    f"but {list(own[k].shape)} in the model: was it trained with another config?"
                )
        dev = next((p.device for p in m.parameters()), torch.device("cpu"))
        m.load_state_dict({k: v.to(dev) for k, v in saved.items()}, strict=strict)
    for name, opt in (optimizers or {}).items():
        if name in header.get("optimizers", {}):
            _optimizer_from_tensors(f"__opt__.{name}", opt, tensors, header["optimizers"][name])
    return header
