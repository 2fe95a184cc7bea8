"""A circuit's `layout:` puts it on the device's qubits it names (qiskit's initial_layout), on fake devices and on the
service, and is checked against the circuit and the device before anything runs; on aer it is said to be unused."""

from __future__ import annotations

import csv
import json

import pytest
from fake_runtime import Cloud, install

GHZ = """version: 1
name: placed
backend: BACKEND
max_time: 30m
options: {seed: 11, default_precision: 0.02, optimization_level: 1, resilience_level: 0}
circuits:
  ghz:
    qasm: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[3] q;
      h q[0];
      cx q[0], q[1];
      cx q[1], q[2];
    layout: LAYOUT
observables:
  ends: Z0 Z2
jobs:
  - {name: e, primitive: estimator, circuit: ghz, observables: [ends], estimate: 10s}
  - {name: s, primitive: sampler, circuit: ghz, shots: 4000, measure_all: true, estimate: 10s}
"""

# a chain of three coupled qubits on each device, away from the qubits its default layout takes
CHAINS = {"fake_sherbrooke": [20, 21, 22], "fake_fez": [3, 4, 5]}


def _spec(tmp_path, backend: str, layout: object, name: str = "ghz.yaml"):
    path = tmp_path / name
    path.write_text(GHZ.replace("BACKEND", backend).replace("LAYOUT", json.dumps(layout)))
    return path


def _qubits(run_dir) -> list[list[int]]:
    return [entry["simulated_qubits"] for entry in json.loads((run_dir / "metadata.json").read_text())["jobs"]]


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_each_job_kind_runs_on_the_qubits_its_circuits_layout_names(qrun, tmp_path, device):
    from qrun.app.pipeline import run

    chain = CHAINS[device]
    spec = _spec(tmp_path, device, chain)
    unplaced = tmp_path / "unplaced.yaml"
    unplaced.write_text("\n".join(line for line in spec.read_text().splitlines() if "layout:" not in line))
    default = json.loads(qrun("plan", unplaced, "--json").out)["jobs"][0]["simulated_qubits"]
    assert default != chain  # so the qubits below are the layout's doing
    planned = json.loads(qrun("plan", spec, "--json").out)["jobs"]
    assert [j["physical_qubits"] for j in planned] == [chain, chain]  # said before anything runs

    run_dir = run(spec, tmp_path / "r", progress="none")
    assert _qubits(run_dir) == [chain, chain]
    files = [json.loads((run_dir / "jobs" / name).read_text()) for name in ("00-e.json", "01-s.json")]
    assert [f["physical_qubits"] for f in files] == [
        chain,
        chain,
    ]  # circuit qubit k read from the device's qubit chain[k]
    ends = files[0]["observables"]["ends"]
    assert ends["values"][0] > 0.85  # <Z0 Z2> of a GHZ state is 1; the device's noise takes a little
    counts = json.loads((run_dir / "jobs" / "01-s.json").read_text())["counts"]["meas"][0]
    assert (counts.get("000", 0) + counts.get("111", 0)) / 4000 > 0.85
    # the shared report says where the values were read from
    assert qrun("report", tmp_path / "r", "-o", tmp_path / "report.html").code == 0
    assert f"<dt>physical qubits</dt><dd>{chain}: e, s</dd>" in (tmp_path / "report.html").read_text()


