"""Two measurements behind qrun's choices: engine speed on a fake device at resilience 0, and validate on 1,000 jobs."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import QRUN, row, run_dir_of, timed  # noqa: E402

ROWS = [[round(0.1 * i + 0.01 * k, 3) for k in range(4)] for i in range(40)]
ENGINE_SPEC = """version: 1
name: engines
backend: fake_manila
max_time: 1h
options: {seed: 3, resilience_level: 0, engine: ENGINE}
circuits:
  ansatz: {library: {name: real_amplitudes, args: {num_qubits: 2, reps: 1}}}
  ghz: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[3] q; bit[3] c; h q[0]; cx q[0], q[1]; cx q[1], q[2]; c = measure q;"}
observables:
  h: "0.5*XI + 0.5*IX - 1.0*ZZ"
jobs:
""" + "".join(
    f"  - {{name: e{i}, primitive: estimator, circuit: ansatz, observables: [h], precision: 0.02, "
    f"parameter_values: [{ROWS[i]}]}}\n  - {{name: s{i}, primitive: sampler, circuit: ghz, shots: 2000}}\n"
    for i in range(10)
)


def big_spec(jobs: int = 1000) -> str:
    lines = [
        "version: 1",
        "name: big",
        "backend: fake_manila",
        "max_time: 8h",
        "circuits:",
        '  bell: {qasm: "OPENQASM 3.0; include \\"stdgates.inc\\"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;"}',
        "  ansatz: {library: {name: real_amplitudes, args: {num_qubits: 2, reps: 1}}}",
        "observables:",
        "  zz: ZZ",
        "jobs:",
    ]
    for i in range(jobs):
        if i % 2:
            lines.append(f"  - {{name: s{i}, primitive: sampler, circuit: bell, shots: {100 + i}, estimate: 10s}}")
        else:
            lines.append(
                f"  - {{name: e{i}, primitive: estimator, circuit: ansatz, observables: [zz], "
                f"parameter_values: [[0.{i}, 0.2, 0.3, 0.4]], estimate: 10s}}"
            )
    return "\n".join(lines) + "\n"


def main(repeats: int = 5) -> list[dict]:
    """Medians: each engine's execution seconds from its runs' metadata, the two engines' runs alternated; validate's
    whole process over `repeats` runs."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        executions: dict[str, list[float]] = {"auto": [], "runtime": []}
        for engine in executions:
            (folder / f"{engine}.yaml").write_text(ENGINE_SPEC.replace("ENGINE", engine))
        for _ in range(repeats):
            for engine, seconds in executions.items():
                out = timed([*QRUN, f"{engine}.yaml", "--out", engine, "--quiet"], folder)
                meta = json.loads((folder / run_dir_of(out["stdout"]) / "metadata.json").read_text())
                seconds.append(meta["session"]["execution_seconds"])
        (folder / "big.yaml").write_text(big_spec())
        validate = statistics.median(timed([*QRUN, "validate", "big.yaml"], folder)["wall"] for _ in range(repeats))
    return [
        row(
            "fake_manila, resilience 0: auto (backend) vs runtime engine (execution, s)",
            statistics.median(executions["auto"]),
            statistics.median(executions["runtime"]),
            "< 1 (faster, same answer)",
        ),
        row("qrun validate, 1,000-job spec (whole process, s) vs the 0.3 s target", validate, 0.3, "< 1"),
    ]


if __name__ == "__main__":
    for r in main():
        print(
            f"{r['benchmark']:<72} qrun {r['qrun']:8.3f}  other {r['other']:8.3f}  ratio {r['ratio']:6.3f}  target {r['target']}"
        )
