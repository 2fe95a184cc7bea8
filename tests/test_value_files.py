"""Parameter values read from a file (`parameter_values: {file: ...}`): a data set or another tool's optimum, as CSV or
.npy, checked like rows written inline, and kept inline in the run folder's spec so that the run can be repeated."""

import json
import math
import shutil

import numpy as np
import pytest

ROWS = [[0.1, 0.2], [0.5, 1.0], [1.2, 0.3]]
SPEC = (
    "version: 1\nname: pv\nbackend: {backend}\nmax_time: 10m\noptions: {{seed: 4, resilience_level: 0}}\n"
    'circuits:\n  c: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; input float b; qubit[2] q; '
    'ry(a) q[0]; ry(b) q[1]; cx q[0], q[1];"}}\n'
    "observables:\n  zz: ZZ\njobs:\n"
    "  - {{name: e, primitive: estimator, circuit: c, observables: [zz], parameter_values: {{file: {file}}}, "
    "exact: statevector, precision: 0.02}}\n"
)


def _spec(folder, file, backend="aer"):
    spec = folder / "pv.yaml"
    spec.write_text(SPEC.format(backend=backend, file=file))
    return spec


def _write(folder, name, content):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, np.ndarray):
        np.save(path, content, allow_pickle=True)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(
    "name, content",
    [
        ("data/angles.csv", "# a, b\n0.1, 0.2\n0.5 1.0\n\n1.2,0.3  # the last\n"),  # commas, spaces, comments
        ("data/angles.npy", np.array(ROWS)),
    ],
)
@pytest.mark.parametrize("backend", ["fake_fez", pytest.param("fake_sherbrooke", marks=pytest.mark.slow)])
def test_a_files_rows_run_as_the_jobs_parameter_sets_and_the_run_keeps_them(qrun, tmp_path, name, content, backend):
    _write(tmp_path, name, content)
    spec = _spec(tmp_path, name, backend)
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "pv").iterdir()
    body = json.loads((run / "jobs" / "00-e.json").read_text())
    assert body["parameter_values"] == ROWS
    # <ZZ> of RY(a) RY(b) then CX is cos b: the CX turns ZZ into the target qubit's Z
    assert body["observables"]["zz"]["exact"] == pytest.approx([math.cos(b) for _, b in ROWS], abs=1e-12)
    assert body["observables"]["zz"]["values"] == pytest.approx([math.cos(b) for _, b in ROWS], abs=0.1)
    kept = (run / "spec.yaml").read_text()
    assert "  parameter_values:\n  - [0.1, 0.2]\n  - [0.5, 1.0]\n  - [1.2, 0.3]\n" in kept
    shutil.rmtree(tmp_path / "data")  # the run folder's spec needs no file to run again
    again = qrun("rerun", run, "--out", tmp_path / "r", "-q")
    assert again.code == 0, again.err


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("v.json", "[[0.1, 0.2]]", "'v.json': parameter values are read from .csv, .txt or .npy files"),
        ("v.csv", None, "cannot read parameter values file '{folder}/v.csv': No such file or directory"),
        ("v.csv", "0.1, 0.2\n0.3, x\n", "v.csv:2: 'x' is not a number"),
        ("v.csv", "0.1, 0.2\n\n0.3\n", "v.csv:3: a row of 1, where the first row has 2 values"),
        ("v.csv", "0.1, nan\n", "v.csv:1: nan is not a finite number"),
        ("v.csv", "# nothing yet\n", "'v.csv' holds no rows of values"),
        ("v.csv", "0.1, 0.2, 0.3\n", "v.csv, row 1: row has 3 values but circuit 'c' has 2 parameters"),
        (
            "v.npy",
            np.array([0.1, 0.2]),
            "'v.npy' has the shape (2,); save one row per parameter set, shape (sets, parameters): a.reshape(1, -1) "
            "for one set, a.reshape(-1, 1) for sets of one parameter",
        ),
        ("v.npy", np.array([[0.1, math.inf]]), "'v.npy' holds a value that is not finite"),
        ("v.npy", np.array([["a", "b"]]), "'v.npy' holds <U1, not numbers"),
        (  # a pickle is code: numpy is asked not to run it
            "v.npy",
            np.array([[{"x": 1}]], dtype=object),
            "'v.npy' is no .npy file qrun reads: holds objects (a pickle), which qrun does not load",
        ),
        ("v.npy", np.zeros((1001, 1000)), "'v.npy' holds more than 1,000,000 values"),
        (
            "v.npy",
            "not numpy",
            "'v.npy' is no .npy file: it does not begin as numpy.save writes one",
        ),
    ],
)
def test_a_file_that_gives_no_rows_of_numbers_is_refused_where_the_spec_names_it(
    qrun, tmp_path, name, content, message
):
    if content is not None:
        _write(tmp_path, name, content)
    spec = _spec(tmp_path, name)
    checked, ran = qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")
    assert checked.code == ran.code == 2
    line = f"{spec}:11:93: jobs[0].parameter_values.file: {message.format(folder=tmp_path)}"
    assert checked.err.splitlines()[0] == ran.err.splitlines()[0] == line
    assert not (tmp_path / "r").exists()


