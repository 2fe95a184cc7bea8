"""What writing out an OpenQASM 3 `for` loop costs, each way qrun does it: as text before qiskit's importer (a loop
that indexes a register, which the importer cannot build) and with qiskit's UnrollForLoops after it (a repeated
step, which the importer builds as a for_loop); and what looking for a for_loop in a wide circuit costs.

Usage: python benchmarks/loops.py [ROUNDS]   (default 5). Prints the median and min-max of each, rounds interleaved."""

from __future__ import annotations

import statistics
import sys
import time


def main(rounds: int = 5) -> None:
    import qiskit.qasm3
    from qiskit.transpiler.passes import UnrollForLoops

    from qrun.sources import qasm_unroll

    head = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; '
    cases = {}
    for turns in (1_000, 10_000, 50_000):
        text = head + f"for int k in [1:{turns}] {{ rx(0.1) q[0]; cx q[0], q[1]; }}"
        built = qiskit.qasm3.loads(text)
        cases[f"UnrollForLoops, {turns:,} turns of 2 gates"] = lambda built=built: UnrollForLoops()(built)
    for turns in (1_000, 5_000):
        indexed = (
            head.replace("qubit[2]", f"qubit[{turns + 1}]") + f"for int i in [0:{turns - 1}] {{ cx q[i], q[i + 1]; }}"
        )
        cases[f"written as text, then imported, {turns:,} turns of 1 gate"] = lambda t=indexed: qiskit.qasm3.loads(
            qasm_unroll.unrolled(t, 1 << 20)
        )
    wide = (
        head.replace("qubit[2]", "qubit[127]")
        + " ".join(f"cx q[{i}], q[{i + 1}]; rz(0.1) q[{i + 1}];" for i in range(126)) * 20
    )
    circuit = qiskit.qasm3.loads(wide)
    cases[f"a for_loop looked for by count_ops, {circuit.size():,} gates"] = lambda: "for_loop" in circuit.count_ops()
    cases[f"a for_loop looked for by a Python scan, {circuit.size():,} gates"] = lambda: [
        i for i in circuit.data if i.operation.name == "for_loop"
    ]
    timed: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            timed[name].append(time.perf_counter() - start)
    for name, seconds in timed.items():
        print(
            f"{name}: {statistics.median(seconds) * 1e3:,.2f} ms ({min(seconds) * 1e3:,.2f}-{max(seconds) * 1e3:,.2f})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
