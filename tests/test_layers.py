"""The package's layers: no import cycle among lpc_book's modules, and no module imports another inside a function
(function-local imports are kept for optional heavy third-party dependencies only, each with a comment saying why)."""
import ast
from pathlib import Path
from conftest import ROOT

PKG = ROOT / "lpc_book"


def imports(path: Path):
    "(module-level lpc_book imports, function-local lpc_book imports, function-local third-party imports without a comment)."
    tree, lines = ast.parse(path.read_text()), path.read_text().splitlines()
    top, local, bare = set(), set(), []
    def targets(node):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y / from . import x
                return [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            if node.module and node.module.split(".")[0] == "lpc_book":
                rest = node.module.split(".")[1:]
                return [rest[0]] if rest else [a.name for a in node.names]
            return []
        return [a.name.split(".")[1] for a in node.names if a.name.startswith("lpc_book.")]
    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                mods = [m for m in targets(child) if (PKG / f"{m}.py").exists()]
                (local if in_function else top).update(mods)
                if in_function and not mods and "#" not in lines[child.lineno - 1]:
                    bare.append(f"{path.name}:{child.lineno}: {lines[child.lineno - 1].strip()}")
            walk(child, inside)
    walk(tree, False)
    return top, local, bare


def graph():
    return {p.stem: imports(p) for p in PKG.glob("*.py") if p.stem not in ("_modidx", "__init__")}


def find_cycle(edges: dict):
    "A cycle of the directed graph {node: set of nodes}, or None."
    state, stack = {}, []
    def visit(n):
        state[n] = 1; stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1: return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)): return c
        state[n] = 2; stack.pop()
    for n in sorted(edges):
        if n not in state and (c := visit(n)): return c


def test_find_cycle_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    g = graph()
    edges = {m: (top | local) - {m} for m, (top, local, _) in g.items()}  # (a module run as __main__ may import itself)
    assert find_cycle(edges) is None, f"import cycle: {' -> '.join(find_cycle(edges))}"


def test_no_function_local_imports_of_the_package():
    g = graph()
    local = {m: sorted(l) for m, (_, l, _) in g.items() if l}
    assert not local, f"modules importing lpc_book modules inside functions (import them at the top): {local}"


def test_function_local_imports_say_why():
    bare = [b for _, _, bs in graph().values() for b in bs]
    assert not bare, "function-local imports need a comment saying why they are local:\n" + "\n".join(bare)