def test_a_file_outside_the_specs_folder_is_not_read(qrun, tmp_path):
    (tmp_path / "spec").mkdir()
    _write(tmp_path, "secret.csv", "0.1, 0.2\n")
    spec = _spec(tmp_path / "spec", "../secret.csv")
    refused = qrun("validate", spec)
    assert refused.err.splitlines()[0] == (
        f"{spec}:11:93: jobs[0].parameter_values.file: '../secret.csv' is outside the spec's folder and repository "
        f"({tmp_path / 'spec'}); qrun reads parameter values files only from there"
    )


def test_a_column_major_npy_reads_as_its_rows_and_a_header_that_claims_more_than_its_bytes_is_refused(tmp_path):
    """np.save writes a transposed array column-major; np.load would allocate whatever a header claims before
    reading a byte of it (a terabyte here), so the header is held to the file's bytes first."""
    from numpy.lib import format as npy

    from qrun.errors import SourceError
    from qrun.sources.valuefiles import read

    np.save(tmp_path / "t.npy", np.asfortranarray(np.array(ROWS)))
    assert read("t.npy", tmp_path) == ROWS
    with open(tmp_path / "huge.npy", "wb") as f:
        npy.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10**11, 2)})
        f.write(np.zeros(4).tobytes())
    with pytest.raises(SourceError) as caught:
        read("huge.npy", tmp_path)
    assert str(caught.value) == (
        "'huge.npy' is no .npy file qrun reads: its header says 200000000000 values of 8 bytes, its data is 32"
    )


H2 = (
    "# H2 at 0.735 Angstrom, parity-reduced to 2 qubits (Ha)\n"
    "II, -1.052373245772859\nIZ, 0.39793742484318045\nZI, -0.39793742484318045\n"
    "ZZ, -0.01128010425623538\nXX, 0.18093119978423156\n"
)


def _observable_spec(folder, source, backend="aer"):
    spec = folder / "h.yaml"
    spec.write_text(
        f"version: 1\nname: h\nbackend: {backend}\nmax_time: 10m\noptions: {{seed: 4, resilience_level: 0}}\n"
        "circuits:\n  ans: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\n"
        f"observables:\n  h: {source}\njobs:\n"
        "  - {name: e, primitive: estimator, circuit: ans, observables: [h], parameter_values: [[0.1, 0.2, 0.3, 0.4]], "
        "exact: statevector, precision: 0.01}\n"
    )
    return spec


