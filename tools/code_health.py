"""The code-health measures of issue 16, printed for one checkout or compared.

    python tools/code_health.py [ROOT]            # the working tree at ROOT (default .)
    python tools/code_health.py --rev REV         # one commit (extracted with git archive)
    python tools/code_health.py --compare A B     # two commits, a Markdown table

Measures: module sizes (how many over 500 lines, the largest), the median and p90
function length per area, the pairs the ``duplicates`` command finds in pdtracker/,
import cycles between pdtracker modules (imports inside functions included) and how
many imports sit inside functions, and the time (median of five fresh interpreters)
and module count of importing the engine alone.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ENGINE_CANDIDATES = ("pdtracker.progress.engine", "pdtracker.progress.rules")
LARGE = 500  # lines: the "no module over about 500 lines"
IMPORT_RUNS = 5


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


def engine_import(root: Path) -> dict[str, Any]:
    """Median time and module count of importing the engine alone (fresh interpreters)."""
    for name in ENGINE_CANDIDATES:
        if (root / (name.replace(".", "/") + ".py")).exists():
            code = (
                "import sys, time; before = set(sys.modules); t = time.perf_counter(); "
                f"import {name}; dt = time.perf_counter() - t; "
                "new = set(sys.modules) - before; "
                "heavy = sorted(m for m in new if m.split('.')[0] in "
                "('flask', 'sqlalchemy', 'werkzeug', 'jinja2')); "
                "print(dt * 1000, len(new), len(heavy))"
            )
            runs = []
            for _ in range(IMPORT_RUNS + 1):  # the first compiles and caches bytecode
                result = subprocess.run(
                    [sys.executable, "-c", code],
                    cwd=root, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if result.returncode:
                    return {"module": name, "error": result.stderr.strip()[-200:]}
                ms, count, heavy = result.stdout.split()
                runs.append((float(ms), int(count), int(heavy)))
            runs = runs[1:]
            return {
                "module": name,
                "ms": statistics.median(r[0] for r in runs),
                "modules": runs[0][1],
                "heavy": runs[0][2],
            }
    return {"module": None}


def duplicate_pairs(root: Path) -> dict[str, int] | None:
    """The ``duplicates`` command's count of pairs in pdtracker/ (None: not installed)."""
    if shutil.which("duplicates") is None:
        return None
    out = subprocess.run(
        ["duplicates", "--repo", str(root / "pdtracker"), "--most", "1",
         "--seconds", "300"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    first = out.splitlines()[0] if out else ""
    if first.startswith("no duplicates"):
        return {"pairs": 0, "shape": 0, "boilerplate": 0}
    found = re.match(r"(\d+) pairs? of places", first)
    shape = re.search(
        r"\((\d+) by shape alone(?:, (\d+) of those marked boilerplate)?", first
    )
    if found is None:
        return None
    return {
        "pairs": int(found.group(1)),
        "shape": int(shape.group(1)) if shape else 0,
        "boilerplate": int(shape.group(2) or 0) if shape else 0,
    }


def inner_imports(tree: ast.AST) -> int:
    """Import statements of pdtracker modules inside functions."""
    count = 0
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.ImportFrom)
                    and (node.level or (node.module or "").startswith("pdtracker"))
                    or isinstance(node, ast.Import)
                    and any(a.name.startswith("pdtracker") for a in node.names)
                ):
                    count += 1
    return count


def measure(root: Path) -> dict[str, Any]:
    """Every measure of the tree at ``root``."""
    found = modules(root)
    sizes = {n: len(p.read_text().splitlines()) for n, p in found.items()}
    trees = {n: ast.parse(p.read_text()) for n, p in found.items()}
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
    areas = {}
    for area, lengths in sorted(by_area.items()):
        if lengths:
            p90 = (
                statistics.quantiles(lengths, n=10)[-1]
                if len(lengths) > 1
                else lengths[0]
            )
            areas[area] = (statistics.median(lengths), p90, len(lengths))
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
    return {
        "modules": len(found),
        "lines": sum(sizes.values()),
        "large": sorted(((s, n) for n, s in sizes.items() if s > LARGE), reverse=True),
        "largest": sorted(((s, n) for n, s in sizes.items()), reverse=True)[:12],
        "areas": areas,
        "duplicates": duplicate_pairs(root),
        "cycles": cycles(graph),
        "inner_imports": sum(inner_imports(t) for t in trees.values()),
        "engine": engine_import(root),
    }


