"""Numbers a spec reads from files: a job's parameter values (`parameter_values: {file: angles.csv}`, rows from CSV
or NumPy's .npy) and an observable's terms (`{file: lih.csv}`, a Pauli label and a coefficient a line), read under
the rules of a circuit file (inside the spec's folder or repository, a regular file, a size limit), so that a data
set, another tool's optimum or a chemistry Hamiltonian of hundreds of terms need not be pasted into the spec.

CSV is read here, not by the csv module or numpy.loadtxt: the file holds numbers only, and its errors should name
the line and the value."""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import SourceError
from ..model.findings import Finding
from ..model.raw import Yaml
from ..store.fsio import confinement_root
from .circuits import read_confined

MAX_VALUES = 1_000_000  # numbers in one file: each becomes a float of the typed spec and of the job's file
MAX_NPY_BYTES = 16 * MAX_VALUES + 65536  # twice float64's, and a header: past the count, the count is the refusal
MAX_TEXT_BYTES = 24 * MAX_VALUES  # a value written with its full precision and a separator
Rows = list[list[float]]  # an integer stays an int (a swept shots value must be one)
_SPLIT = r"[,\s]+"  # these two compiled where a file is read (re caches them), bound before its lines
MAX_TERMS = 100_000
_LABEL = r"[IXYZ]+|[XYZ][0-9]+(?: *[XYZ][0-9]+)*"  # as the schema's pauli_label


def read(name: str, base_dir: Path) -> Rows:
    """The rows of a .csv (or .txt: commas or spaces between values, # comments) or a two-dimensional .npy file."""
    where = ("file",)
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".txt", ".npy"):
        raise SourceError(f"{name!r}: parameter values are read from .csv, .txt or .npy files", where)
    root = confinement_root(base_dir)
    if suffix == ".npy":
        rows = _npy(read_confined(name, base_dir, root, where, "parameter values file", MAX_NPY_BYTES), name)
    else:
        data = read_confined(name, base_dir, root, where, "parameter values file", MAX_TEXT_BYTES)
        try:
            rows = _text(data.decode("utf-8"), name)
        except UnicodeDecodeError:
            raise SourceError(f"{name!r} is not a UTF-8 text file", where) from None
    if not rows:
        raise SourceError(f"{name!r} holds no rows of values", where)
    return rows


