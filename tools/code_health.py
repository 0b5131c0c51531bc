"""The code-health measures of issue 16, printed for one checkout.

    python tools/code_health.py [ROOT]

Prints: the largest modules, the median and p90 function length per area, import
cycles between pdtracker modules (imports inside functions included), and the time
and module count of importing the engine alone in a fresh interpreter.
"""

from __future__ import annotations

import ast
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ENGINE_CANDIDATES = ("pdtracker.progress.engine", "pdtracker.progress.rules")


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    found = {}
    for path in sorted((root / "pdtracker").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def function_lengths(tree: ast.AST) -> list[int]:
    """Lines of every function and method (decorators and docstring included)."""
    return [
        (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def imported(tree: ast.AST, name: str, known: set[str]) -> set[str]:
    """The package's modules this module imports, anywhere in its body."""
    out: set[str] = set()
    package = name if name.endswith(("__init__",)) else name.rsplit(".", 1)[0]
    for node in _runtime_nodes(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                )
                base = f"{base}.{node.module}" if node.module else base
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (never imported at run time)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def engine_import(root: Path) -> str:
    """Time and module count of importing the engine alone."""
    for name in ENGINE_CANDIDATES:
        if (root / (name.replace(".", "/") + ".py")).exists():
            code = (
                "import sys, time; before = set(sys.modules); t = time.perf_counter(); "
                f"import {name}; dt = time.perf_counter() - t; "
                "new = set(sys.modules) - before; "
                "heavy = sorted(m for m in new if m.split('.')[0] in "
                "('flask', 'sqlalchemy', 'werkzeug', 'jinja2')); "
                "print(f'{dt * 1000:.1f} ms, {len(new)} modules, third-party web/ORM: "
                "{len(heavy)}')"
            )
            result = subprocess.run(
                [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
            )
            return f"import {name}: {result.stdout.strip() or result.stderr.strip()[-200:]}"
    return "engine module not found"


def main() -> None:
    """Print the measures."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    found = modules(root)
    sizes = {n: len(p.read_text().splitlines()) for n, p in found.items()}
    trees = {n: ast.parse(p.read_text()) for n, p in found.items()}
    print(
        f"modules: {len(found)}; over 500 lines: "
        f"{sum(1 for s in sizes.values() if s > 500)}"
    )
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {size:5d}  {name}")
    by_area: dict[str, list[int]] = defaultdict(list)
    for name, tree in trees.items():
        parts = name.split(".")
        area = (
            parts[1]
            if len(parts) > 2
            or (len(parts) == 2 and (found[name].name == "__init__.py"))
            else "(top level)"
        )
        by_area[area].extend(function_lengths(tree))
    print("function length per area (median / p90 lines, functions):")
    for area, lengths in sorted(by_area.items()):
        if lengths:
            p90 = (
                statistics.quantiles(lengths, n=10)[-1]
                if len(lengths) > 1
                else lengths[0]
            )
            print(
                f"  {area:16s} {statistics.median(lengths):5.1f} / {p90:5.1f}  ({len(lengths)})"
            )
    known = set(found)
    graph = {
        n: imported(t, n if found[n].name != "__init__.py" else n + ".__init__", known)
        for n, t in trees.items()
    }
    # A package's own __init__ importing its children is not a cycle worth naming.
    for n in graph:
        graph[n] = {
            m
            for m in graph[n]
            if not (m.startswith(n + ".") and found[n].name == "__init__.py")
        }
    found_cycles = cycles(graph)
    print(f"import cycles (imports inside functions included): {len(found_cycles)}")
    for comp in found_cycles:
        print("  " + " <-> ".join(comp))
    print(engine_import(root))


if __name__ == "__main__":
    main()