def report(m: dict[str, Any]) -> list[str]:
    """The measures of one tree as text."""
    lines = [
        f"modules: {m['modules']} ({m['lines']} lines); over {LARGE} lines: "
        f"{len(m['large'])}"
    ]
    lines += [f"  {size:5d}  {name}" for size, name in m["largest"]]
    lines.append("function length per area (median / p90 lines, functions):")
    for area, (median, p90, n) in m["areas"].items():
        lines.append(f"  {area:16s} {median:5.1f} / {p90:5.1f}  ({n})")
    lines.append(f"duplicates pairs in pdtracker/: {_dups(m['duplicates'])}")
    lines.append(
        f"import cycles (imports inside functions included): {len(m['cycles'])}; "
        f"imports of pdtracker modules inside functions: {m['inner_imports']}"
    )
    lines += ["  " + " <-> ".join(comp) for comp in m["cycles"]]
    lines.append(_engine(m["engine"]))
    return lines


def _dups(d: dict[str, int] | None) -> str:
    if d is None:
        return "n/a (duplicates not installed)"
    return (
        f"{d['pairs']} ({d['pairs'] - d['shape']} identical, {d['shape']} by shape "
        f"alone, {d['boilerplate']} of those boilerplate)"
    )


def _engine(e: dict[str, Any]) -> str:
    if e.get("module") is None:
        return "engine module not found"
    if "error" in e:
        return f"import {e['module']}: failed: {e['error']}"
    return (
        f"import {e['module']}: {e['ms']:.1f} ms (median of {IMPORT_RUNS}), "
        f"{e['modules']} modules, Flask/SQLAlchemy/Werkzeug/Jinja modules: {e['heavy']}"
    )


def compare(
    before: dict[str, Any], after: dict[str, Any], labels: tuple[str, str]
) -> list[str]:
    """The two trees' measures side by side, as a Markdown table."""
    rows = [
        ("modules (lines)", f"{before['modules']} ({before['lines']})",
         f"{after['modules']} ({after['lines']})"),
        (f"modules over {LARGE} lines", _large(before), _large(after)),
        ("largest module", _largest(before), _largest(after)),
    ]  # fmt: skip
    for area in sorted(set(before["areas"]) | set(after["areas"])):
        rows.append(
            (f"function length, {area} (median / p90)",
             _area(before["areas"].get(area)), _area(after["areas"].get(area)))
        )  # fmt: skip
    rows += [
        ("`duplicates` pairs in pdtracker/", _dups(before["duplicates"]),
         _dups(after["duplicates"])),
        ("`duplicates` pairs per 1,000 lines", _per_kloc(before), _per_kloc(after)),
        ("import cycles (incl. imports inside functions)", _cycles(before),
         _cycles(after)),
        ("imports of pdtracker modules inside functions",
         str(before["inner_imports"]), str(after["inner_imports"])),
        ("importing the engine alone", _engine(before["engine"]),
         _engine(after["engine"])),
    ]  # fmt: skip
    out = [f"| measure | {labels[0]} | {labels[1]} |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return out


def _per_kloc(m: dict[str, Any]) -> str:
    d = m["duplicates"]
    return "-" if d is None else f"{d['pairs'] * 1000 / m['lines']:.2f}"


def _large(m: dict[str, Any]) -> str:
    names = ", ".join(f"{n} ({s})" for s, n in m["large"])
    return f"{len(m['large'])}" + (f": {names}" if names else "")


def _largest(m: dict[str, Any]) -> str:
    size, name = m["largest"][0]
    return f"{name} ({size})"


def _area(a: tuple[float, float, int] | None) -> str:
    return "-" if a is None else f"{a[0]:.1f} / {a[1]:.1f} ({a[2]} functions)"


def _cycles(m: dict[str, Any]) -> str:
    named = "; ".join(" <-> ".join(c) for c in m["cycles"])
    return f"{len(m['cycles'])}" + (f": {named}" if named else "")


def at_revision(rev: str, repo: Path, into: Path) -> Path:
    """The tree of commit ``rev`` extracted into ``into`` (git archive)."""
    archive = into / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev], cwd=repo, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def main() -> None:
    """Print the measures of a tree, a commit, or two commits compared."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".")
    parser.add_argument("--rev", help="measure this commit instead of the working tree")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    repo = Path(args.root).resolve()
    if args.compare:
        measured = []
        for rev in args.compare:
            with tempfile.TemporaryDirectory() as tmp:
                measured.append(measure(at_revision(rev, repo, Path(tmp))))
        print("\n".join(compare(measured[0], measured[1], tuple(args.compare))))
        return
    if args.rev:
        with tempfile.TemporaryDirectory() as tmp:
            print("\n".join(report(measure(at_revision(args.rev, repo, Path(tmp))))))
        return
    print("\n".join(report(measure(repo))))


if __name__ == "__main__":
    main()
