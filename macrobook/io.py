"""Checkpoints (safetensors + JSON) and atomic file writing.

A checkpoint is one ``.safetensors`` file: the tensors of named modules (and optimizers),
plus a JSON header holding the config and metadata (macrobook version, format version,
shapes). A ``.json`` copy of the header sits beside it for readers. Loading never
unpickles code: safetensors stores raw tensors only. Every file is written to a temporary
name in the same folder, flushed to disk and moved into place with ``os.replace``, so an
interruption leaves either the old file or the new one, never half of one; temporary files
left by a killed writer are removed by :func:`clean_stale_temp` (and before each checkpoint).

A checkpoint may carry *attachments*: named texts (a training log, a run state) stored inside
the same ``.safetensors`` file, with their SHA-256 digests in the header. Whatever is attached
is therefore written in the same single ``os.replace`` as the weights: one commit, never a
checkpoint of epoch 80 beside a log of epoch 76. Loading refuses non-finite weights (NaN,
inf) and non-finite numbers in the header with one clear error.
"""
from __future__ import annotations

import hashlib
import json
import math
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
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def clean_stale_temp(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporary files (``.<name>.*.tmp``) that a killed writer left in ``folder``.

    Only one process writes a run directory at a time (the run loop), so any such file is stale.
    Returns the removed paths."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    pattern = f".{name}.*.tmp" if name else ".*.tmp"
    removed = []
    for p in folder.glob(pattern):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


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
    def w(tmp):
        frame.to_csv(tmp, index=False)
        _fsync_file(tmp)

    return _atomic_write(path, w)


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
def digest(text: str) -> str:
    """SHA-256 of a text (the digest of an attachment in a checkpoint header)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _non_finite_paths(obj, prefix: str = "") -> list[str]:
    """Where a JSON-like value holds NaN or an infinity (dotted paths)."""
    if isinstance(obj, float):
        return [] if math.isfinite(obj) else [prefix or "(value)"]
    if isinstance(obj, Mapping):
        out = []
        for k, v in obj.items():
            out += _non_finite_paths(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, (list, tuple)):
        out = []
        for i, v in enumerate(obj):
            out += _non_finite_paths(v, f"{prefix}[{i}]")
        return out
    return []


def _non_finite_tensors(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    return [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]


def _describe(names: list[str], limit: int = 3) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def save_checkpoint(
    path: str | os.PathLike,
    modules: Mapping[str, nn.Module],
    config: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    tensors: Mapping[str, torch.Tensor] | None = None,
    attachments: Mapping[str, str] | None = None,
) -> Path:
    """Write ``modules`` (and optionally ``optimizers``) to ``path`` (.safetensors), atomically.

    Tensor names are ``<module>.<parameter>``; the header holds config, metadata and shapes.
    ``tensors`` are extra named tensors (stored under ``__state__.<name>``: an economy's state,
    random-number streams); ``attachments`` are named texts stored in the same file, their
    digests in the header. Refuses (CheckpointError) non-finite weights or header numbers, so a
    diverged run never overwrites its last good checkpoint.
    """
    from .version import __version__

    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"checkpoint path must end in .safetensors, got {str(path)!r}")
    out: Dict[str, torch.Tensor] = {}
    for name, m in modules.items():
        for k, v in m.state_dict().items():
            out[f"{name}.{k}"] = v.detach().cpu().contiguous()
    bad = _non_finite_tensors(out)
    if bad:
        raise CheckpointError(f"refusing to write {str(path)!r}: non-finite (NaN or inf) weights in {_describe(bad)}; "
                              "training diverged (try a smaller learning rate)")
    opt_meta = {}
    for name, opt in (optimizers or {}).items():
        t, meta = _optimizer_to_tensors(f"__opt__.{name}", opt)
        out.update(t)
        opt_meta[name] = meta
    for k, v in (tensors or {}).items():
        out[f"__state__.{k}"] = v.detach().cpu().clone().contiguous()  # clone: state tensors may share memory
    attachments = dict(attachments or {})
    header = {
        "format_version": FORMAT_VERSION,
        "macrobook_version": __version__,
        "torch_version": torch.__version__,
        "modules": sorted(modules),
        "shapes": {k: list(v.shape) for k, v in out.items() if not k.startswith(("__opt__", "__state__"))},
        "config": dict(config or {}),
        "metadata": dict(metadata or {}),
        "optimizers": opt_meta,
        "attachments": {k: digest(v) for k, v in sorted(attachments.items())},
    }
    header_json = json.dumps(header, sort_keys=True, default=_json_default)
    bad = _non_finite_paths(json.loads(header_json))
    if bad:
        raise CheckpointError(f"refusing to write {str(path)!r}: non-finite numbers in its header at {_describe(bad)}")
    meta = {"macrobook": header_json}
    meta.update({f"macrobook.{k}": v for k, v in attachments.items()})

    def write(tmp):
        save_file(out, tmp, metadata=meta)
        _fsync_file(tmp)

    clean_stale_temp(path.parent, path.name)
    _atomic_write(path, write)
    # a copy of the header for readers; the .safetensors file is the one source of truth
    atomic_write_text(path.with_suffix(".json"), json.dumps(json.loads(header_json), indent=2, sort_keys=True) + "\n")
    return path


def _read_metadata(path: Path) -> dict:
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {str(path)!r}")
    if path.is_dir():
        raise CheckpointError(f"{str(path)!r} is a folder, not a checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except Exception as e:  # safetensors raises several types for a damaged file
        raise CheckpointError(f"{str(path)!r} is not a readable safetensors checkpoint: {e}") from e


def read_checkpoint_header(path: str | os.PathLike) -> dict:
    """The JSON header of a checkpoint (config, metadata, shapes), without loading tensors."""
    path = Path(path)
    meta = _read_metadata(path)
    if "macrobook" not in meta:
        raise CheckpointError(f"{str(path)!r} is a safetensors file but not a macrobook checkpoint (no header)")
    try:
        header = json.loads(meta["macrobook"])
    except ValueError as e:
        raise CheckpointError(f"{str(path)!r} has a damaged header (not JSON: {e})") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{str(path)!r} has a damaged header (a JSON {type(header).__name__}, not an object)")
    return header


def read_checkpoint_attachment(path: str | os.PathLike, name: str) -> str | None:
    """The attachment ``name`` of a checkpoint, checked against the digest in its header
    (None when the checkpoint has none of that name)."""
    path = Path(path)
    header = read_checkpoint_header(path)
    want = header.get("attachments", {}).get(name)
    if want is None:
        return None
    text = _read_metadata(path).get(f"macrobook.{name}")
    if text is None or digest(text) != want:
        raise CheckpointError(f"{str(path)!r}: its {name!r} does not match the digest in its header (damaged file)")
    return text


def check_header_finite(path: str | os.PathLike, header: Mapping[str, Any]) -> None:
    bad = _non_finite_paths({k: header.get(k) for k in ("config", "metadata", "optimizers")})
    if bad:
        raise CheckpointError(f"{str(path)!r} has non-finite numbers (NaN or inf) in its header at {_describe(bad)}; "
                              "refusing to load it")


def load_checkpoint(
    path: str | os.PathLike,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    strict: bool = True,
) -> dict:
    """Load tensors into ``modules`` in place and return the header.

    Refuses, with a message naming what differs, a checkpoint of another format version, a
    missing or unexpected module or parameter, a parameter of another shape, and non-finite
    (NaN, inf) weights, optimizer state or header numbers.
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
    check_header_finite(path, header)
    if strict and sorted(modules) != sorted(header.get("modules", [])):
        raise CheckpointError(f"checkpoint holds modules {header.get('modules')}, asked to load {sorted(modules)}")
    tensors = load_checkpoint_tensors(path)
    bad = _non_finite_tensors({k: v for k, v in tensors.items() if not k.startswith("__state__.")})
    if bad:
        raise CheckpointError(f"{str(path)!r} holds non-finite (NaN or inf) values in {_describe(bad)}; refusing to load it")
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
            try:
                _optimizer_from_tensors(f"__opt__.{name}", opt, tensors, header["optimizers"][name])
            except (KeyError, ValueError, TypeError) as e:
                raise CheckpointError(f"{str(path)!r}: optimizer {name!r} state does not fit the model ({e})") from e
    return header


def load_checkpoint_tensors(path: str | os.PathLike, prefix: str = "") -> Dict[str, torch.Tensor]:
    """Every tensor of a checkpoint whose name starts with ``prefix`` (prefix removed)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            # clone: torch's own (aligned) allocation, so that kernels take the same path as on tensors
            # the run created itself (an exact resume depends on it)
            return {k[len(prefix):]: f.get_tensor(k).clone() for k in f.keys() if k.startswith(prefix)}
    except Exception as e:
        raise CheckpointError(f"{str(path)!r} is not a readable safetensors checkpoint: {e}") from e
