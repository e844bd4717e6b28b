"""The layer contract: which package may import which, checked on the source.

Every ``.py`` file under ``assistants/``, ``calls/`` and ``voiceassistant/`` is
parsed with ``ast`` (nothing is imported). Every import counts: at module level,
inside functions (lazy imports) and under ``if TYPE_CHECKING:``, since each is a
dependency of one module on another. ``from calls.x import y`` goes to
``calls.x.y`` when ``y`` is a module, else to ``calls.x``; relative imports are
resolved against the importing module's package.

Modules are grouped into packages: a package is a directory, except in the few
directories listed in ``UNITS`` whose modules Django's conventions keep side by
side although they belong to different layers (an app's ``admin.py`` and
``urls.py`` beside its ``models.py``). ``LAYERS`` lists the packages from the
bottom up; a package may import its own layer and the layers below, never a layer
above, and no two packages may import each other, even through others.

Tests sit above everything and are not packages of the contract, but no module
imports a test module (``test_*.py``): shared test code lives in support modules.
Apart from the layers, no two modules import each other when they are loaded
(which could deadlock an import); lazy and ``TYPE_CHECKING`` imports are left out
of that one check, since they run later or never.

Run ``python calls/tests/unit/test_import_graph.py`` to print the package graph.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROJECT_PACKAGES = ("assistants", "calls", "voiceassistant")

# Bottom to top. An entry names one package; ``name.*`` names a package and all
# its sub-packages. The most specific entry wins, so ``calls.runtime.bus`` sits
# below the rest of the runtime. A new package has to be placed here.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 1. Pure vocabulary shared by everything: persona, tool specs, end reasons,
    #    usage. Standard library only.
    ("calls.vocabulary",),
    # 2. Engines (each a sub-package owning its spec, and their registry) and pure
    #    protocol code: Twilio's media-stream frames, stream tokens, identifiers,
    #    TwiML, body limit and log redaction; recording files and their timeline;
    #    where the product may connect out to.
    (
        "calls.engines.*",
        "calls.engines.registry",
        "calls.telephony",
        "calls.recording",
        "calls.egress",
    ),
    # 3. The sans-I/O call state.
    ("calls.callstate",),
    # 4. The Django apps: models, services (every write to a call), privacy,
    #    webhook tools, the Twilio account (signatures, REST API), the live
    #    event/control/listen bus, host and Origin checks, migrations.
    (
        "assistants",
        "assistants.migrations",
        "calls",
        "calls.migrations",
        "calls.ops",
        "calls.services",
        "calls.privacy",
        "calls.privacy.masking",
        "calls.tools",
        "calls.telephony.account",
        "calls.runtime.bus",
        "calls.websecurity",
    ),
    # 5. The call runtime: runner, call log writer, media-stream consumer, sweeper.
    ("calls.runtime",),
    # 6. Pages and wiring: staff pages, admin, Twilio's webhook views, URL confs
    #    and WebSocket routes, management commands, app start-up, the project
    #    (settings, ASGI).
    (
        "assistants.admin",
        "assistants.management.*",
        "calls.admin",
        "calls.apps",
        "calls.review",
        "calls.telephony.webhooks",
        "calls.management.*",
        "calls.urls",
        "voiceassistant",
    ),
    # 7. Dev tooling: simulators, bench, echo servers, demo commands.
    ("calls.tooling.*",),
)

# Directories split into named units: module -> unit. The rest of such a
# directory's modules are the directory's package.
UNITS = {
    # An app's admin is pages; its AppConfig wires signals and checks at start.
    "assistants.admin": "assistants.admin",
    "assistants.widgets": "assistants.admin",
    "calls.admin": "calls.admin",
    "calls.admin_forget": "calls.admin",
    "calls.apps": "calls.apps",
    # The registry imports every engine, which imports the contract beside it.
    "calls.engines.registry": "calls.engines.registry",
    "calls.urls": "calls.urls",
    "calls.routing": "calls.urls",
    # Call.__str__ masks the caller's number, so the models import the masking
    # policy, which imports nothing of calls; the rest of calls.privacy (retention,
    # forget) reads the models.
    "calls.privacy.masking": "calls.privacy.masking",
}

# Packages whose code must not import Django (they are sans-I/O or protocol code,
# testable without settings).
PURE = (
    "calls.vocabulary",
    "calls.engines",
    "calls.telephony",
    "calls.recording",
    "calls.egress",
    "calls.callstate",
)
PURE_EXCEPT = ("calls.telephony.account", "calls.telephony.webhooks")
DJANGO_MODULES = ("django", "channels", "asgiref")
VOCABULARY = "calls.vocabulary"  # the standard library only

# Tolerated for now, each with a comment saying who removes it; a stale entry
# fails the test. Imports against the order as "importer -> imported" module
# pairs; cycles as the exact set of packages of one strongly connected component.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # a project module
    line: int
    eager: bool = True  # runs when the module loads (not in a function or
    # under TYPE_CHECKING)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[module_name(path)] = path
    return files


def resolve_base(node: ast.ImportFrom, name: str, *, is_package: bool) -> str:
    """The absolute module ``from <base> import ...`` names in module ``name``."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


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