# GHZ's head, circuit and observable, with an ansatz on the same qubits and the other job kinds
KINDS = (
    GHZ.replace("name: placed", "name: kinds")
    .replace("default_precision: 0.02", "default_precision: 0.05")
    .split("jobs:\n")[0]
    .replace(
        "observables:",
        "  ansatz: {library: real_amplitudes, args: {num_qubits: 3, reps: 1}, layout: LAYOUT}\nobservables:",
    )
    + """jobs:
  - {name: climb, primitive: ladder, circuit: ghz, observables: [ends], rungs: [raw, trex], estimate: 60s}
  - {name: vqe, primitive: minimize, circuit: ansatz, observables: [ends], optimizer: {method: COBYLA, maxiter: 3},
     estimate: 60s}
  - {name: scan, primitive: estimator, circuit: ansatz, observables: [ends], parameter_values: [[0, 0, 0, 0, 0, 0]],
     sweep: {values: {"θ[0]": [0, 3.141592653589793]}}, estimate: 60s}
"""
)
KIND_NAMES = ("climb", "vqe", "scan")


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_a_ladder_a_minimize_loop_and_a_sweep_run_on_the_layouts_qubits_too(tmp_path, device):
    from qrun.app.pipeline import run

    chain = CHAINS[device]
    spec = tmp_path / "kinds.yaml"
    spec.write_text(KINDS.replace("BACKEND", device).replace("LAYOUT", json.dumps(chain)))
    run_dir = run(spec, tmp_path / "r", progress="none")
    files = {n: json.loads((run_dir / "jobs" / f"{k:02d}-{n}.json").read_text()) for k, n in enumerate(KIND_NAMES)}
    assert {n: f["physical_qubits"] for n, f in files.items()} == dict.fromkeys(KIND_NAMES, chain)
    assert _qubits(run_dir) == [chain] * 3
    # <Z0 Z2>: 1 for the GHZ state (TREX takes the readout error off); cos θ[0] on the ansatz's first qubit alone
    assert files["climb"]["rungs"][1]["observables"]["ends"]["values"][0] > 0.9
    assert [p["value"] for p in files["scan"]["points"]] == [pytest.approx(1, abs=0.25), pytest.approx(-1, abs=0.25)]
    assert files["vqe"]["nfev"] >= 3


def test_the_transpile_cache_keeps_each_layouts_circuit_apart(qrun, tmp_path):
    first = json.loads(qrun("plan", _spec(tmp_path, "fake_sherbrooke", [20, 21, 22]), "--json").out)
    second = json.loads(qrun("plan", _spec(tmp_path, "fake_sherbrooke", [30, 31, 32]), "--json").out)
    assert [j["simulated_qubits"] for j in first["jobs"]] == [[20, 21, 22]] * 2
    assert [j["simulated_qubits"] for j in second["jobs"]] == [[30, 31, 32]] * 2


@pytest.mark.parametrize(
    ("device", "layout", "at", "message"),
    [
        ("fake_sherbrooke", [20, 21], "15:13", "circuits.ghz.layout: places 2 qubits, but circuit 'ghz' has 3"),
        (
            "fake_sherbrooke",
            [20, 21, 127],
            "15:22",
            "circuits.ghz.layout[2]: qubit 127 is not on fake_sherbrooke (qubits 0 to 126)",
        ),
        ("fake_fez", [156, 1, 2], "15:14", "circuits.ghz.layout[0]: qubit 156 is not on fake_fez (qubits 0 to 155)"),
    ],
)
def test_a_layout_that_does_not_fit_is_refused_alike_by_validate_and_a_run(qrun, tmp_path, device, layout, at, message):
    spec = _spec(tmp_path, device, layout)
    expected = f"{spec}:{at}: {message}"
    checked, ran = qrun("validate", spec), qrun(spec, "--out", tmp_path / "r")
    assert (checked.code, ran.code) == (2, 2)
    assert checked.err.splitlines()[0] == expected
    assert ran.err.splitlines()[0] == expected
    assert not (tmp_path / "r").exists()  # nothing ran
    # the last qubit of each device is on it
    edge = {"fake_sherbrooke": [124, 125, 126], "fake_fez": [153, 154, 155]}[device]
    assert qrun("validate", _spec(tmp_path, device, edge, "edge.yaml")).code == 0