def _text(text: str, name: str) -> Rows:
    rows: Rows = []
    count = 0
    split = re.compile(_SPLIT).split
    for number, line in enumerate(text.splitlines(), 1):
        fields = [f for f in split(line.split("#", 1)[0].strip()) if f]
        if not fields:
            continue
        try:
            row = [int(f) if f.lstrip("+-").isdigit() and len(f) < 19 else float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            raise SourceError(f"{name}:{number}: {bad[:20]!r} is not a number", ("file",)) from None
        if rows and len(row) != len(rows[0]):
            raise SourceError(
                f"{name}:{number}: a row of {len(row)}, where the first row has {len(rows[0])} values", ("file",)
            )
        if not all(map(math.isfinite, row)):
            bad_value = next(v for v in row if not math.isfinite(v))
            raise SourceError(f"{name}:{number}: {bad_value} is not a finite number", ("file",))
        count += len(row)
        if count > MAX_VALUES:
            raise SourceError(f"{name!r} holds more than {MAX_VALUES:,} values", ("file",))
        rows.append(row)
    return rows


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _npy(data: bytes, name: str) -> Rows:
    import numpy as np

    if not data.startswith(b"\x93NUMPY"):  # else numpy takes it for a pickle, and suggests loading it unsafely
        raise SourceError(f"{name!r} is no .npy file: it does not begin as numpy.save writes one", ("file",))
    from ..store.batchfile import npy_array  # deferred: zipfile and the batch codec, for .npy files only

    try:
        array = npy_array(data, fortran_order=True)
    except ValueError as e:
        raise SourceError(f"{name!r} is no .npy file qrun reads: {e}", ("file",)) from None
    if array.dtype.kind not in "iuf":
        raise SourceError(f"{name!r} holds {array.dtype}, not numbers", ("file",))
    if array.ndim != 2:
        raise SourceError(
            f"{name!r} has the shape {array.shape}; save one row per parameter set, shape (sets, parameters): "
            "a.reshape(1, -1) for one set, a.reshape(-1, 1) for sets of one parameter",
            ("file",),
        )
    if array.size > MAX_VALUES:
        raise SourceError(f"{name!r} holds more than {MAX_VALUES:,} values", ("file",))
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise SourceError(f"{name!r} holds a value that is not finite", ("file",))
    rows: Rows = array.tolist()  # Python floats, and ints of an integer array
    return rows


def _column(name: str, base_dir: Path) -> list[float]:
    """A swept variable's values or a minimize job's initial point: a file of one column (a value a line) or of one
    row."""
    rows = read(name, base_dir)
    if all(len(row) == 1 for row in rows):
        return [row[0] for row in rows]
    if len(rows) == 1:
        return rows[0]
    raise SourceError(
        f"{name!r} has {len(rows)} rows of {len(rows[0])} values; one column or one row is read here",
        ("file",),
    )


def read_terms(name: str, base_dir: Path) -> list[list[object]]:
    """An observable's [label, coefficient] pairs from a .csv or .txt file: a line each, `ZZII, -0.5` or
    `Z0 Z1, 0.5` (or the two separated by spaces), # comments."""
    where = ("file",)
    if Path(name).suffix.lower() not in (".csv", ".txt"):
        raise SourceError(f"{name!r}: an observable's terms are read from .csv or .txt files", where)
    data = read_confined(name, base_dir, confinement_root(base_dir), where, "observable file", MAX_TEXT_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{name!r} is not a UTF-8 text file", where) from None
    terms: list[list[object]] = []
    label_of = re.compile(_LABEL).fullmatch
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.rsplit(",", 1) if "," in line else line.rsplit(None, 1)
        label = parts[0].strip()
        if len(parts) != 2 or not label_of(label) or not _is_float(parts[1].strip()):
            raise SourceError(
                f"{name}:{number}: expected a Pauli label and a coefficient (ZZII, -0.5), got {line[:40]!r}", where
            )
        coefficient = float(parts[1])
        if not math.isfinite(coefficient):
            raise SourceError(f"{name}:{number}: {coefficient} is not a finite number", where)
        if len(terms) == MAX_TERMS:
            raise SourceError(f"{name!r} holds more than {MAX_TERMS:,} terms", where)
        terms.append([label, coefficient])
    if not terms:
        raise SourceError(f"{name!r} holds no terms", where)
    return terms


class Read:
    """What reading the spec's files found: which job's parameter values, initial point or swept values and which
    observable's terms came from which file, and the files that could not be read."""

    def __init__(self) -> None:
        self.files: dict[int, str] = {}
        self.observables: dict[str, str] = {}
        self.swept: dict[tuple[int, str], str] = {}  # (job, variable) -> file
        self.starts: dict[int, str] = {}  # a minimize job's initial point
        self.unread: list[Finding] = []

    def findings(self, found: list[Finding]) -> list[Finding]:
        """The files' own findings, then the checks' findings, those of values or terms from a file said of the file
        (and a row's of its row: the spec has no row there to point at)."""
        out = list(self.unread)
        for path, message, at_key in found:
            i = path[1] if len(path) > 2 and path[0] == "jobs" and path[2] == "parameter_values" else None
            if isinstance(i, int) and i in self.files:
                row = path[3] if len(path) > 3 and isinstance(path[3], int) else None
                message = f"{self.files[i]}{'' if row is None else f', row {row + 1}'}: {message}"
                path = ("jobs", i, "parameter_values", "file")
            elif len(path) > 4 and path[2:4] == ("sweep", "values") and (path[1], path[4]) in self.swept:
                key = (int(path[1]), str(path[4]))
                message, path = f"{self.swept[key]}: {message}", (*path[:5], "file")
            elif path[:1] == ("jobs",) and path[2:3] == ("initial_point",) and path[1] in self.starts:
                message, path = f"{self.starts[int(path[1])]}: {message}", (*path[:3], "file")
            elif path[:1] == ("observables",) and len(path) > 1 and str(path[1]) in self.observables:
                message, path = f"{self.observables[str(path[1])]}: {message}", (*path[:2], "file")
            out.append((path, message, at_key))
        return out


def inlined(data: dict[str, Yaml], base_dir: Path) -> tuple[dict[str, Yaml], Read]:
    """The spec's data with each `{file: ...}` of a job's parameter values, initial point or swept values replaced by
    the file's numbers, and each observable's by its terms (in a copy, where there is one), and what reading found;
    a file that cannot be read leaves its mapping, which the checks pass over."""
    named, read_files = _naming(data), Read()
    observables = _observables_naming(data)
    if not named and not observables:
        return data, read_files
    jobs = list(data["jobs"]) if named else data["jobs"]  # _naming found a list
    for i in named:
        jobs[i] = _job_inlined(jobs[i], i, base_dir, read_files)
    declared = dict(data["observables"]) if observables else {}  # _observables_naming found a mapping
    for key in observables:
        source = declared[key]
        try:
            terms = read_terms(source["file"], base_dir)
        except SourceError as e:
            read_files.unread.append((("observables", key) + e.subpath, str(e), False))
            continue
        declared[key] = {"terms": terms, **({"unit": source["unit"]} if "unit" in source else {})}
        read_files.observables[key] = source["file"]
    return {**data, "jobs": jobs, **({"observables": declared} if observables else {})}, read_files


def _job_inlined(given: dict[str, Yaml], i: int, base_dir: Path, read_files: Read) -> dict[str, Yaml]:
    """One job with its files' numbers in their places."""
    job = dict(given)
    for key, reader, kept in (
        ("parameter_values", read, read_files.files),
        ("initial_point", _column, read_files.starts),
    ):
        source = job.get(key)
        if isinstance(source, dict) and isinstance(source.get("file"), str):
            try:
                job[key] = reader(source["file"], base_dir)
                kept[i] = source["file"]
            except SourceError as e:
                read_files.unread.append((("jobs", i, key) + e.subpath, str(e), False))
    sweep = job.get("sweep")
    if isinstance(sweep, dict) and (variables := _swept_files(sweep)):
        swept = dict(sweep["values"])
        for variable in variables:
            try:
                swept[variable] = _column(swept[variable]["file"], base_dir)
                read_files.swept[(i, variable)] = sweep["values"][variable]["file"]
            except SourceError as e:
                read_files.unread.append((("jobs", i, "sweep", "values", variable) + e.subpath, str(e), False))
        job["sweep"] = {**sweep, "values": swept}
    return job


def reads_files(data: Yaml) -> bool:
    """Whether any of a job's numbers or an observable's terms are a file's."""
    return bool(_naming(data) or _observables_naming(data))


def _observables_naming(data: Yaml) -> list[str]:
    """The observables whose terms are a file's."""
    declared = data.get("observables") if isinstance(data, dict) else None
    if not isinstance(declared, dict):
        return []
    return [k for k, v in declared.items() if isinstance(v, dict) and isinstance(v.get("file"), str)]


def _naming(data: Yaml) -> list[int]:
    """The indices of the jobs whose parameter values, swept values or initial point name a file (none where the
    spec is no mapping)."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        return []
    # type() over isinstance: this runs over every job of a spec of thousands, on each run's way in
    return [
        i
        for i, job in enumerate(jobs)
        if type(job) is dict
        and (
            (type(values := job.get("parameter_values")) is dict and isinstance(values.get("file"), str))
            or (type(sweep := job.get("sweep")) is dict and bool(_swept_files(sweep)))
            or (type(start := job.get("initial_point")) is dict and isinstance(start.get("file"), str))
        )
    ]


def _swept_files(sweep: dict[str, Yaml]) -> list[str]:
    """The variables of a `sweep:` block whose values are a file's."""
    values = sweep.get("values")
    if type(values) is not dict:
        return []
    return [k for k, v in values.items() if type(v) is dict and isinstance(v.get("file"), str)]
