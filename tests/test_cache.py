import json

import pytest

from qrun.app.prepare import prepare
from qrun.planning import cache, work
from qrun.planning import transpile as transpiling

HEAVY = """version: 1
name: heavy
backend: fake_kolkata
max_time: 1h
options: {optimization_level: 3, seed: 11}
circuits:
  ansatz: {library: {name: efficient_su2, args: {num_qubits: 8, reps: 1}}}
jobs:
  - {name: counts, primitive: sampler, circuit: ansatz, measure_all: true, parameter_values: [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]], estimate: 10s}
"""


@pytest.fixture
def counting(monkeypatch):
    calls = []
    real = transpiling.transpile
    monkeypatch.setattr(transpiling, "transpile", lambda *a: calls.append(a[3:]) or real(*a))
    return calls


def _isa(spec, **kw):
    return prepare(spec, out="/nonexistent", **kw).plan.jobs[0].circuit


def test_a_cached_circuit_equals_a_fresh_transpile_layout_included(write_spec, counting):
    spec = write_spec(HEAVY)
    first = _isa(spec)
    second = _isa(spec)
    assert len(counting) == 1  # the second plan came from the cache
    fresh = _isa(spec, use_cache=False)
    assert len(counting) == 2
    same = cache.canonical  # parameters differ only in their random UUIDs between builds
    assert same(second) == same(first) == same(fresh)
    assert [p.name for p in second.parameters] == [p.name for p in fresh.parameters]
    assert second.layout.initial_index_layout() == fresh.layout.initial_index_layout()
    assert second.layout.final_index_layout() == fresh.layout.final_index_layout()


@pytest.mark.parametrize(
    "change",
    [
        "seed: 11} -> seed: 12}",
        "optimization_level: 3 -> optimization_level: 2",
        "fake_kolkata -> fake_montreal",
        "reps: 1 -> reps: 2",
    ],
)
def test_a_changed_seed_level_backend_or_circuit_misses_the_cache(write_spec, counting, change):
    old, new = change.split(" -> ")
    _isa(write_spec(HEAVY, "a.yaml"))
    text = HEAVY.replace(old, new)
    if "reps: 2" in new:
        text = text.replace("1.5, 1.6]]", "1.5, 1.6" + ", 0.0" * 16 + "]]")
    _isa(write_spec(text, "b.yaml"))
    assert len(counting) == 2


@pytest.mark.parametrize("damage", [b"", b"not qpy at all", None])
def test_a_corrupt_or_stale_entry_is_ignored_and_replaced(write_spec, counting, damage):
    spec = write_spec(HEAVY)
    good = _isa(spec)
    (entry,) = cache.cache_dir().glob("*.qpy")
    if damage is None:  # stale: the recorded key parts no longer match
        meta = entry.with_suffix(".json")
        meta.write_text(meta.read_text().replace('"qiskit": "', '"qiskit": "0.'))
    else:
        entry.write_bytes(damage)
    assert cache.canonical(_isa(spec)) == cache.canonical(good)
    assert len(counting) == 2
    assert cache.canonical(_isa(spec)) == cache.canonical(good) and len(counting) == 2  # rewritten, so trusted again


def test_unseeded_transpilation_is_not_cached(write_spec, counting):
    spec = write_spec(HEAVY.replace(", seed: 11}", "}"))
    _isa(spec)
    _isa(spec)
    assert len(counting) == 2
    assert not list(cache.cache_dir().glob("*.qpy"))


def test_no_cache_flag(qrun, write_spec, tmp_path, counting):
    spec = write_spec(HEAVY)
    assert qrun("plan", spec, "--no-cache", "--out", tmp_path).code == 0
    assert not list(cache.cache_dir().glob("*.qpy"))
    assert qrun("plan", spec, "--out", tmp_path).code == 0
    assert len(list(cache.cache_dir().glob("*.qpy"))) == 1


def test_a_warm_plan_reads_the_circuits_shape_from_the_cache_instead_of_walking_it(write_spec, counting, monkeypatch):
    """The shape (qubits touched, depth) is a pass over every instruction: computed once with the transpile, kept
    beside the entry, and read back; a warm plan shows the same qubits and depth without computing them."""
    spec = write_spec(HEAVY)
    cold = prepare(spec, out="/nonexistent").plan.jobs[0]
    (facts,) = cache.cache_dir().glob("*.facts.json")
    shape = [cold.stats["qubits"], cold.stats["depth"]]
    assert shape == list(work.circuit_shape(cold.circuit)) == json.loads(facts.read_text())

    def walked(circuit):
        raise AssertionError("a warm plan walked the circuit")

    monkeypatch.setattr(transpiling, "circuit_shape", walked)
    monkeypatch.setattr(work, "circuit_shape", walked)
    warm = prepare(spec, out="/nonexistent").plan.jobs[0]
    assert (warm.stats["qubits"], warm.stats["depth"]) == (cold.stats["qubits"], cold.stats["depth"])
    assert len(counting) == 1


@pytest.mark.parametrize("damage", ['["x", 3]', "[1, 2, 3]", "{}", "[-4, 2]", "FIFO"])
def test_a_damaged_shape_entry_is_a_miss_not_a_crash(write_spec, damage):
    import os

    spec = write_spec(HEAVY)
    _isa(spec)
    (shape,) = cache.cache_dir().glob("*.facts.json")
    shape.unlink()
    if damage == "FIFO":  # must not block the read
        os.mkfifo(shape)
    else:
        shape.write_text(damage)
    qubits, depth = work.circuit_shape(_isa(spec))
    stats = prepare(spec, out="/nonexistent").plan.jobs[0]
    assert (qubits, depth) == work.circuit_shape(stats.circuit) and qubits == 8


@pytest.mark.parametrize(
    "damage",
    [
        '{"facts": {"num_qubits": "two", "num_parameters": 0, "num_clbits": 0, "has_measurements": true}}',
        '{"facts": {"num_qubits": 2, "num_parameters": 1, "num_clbits": 0, "has_measurements": true, '
        '"parameter_names": []}}',
        '{"error": 5}',
        "[]",
        "not json",
    ],
)
def test_a_damaged_facts_entry_is_rebuilt_and_validate_gives_the_run_verdict(qrun, write_spec, damage, monkeypatch):
    spec = write_spec(
        "version: 1\nname: f\nbackend: aer\nmax_time: 5m\ncircuits:\n"
        '  b: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; c = measure q;"}\n'
        "jobs:\n  - {name: s, primitive: sampler, circuit: b}\n"
    )
    monkeypatch.chdir(spec.parent)
    assert qrun("validate", "spec.yaml").code == 0
    (entry,) = cache.facts_dir().glob("*.json")
    entry.write_text(damage)
    assert (qrun("validate", "spec.yaml").code, qrun("spec.yaml", "--out", "r", "-q").code) == (0, 0)
    assert json.loads(entry.read_text())["facts"]["num_qubits"] == 2  # rewritten whole