def test_on_aer_a_layout_is_said_to_be_unused_and_changes_nothing(qrun, tmp_path):
    spec = _spec(tmp_path, "aer", [20, 21, 22])
    warning = "warning: circuits.ghz.layout: aer simulates each circuit as written; a layout is used on a device"
    assert qrun("validate", spec).err.splitlines()[0] == warning
    assert warning in qrun("plan", spec).err.splitlines()
    placed = qrun(spec, "--out", tmp_path / "a", "-q")
    assert placed.code == 0 and placed.err.splitlines() == [warning]
    unplaced = tmp_path / "unplaced.yaml"
    unplaced.write_text("\n".join(line for line in spec.read_text().splitlines() if "layout:" not in line))
    assert qrun(unplaced, "--out", tmp_path / "b", "-q").code == 0
    (a,), (b,) = (tmp_path / "a" / "placed").iterdir(), (tmp_path / "b" / "placed").iterdir()
    for name in ("00-e.json", "01-s.json"):
        one, other = (json.loads((d / "jobs" / name).read_text()) for d in (a, b))
        assert (one.get("observables"), one.get("counts")) == (other.get("observables"), other.get("counts"))
        assert "physical_qubits" not in one  # a simulator has no device qubits to name
    assert qrun("report", tmp_path / "a", "-o", tmp_path / "report.html").code == 0
    assert "physical qubits" not in (tmp_path / "report.html").read_text()
    many = tmp_path / "many.yaml"  # a spec of 48 such circuits had each named, on one line of 1,300 characters
    text = spec.read_text()
    copies = "".join(text.split("circuits:\n")[1].split("observables:")[0].replace("ghz:", f"g{k}:") for k in range(5))
    jobs = "".join(f"  - {{name: e{k}, primitive: estimator, circuit: g{k}, observables: [ends]}}\n" for k in range(5))
    many.write_text(
        text.split("circuits:\n")[0] + "circuits:\n" + copies + "observables:\n  ends: Z0 Z2\njobs:\n" + jobs
    )
    assert qrun("validate", many).err.splitlines()[0] == (
        "warning: circuits.g0.layout, circuits.g1.layout, circuits.g2.layout and 2 more: aer simulates each circuit "
        "as written; a layout is used on a device"
    )


def test_a_file_circuits_layout_stays_in_the_run_folders_spec_and_its_rerun(qrun, tmp_path):
    (tmp_path / "ghz.qasm").write_text(
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nh q[0];\ncx q[0], q[1];\ncx q[1], q[2];\n'
    )
    text = GHZ.replace("BACKEND", "fake_sherbrooke").replace("LAYOUT", "[20, 21, 22]")
    head, tail = text.split("    qasm: |\n")
    spec = tmp_path / "file.yaml"
    spec.write_text(head + "    file: ghz.qasm\n" + tail[tail.index("    layout:") :])
    assert qrun(spec, "--out", tmp_path / "r", "-q").code == 0
    (run_dir,) = (tmp_path / "r" / "placed").iterdir()
    kept = (run_dir / "spec.yaml").read_text()
    assert "    layout: [20, 21, 22]\n" in kept and "file:" not in kept
    assert qrun("rerun", run_dir, "--out", tmp_path / "again", "-q").code == 0
    (again,) = (tmp_path / "again" / "placed").iterdir()
    assert _qubits(again) == [[20, 21, 22]] * 2


def test_a_layout_on_broken_gates_is_named_with_the_advice_to_move_it(qrun, tmp_path):
    # fake_sherbrooke reports ecr on 6-5 and 7-6 as failed; a layout keeps the circuit there at any level
    for level in (1, 3):
        spec = _spec(tmp_path, "fake_sherbrooke", [5, 6, 7], f"broken-{level}.yaml")
        spec.write_text(spec.read_text().replace("optimization_level: 1", f"optimization_level: {level}"))
        assert qrun("plan", spec).err == (
            "warning: jobs[0] (e), jobs[1] (s): the ISA circuit runs what fake_sherbrooke reports as broken (error "
            "0.5 or more): ecr on qubits 6, 5 (error 1); ecr on qubits 7, 6 (error 1); its values would be noise. "
            "circuits.ghz.layout puts the circuit on them: name other qubits\n"
        )


