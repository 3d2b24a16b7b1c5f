"""No import cycles among the modules of framegate (module-level imports only)."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from tests.architecture.sources import Import, _owner, _report, package_imports, package_sources


def module_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], Import]]:
    """framegate's modules and the framegate modules each imports when it is imported.

    Only imports that run at import time count (module and class bodies, try/if blocks;
    not functions, not ``if TYPE_CHECKING``). Loading a package's ``__init__`` on the way
    to a submodule is not counted as an edge.
    """
    graph: dict[str, set[str]] = {s.module: set() for s in package_sources()}
    edges: dict[tuple[str, str], Import] = {}
    for imp in package_imports():
        if not imp.module_level or imp.kind != "import":
            continue
        target = _owner(imp.target)
        if target is None or target == imp.source.module:
            continue
        graph[imp.source.module].add(target)
        edges.setdefault((imp.source.module, target), imp)
    return graph, edges


def find_cycles(graph: dict[str, set[str]], limit: int = 25) -> list[list[str]]:
    """Cycles found one at a time by graphlib, each broken before looking for the next."""
    graph = {node: set(deps) for node, deps in graph.items()}
    cycles: list[list[str]] = []
    while len(cycles) < limit:
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as error:
            # graphlib lists each node as a predecessor (here: an import) of the next one
            cycle = list(reversed(error.args[1]))
            cycles.append(cycle)
            graph[cycle[0]].discard(cycle[1])
        else:
            break
    return cycles


def test_find_cycles_reports_the_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    (cycle,) = find_cycles(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert all(cycle[i + 1] in graph[cycle[i]] for i in range(len(cycle) - 1))


def test_no_import_cycles() -> None:
    graph, edges = module_graph()
    cycles = find_cycles(graph)
    lines = []
    for cycle in cycles:
        lines.append(" -> ".join(cycle))
        lines += [f"    {edges[(a, b)].describe()}" for a, b in zip(cycle, cycle[1:], strict=False)]
    assert not cycles, _report("import cycles (module-level imports)", lines, len(cycles))
