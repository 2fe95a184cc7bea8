"""Delays on a device whose pulses start on multiples of 16 dt (an Eagle): a T1 series written in microseconds runs,
each delay lengthened to the next multiple and said so, and its decay is the device's T1; a Heron needs none."""

from __future__ import annotations

import json
import math

import pytest

T1_SERIES = """version: 1
name: t1
backend: BACKEND
max_time: 10m
options: {seed: 3, resilience_level: 0}
circuits:
CIRCUITS
observables:
  z: Z
jobs:
JOBS
  - {name: e50, primitive: estimator, circuit: d50, observables: [z], precision: 0.01}
derived:
DERIVED
"""
DELAYS = [0, 50, 200]  # microseconds: 50 us is 225,000 dt on an Eagle, off its 16 dt; 200 us is on it


def _series(write_spec, backend: str):
    circuits = "".join(
        f'  d{d}: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; '
        f'delay[{d}us] q[0]; c[0] = measure q[0];", layout: [0]}}\n'
        for d in DELAYS
    )
    jobs = "".join(f"  - {{name: t{d}, primitive: sampler, circuit: d{d}, shots: 4000}}\n" for d in DELAYS)
    derived = "".join(f'  p{d}: t{d}.c["1"]\n' for d in DELAYS)
    text = T1_SERIES.replace("BACKEND", backend).replace("CIRCUITS\n", circuits).replace("JOBS\n", jobs)
    return write_spec(text.replace("DERIVED\n", derived))


