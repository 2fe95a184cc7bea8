"""The house rules, checked over qrun's source: no import cycles (function-level imports included), a docstring
on every module, every error class in errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

import qrun

ROOT = Path(qrun.__file__).parent


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Every qrun module each module imports, wherever the import sits (TYPE_CHECKING and functions too)."""
    mods = modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    graph[name].add(full if full in mods else target)
            elif isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names)
        graph[name] = {t for t in graph[name] if t in mods and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_anywhere_in_qrun() -> None:
    assert cycles(import_graph()) == []


def test_every_module_says_what_it_is() -> None:
    missing = [name for name, path in modules().items() if not ast.get_docstring(ast.parse(path.read_text()))]
    assert missing == []


def test_every_error_class_lives_in_errors() -> None:
    strays = []
    for name, path in modules().items():
        if name == "qrun.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                strays.append(f"{name}.{node.name}")
    assert strays == []


def test_no_module_over_400_lines_and_no_function_over_80() -> None:
    long_modules = [name for name, path in modules().items() if len(path.read_text().splitlines()) > 400]
    long_functions = [
        f"{name}.{node.name}"
        for name, path in modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 80
    ]
    assert (long_modules, long_functions) == ([], [])


# The modules a function may import where it first needs them, each with why: the heavy third-party ones (so that
# `qrun validate`, the views and `qrun --help` start without them), and stdlib modules some platforms lack.
DEFERRED = {
    "qiskit": "most of a second to import; validating, planning a plain spec and every view need none of it",
    "qiskit_aer": "imports qiskit, and a C++ extension; only a local run needs it",
    "qiskit_ibm_runtime": "imports qiskit and requests; only the service path and the client primitives need it",
    "numpy": "pulled in by qiskit anyway, but a view of stored runs or a plain validate needs none of it",
    "scipy": "only a minimize loop and an exact ground state need it",
    "matplotlib": "an optional extra (qrun[plot]), and slow to import: only qrun plot and the report's figures",
    "dask": "an optional extra: only a sweep sent to a cluster",
    "distributed": "an optional extra: only a sweep sent to a cluster",
    "mlflow": "an optional extra, and very slow to import: only qrun export --mlflow",
    "pandas": "an optional extra: only a DataFrame asked for",
    "jinja2": "only a spec that is a template",
    "jsonschema": "only to word a refusal that jsonschema_rs found",
    "jsonschema_rs": "only when a spec or run folder is checked",
    "orjson": "optional: json reads what it refuses",
    "rich": "only when a table or progress is printed",
    "yaml": "only when a spec is read",
    "importlib": "importlib.metadata, and the email parser it reads each METADATA with: only a package that is not a"
    " .dist-info folder on sys.path (an egg, a zip) is looked up through it",
    "statistics": "2 ms to import; only a Dask cluster's summary",
    "html": "only a notebook's view of a run (Run._repr_html_); the HTML report imports it at its top",
    "fcntl": "POSIX only",
    "resource": "POSIX only",
    "ctypes": "Linux only use (prctl)",
    "difflib": "only a refusal's did-you-mean (model.findings.close_matches)",
}


def test_function_level_imports_are_heavy_or_platform_modules_each_with_a_reason() -> None:
    """The rest of the standard library is imported at the top, and qrun's own modules too unless a comment beside
    the import says why not (a heavy dependency behind them, or an import cycle a layer would otherwise need)."""
    strays = []
    for name, path in modules().items():
        lines = path.read_text().splitlines()
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                module = node.names[0].name if isinstance(node, ast.Import) else node.module or ""
                ours = isinstance(node, ast.ImportFrom) and node.level > 0 or module.startswith("qrun")
                reason = "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")
                if ours and not reason or not ours and module.split(".")[0] not in DEFERRED:
                    strays.append(f"{name}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert strays == []


def test_the_model_imports_nothing_above_it_at_run_time() -> None:
    """The model is the bottom layer: it may name the layers above in annotations (under TYPE_CHECKING), never import
    them as it runs (model/outcomes imported planning.sweeps for two annotations)."""
    below = {"qrun.errors", "qrun.version"}
    found = []
    for name, path in modules().items():
        if not name.startswith("qrun.model"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0 and id(node) not in typing_only:
                package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                if not (target.startswith("qrun.model") or target in below):
                    found.append(f"{name} imports {target}")
    assert found == []