def imported_names(
    source: str, name: str, *, is_package: bool
) -> list[tuple[str, str | None, int, bool]]:
    """Every ``(module, name or None, line, eager)`` imported in ``source``."""
    collector = ImportCollector()
    collector.visit(ast.parse(source, filename=name))
    found: list[tuple[str, str | None, int, bool]] = []
    for node, eager in collector.found:
        if isinstance(node, ast.Import):
            found.extend((a.name, None, node.lineno, eager) for a in node.names)
        else:
            base = resolve_base(node, name, is_package=is_package)
            found.extend((base, a.name, node.lineno, eager) for a in node.names)
    return found


def imports_in(
    source: str, name: str, *, is_package: bool, modules: set[str]
) -> list[Import]:
    """The project modules that module ``name`` (given as ``source``) imports."""
    found: list[Import] = []
    for base, alias, line, eager in imported_names(source, name, is_package=is_package):
        target = base
        if alias is not None and f"{base}.{alias}" in modules:
            target = f"{base}.{alias}"
        if target in modules:
            found.append(Import(name, target, line, eager))
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


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return "tests" in parts or parts[-1] == "conftest"


def package_of(module: str, packages: set[str]) -> str:
    """The package (directory, or unit of a split directory) of ``module``."""
    if module in UNITS:
        return UNITS[module]
    if module in packages:  # a package's own __init__
        return module
    return module.rpartition(".")[0]


def layer_of(package: str) -> int | None:
    """The index in ``LAYERS`` of the most specific entry covering ``package``."""
    best: tuple[int, int] | None = None  # (specificity, layer)
    for index, layer in enumerate(LAYERS):
        for entry in layer:
            base = entry.removesuffix(".*")
            if entry.endswith(".*"):
                covers = package == base or package.startswith(base + ".")
            else:
                covers = package == entry
            if covers and (best is None or len(base) > best[0]):
                best = (len(base), index)
    return None if best is None else best[1]


def product_graph() -> tuple[dict[str, list[Import]], set[str]]:
    """The import graph of the product (tests left out) and its package names."""
    files = project_files()
    packages = {name for name, path in files.items() if path.name == "__init__.py"}
    graph = {
        name: imports
        for name, imports in import_graph().items()
        if not is_test_module(name)
    }
    return graph, packages


def package_edges(
    graph: dict[str, list[Import]], packages: set[str]
) -> dict[str, dict[str, list[Import]]]:
    """package -> imported package -> the imports making that edge."""
    edges: dict[str, dict[str, list[Import]]] = {}
    for name, imports in graph.items():
        source = package_of(name, packages)
        edges.setdefault(source, {})
        for found in imports:
            target = package_of(found.target, packages)
            if target != source and not is_test_module(found.target):
                edges[source].setdefault(target, []).append(found)
    return edges


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the components with more than one node
    (or a node importing itself)."""
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
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
    """A shortest path from the component's first node back to itself."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges.get(node, set()) & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return [start]


def describe(imports: Iterable[Import]) -> str:
    return ", ".join(f"{i.source}:{i.line} -> {i.target}" for i in imports)


