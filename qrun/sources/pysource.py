"""Circuits and observables built by the user's Python, off unless the spec allows it (allow_python: true, or
--allow-python): a callable named as "package.module:function" or "path/to/file.py:function", from the spec's
repository or an installed package, called with the spec's args; what it returns is checked."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError
from ..model.findings import close_matches, first_of
from ..model.raw import Raw
from ..store import provenance as prov
from ..store.fsio import confinement_root

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import CouplingMap

_REF = r"(?P<target>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*|[\w./-]+\.py):(?P<func>[A-Za-z_]\w*)\Z"  # compiled where used
WHERE = ("python",)
OFF = (
    "Python sources are off: qrun imports and runs the spec's Python only where it is allowed; set allow_python: true "
    "in the spec, or pass --allow-python"
)


@dataclass(frozen=True)
class Target:
    """Where a Python source's callable lives: a module by dotted name, or a file; and the function's name."""

    ref: str
    module: str | None
    file: Path | None
    func: str


def parse(ref: str, base_dir: Path) -> Target:
    """The reference as written, checked for shape; a file is resolved against the spec's folder."""
    match = re.match(_REF, ref)
    if not match:
        raise SourceError(
            f"{ref!r} is not a Python source: write package.module:function or path/to/file.py:function", WHERE
        )
    target = match["target"]
    if target.endswith(".py"):
        path = (base_dir / target).resolve()
        if not path.exists():  # a run folder's copy of the spec names it from the repository's top (repo_relative)
            path = (confinement_root(base_dir) / target).resolve()
        return Target(ref, None, path, match["func"])
    return Target(ref, target, None, match["func"])


def repo_relative(ref: str, base_dir: Path) -> str:
    """A file reference rewritten from the repository's top, so the copy of the spec in a run folder (qrun rerun)
    still finds the file; module references are left as they are."""
    target = parse(ref, base_dir)
    if target.file is None:
        return ref
    try:
        return f"{target.file.relative_to(confinement_root(base_dir))}:{target.func}"
    except ValueError:  # outside the repository: refused when it is used, kept as written here
        return ref


