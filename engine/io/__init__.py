"""Results and command lines: atomic result files, the resumable Store, the one-line error
contract."""
from .cli import OneLineParser, guarded
from .results import (
    DamagedFile,
    Store,
    UsageError,
    atomic_write,
    load_json,
    load_npz,
    load_summary,
    save_json,
    save_npz,
    to_jsonable,
    versions,
)

__all__ = [
    "OneLineParser", "guarded", "DamagedFile", "Store", "UsageError", "atomic_write", "load_json",
    "load_npz", "load_summary", "save_json", "save_npz", "to_jsonable", "versions",
]