def _two_qubit_gates(cloud) -> set[tuple[str, tuple[int, ...]]]:
    """The two-qubit gates of the circuit the service was sent, on the device's qubits."""
    from qiskit_ibm_runtime.quantum_program.params_converters import QUANTUM_PROGRAM_PARAMS_CONVERTERS

    params = cloud.jobs[cloud.order[0]].params
    converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS[params["schema_version"]]
    program, _ = converter.decoder(converter.model.model_validate(params))
    return {
        (inst.operation.name, tuple(item.circuit.find_bit(q).index for q in inst.qubits))
        for item in program.items
        for inst in item.circuit.data
        if inst.operation.num_qubits == 2
    }


def test_on_the_service_the_layout_is_what_is_sent_and_one_off_the_device_sends_nothing(monkeypatch, qrun, tmp_path):
    from qiskit_ibm_runtime.fake_provider import FakeSherbrooke

    cloud = Cloud({"ibm_sherbrooke": FakeSherbrooke()}, queue_seconds=2.0, job_seconds=1.0)
    install(monkeypatch, cloud)
    qrun.clock = cloud.clock
    off = _spec(tmp_path, "ibm_sherbrooke", [20, 21, 130], "off.yaml")
    refused = qrun(off, "--out", tmp_path / "r", "-q")
    assert refused.code == 2
    assert refused.err.splitlines()[0] == (
        f"{off}:15:22: circuits.ghz.layout[2]: qubit 130 is not on ibm_sherbrooke (qubits 0 to 126)"
    )
    assert cloud.order == []  # nothing was sent
    spec = _spec(tmp_path, "ibm_sherbrooke", [20, 21, 22])
    spec.write_text(spec.read_text().replace("  - {name: s,", "  # - {name: s,"))
    result = qrun(spec, "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    assert _two_qubit_gates(cloud) == {("ecr", (21, 20)), ("ecr", (21, 22))}
    (run_dir,) = (tmp_path / "r" / "placed").iterdir()
    assert json.loads((run_dir / "jobs" / "00-e.json").read_text())["physical_qubits"] == [20, 21, 22]


def test_a_multirun_compares_qubit_sets_one_point_each(qrun, tmp_path):
    spec = _spec(tmp_path, "fake_sherbrooke", [20, 21, 22])
    result = qrun(spec, "-m", "circuits.ghz.layout=[20,21,22],[30,31,32]", "--out", tmp_path / "r", "-q")
    assert result.code == 0, result.err
    (group,) = (tmp_path / "r" / "placed").iterdir()
    rows = list(csv.DictReader((group / "multirun.csv").read_text().splitlines()))
    assert [(r["circuits.ghz.layout"], r["job"]) for r in rows] == [("[20, 21, 22]", "e"), ("[30, 31, 32]", "e")]
    for layout in ([20, 21, 22], [30, 31, 32]):
        (point,) = group.glob(f"circuits.ghz.layout=_{layout[0]},_{layout[1]},_{layout[2]}_")
        assert _qubits(point) == [layout, layout]


def test_a_layout_not_coupled_as_the_circuit_needs_is_said_to_be_routed(qrun, tmp_path):
    # on fake_sherbrooke 20-21-22 is a line: cx q[0], q[1] on 20 and 22 needs a swap
    spec = _spec(tmp_path, "fake_sherbrooke", [20, 22, 21])
    warning = (
        "warning: circuits.ghz.layout: [20, 22, 21] is not coupled as circuit 'ghz' needs, so the transpiler added "
        "swaps and its qubits ended on [20, 21, 22] (jobs[0] (e), jobs[1] (s)); `qrun qubits fake_sherbrooke --chain "
        "3` lists coupled chains"
    )
    assert qrun("plan", spec).err.splitlines() == [warning]
    ran = qrun(spec, "--out", tmp_path / "r", "-q")
    assert ran.code == 0 and ran.err.splitlines() == [warning]
    (run_dir,) = (tmp_path / "r" / "placed").iterdir()
    assert json.loads((run_dir / "jobs" / "00-e.json").read_text())["physical_qubits"] == [20, 21, 22]
    assert qrun("plan", _spec(tmp_path, "fake_sherbrooke", [20, 21, 22], "coupled.yaml")).err == ""


@pytest.mark.parametrize("device, pair", [("fake_sherbrooke", [1, 0]), ("fake_fez", [0, 1])])
def test_a_circuits_own_swap_on_coupled_qubits_is_no_routing_and_is_not_said_to_be(qrun, tmp_path, device, pair):
    """`swap q[0], q[1]` in the circuit: qiskit relabels the qubits rather than run the swap, so they end on the
    layout's pair reversed, with no swap added; the layout's qubits are coupled as the circuit needs, and nothing is
    said (an interleaved RB sequence's Cliffords, synthesized with swaps, were each warned of). X, SWAP, then CX from
    qubit 1 to 0 leaves both qubits in |1>: <ZI> and <IZ> are -1, as the exact reference says."""
    text = f"""version: 1
name: swapped
backend: {device}
max_time: 10m
options: {{seed: 3, resilience_level: 0}}
circuits:
  c: {{qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; x q[0]; swap q[0], q[1]; cx q[1], q[0];",
      layout: {pair}}}
observables: {{zi: ZI, iz: IZ}}
jobs:
  - {{name: e, primitive: estimator, circuit: c, observables: [zi, iz], exact: statevector, precision: 0.02}}
"""
    spec = tmp_path / "swapped.yaml"
    spec.write_text(text, encoding="utf-8")
    assert qrun("plan", spec).err == ""
    ran = qrun(spec, "--out", tmp_path / "r", "-q")
    assert (ran.code, ran.err) == (0, "")
    (run_dir,) = (tmp_path / "r" / "swapped").iterdir()
    body = json.loads((run_dir / "jobs" / "00-e.json").read_text())
    assert body["physical_qubits"] == pair[::-1]
    for name, exact in (("zi", -1.0), ("iz", -1.0)):
        values = body["observables"][name]
        assert values["exact"] == [pytest.approx(exact, abs=1e-12)]
        assert abs(values["values"][0] - exact) < 0.1, name  # readout error, unmitigated at resilience 0


@pytest.mark.parametrize("device", ["fake_sherbrooke", "fake_fez"])
def test_a_circuit_no_chain_holds_is_told_so_not_sent_to_look_for_a_chain(qrun, tmp_path, device):
    """A ring of four (cz 0-1, 1-2, 2-3, 3-0) on any chain needs swaps: the warning sent the user to `qrun qubits
    --chain 4`, whose every chain routes the same. It names the pair a chain cannot hold, and `qrun qubits SPEC`
    says it under its chains."""
    ring = 'OPENQASM 3.0; include "stdgates.inc"; qubit[4] q; h q; '
    ring += "cz q[0], q[1]; cz q[1], q[2]; cz q[2], q[3]; cz q[3], q[0];"
    layout = CHAINS[device] + [CHAINS[device][-1] + 1] if len(CHAINS[device]) == 3 else CHAINS[device][:4]
    spec = tmp_path / "ring.yaml"
    spec.write_text(
        f"version: 1\nname: ring\nbackend: {device}\nmax_time: 10m\noptions: {{seed: 1, resilience_level: 0}}\n"
        f"circuits:\n  ring: {{qasm: '{ring}', layout: {json.dumps(layout)}}}\n"
        "observables: {zz: ZZII}\njobs:\n  - {name: e, primitive: estimator, circuit: ring, observables: [zz]}\n"
    )
    note = (
        "circuit 'ring' couples qubits 0 and 3 in a way no chain holds (a cycle, or a qubit coupled to three), so on "
        "any chain the transpiler adds swaps; without `layout:`, qiskit's VF2Layout looks for qubits coupled as the "
        "circuit needs"
    )
    (warning,) = qrun("plan", spec).err.splitlines()
    assert warning.startswith(f"warning: circuits.ring.layout: {layout} is not coupled as circuit 'ring' needs, ")
    assert warning.endswith(f"; {note}")
    listed = qrun("qubits", spec)
    assert listed.code == 0 and listed.out.splitlines()[-1] == f"note: {note}"
    assert json.loads(qrun("qubits", spec, "--json").out)["off_chain"] == {"ring": {"pairs": [[0, 3]], "order": None}}
    # a chain's couplings (the GHZ state's cx ladder) draw no note
    assert "note:" not in qrun("qubits", _spec(tmp_path, device, CHAINS[device])).out


def test_couplings_are_read_inside_control_flow_and_barriers_couple_nothing():
    from qiskit import QuantumCircuit

    from qrun.spec.layouts import couplings, off_chain

    qc = QuantumCircuit(4, 1)
    qc.barrier()
    qc.cx(0, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.cz(3, 1)
    qc.ccx(0, 1, 2)
    assert couplings(qc) == {(0, 1), (1, 3), (0, 2), (1, 2)}
    assert off_chain(qc) == [(0, 2), (1, 3)]


def test_a_chain_coupled_in_another_order_than_its_qubits_is_told_the_layout_that_holds_it(qrun, tmp_path):
    """cx 0-2 then 2-1 is a chain 0-2-1: the layout [20, 21, 22] (qubit k on 20 + k) routes it, and [20, 22, 21]
    holds it as it is; the warning says how to write such a layout, and a run on it adds no swap."""
    path = 'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; h q[0]; cx q[0], q[2]; cx q[2], q[1];'
    text = (
        "version: 1\nname: bent\nbackend: fake_sherbrooke\nmax_time: 10m\noptions: {seed: 1}\n"
        f"circuits:\n  bent: {{qasm: '{path}', layout: LAYOUT}}\n"
        "observables: {zz: ZZI}\njobs:\n  - {name: e, primitive: estimator, circuit: bent, observables: [zz]}\n"
    )
    spec = tmp_path / "bent.yaml"
    spec.write_text(text.replace("LAYOUT", "[20, 21, 22]"))
    (warning,) = qrun("plan", spec).err.splitlines()
    assert warning.endswith(
        "; circuit 'bent' couples its qubits along 0-2-1, not in their own order: a chain holds it with qubit 2 on the "
        "chain's second qubit, and so on (for the chain [c0, c1, ...], `layout: [c0, c2, c1]`); `qrun qubits "
        "fake_sherbrooke --chain 3` lists coupled chains"
    )
    spec.write_text(text.replace("LAYOUT", "[20, 22, 21]"))
    placed = qrun("plan", spec, "--json")
    assert placed.err == "" and json.loads(placed.out)["jobs"][0]["physical_qubits"] == [20, 22, 21]


@pytest.mark.parametrize(
    "n, pairs, order",
    [
        (3, {(0, 2), (1, 2)}, [0, 2, 1]),
        (4, {(0, 2), (1, 3)}, [0, 2, 1, 3]),  # two paths, one after the other
        (4, {(0, 1)}, [0, 1, 2, 3]),
        (3, {(0, 1), (1, 2), (0, 2)}, None),  # a triangle
        (4, {(0, 1), (0, 2), (0, 3)}, None),  # a qubit coupled to three
        (5, {(0, 1), (2, 3), (3, 4), (2, 4)}, None),  # a path beside a cycle
    ],
)
def test_an_order_a_chain_holds_is_found_where_there_is_one(n, pairs, order):
    from qrun.spec.layouts import chain_order

    assert chain_order(n, pairs) == order


def test_qrun_qubits_of_a_spec_coupled_along_another_order_lists_the_layouts_it_takes(qrun, tmp_path):
    """`qrun qubits SPEC` listed chains in chain order, which route a circuit coupled along 0-2-1, and called its own
    good layout [20, 22, 21] "not a chain of coupled qubits": it lists each chain as the layout the circuit takes and
    scores the spec's layout along the circuit's order."""
    bent = 'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; h q[0]; cx q[0], q[2]; cx q[2], q[1];'
    spec = tmp_path / "bent.yaml"
    spec.write_text(
        "version: 1\nname: bent\nbackend: fake_sherbrooke\nmax_time: 10m\n"
        f"circuits:\n  bent: {{qasm: '{bent}', layout: [20, 22, 21]}}\n"
        "observables: {zz: ZZI}\njobs:\n  - {name: e, primitive: estimator, circuit: bent, observables: [zz]}\n"
    )
    data = json.loads(qrun("qubits", spec, "--json").out)
    assert data["chains"] and all(c["layout"] == [c["chain"][0], c["chain"][2], c["chain"][1]] for c in data["chains"])
    assert (data["layouts"]["bent"]["layout"], data["layouts"]["bent"]["chain"]) == ([20, 22, 21], [20, 21, 22])
    assert data["off_chain"] == {"bent": {"pairs": [[0, 2]], "order": [0, 2, 1]}}
    text = qrun("qubits", spec).out.splitlines()
    assert text[1] == "(each layout puts the spec's circuits, coupled along 0-2-1, on the chain)"
    assert text[-1].startswith("circuits.bent.layout [20, 22, 21]: fidelity ")
    first = data["chains"][0]["layout"]
    spec.write_text(spec.read_text().replace("[20, 22, 21]", json.dumps(first)))
    assert qrun("plan", spec).err == ""  # the layout listed first routes nothing


LOOPED = """version: 1
name: looped
backend: fake_sherbrooke
max_time: 30m
options: {seed: 11, optimization_level: 1}
circuits:
{% for k in range(5) %}
  c{{ k }}:
    qasm: 'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; h q[0]; cx q[0], q[1]; cx q[1], q[2]; rz(0.{{ k }}) q[2];'
    layout: LAYOUT
{% endfor %}
jobs:
{% for k in range(5) %}
  - {name: s{{ k }}, primitive: sampler, circuit: c{{ k }}, shots: 100, measure_all: true}
{% endfor %}
"""


def test_a_loop_of_circuits_on_one_layout_is_warned_of_once_not_once_a_circuit(qrun, tmp_path):
    """xeb's 48 circuits on a layout over broken gates gave 48 warnings of each kind, the same words but the name."""
    spec = tmp_path / "looped.yaml.j2"
    spec.write_text(LOOPED.replace("LAYOUT", "[5, 6, 7]"))  # ecr 6-5 and 7-6 are broken on fake_sherbrooke
    circuits = "circuits.c0.layout, circuits.c1.layout, circuits.c2.layout and 2 more"
    jobs = "jobs[0] (s0), jobs[1] (s1), jobs[2] (s2) and 2 more"
    assert qrun("plan", spec).err == (
        f"warning: {jobs}: their ISA circuits run what fake_sherbrooke reports as broken (error 0.5 or more): ecr on "
        "qubits 6, 5 (error 1); ecr on qubits 7, 6 (error 1); their values would be noise. "
        f"{circuits} put the circuits on them: name other qubits\n"
    )
    spec.write_text(LOOPED.replace("LAYOUT", "[20, 22, 21]"))  # 20-21-22 is a line: cx on 20 and 22 needs a swap
    assert qrun("plan", spec).err == (
        f"warning: {circuits}: [20, 22, 21] is not coupled as these 5 circuits need, so the transpiler added swaps and "
        f"their qubits ended elsewhere ({jobs}; the first on [20, 21, 22]); `qrun qubits fake_sherbrooke --chain 3` "
        "lists coupled chains\n"
    )
