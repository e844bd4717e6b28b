"""The project's own import graph: no cycles, and the product never imports its tools.

Every ``.py`` file under ``assistants/``, ``calls/`` and ``voiceassistant/`` is
parsed with ``ast`` (nothing is imported). An edge ``a -> b`` means module ``a``
imports project module ``b`` when it is loaded: ``import calls.x.y`` and
``from calls.x import y`` (to ``calls.x.y`` when ``y`` is a module, else to
``calls.x``), relative imports resolved against ``a``'s package.

For the cycle check two kinds of import are deliberately left out:

- imports inside ``if TYPE_CHECKING:`` blocks, which never run;
- imports inside functions, which are deliberate lazy imports (run on first call,
  when every module is loaded, so they cannot deadlock an import).

The tooling check counts every import, lazy ones included: a lazy import of a tool
is still a dependency of the product on it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("assistants", "calls", "voiceassistant")
TOOLING = "calls.tooling"
# Packages that may use the tools: the tools themselves and the commands that run
# them. Tests are recognised by ``is_test_module``.
MAY_USE_TOOLING = ("calls.tooling", "calls.management")

# Cycles tolerated for now, each the exact set of modules of one strongly connected
# component, with a comment saying who removes it. Empty: the one expected here
# (calls.engines.openai_realtime.client <-> picows_client) went through a lazy
# import only and is gone from the tree. A stale entry fails the test.
ALLOWED_CYCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Import:
    target: str
    eager: bool  # runs when the module is loaded (not lazy, not TYPE_CHECKING-only)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[module_name(path)] = path
    return files


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class ImportCollector(ast.NodeVisitor):
    """Every import statement, and whether it runs when the module is loaded.

    Class bodies and try/with/if blocks run on load, so their imports are eager;
    function bodies and ``if TYPE_CHECKING:`` bodies do not.
    """

    def __init__(self) -> None:
        self.eager = True
        self.found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self.eager))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self.eager))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._lazily(node.body)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._lazily(node.body)

    def visit_If(self, node: ast.If) -> None:
        if not is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._lazily(node.body)
        for statement in node.orelse:  # the ``else:`` of TYPE_CHECKING runs
            self.visit(statement)

    def _lazily(self, body: list[ast.stmt]) -> None:
        eager, self.eager = self.eager, False
        for statement in body:
            self.visit(statement)
        self.eager = eager


def resolve_base(node: ast.ImportFrom, name: str, *, is_package: bool) -> str:
    """The absolute module ``from <base> import ...`` names in module ``name``."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def imports_in(
    source: str, name: str, *, is_package: bool, modules: set[str]
) -> list[Import]:
    """The project modules that module ``name`` (given as ``source``) imports."""
    collector = ImportCollector()
    collector.visit(ast.parse(source, filename=name))
    found: list[Import] = []
    for node, eager in collector.found:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = resolve_base(node, name, is_package=is_package)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found.extend(
            Import(target, eager, node.lineno)
            for target in targets
            if target in modules
        )
    return found


def import_graph() -> dict[str, list[Import]]:
    files = project_files()
    modules = set(files)
    return {
        name: imports_in(
            path.read_text(encoding="utf-8"),
            name,
            is_package=path.name == "__init__.py",
            modules=modules,
        )
        for name, path in files.items()
    }


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the components with more than one module
    (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(component)
    return found


def one_cycle(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges[node] & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return [start]


def eager_edges(graph: dict[str, list[Import]]) -> dict[str, set[str]]:
    return {
        name: {i.target for i in imports if i.eager} for name, imports in graph.items()
    }


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return "tests" in parts or parts[-1].startswith("test_") or parts[-1] == "conftest"


def test_it_finds_no_import_cycles() -> None:
    edges = eager_edges(import_graph())

    components = [frozenset(c) for c in strongly_connected(edges)]
    cycles = [
        " -> ".join(one_cycle(set(component), edges))
        for component in components
        if component not in ALLOWED_CYCLES
    ]
    stale = [sorted(allowed) for allowed in ALLOWED_CYCLES if allowed not in components]

    assert cycles == [], "import cycles:\n" + "\n".join(sorted(cycles))
    assert stale == [], "allowed cycles that are gone (remove them):"


def test_it_keeps_the_product_off_its_tooling() -> None:
    graph = import_graph()

    offenders = [
        f"{name}:{found.line} imports {found.target}"
        for name, imports in sorted(graph.items())
        if not is_test_module(name)
        and not any(name == p or name.startswith(p + ".") for p in MAY_USE_TOOLING)
        for found in imports
        if found.target == TOOLING or found.target.startswith(TOOLING + ".")
    ]

    assert offenders == []


SAMPLE = """
from __future__ import annotations
import os
import pkg.a
from pkg import b, CONSTANT
from pkg.c import thing
from . import d
from .sub import e
from .. import top
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from pkg import typed_only
else:
    from pkg import untyped_else
try:
    from pkg import in_try
except ImportError:
    pass
class Thing:
    from pkg import in_class
    def method(self) -> None:
        from pkg import in_method
def function() -> None:
    import pkg.in_function
"""
SAMPLE_MODULES = {
    "pkg",
    "pkg.a",
    "pkg.b",
    "pkg.c",
    "pkg.mod",
    "pkg.mod.d",
    "pkg.mod.sub",
    "pkg.mod.sub.e",
    "pkg.top",
    *(f"pkg.{n}" for n in ("typed_only", "untyped_else", "in_try", "in_class")),
    *(f"pkg.{n}" for n in ("in_method", "in_function")),
}


def test_it_parses_imports_of_every_kind() -> None:
    # The checks above are only as good as the parser: prove it on a sample.
    found = imports_in(SAMPLE, "pkg.mod.here", is_package=False, modules=SAMPLE_MODULES)
    eager = {i.target for i in found if i.eager}
    lazy = {i.target for i in found if not i.eager}

    assert eager == {
        "pkg.a",
        "pkg.b",  # from pkg import b: b is a module
        "pkg",  # from pkg import CONSTANT: not a module, so the package
        "pkg.c",
        "pkg.mod.d",
        "pkg.mod.sub.e",
        "pkg.top",  # from .. import top, in pkg/mod/here.py
        "pkg.untyped_else",
        "pkg.in_try",
        "pkg.in_class",
    }
    assert lazy == {"pkg.typed_only", "pkg.in_method", "pkg.in_function"}


def test_it_resolves_relative_imports_in_a_package() -> None:
    found = imports_in(
        "from . import d\nfrom .sub import e\n",
        "pkg.mod",
        is_package=True,
        modules=SAMPLE_MODULES,
    )

    assert [i.target for i in found] == ["pkg.mod.d", "pkg.mod.sub.e"]


def test_it_builds_the_graph_of_the_whole_project() -> None:
    eager = eager_edges(import_graph())

    assert "calls.review.masking" in eager["calls.models"]
    assert "calls.review.selectors" in eager["calls.review.display"]
    assert len(eager) > 100


def test_it_reports_a_cycle_with_its_path() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}

    components = strongly_connected(edges)

    assert sorted(map(sorted, components)) == [["a", "b", "c"], ["e"]]
    assert one_cycle({"a", "b", "c"}, edges) == ["a", "b", "c", "a"]