def test_a_t1_series_in_microseconds_runs_on_an_eagle_and_decays_as_its_t1(qrun, write_spec, tmp_path):
    """qiskit refused any delay off the alignment ("The input circuit ... is not scheduled. Call one of scheduling
    passes before running the ConstrainedReschedule pass.", qiskit#8985): 50 us, 1 us, anything but a multiple of
    3.56 ns. The delay runs 8 dt (1.8 ns) longer; the excited state decays as the device's T1 says."""
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    spec = _series(write_spec, "fake_sherbrooke")
    note = (
        "note: fake_sherbrooke starts each pulse on a multiple of 16 dt (3.556 ns), so a delay is lengthened to the "
        "next one: circuits.d50: delay[50us] on qubit 0 runs as 225008dt (50.0018us); write a delay in dt, a multiple "
        "of 16, to run it as written"
    )
    assert qrun("validate", spec, "--deep").err.strip() == note
    done = qrun(spec, "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    assert note in done.err
    run = next((tmp_path / "r" / "t1").iterdir())
    derived = json.loads((run / "derived.json").read_text())
    props = FakeSherbrooke().properties()
    t1 = props.t1(0)
    flip_up = props.qubit_property(0, "prob_meas1_prep0")[0]  # read 1 from 0
    flip_down = props.qubit_property(0, "prob_meas0_prep1")[0]  # read 0 from 1
    for d in DELAYS:
        excited = math.exp(-d * 1e-6 / t1)  # amplitude damping over the delay
        expected = flip_up + (1 - flip_up - flip_down) * excited
        # 5 sigma of 4,000 shots, and 0.02 for the decay during the X gate and the readout, which this leaves out
        assert derived[f"p{d}"]["value"] == pytest.approx(expected, abs=5 * derived[f"p{d}"]["stderr"] + 0.02)
    assert derived["p200"]["value"] < derived["p0"]["value"] - 0.25  # a decay, not readout noise
    job = json.loads(next((run / "jobs").glob("*-e50.json")).read_text())
    z = job["observables"]["z"]["values"][
        0
    ]  # <Z> of |1> after 50 us: 1 - 2 P(1), readout error included (resilience 0)
    p1 = flip_up + (1 - flip_up - flip_down) * math.exp(-50e-6 / t1)
    assert z == pytest.approx(1 - 2 * p1, abs=5 * 0.01 + 0.04)


def test_a_delay_on_the_alignment_or_on_a_heron_is_kept_as_written(write_spec):
    """200 us is a multiple of 16 dt on an Eagle, and a Heron sets no alignment: no note, the circuit unchanged."""
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime.fake_provider import FakeFez, FakeSherbrooke

    from qrun.planning.delays import aligned, lengthened

    eagle = FakeSherbrooke().target
    qc = QuantumCircuit(2)
    qc.delay(200, 0, unit="us")
    qc.delay(160, 1, unit="dt")
    assert aligned(qc, eagle) is qc and lengthened(qc, eagle) == []
    qc.delay(1, [0, 1], unit="us")  # a delay on each: 4,500 dt, 4,512 once aligned
    qc.delay(100, 1, unit="dt")
    out = aligned(qc, eagle)
    assert [(i.operation.duration, i.operation.unit) for i in out.data] == [
        (200, "us"),
        (160, "dt"),
        (4512, "dt"),
        (4512, "dt"),
        (112, "dt"),
    ]
    assert lengthened(qc, eagle) == [
        ("delay[1us]", "qubits 0, 1", "4512dt (1.00267us)"),
        ("delay[100dt]", "qubit 1", "112dt"),
    ]
    assert aligned(qc, FakeFez().target) is qc
    echo = QuantumCircuit(1)  # a Hahn echo: two halves of one wait on one qubit
    echo.h(0)
    echo.delay(50, 0, unit="us")
    echo.x(0)
    echo.delay(50, 0, unit="us")
    assert lengthened(echo, eagle) == [("delay[50us]", "qubit 0 (2 delays)", "225008dt (50.0018us)")]


def test_a_t1_series_on_a_heron_plans_without_a_note(qrun, write_spec):
    spec = _series(write_spec, "fake_fez")
    planned = qrun("plan", spec, "--json")
    assert planned.code == 0, planned.err
    assert planned.err == ""


def test_a_multirun_over_the_delay_says_which_delays_it_lengthens(qrun, write_spec, tmp_path):
    """A multirun's run printed none of its points' warnings or notes (its plan did); each is said once."""
    spec = write_spec(
        "vars: {d: 0}\nversion: 1\nname: t1m\nbackend: fake_sherbrooke\nmax_time: 10m\noptions: {seed: 3}\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; '
        'delay[{{ d }}us] q[0]; c[0] = measure q[0];", layout: [0]}\n'
        "jobs:\n  - {name: t, primitive: sampler, circuit: c, shots: 100}\n",
        "t1m.yaml.j2",
    )
    done = qrun(spec, "-m", "d=0,50,200", "--out", tmp_path / "r")
    assert done.code == 0, done.err
    notes = [line for line in done.err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: fake_sherbrooke starts each pulse on a multiple of 16 dt (3.556 ns), so a delay is lengthened to the "
        "next one: circuits.c: delay[50us] on qubit 0 runs as 225008dt (50.0018us); write a delay in dt, a multiple "
        "of 16, to run it as written"
    ]


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_a_delay_longer_than_any_session_is_the_specs_error(qrun, write_spec, tmp_path, device):
    """delay[1e300us] overflowed qiskit's conversion to dt: "internal error" and exit 3 (and so did a Python
    circuit's delay of inf or nan microseconds, which qiskit takes)."""
    spec = write_spec(
        f"version: 1\nname: long\nbackend: {device}\nmax_time: 10m\n"
        'circuits:\n  c: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[1] q; bit[1] c; x q[0]; '
        'delay[1e300us] q[0]; c[0] = measure q[0];"}\n'
        "jobs:\n  - {name: t, primitive: sampler, circuit: c, shots: 100}\n"
    )
    done = qrun(spec, "--out", tmp_path / "r")
    assert (done.code, done.err) == (
        2,
        f"{spec}:6:6: circuits.c: cannot be transpiled for {device}: delay[1e+300us] is longer than 30 days, more "
        "than any session or job takes\n",
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_a_delay_whose_length_is_a_parameter_is_refused_on_a_device_before_anything_runs(
    qrun, write_spec, tmp_path, device
):
    """qiskit's transpiler refused it on an Eagle ("The provided Delay duration is not an integer."), and on a Heron
    the run failed at its runtime job ("Integer duration is expected for 'dt' unit.", exit 1). A circuit per
    length, made by a Python circuit's argument, runs."""
    (tmp_path / "t1.py").write_text(
        "from qiskit import QuantumCircuit\nfrom qiskit.circuit import Parameter\n\n\n"
        "def swept():\n    qc = QuantumCircuit(1, 1)\n    qc.x(0)\n    qc.delay(Parameter('t'), 0, unit='us')\n"
        "    qc.measure(0, 0)\n    return qc\n\n\n"
        "def at(t):\n    qc = QuantumCircuit(1, 1)\n    qc.x(0)\n    qc.delay(t, 0, unit='us')\n"
        "    qc.measure(0, 0)\n    return qc\n"
    )
    spec = write_spec(
        f"version: 1\nname: t1\nbackend: {device}\nmax_time: 10m\nallow_python: true\noptions: {{seed: 2}}\n"
        'circuits:\n  swept: {python: "t1.py:swept"}\n  at: {python: "t1.py:at", args: {t: 0}, layout: [0]}\n'
        "jobs:\n  - {name: s, primitive: sampler, circuit: swept, shots: 100, sweep: {values: {t: [0, 50]}}}\n"
    )
    done = qrun(spec, "--out", tmp_path / "r")
    assert (done.code, done.err) == (
        2,
        f"{spec}:8:10: circuits.swept: cannot be transpiled for {device}: a delay on qubit 0 takes its length from the "
        "parameter t, and a device's transpiler and primitives need a number; make a circuit for each length: a "
        "Python circuit's argument (-m circuits.NAME.args.ARG=0,50,100) or a template's loop\n",
    )
    assert not (tmp_path / "r").exists()
    spec.write_text(
        spec.read_text().replace(
            "circuit: swept, shots: 100, sweep: {values: {t: [0, 50]}}", "circuit: at, shots: 2000"
        )
    )
    done = qrun(spec, "-m", "circuits.at.args.t=0,200", "--out", tmp_path / "r", "-q")
    assert done.code == 0, done.err
    (group,) = (tmp_path / "r" / "t1").iterdir()
    p1 = [
        json.loads(next((group / f"circuits.at.args.t={t}" / "jobs").glob("*.json")).read_text())["counts"]["c"][0].get(
            "1", 0
        )
        / 2000
        for t in (0, 200)
    ]
    assert p1[1] < p1[0] - 0.1  # decayed over 200 us (T1 of a few hundred us on either device)


@pytest.mark.parametrize(
    ("length", "said"),
    [
        ("float('inf')", "delay[infus] is longer than 30 days, more than any session or job takes"),
        ("float('nan')", "delay[nanus] is not a length of time"),
    ],
)
def test_a_python_circuits_delay_of_no_finite_length_is_the_specs_error(qrun, write_spec, tmp_path, length, said):
    (tmp_path / "odd.py").write_text(
        "from qiskit import QuantumCircuit\n\n\ndef odd():\n    qc = QuantumCircuit(1, 1)\n"
        f"    qc.delay({length}, 0, unit='us')\n    qc.measure(0, 0)\n    return qc\n"
    )
    spec = write_spec(
        "version: 1\nname: odd\nbackend: fake_fez\nmax_time: 10m\nallow_python: true\n"
        'circuits:\n  c: {python: "odd.py:odd"}\njobs:\n  - {name: t, primitive: sampler, circuit: c, shots: 10}\n'
    )
    done = qrun(spec, "--out", tmp_path / "r")
    assert (done.code, done.err) == (2, f"{spec}:7:6: circuits.c: cannot be transpiled for fake_fez: {said}\n")
