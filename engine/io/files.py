"""Atomic results files and reading them back: the layer below the Store (engine.io.results).

Every file is written atomically (a temporary file in the same folder, then `os.replace`, with
the permissions the user's umask gives a new file) and carries the versions that made it.
"""
from __future__ import annotations

import io
import json
import os
import platform
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from engine.io.errors import DamagedFile, UsageError, error_reason
from engine.io.folders import _umask, provenance


# ----------------------------------------------------------------------------- atomic files
def to_jsonable(obj):
    """obj as plain JSON values: tuples and arrays → lists, NumPy scalars → Python, NaN/inf →
    None (standard JSON has neither), dict keys → str; anything else unchanged."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def atomic_write(path, data: bytes) -> Path:
    """Write bytes to path through a temporary file in the same folder and os.replace, so a
    reader never sees half a file. The file gets mode 0o666 & ~umask, as open() would give it
    (mkstemp alone leaves 0o600: unreadable to others on a shared machine). Raises OSError
    when the folder cannot be written, leaving no temporary file behind, UsageError (a
    ValueError) when path is not a path or names a folder. Cost: one fsync."""
    if not isinstance(path, (str, os.PathLike)) or str(path).strip() == "":
        raise UsageError(f"path={path!r} is not a file path; give a str or pathlib.Path")
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"path {path} is a folder; give the path of a file inside it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_json(path, obj) -> Path:
    """Write obj (to_jsonable first; indented, standard JSON) to path atomically; return path.
    Raises ValueError naming obj if it holds something JSON cannot represent (a set, an object),
    and as atomic_write for a bad path."""
    try:
        text = json.dumps(to_jsonable(obj), indent=1, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        raise ValueError(f"obj cannot be written as JSON ({error_reason(err)}); give dicts, "
                         "lists, strings, numbers, bools and None only") from None
    return atomic_write(path, text.encode())


def save_npz(path, arrays: dict) -> Path:
    """Write {name: array} as a compressed .npz at path atomically; return path. load_npz reads
    it back (numeric arrays only: it refuses pickled object arrays)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write(path, buf.getvalue())


def load_json(path) -> dict:
    """The JSON object in path; DamagedFile naming the file when it is not one."""
    path = Path(path)
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DamagedFile(f"{path} cannot be read as JSON ({error_reason(err)})") from None
    if not isinstance(value, dict):
        raise DamagedFile(f"{path} holds a JSON {type(value).__name__}, not an object")
    return value


def load_npz(path, keys=()) -> dict:
    """The arrays in an .npz file (no pickles); DamagedFile naming the file when it is truncated,
    not an .npz, or lacks one of `keys`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError) as err:
        raise DamagedFile(f"{path} cannot be read as .npz arrays ({error_reason(err)})") from None
    absent = [k for k in keys if k not in arrays]
    if absent:
        raise DamagedFile(f"{path} lacks the arrays {absent}")
    return arrays


def versions() -> dict:
    """{'losslab', 'commit', 'python', 'numpy', 'scipy', 'autograd', 'scikit-learn',
    'matplotlib'} → what computed the numbers (losslab's version and git commit, or None outside
    a checkout; the installed versions by importlib.metadata), saved with them."""
    from importlib.metadata import version

    return {**provenance(), "python": platform.python_version(), "numpy": np.__version__,
            **{name: version(name) for name in ("scipy", "autograd", "scikit-learn",
                                                "matplotlib")}}
