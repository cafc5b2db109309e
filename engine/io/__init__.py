"""Results and command lines: atomic result files, the resumable Store in a folder claimed by
one process, the one-line error contract, losslab's version."""
from .cli import OneLineParser, Terminated, guarded
from .folders import check_output_folder, hold_folder, provenance
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
    "load_npz", "load_summary", "save_json", "save_npz", "to_jsonable", "versions", "Terminated",
    "check_output_folder", "hold_folder", "provenance",
]
