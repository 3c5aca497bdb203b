"""The floor plan holds (issue 10): no import cycles among authvault's modules, and no
function-level import of one of them (the way a cycle hides), except create_app's wiring."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.paths import REPO

ROOT = REPO / "authvault"


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = mod.split(".") if is_pkg else mod.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" for a in node.names] + [base]


def _imports() -> tuple[dict[str, set[str]], list[str]]:
    modules = {_module(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    late = []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text())
        is_pkg = path.name == "__init__.py"
        top = set(id(n) for n in tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(mod, is_pkg, node)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found = {t for t in targets if t in modules and t != mod}
            if not found:
                continue
            if id(node) in top or _in_type_checking(tree, node):
                graph[mod] |= found
            else:
                late.append(f"{mod} -> {sorted(found)}")
    return graph, late


def _in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    return any(isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test) and node in ast.walk(n)
               for n in tree.body)


def test_no_import_cycles_among_authvault_modules() -> None:
    graph, _ = _imports()
    assert len(graph) > 50, "the module scan is broken"
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if n.startswith(m + ".") or m.startswith(n + "."):
                continue  # a package and its own modules
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n] if n in stack else [m, n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_no_function_level_imports_of_authvault_modules_outside_create_app() -> None:
    _, late = _imports()
    assert [x for x in late if not x.startswith("authvault.web ->")] == []


# The project's shared notes (design, recipes, layout, style) live outside the repository, so a
# comment citing one sends a reader nowhere: it says the fact instead.
_SHARED_NOTES = re.compile(r"\b(?:design|recipes|layout|style)\.md\b")
# Still to be rewritten by the owners of these files this session (web layer, templates); an entry
# goes when its file no longer cites them.
_NOT_YET = {"authvault/web/api.py", "authvault/web/backup_api.py", "authvault/web/connect.py",
            "authvault/web/offline.py", "templates/connect/_banner.html"}


def test_comments_cite_only_files_in_the_repository() -> None:
    citing = sorted(
        path for path in (p.relative_to(REPO).as_posix() for folder in ("authvault", "static", "templates",
                                                                         "scripts", "bench", "tests")
                          for p in (REPO / folder).rglob("*") if p.is_file() and p.suffix in
                          {".py", ".js", ".html", ".css", ".sh", ""} and "vendor" not in p.parts)
        if _SHARED_NOTES.search((REPO / path).read_text(errors="replace")))
    assert [p for p in citing if p not in _NOT_YET] == []
