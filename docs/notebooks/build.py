"""Build the lab's notebooks: docs/notebooks/*.py (jupytext percent format) → executed .ipynb.

    python docs/notebooks/build.py            # every notebook, in name order
    python docs/notebooks/build.py 00 hw1-3   # only those whose file name starts with these

Each source is converted with jupytext, executed with nbclient in a kernel of the running
interpreter, from the repository root (so `engine`, `experiments` and `plots` import), and
written beside its source with its outputs (figures inline). The notebooks write their results
into temporary folders of their own; nothing else in the repository changes. Prints each
notebook's run time and the total. Needs the `docs` extra: pip install -e '.[docs]'.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KERNEL = "losslab-docs"
TIMEOUT = 600  # seconds per cell: a cell of these notebooks takes < 60 s


def sources(prefixes=()) -> list[Path]:
    """The notebook sources (every .py here but this script), sorted by name."""
    paths = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)
    return [p for p in paths if not prefixes or p.name.startswith(tuple(prefixes))]


def kernel_dir() -> Path:
    """A kernelspec that runs this interpreter, in a temporary Jupyter data folder put first on
    JUPYTER_PATH (removed at exit): nothing is installed into the environment or the user's
    Jupyter folders."""
    data = Path(tempfile.mkdtemp(prefix="losslab-jupyter-"))
    atexit.register(shutil.rmtree, data, True)
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=ERROR",
                 # worker processes' own output (the experiments' progress bars) is not
                 # copied into the notebook
                 "--IPKernelApp.capture_fd_output=False"],
        "display_name": "Python 3 (losslab)", "language": "python",
        "env": {"TQDM_DISABLE": "1"}}))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(data)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    return data


def execute(source: Path, timeout: int = TIMEOUT):
    """The executed notebook of one jupytext source (an nbformat NotebookNode), run from the
    repository root in the kernel of kernel_dir(); raises nbclient's CellExecutionError on the
    first cell that fails."""
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(source)
    NotebookClient(nb, timeout=timeout, kernel_name=KERNEL,
                   resources={"metadata": {"path": str(ROOT)}}).execute(stderr=subprocess.DEVNULL)
    # the written notebook names the usual kernel: it opens anywhere
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    return nb


def main(argv=None) -> int:
    import nbformat

    paths = sources(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("no notebook source matches", file=sys.stderr)
        return 2
    kernel_dir()
    total = 0.0
    for source in paths:
        start = time.perf_counter()
        nb = execute(source)
        seconds = time.perf_counter() - start
        total += seconds
        target = source.with_suffix(".ipynb")
        nbformat.write(nb, target)
        print(f"{seconds:6.1f} s  {target.relative_to(ROOT)}", flush=True)
    print(f"{total:6.1f} s  total, {len(paths)} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