@pytest.mark.parametrize("backend", ["fake_fez", pytest.param("fake_sherbrooke", marks=pytest.mark.slow)])
def test_an_observables_terms_from_a_file_are_its_hamiltonian_and_the_run_keeps_them(qrun, tmp_path, backend):
    """A chemistry Hamiltonian of hundreds of terms belongs in a file, not pasted into the spec."""
    from qiskit.circuit.library import real_amplitudes
    from qiskit.quantum_info import SparsePauliOp, Statevector

    _write(tmp_path, "ham/h2.csv", H2)
    spec = _observable_spec(tmp_path, "{file: ham/h2.csv, unit: Ha}", backend)
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "h").iterdir()
    h = json.loads((run / "jobs" / "00-e.json").read_text())["observables"]["h"]
    terms = [(line.split(",")[0], float(line.split(",")[1])) for line in H2.splitlines()[1:]]
    state = Statevector(real_amplitudes(2, reps=1).assign_parameters([0.1, 0.2, 0.3, 0.4]))
    assert h["exact"] == [pytest.approx(state.expectation_value(SparsePauliOp.from_list(terms)).real, abs=1e-12)]
    assert h["unit"] == "Ha" and h["values"][0] == pytest.approx(h["exact"][0], abs=0.15)
    assert (
        "    terms:\n    - [II, -1.052373245772859]\n    - [IZ, 0.39793742484318045]\n"
        in (run / "spec.yaml").read_text()
    )
    shutil.rmtree(tmp_path / "ham")
    assert qrun("rerun", run, "--out", tmp_path / "r", "-q").code == 0


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "h.npy",
            np.array([[1.0]]),
            "9:13: observables.h.file: 'h.npy': an observable's terms are read from .csv or .txt files",
        ),
        (
            "h.csv",
            "ZZ, -0.5\nZQ, 1\n",
            "9:13: observables.h.file: h.csv:2: expected a Pauli label and a coefficient (ZZII, -0.5), got 'ZQ, 1'",
        ),
        ("h.csv", "ZZ, -0.5\nXX, inf\n", "9:13: observables.h.file: h.csv:2: inf is not a finite number"),
        (
            "h.csv",
            "ZZ -0.5\nZZZ 1\n",
            "9:13: observables.h.file: h.csv: all Pauli labels must have the same length; got lengths [2, 3]",
        ),
        ("h.csv", "ZZZ, 1\n", "11:65: jobs[0].observables[0]: observable 'h' acts on 3 qubits but circuit 'ans' has 2"),
    ],
)
def test_an_observable_file_that_gives_no_terms_is_refused_where_the_spec_names_it(
    qrun, tmp_path, name, content, message
):
    _write(tmp_path, name, content)
    spec = _observable_spec(tmp_path, f"{{file: {name}}}")
    checked, ran = qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")
    assert checked.code == ran.code == 2
    assert checked.err.splitlines()[0] == ran.err.splitlines()[0] == f"{spec}:{message}"


SWEEP = (
    "version: 1\nname: sw\nbackend: {backend}\nmax_time: 10m\noptions: {{seed: 4, resilience_level: 0}}\n"
    'circuits:\n  c: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; input float a; qubit[1] q; ry(a) q[0];"}}\n'
    "observables:\n  z: Z\njobs:\n"
    "  - {{name: scan, primitive: estimator, circuit: c, observables: [z], precision: 0.02, exact: statevector, "
    "sweep: {{values: {{a: {{file: {file}}}}}}}}}\n"
)


@pytest.mark.parametrize(
    "content",
    ["# a\n0\n0.5\n1.0\n1.5\n", "0, 0.5, 1.0, 1.5\n", np.array([[0, 0.5, 1.0, 1.5]]).T],
    ids=["a column", "a row", "an npy column"],
)
def test_a_swept_variables_values_from_a_file_are_its_points(qrun, tmp_path, content):
    name = "angles.npy" if isinstance(content, np.ndarray) else "angles.csv"
    _write(tmp_path, name, content)
    spec = tmp_path / "sw.yaml"
    spec.write_text(SWEEP.format(backend="fake_fez", file=name))
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "sw").iterdir()
    points = json.loads((run / "jobs" / "00-scan.json").read_text())["points"]
    assert [p["a"] for p in points] == [0, 0.5, 1.0, 1.5]
    assert [p["exact"] for p in points] == pytest.approx([math.cos(a) for a in (0, 0.5, 1.0, 1.5)], abs=1e-12)
    kept = "[0.0, 0.5, 1.0, 1.5]" if name.endswith(".npy") else "[0, 0.5, 1.0, 1.5]"  # a CSV's 0 stays whole
    assert f"    values:\n      a: {kept}\n" in (run / "spec.yaml").read_text()


