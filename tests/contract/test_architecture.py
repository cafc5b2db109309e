"""The house: a folder per concept, imports only downward (experiments → plots → engine), no
import circle among the modules, each package a short face, and modules of one idea each."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOORS = ("engine", "experiments", "plots")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for floor in FLOORS for p in (ROOT / floor).rglob("*.py")}


def _imports(name: str) -> set[str]:
    """The project modules `name` imports anywhere — at the top or late, inside a function, so a
    late import that dodges a circle is a circle here too — each resolved to the module it loads,
    parents included (importing a.b.c runs a/__init__ and a/b/__init__ first)."""
    path = MODULES[name]
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in MODULES and prefix != name:
                    found.add(prefix)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def test_no_import_circle():
    """Depth-first search for a back edge, ignoring the edge from a module to the packages
    that contain it (Python runs those first by construction, not by an import statement)."""
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(GRAPH[node]):
            if node.startswith(nxt + "."):  # a module importing its own package's face
                continue
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_downward(name):
    rank = {"engine": 0, "plots": 1, "experiments": 2}  # the floors, lowest first
    upward = [m for m in GRAPH[name] if rank[m.split(".")[0]] > rank[name.split(".")[0]]]
    assert upward == [], f"{name} imports {upward} from a floor above it"


def test_top_level_entries():
    """A reader sees the concepts before opening a file: few entries at each floor's top."""
    def entries(floor):
        return [p.name for p in (ROOT / floor).iterdir()
                if p.name != "__pycache__" and (p.suffix == ".py" or p.is_dir())]
    assert len(entries("engine")) <= 10, entries("engine")
    assert len(entries("experiments")) <= 12, entries("experiments")


def test_package_faces_are_short():
    assert len((ROOT / "engine" / "__init__.py").read_text().splitlines()) <= 100
    for init in ROOT.glob("*/*/__init__.py"):
        assert len(init.read_text().splitlines()) <= 40, init


@pytest.mark.parametrize("name", sorted(MODULES))
def test_one_idea_per_module(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= 300, f"{MODULES[name]} has {lines} lines: split it by idea"