def violations(edges: dict[str, dict[str, list[Import]]]) -> list[Import]:
    """Imports from a package to a package of a higher layer."""
    found: list[Import] = []
    for source, targets in edges.items():
        for target, imports in targets.items():
            source_layer, target_layer = layer_of(source), layer_of(target)
            if source_layer is None or target_layer is None:
                continue  # test_every_package_has_a_layer says so
            if target_layer > source_layer:
                found.extend(imports)
    return found


def test_every_package_has_a_layer() -> None:
    graph, packages = product_graph()

    unplaced = sorted(
        {package_of(name, packages) for name in graph}
        - {
            p
            for p in {package_of(name, packages) for name in graph}
            if layer_of(p) is not None
        }
    )

    assert unplaced == [], "packages missing from LAYERS"


def test_no_package_imports_a_layer_above_its_own() -> None:
    graph, packages = product_graph()

    against = violations(package_edges(graph, packages))
    pairs = {f"{i.source} -> {i.target}" for i in against}
    new = sorted(
        f"{i.source}:{i.line} imports {i.target}"
        for i in against
        if f"{i.source} -> {i.target}" not in KNOWN_VIOLATIONS
    )
    stale = sorted(KNOWN_VIOLATIONS - pairs)

    assert new == [], "imports against the layer order:\n" + "\n".join(new)
    assert stale == [], "known violations that are gone (remove them)"


def test_no_package_cycles() -> None:
    graph, packages = product_graph()
    edges = package_edges(graph, packages)
    simple = {source: set(targets) for source, targets in edges.items()}

    components = strongly_connected(simple)
    cycles = []
    for component in components:
        if frozenset(component) in KNOWN_CYCLES:
            continue
        path = one_cycle(component, simple)
        steps = [
            f"  {a} -> {b}: {describe(edges[a][b][:2])}"
            for a, b in itertools.pairwise(path)
        ]
        cycles.append(" -> ".join(path) + "\n" + "\n".join(steps))

    stale = [sorted(c) for c in KNOWN_CYCLES if set(c) not in components]

    assert cycles == [], "package cycles:\n" + "\n".join(cycles)
    assert stale == [], "known cycles that are gone (remove them)"


def test_no_module_import_cycles() -> None:
    # Inside a package too: two modules importing each other when loaded can
    # deadlock or half-initialise an import. Lazy and TYPE_CHECKING imports
    # cannot, so this one check leaves them out.
    edges = {
        name: {i.target for i in imports if i.eager}
        for name, imports in import_graph().items()
    }

    cycles = [" -> ".join(one_cycle(c, edges)) for c in strongly_connected(edges)]

    assert cycles == [], "module import cycles:\n" + "\n".join(sorted(cycles))


def test_no_module_imports_a_test_module() -> None:
    offenders = sorted(
        f"{found.source}:{found.line} imports {found.target}"
        for imports in import_graph().values()
        for found in imports
        if found.target.rpartition(".")[2].startswith("test_")
    )

    assert offenders == []


def test_the_product_never_imports_its_tooling() -> None:
    graph, packages = product_graph()
    tooling = len(LAYERS) - 1

    offenders = sorted(
        f"{found.source}:{found.line} imports {found.target}"
        for name, imports in graph.items()
        if layer_of(package_of(name, packages)) != tooling
        for found in imports
        if layer_of(package_of(found.target, packages)) == tooling
    )

    assert offenders == []


def test_the_vocabulary_imports_only_the_standard_library() -> None:
    offenders = []
    for name, path in sorted(project_files().items()):
        if not (name == VOCABULARY or name.startswith(VOCABULARY + ".")):
            continue
        source = path.read_text(encoding="utf-8")
        is_package = path.name == "__init__.py"
        for base, _alias, line, _eager in imported_names(
            source, name, is_package=is_package
        ):
            top = base.partition(".")[0]
            own = base == VOCABULARY or base.startswith(VOCABULARY + ".")
            if top not in sys.stdlib_module_names and top != "__future__" and not own:
                offenders.append(f"{name}:{line} imports {base}")

    assert offenders == []


