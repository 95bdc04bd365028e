"""The product code's shape, read with `ast`: no module imports another in a circle (directly or through others,
type-only imports included), and no function runs over 50 lines. Product code: the core, the handlers, infra,
the CLI."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The import roots: a module's name is its path below the deepest root that holds it, dotted.
SOURCES = (ROOT, ROOT / "functions", ROOT / "functions" / "core" / "src", ROOT / "cli")
PRODUCT = [ROOT / "functions", ROOT / "infra", ROOT / "cli"]
MAX_FUNCTION_LINES = 50


def _modules() -> dict[str, Path]:
    """Every product module by its import name (faceswap.records, start_job.app, infra.pipeline, ...)."""
    found: dict[str, Path] = {}
    for folder in PRODUCT:
        for path in folder.rglob("*.py"):
            base = max((root for root in SOURCES if path.is_relative_to(root)), key=lambda root: len(root.parts))
            parts = path.relative_to(base).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The product modules `name` imports, anywhere in it (also under TYPE_CHECKING or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            source = f"{parent}.{node.module}" if node.level and node.module else (parent if node.level else "")
            source = source or str(node.module)
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                       for alias in node.names]
        else:
            continue
        yield from (t for t in targets if t in modules and t != name)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    return next((c for n in sorted(graph) if n not in state and (c := visit(n))), None)


def test_no_product_module_imports_another_in_a_circle() -> None:
    modules = _modules()
    graph = {name: set(_imported(name, path, modules)) for name, path in modules.items()}
    assert {"faceswap.records", "start_job.app", "infra.pipeline", "faceswap_cli.main"} <= set(graph)
    assert "faceswap.layout" in graph["infra.pipeline"] and "infra.ingest" in graph["infra.pipeline"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_product_function_runs_over_fifty_lines() -> None:
    long = []
    for folder in PRODUCT:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    if node.end_lineno is not None and node.end_lineno - first + 1 > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{first} {node.name}")
    assert long == []
