"""The ``framegate`` sources and the imports read from them, for the architecture tests.

The repository's folders install as one import package (``schemas/`` is
``framegate.schemas``, ``streams/worker/gate.py`` is ``framegate.streams.worker.gate``, see
``[tool.setuptools.package-dir]``). The rules checked on them are the layering of
the README (How it fits together), one concern per test module of this package:

* one name per module: nothing imports the bare ``schemas``, ``detectors`` or ``streams``
  (:mod:`tests.architecture.test_names`);
* layers point down: schemas <- detectors <- streams;
* roles inside streams: worker never imports web or cli, web never imports cli, kafka
  plumbing imports no agent, page or command, and media knows no Kafka (not even through
  the framegate modules it imports) (:mod:`tests.architecture.test_layers`);
* detectors are pure: no Kafka, no asyncio, no network, no clock, no files
  (:mod:`tests.architecture.test_purity`);
* no import cycles among the package's modules (:mod:`tests.architecture.test_cycles`);
* importing any module loads no model, starts no thread or process and reads no file but
  its own code (:mod:`tests.architecture.test_names`).

Imports are read with :mod:`ast` (every ``import`` at any nesting, relative ones resolved,
``from a import b`` counted as an import of ``a.b`` when that is a module). Every failure
names the file, the line and the import.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: The folder each top-level part of the import package lives in (pyproject's package-dir).
ROOTS: dict[str, Path] = {
    "framegate": REPO / "framegate",
    "framegate.schemas": REPO / "schemas",
    "framegate.detectors": REPO / "detectors",
    "framegate.streams": REPO / "streams",
}
#: The folders' own names: importing them would load a second copy of every module.
BARE_NAMES = ("schemas", "detectors", "streams")
SKIPPED_DIRS = {"__pycache__", "build", "dist", "node_modules"}


@dataclass(frozen=True)
class Source:
    """One ``.py`` file and the module name it is imported as."""

    path: Path
    module: str
    is_package: bool

    @property
    def rel(self) -> str:
        return self.path.relative_to(REPO).as_posix()


@dataclass(frozen=True)
class Import:
    """One import found in a source file; ``target`` is absolute."""

    source: Source
    line: int
    target: str
    code: str
    module_level: bool  # runs when the importing module is imported (not in a function)
    kind: str = "import"  # "import", "dynamic" (import_module, python -m) or "patch"

    def describe(self) -> str:
        where = f"{self.source.rel}:{self.line}"
        return f"{where}: {self.source.module} imports {self.target}  [{self.code}]"


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``module`` is one of ``prefixes`` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _skip_dir(path: Path) -> bool:
    name = path.name
    return (
        name.startswith(".")
        or name in SKIPPED_DIRS
        or name.endswith(".egg-info")
        or (path / "pyvenv.cfg").exists()
    )


def _python_files(top: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir(Path(dirpath, d)))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath, name)


def _source(path: Path) -> Source:
    for package, root in ROOTS.items():
        if path.is_relative_to(root):
            prefix, parts = [package], path.relative_to(root).with_suffix("").parts
            break
    else:  # tests/, bench/...: named by their path
        prefix, parts = [], path.relative_to(REPO).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    return Source(path, ".".join([*prefix, *parts[: -1 if is_package else None]]), is_package)


@cache
def package_sources() -> tuple[Source, ...]:
    """Every module of the framegate package, from the folders on disk."""
    return tuple(_source(p) for root in ROOTS.values() for p in _python_files(root))


@cache
def repository_sources() -> tuple[Source, ...]:
    """Every ``.py`` file of the repository (package, tests, bench, tools)."""
    return tuple(_source(p) for p in _python_files(REPO))


@cache
def known_modules() -> frozenset[str]:
    """Module names of the repository's files and of every package above them."""
    names: set[str] = set()
    for source in repository_sources():
        parts = source.module.split(".")
        names.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return frozenset(names)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _is_type_checking(test: ast.expr) -> bool:
    return _dotted(test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, source: Source, text: str) -> None:
        self.source, self.lines = source, text.splitlines()
        self.imports: list[Import] = []
        self._functions = 0
        self._type_checking = 0

    def _add(self, node: ast.AST, target: str, kind: str = "import") -> None:
        statement = self.lines[node.lineno - 1 : node.end_lineno]  # type: ignore[attr-defined]
        code = " ".join(" ".join(statement).split())
        level = self._functions == 0 and self._type_checking == 0
        self.imports.append(
            Import(self.source, node.lineno, target, code[:160], level, kind)  # type: ignore[attr-defined]
        )

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self._functions += 1
        self.generic_visit(node)
        self._functions -= 1

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._type_checking += 1
        for statement in node.body:
            self.visit(statement)
        self._type_checking -= 1
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._resolve(node)
        for alias in node.names:
            submodule = f"{base}.{alias.name}" if base else alias.name
            ok = alias.name != "*" and submodule in known_modules()
            self._add(node, submodule if ok else base)

    def _resolve(self, node: ast.ImportFrom) -> str:
        if node.level == 0:
            return node.module or ""
        package = self.source.module.split(".")
        if not self.source.is_package:
            package = package[:-1]
        keep = len(package) - (node.level - 1)
        base = package[:keep] if keep > 0 else ["<beyond-top-level>"]
        return ".".join([*base, *([node.module] if node.module else [])])

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        first = _string(node.args[0]) if node.args else None
        if first and name in {"importlib.import_module", "import_module", "__import__"}:
            if not first.startswith("."):
                self._add(node, first, "dynamic")
        elif first and "." in first:
            # mock.patch("a.b.c"), monkeypatch.setattr("a.b.c", ...) import their target
            patcher = name.rsplit(".", 1)[-1] in {"patch", "setattr", "delattr"}
            if patcher or name.endswith(("patch.dict", "patch.multiple")):
                self._add(node, first, "patch")
        self.generic_visit(node)

    def _sequence(self, node: ast.List | ast.Tuple) -> None:
        # [sys.executable, "-m", "some.module", ...]
        for flag, value in zip(node.elts, node.elts[1:], strict=False):
            if _string(flag) == "-m" and _string(value):
                self._add(node, _string(value) or "", "dynamic")
        self.generic_visit(node)

    visit_List = visit_Tuple = _sequence


@cache
def _parsed(source: Source) -> tuple[ast.Module, str]:
    text = source.path.read_text(encoding="utf-8")
    return ast.parse(text, filename=str(source.path)), text


@cache
def imports_of(source: Source) -> tuple[Import, ...]:
    tree, text = _parsed(source)
    collector = _ImportCollector(source, text)
    collector.visit(tree)
    return tuple(collector.imports)


def package_imports() -> Iterator[Import]:
    for source in package_sources():
        for imp in imports_of(source):
            if imp.kind != "patch":
                yield imp


@cache
def _package_modules() -> frozenset[str]:
    return frozenset(m for m in known_modules() if _within(m, ("framegate",)))


def _owner(target: str) -> str | None:
    """The framegate module that an import of ``target`` loads (longest known prefix)."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in _package_modules():
            return ".".join(parts[:n])
    return None


def _report(title: str, lines: list[str], count: int | None = None) -> str:
    return f"{title} ({len(lines) if count is None else count}):\n  " + "\n  ".join(lines)