def test_pure_packages_import_no_django() -> None:
    offenders = []
    for name, path in sorted(project_files().items()):
        pure = any(name == p or name.startswith(p + ".") for p in PURE)
        if not pure or any(name == p or name.startswith(p + ".") for p in PURE_EXCEPT):
            continue
        source = path.read_text(encoding="utf-8")
        is_package = path.name == "__init__.py"
        for base, _alias, line, _eager in imported_names(
            source, name, is_package=is_package
        ):
            if base.partition(".")[0] in DJANGO_MODULES:
                offenders.append(f"{name}:{line} imports {base}")

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
    *(f"pkg.{n}" for n in ("typed_only", "in_try", "in_class")),
    *(f"pkg.{n}" for n in ("in_method", "in_function")),
}


def test_it_parses_imports_of_every_kind() -> None:
    # The checks above are only as good as the parser: prove it on a sample.
    found = imports_in(SAMPLE, "pkg.mod.here", is_package=False, modules=SAMPLE_MODULES)
    lazy = {i.target for i in found if not i.eager}

    assert lazy == {"pkg.typed_only", "pkg.in_method", "pkg.in_function"}
    assert {i.target for i in found} == {
        "pkg.a",
        "pkg.b",  # from pkg import b: b is a module
        "pkg",  # from pkg import CONSTANT: not a module, so the package
        "pkg.c",
        "pkg.mod.d",
        "pkg.mod.sub.e",
        "pkg.top",  # from .. import top, in pkg/mod/here.py
        "pkg.typed_only",
        "pkg.in_try",
        "pkg.in_class",
        "pkg.in_method",
        "pkg.in_function",
    }


def test_it_resolves_relative_imports_in_a_package() -> None:
    found = imports_in(
        "from . import d\nfrom .sub import e\n",
        "pkg.mod",
        is_package=True,
        modules=SAMPLE_MODULES,
    )

    assert [i.target for i in found] == ["pkg.mod.d", "pkg.mod.sub.e"]


def test_it_maps_modules_to_packages_and_layers() -> None:
    packages = {"calls", "calls.runtime", "calls.runtime.bus"}

    assert package_of("calls.runtime.runner", packages) == "calls.runtime"
    assert package_of("calls.runtime.bus", packages) == "calls.runtime.bus"
    assert package_of("calls.runtime.bus.live", packages) == "calls.runtime.bus"
    assert package_of("calls.admin", packages) == "calls.admin"
    assert package_of("calls.models", packages) == "calls"
    assert layer_of("calls.runtime.bus") == layer_of("calls")
    assert layer_of("calls.runtime") == layer_of("calls") + 1  # type: ignore[operator]
    assert layer_of("calls.engines.openai_live") == layer_of("calls.engines")
    assert layer_of("calls.somewhere_new") is None  # to be placed in LAYERS


def test_it_reports_a_cycle_with_its_path() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}

    components = strongly_connected(edges)

    assert sorted(map(sorted, components)) == [["a", "b", "c"], ["e"]]
    assert one_cycle({"a", "b", "c"}, edges) == ["a", "b", "c", "a"]


def test_it_builds_the_graph_of_the_whole_project() -> None:
    graph, packages = product_graph()
    edges = package_edges(graph, packages)

    assert "calls.callstate" in edges["calls.runtime"]
    assert len(graph) > 100


def package_report() -> list[str]:
    """Each package's imports, by layer, marking the ones against the order."""
    graph, packages = product_graph()
    edges = package_edges(graph, packages)
    lines = []
    for source in sorted(edges, key=lambda p: (layer_of(p) or -1, p)):
        layer = layer_of(source)
        lines.append(f"[{'?' if layer is None else layer + 1}] {source}")
        for target in sorted(edges[source]):
            target_layer = layer_of(target)
            mark = ""
            if layer is None or target_layer is None or target_layer > layer:
                mark = "   <-- AGAINST: " + describe(edges[source][target][:3])
            lines.append(f"      -> {target}{mark}")
    simple = {source: set(targets) for source, targets in edges.items()}
    for component in strongly_connected(simple):
        lines.append("CYCLE: " + " -> ".join(one_cycle(component, simple)))
        lines.append("  through: " + ", ".join(sorted(component)))
    return lines


if __name__ == "__main__":
    sys.stdout.write("\n".join(package_report()) + "\n")
