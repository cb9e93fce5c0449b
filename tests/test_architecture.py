"""The layers of docs/architecture.md hold in the code: read with ast, every import counted (at module
level, inside a function, under TYPE_CHECKING), so a change that crosses a layer fails here first."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE = 700  # lines
MAX_FUNCTION = 60  # lines
MAX_LONG_FUNCTIONS = 5
MAX_PAGE = 250  # lines: a page only lays out
# Layers that must not draw on Streamlit: what they build is tested and cached without a server.
STREAMLIT_FREE = ("atlas.vocab", "atlas.contract", "atlas.formats", "atlas.db", "atlas.catalog", "atlas.views",
                  "atlas.packs", "atlas.ingest", "atlas.demo")


@cache
def modules() -> dict[str, Path]:
    """Every Python module of the product (atlas/, pages/, dashboard.py) by dotted name."""
    found = {}
    for path in sorted([*(ROOT / "atlas").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "dashboard.py"]):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


@cache
def imports(name: str) -> frozenset[str]:
    """The modules `name` imports, anywhere in its text (relative imports resolved; names imported from a
    package count as its submodules when they are modules)."""
    path = modules()[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(out)


def internal(name: str) -> set[str]:
    known = modules()
    return {m for m in imports(name) if m in known and m != name and not name.startswith(m + ".")}


def test_no_import_cycle():
    graph = {name: internal(name) for name in modules()}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_views_packs_and_the_vocabulary_never_import_the_import_side():
    below = [n for n in modules() if n.startswith(("atlas.views", "atlas.packs", "atlas.vocab", "atlas.contract",
                                                   "atlas.formats"))]
    assert below, "the layers moved: update this test with docs/architecture.md"
    crossing = {n: sorted(m for m in imports(n) if m == "atlas.ingest" or m.startswith("atlas.ingest."))
                for n in below}
    assert not {n: m for n, m in crossing.items() if m}


def test_the_vocabulary_is_the_bottom_layer():
    assert not internal("atlas.vocab"), "atlas/vocab.py imports nothing of the product"


def test_only_the_app_layer_and_pages_use_streamlit():
    using = [n for n in modules() if n.startswith(STREAMLIT_FREE) and any(
        m == "streamlit" or m.startswith("streamlit.") for m in imports(n))]
    assert not using


def test_no_sql_is_written_in_python_outside_the_seams():
    """Named queries live in queries/; Python runs them through atlas.db (and the import side's own
    statements through atlas.catalog), never a SELECT written inline in a view or a page."""
    select = re.compile(r"""\bselect\s+[\w*,. ]+\s+from\s+\w""", re.IGNORECASE)
    found = [f"{n}" for n, path in modules().items() if n.startswith(("atlas.views", "atlas.packs", "pages"))
             and select.search(path.read_text(encoding="utf-8"))]
    assert not found


def _lengths():
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node.end_lineno - node.lineno + 1


def test_modules_functions_and_pages_stay_small():
    lines = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in modules().items()}
    assert not {n: k for n, k in lines.items() if k > MAX_MODULE}
    assert not {n: k for n, k in lines.items() if n.startswith("pages.") and k > MAX_PAGE}
    long = sorted((k, where) for where, k in _lengths() if k > MAX_FUNCTION)
    assert len(long) <= MAX_LONG_FUNCTIONS, long


def test_the_operations_and_the_app_stay_apart():
    """The commands that run a deployment (atlas/ops/) work without Streamlit, and the app reads what they
    record through a setting and a named query, never by importing them."""
    ops = [n for n in modules() if n.startswith("atlas.ops")]
    assert ops, "the layers moved: update this test with docs/architecture.md"
    assert not [n for n in ops if any(m == "streamlit" or m.startswith(("streamlit.", "atlas.app")) for m in imports(n))]
    app = [n for n in modules() if n.startswith(("atlas.app", "pages")) or n == "dashboard"]
    assert not [n for n in app if any(m == "atlas.ops" or m.startswith("atlas.ops.") for m in imports(n))]