def source_file(target: Target, base_dir: Path) -> Path:
    """The file holding the callable, found without running any of the user's code: a file must lie inside the
    spec's repository (or folder); a module is looked for there first, then among installed packages."""
    root = confinement_root(base_dir)
    if target.file is not None:
        if target.file != root and root not in target.file.parents:
            raise SourceError(
                f"{target.ref!r} is outside the spec's folder and repository ({root}); qrun runs Python files only "
                "from there, or installed packages",
                WHERE,
            )
        if not target.file.is_file():
            raise SourceError(f"{target.ref!r}: no such file {str(target.file)!r}", WHERE)
        return target.file
    assert target.module is not None
    parts = target.module.split(".")
    for folder in (root, *_installed()):
        for candidate in (folder.joinpath(*parts).with_suffix(".py"), folder.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate
    raise SourceError(
        f"{target.ref!r}: no module {target.module!r} in the spec's repository ({root}) or among installed packages",
        WHERE,
    )


def _installed() -> list[Path]:
    """The folders installed packages are imported from (sys.path's, but not the current directory)."""
    return [Path(p) for p in sys.path if p and Path(p).is_dir()]


def load(target: Target, base_dir: Path) -> Callable[..., object]:
    """Import the module (the spec's repository first on the path) and return the callable."""
    path = source_file(target, base_dir)
    try:
        if target.file is not None:
            # one module per file content, as import caches a package module: validate and plan share it, and
            # a changed file is a new module
            name = "qrun_user_" + hashlib.sha256(str(path).encode() + path.read_bytes()).hexdigest()[:16]
            module = sys.modules.get(name)
            if module is None:
                spec = importlib.util.spec_from_file_location(name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]  # half run: the next import runs it again and fails as this one did
                    raise
        else:
            assert target.module is not None
            root = str(confinement_root(base_dir))
            sys.path.insert(0, root)
            try:
                module = importlib.import_module(target.module)
            finally:
                sys.path.remove(root)
    except SourceError:
        raise
    except Exception as e:  # the user's module failed to import: its own error, located at the spec's reference
        # and at the user's line; --debug shows the user's traceback as this error's cause
        raise SourceError(
            f"importing {target.ref!r} raised {type(e).__name__}{user_line(e)}: {_one_line(e)}", WHERE
        ) from e
    func = getattr(module, target.func, None)
    if not callable(func):
        mine = vars(module).items()  # the functions it defines, not those it imports
        functions = sorted(n for n, v in mine if inspect.isfunction(v) and v.__module__ == module.__name__)
        near = close_matches(target.func, functions)
        hint = f"; did you mean {near[0]!r}?" if near else f" (it defines: {first_of(functions, 8) or 'none'})"
        raise SourceError(f"{target.ref!r}: {path.name} has no function {target.func!r}{hint}", WHERE)
    return func


def takes_coupling_map(source: Raw, base_dir: Path) -> bool:
    """Whether the source's function has a coupling_map parameter (then plan builds it again for the device)."""
    try:
        return "coupling_map" in inspect.signature(load(parse(source["python"], base_dir), base_dir)).parameters
    except (TypeError, ValueError):
        return False


def call(source: Raw, base_dir: Path, coupling_map: CouplingMap | None = None) -> object:
    """Call the source's function with its args; one that takes `coupling_map` is given the device's (None when qrun
    checks a spec without a device: validate, aer)."""
    target = parse(source["python"], base_dir)
    func = load(target, base_dir)
    kwargs = dict(source.get("args") or {})
    try:
        if "coupling_map" in inspect.signature(func).parameters and "coupling_map" not in kwargs:
            kwargs["coupling_map"] = coupling_map
    except (TypeError, ValueError):  # a builtin without a signature takes what it is given
        pass
    try:
        return func(**kwargs)
    except Exception as e:  # the user's function failed: its own error, located at the spec's reference
        raise SourceError(f"{target.ref}(...) raised {type(e).__name__}{user_line(e)}: {_one_line(e)}", WHERE) from e


def circuit(source: Raw, base_dir: Path, coupling_map: CouplingMap | None = None) -> QuantumCircuit:
    from qiskit import QuantumCircuit

    made = call(source, base_dir, coupling_map)
    if not isinstance(made, QuantumCircuit):
        raise SourceError(f"{source['python']} returned {_what(made)}, not a QuantumCircuit", WHERE)
    return made


def observable(source: Raw, base_dir: Path) -> list[tuple[str, float]] | list[list[tuple[str, float]]]:
    """The observable's terms [(label, coefficient)], from the SparsePauliOp the function returns (real
    coefficients: an expectation value of a Hermitian observable); a list of terms when it returns a list of them
    (one observable each, all as wide: see expanded_names)."""
    from qiskit.quantum_info import SparsePauliOp

    made = call(source, base_dir)
    if isinstance(made, (list, tuple)) and made and all(isinstance(op, SparsePauliOp) for op in made):
        widths = {op.num_qubits for op in made}
        if len(widths) > 1:
            raise SourceError(
                f"{source['python']} returned SparsePauliOps on {sorted(widths)} qubits; a list's observables act "
                "on as many qubits each",
                WHERE,
            )
        return [_real_terms(source, op) for op in made]
    if not isinstance(made, SparsePauliOp):
        raise SourceError(
            f"{source['python']} returned {_what(made)}, not a SparsePauliOp or a non-empty list of them", WHERE
        )
    return _real_terms(source, made)


def any_python(data: Raw) -> bool:
    """Whether a spec has a Python circuit or observable."""
    return any(
        isinstance(value, Mapping) and "python" in value
        for kind in ("circuits", "observables")
        for value in (data.get(kind) or {}).values()
    )


def in_use(data: Raw) -> dict[str, set[str]]:
    """The circuits and observables a spec's jobs name (an observable also by a list member's NAME_k): only their
    Python is run, where the user allows it; a source no job uses is never called."""
    jobs = [j for j in data.get("jobs") or [] if isinstance(j, Mapping)]
    named: set[str] = set()
    for job in jobs:
        listed = job.get("observables")
        swept = (job.get("sweep") or {}).get("values") if isinstance(job.get("sweep"), Mapping) else None
        for group in (listed, swept.get("observable") if isinstance(swept, Mapping) else None):
            if isinstance(group, list):
                named.update(o for o in group if isinstance(o, str))
    return {
        "circuits": {str(j.get("circuit")) for j in jobs},
        "observables": named | {re.sub(r"_\d+$", "", n) for n in named},
    }


def expanded_names(name: str, count: int) -> list[str]:
    """The names a list-valued observable's members go by in jobs and results: NAME_0, NAME_1, ..."""
    return [f"{name}_{k}" for k in range(count)]


def _real_terms(source: Raw, made: SparsePauliOp) -> list[tuple[str, float]]:
    terms = []
    for label, coeff in made.to_list():
        if abs(complex(coeff).imag) > 1e-12:
            raise SourceError(
                f"{source['python']} returned a SparsePauliOp with the complex coefficient {coeff} on {label}; an "
                "observable's coefficients are real",
                WHERE,
            )
        terms.append((str(label), float(complex(coeff).real)))
    return terms


def provenance(source: Raw, base_dir: Path) -> dict[str, object]:
    """What the run records of a Python source: its reference, file, content hash and git state, so a later run
    can tell that the code changed."""

    target = parse(source["python"], base_dir)
    path = source_file(target, base_dir)
    return {
        "ref": target.ref,
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "git": prov.git_state(path),
    }


def of_spec(data: Mapping[str, object], base_dir: Path) -> dict[str, object]:
    """Each Python source of a spec, by "circuits.NAME" or "observables.NAME": what provenance() records."""
    out: dict[str, object] = {}
    for kind in ("circuits", "observables"):
        section = data.get(kind)
        for name, value in section.items() if isinstance(section, dict) else ():
            if isinstance(value, dict) and isinstance(value.get("python"), str):
                out[f"{kind}.{name}"] = provenance(value, base_dir)
    return out


def changed(recorded: dict[str, object], now: dict[str, object]) -> list[str]:
    """The sources whose code differs from what a run recorded ("circuits.ansatz: lib/a.py changed")."""
    out = []
    for where in sorted(set(recorded) & set(now)):
        then, current = recorded[where], now[where]  # what the run's metadata holds (untrusted), what provenance made
        if isinstance(current, dict) and (then.get("sha256") if isinstance(then, dict) else None) != current["sha256"]:
            out.append(f"{where}: {Path(str(current['file'])).name} changed")
    return out


def _what(value: object) -> str:
    kind = type(value).__name__
    return "None" if value is None else f"a {kind}" if kind[0].lower() not in "aeiou" else f"an {kind}"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def user_line(error: BaseException) -> str:
    """ " at circ.py:6 in bell": the last line of the user's own code the error came through (not Python's, an
    installed package's or qrun's), or the line a SyntaxError names; "" where there is none."""
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return f" at {_shown(error.filename)}:{error.lineno}"
    others = _not_the_users()
    theirs = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<") and not any(_inside(frame.filename, p) for p in others)
    ]
    return f" at {_shown(theirs[-1].filename)}:{theirs[-1].lineno} in {theirs[-1].name}" if theirs else ""


def _not_the_users() -> set[Path]:
    return {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)} | {
        Path(__file__).resolve().parent.parent
    }


def _inside(filename: str, folder: Path) -> bool:
    return Path(filename).resolve().is_relative_to(folder)


def _shown(filename: str) -> str:
    """A path as the user would type it: relative to the current folder where it is inside it."""
    path = Path(filename).resolve()
    return str(path.relative_to(Path.cwd().resolve())) if path.is_relative_to(Path.cwd().resolve()) else str(path)