def test_a_sweep_file_of_many_columns_or_shots_that_are_no_whole_numbers_is_refused_at_its_file(qrun, tmp_path):
    _write(tmp_path, "two.csv", "0.1, 0.2\n0.3, 0.4\n")
    spec = tmp_path / "sw.yaml"
    spec.write_text(SWEEP.format(backend="aer", file="two.csv"))
    refused = qrun("validate", spec)
    assert refused.err.splitlines()[0] == (
        f"{spec}:11:134: jobs[0].sweep.values.a.file: 'two.csv' has 2 rows of 2 values; one column or one row is "
        "read here"
    )
    _write(tmp_path, "shots.csv", "100\n250.5\n")  # whole numbers stay whole; 250.5 is none
    spec.write_text(
        SWEEP.format(backend="aer", file="x.csv")
        .replace("estimator", "sampler")
        .replace(
            "observables: [z], precision: 0.02, exact: statevector", "measure_all: true, parameter_values: [[0.3]]"
        )
        .replace("a: {file: x.csv}", "shots: {file: shots.csv}")
    )
    refused = qrun("validate", spec)
    assert refused.err.splitlines()[0].endswith(
        "jobs[0].sweep.values.shots.file: shots.csv: shots must be whole numbers of at least 1, not 250.5"
    )


def test_a_minimize_job_starts_where_a_file_says(qrun, tmp_path):
    """A warm start from another tool's optimum: its numbers, one per parameter, as a column or a row."""
    _write(tmp_path, "start.csv", "0.1\n0.2\n0.3\n0.4\n")
    spec = tmp_path / "m.yaml"
    spec.write_text(
        "version: 1\nname: m\nbackend: aer\noptions: {seed: 4}\n"
        "circuits:\n  ans: {library: real_amplitudes, args: {num_qubits: 2, reps: 1}}\nobservables:\n  zz: ZZ\njobs:\n"
        "  - {name: vqe, primitive: minimize, circuit: ans, observables: [zz], initial_point: {file: start.csv}, "
        "optimizer: {method: COBYLA, maxiter: 3}, precision: 0.05}\n"
    )
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    (run,) = (tmp_path / "r" / "m").iterdir()
    body = json.loads((run / "jobs" / "00-vqe.json").read_text())
    assert body["initial_point"] == body["trace"][0]["parameters"] == [0.1, 0.2, 0.3, 0.4]
    _write(tmp_path, "start.csv", "0.1, 0.2, 0.3\n")
    refused = qrun("validate", spec)
    assert refused.err.splitlines()[0] == (
        f"{spec}:10:93: jobs[0].initial_point.file: start.csv: has 3 values but circuit 'ans' has 4 parameters"
    )


def test_the_run_folders_spec_holds_what_validate_read_not_the_file_read_again(tmp_path):
    """The file was read again to write the run folder's spec: once more I/O, and an edit between the two reads
    would have recorded values the run never used."""
    from qrun.spec import load
    from qrun.spec.validate import validate

    _write(tmp_path, "v.csv", "0.1, 0.2\n")
    checked = validate(load(_spec(tmp_path, "v.csv")))
    _write(tmp_path, "v.csv", "0.9, 0.9\n")
    kept = checked.spec.resolved_text()
    assert "  parameter_values:\n  - [0.1, 0.2]\n" in kept and "0.9" not in kept
