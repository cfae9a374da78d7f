"""The layers of the code, checked by reading the imports (no module is imported here).

Top to bottom; a module may import from its own layer and from any layer below it, never
from one above. Names in one tuple are one layer.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "models")

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("command line", ("bot.cli",)),
    ("offline stand-ins and console", ("bot.offline",)),
    ("wiring and entry points", ("bot.app", "bot.server", "bot.scheduled")),
    ("Slack listeners", ("handlers",)),
    ("papers out", ("bot.export",)),
    ("Slack rendering", ("bot.slack_ui",)),
    ("rules", ("bot.services",)),
    ("delivery and reading papers", ("bot.delivery", "bot.importing")),
    ("vocabulary", ("bot.core",)),
    ("tables, settings and schema", ("models", "bot.config", "bot.db", "bot.migrations", "bot")),
]

# Stricter than the layers: (importer, what it must not import, why).
FORBIDDEN: list[tuple[str, tuple[str, ...], str]] = [
    ("bot.services", ("bot.slack_ui", "bot.export", "handlers"),
     "the rules decide and store; how a result is shown belongs to the caller"),
    ("models", ("bot", "handlers"),
     "the tables stand on their own: nothing in bot/ or handlers/ may be needed to read them"),
    ("bot.delivery", ("bot.services", "bot.slack_ui"),
     "delivery sends what is queued; it neither decides nor renders"),
    ("bot.importing", ("bot.services", "bot.slack_ui", "bot.delivery"),
     "reading a paper is pure: no database, no Slack, no rules"),
]


def _under(name: str, prefix: str) -> bool:
    if prefix == "bot":  # the package itself, not everything in it
        return name == "bot"
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(_under(name, p) for p in prefixes):
            return index
    return None


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    path: str
    line: int
    module_level: bool


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _defined_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


# What each package's __init__ defines, to tell `from pkg import name` from `from pkg import module`.
PACKAGE_NAMES = {name: _defined_names(path) for name, path in MODULES.items() if path.name == "__init__.py"}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, module_level: bool):
    """Every import under node, with whether it runs when the module is imported."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, module_level
        inner = module_level
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = False
        elif isinstance(child, ast.If) and _is_type_checking(child):
            inner = False
        yield from _walk(child, inner)


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imports_of(name: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(ROOT))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node, module_level in _walk(tree, True):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                # `from bot.services import items` imports the module bot.services.items, and
                # `from bot import digest` the module bot.digest even if it no longer exists;
                # `from bot.core.dates import parse_date` imports bot.core.dates.
                sub = f"{base}.{alias.name}"
                is_submodule = sub in MODULES or (
                    base in PACKAGE_NAMES and alias.name not in PACKAGE_NAMES[base] and alias.name != "*")
                targets.append(sub if is_submodule else base)
        for target in targets:
            if _ours(target):
                found.append(Import(name, target, rel, node.lineno, module_level))
    return found


ALL_IMPORTS = [imp for name, path in MODULES.items() for imp in imports_of(name, path)]


def test_every_module_has_a_layer():
    missing = sorted(name for name in MODULES if layer_of(name) is None)
    assert not missing, (
        "modules in no layer (add their package to LAYERS in tests/test_layers.py, in the right place): "
        + ", ".join(missing))


def _why_forbidden(imp: Import) -> str | None:
    mine, theirs = layer_of(imp.importer), layer_of(imp.target)
    if theirs is None:
        return f"{imp.target} is in no layer (a module from before the move, or a new package not in LAYERS)"
    for importer, targets, why in FORBIDDEN:
        if _under(imp.importer, importer):
            for t in targets:
                if imp.target == t or imp.target.startswith(t + "."):
                    return f"{importer} must not import {t}: {why}"
    if mine is not None and theirs < mine:
        return (f"{LAYERS[theirs][0]} ({', '.join(LAYERS[theirs][1])}) is above "
                f"{LAYERS[mine][0]} ({', '.join(LAYERS[mine][1])}); a module imports only its own layer and below")
    return None


def test_no_import_goes_against_the_layers():
    problems = []
    for imp in ALL_IMPORTS:
        why = _why_forbidden(imp)
        if why:
            where = "" if imp.module_level else " (inside a function)"
            problems.append(f"{imp.path}:{imp.line}: {imp.importer} imports {imp.target}{where} — {why}")
    assert not problems, f"{len(problems)} forbidden import(s):\n" + "\n".join(problems)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each distinct cycle met by a depth-first search, as [a, b, ..., a]."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []
    seen: set[tuple[str, ...]] = set()
    cycles = []

    def visit(node: str) -> None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, BLACK) == GREY:
                loop = stack[stack.index(nxt):]
                start = loop.index(min(loop))
                key = tuple(loop[start:] + loop[:start])
                if key not in seen:
                    seen.add(key)
                    cycles.append(list(key) + [key[0]])
            elif colour.get(nxt) == WHITE:
                visit(nxt)
        stack.pop()
        colour[node] = BLACK

    for node in sorted(graph):
        if colour[node] == WHITE:
            visit(node)
    return cycles


def test_no_import_cycle():
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for imp in ALL_IMPORTS:
        if imp.module_level and imp.target in MODULES and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    cycles = _cycles(graph)
    assert not cycles, "import cycles at module level:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_the_checker_sees_function_level_and_relative_imports():
    """The checker itself: a forbidden import inside a function, written relatively, is caught."""
    source = "def f():\n    from ..slack_ui import blocks\n"
    tree = ast.parse(source)
    (node, module_level), = list(_walk(tree, True))
    assert not module_level and node.level == 2 and node.module == "slack_ui"
    imp = Import("bot.services.items", "bot.slack_ui.blocks", "bot/services/items.py", 2, False)
    assert "must not import bot.slack_ui" in _why_forbidden(imp)
    assert _why_forbidden(Import("bot.slack_ui.items", "bot.services.items", "x.py", 1, True)) is None
    assert "is above" in _why_forbidden(Import("bot.core.dates", "bot.services.items", "x.py", 1, True))
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
