"""The hostile-input corpus and its runner: each case runs `qrun ...` in a forked child of one warm interpreter, under
a 1 GB address-space limit and a timeout, in a fresh folder; the runner reports exit code, stderr, time and files.

    python tests/hostile.py            print each case's outcome (to review, or to refresh hostile_expected.json)
    python tests/hostile.py --update   write tests/hostile_expected.json from the current outcomes
    python tests/hostile.py --part K/N  only the cases of part K of N (an input and its run stay together)
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "hostile_expected.json"
MEMORY = 1 << 30
WORKERS = 2
TIMEOUT = 20  # s; a case that takes longer is a hang (the test asserts under 5 s)
WARM = ("qiskit", "qiskit.qasm3", "qiskit_qasm3_import", "qiskit_aer")

BELL = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; cx q[0], q[1]; c = measure q;'
BASE = f"""version: 1
name: hostile
backend: aer
max_time: 10m
options: {{seed: 1, default_shots: 100, default_precision: 0.1}}
circuits:
  bell: {{qasm: '{BELL}'}}
  ansatz: {{library: real_amplitudes, args: {{num_qubits: 2, reps: 1}}}}
observables:
  zz: ZZ
jobs:
  - {{name: counts, primitive: sampler, circuit: bell}}
  - {{name: energy, primitive: estimator, circuit: ansatz, observables: [zz], parameter_values: [[0, 0, 0, 0]]}}
"""


def _sub(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def cases() -> list[dict]:
    """Each case: id, files {name: text}, args (SPEC stands for spec.yaml), and which command (validate or run)."""
    out: list[dict] = []

    def add(
        cid: str, text: str | None = None, args: list[str] | None = None, files: dict | None = None, both: bool = True
    ) -> None:
        fs = dict(files or {})
        if text is not None:
            fs["spec.yaml"] = text
        out.append({"id": cid, "files": fs, "args": args or ["validate", "spec.yaml"]})
        if both and (args is None):  # the same input through a run: same verdict, nothing written
            out.append({"id": cid + "/run", "files": fs, "args": ["spec.yaml", "--out", "results", "-q"]})

    # --- YAML structure ---------------------------------------------------------------------------------------
    add("deep-nesting-50000", _sub("observables:", "x: " + "[" * 50000 + "]" * 50000 + "\nobservables:"))
    add("deep-nesting-1000", _sub("observables:", "x: " + "[" * 1000 + "]" * 1000 + "\nobservables:"))
    add("deep-mapping-200", _sub("observables:", "x: " + "{a: " * 200 + "1" + "}" * 200 + "\nobservables:"))
    lol = "lol: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
    )
    add("billion-laughs", BASE + lol)
    add("billion-laughs-in-vars", "vars:\n  " + lol.replace("\n", "\n  ").rstrip() + "\n" + BASE)
    add("alias-to-undefined-anchor", _sub("observables:", "x: *nowhere\nobservables:"))
    add("ten-megabytes", BASE + "# " + "x" * (10 * 1024 * 1024) + "\n")
    add("binary-garbage", None, files={"spec.yaml": "\x00\x01\x02garbage\xff"})
    add("not-utf8", None, files={"spec.yaml": b"name: caf\xe9\n"})
    add("bom", "\ufeff" + BASE)
    add("empty", "")
    add("only-comment", "# nothing\n")
    add("a-list", "- 1\n- 2\n")
    add("a-scalar", "hello\n")
    add("tabs", BASE.replace("  - {name: counts", "\t- {name: counts"))
    add("duplicate-top-key", BASE + "name: again\n")
    add(
        "merge-key-bomb",
        BASE
        + "m0: &m0 {a: 1}\n"
        + "".join(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 8)}], k{i}: 1}}\n" for i in range(1, 9)),
    )
    add("python-tag", _sub("name: hostile", "name: !!python/object/apply:os.system ['echo pwned']"))
    add("binary-tag", _sub("name: hostile", "name: !!binary aGVsbG8="))
    add("set-tag", _sub("observables:", "x: !!set {a, b}\nobservables:"))
    add("fifo-spec", None, files={"spec.yaml": "FIFO"}, both=False)
    add("directory-spec", None, files={"spec.yaml/x": "1"}, both=False)
    add("dev-zero-spec", None, args=["validate", "/dev/zero"], both=False)
    add("missing-spec", None, args=["validate", "nope.yaml"], both=False)

    # --- numbers ----------------------------------------------------------------------------------------------
    numbers = {
        "default_precision": ("default_precision: 0.1", ["0", "-0.1", ".nan", ".inf", "-.inf", "1e-300", "1e300"]),
        "default_shots": ("default_shots: 100", ["0", "-5", "1e3", "1000000000000", ".nan", "true"]),
        "seed": ("seed: 1", ["-1", "4294967296", "1.5", ".inf"]),
        "max_time": ("max_time: 10m", ["0", "-5", "99999999d", "1e9", ".inf", "'10 m'", "10x"]),
    }
    for key, (old, values) in numbers.items():
        for v in values:
            add(f"{key}={v}", _sub(old, f"{key}: {v}"))
    job = "{name: counts, primitive: sampler, circuit: bell}"
    for v in ["0", "-1", "1000000000000", ".nan", "2.5"]:
        add(f"job-shots={v}", _sub(job, f"{{name: counts, primitive: sampler, circuit: bell, shots: {v}}}"))
    energy = "observables: [zz], parameter_values: [[0, 0, 0, 0]]}"
    for v in ["0", "-0.5", ".nan", ".inf", "1e-300"]:
        add(
            f"job-precision={v}", _sub(energy, f"observables: [zz], parameter_values: [[0, 0, 0, 0]], precision: {v}}}")
        )
    for v in [".nan", ".inf", "1e308"]:
        add(f"parameter-value={v}", _sub("parameter_values: [[0, 0, 0, 0]]", f"parameter_values: [[0, 0, {v}, 0]]"))
    for v in ["0", "-1", "100000000"]:
        add(f"reps={v}", _sub("num_qubits: 2, reps: 1", f"num_qubits: 2, reps: {v}"))
    add("num_qubits=100000", _sub("num_qubits: 2, reps: 1", "num_qubits: 100000, reps: 1"))
    add("random-depth-10^7", _sub("  ansatz:", "  rnd: {random: {num_qubits: 3, depth: 10000000}}\n  ansatz:"))
    add("random-width-10^5", _sub("  ansatz:", "  rnd: {random: {num_qubits: 100000, depth: 2}}\n  ansatz:"))
    add("max_time_limit=99999999d", _sub("max_time: 10m", "max_time: 10m\nmax_time_limit: 99999999d"))
    add("budget_margin=.nan", _sub("max_time: 10m", "max_time: 10m\nbudget_margin: .nan"))
    add(
        "maxiter=10^9",
        _sub(
            f"  - {job}",
            f"  - {job}\n  - {{name: v, primitive: minimize, circuit: ansatz, "
            "observables: [zz], optimizer: {maxiter: 1000000000}}",
        ),
    )
    add(
        "twirling-randomizations=10^9",
        _sub("options: {seed: 1,", "options: {twirling: {num_randomizations: 1000000000}, seed: 1,"),
    )
    add("observable-coefficient=.nan", _sub("zz: ZZ", "zz: [[ZZ, .nan]]"))
    add("observable-coefficient-string", _sub("zz: ZZ", "zz: '1e999*ZZ'"))
    add("observable-width-10^5", _sub("zz: ZZ", "zz: " + "Z" * 100000))

    # --- sweeps -----------------------------------------------------------------------------------------------
    sweep = "{name: counts, primitive: sampler, circuit: bell, sweep: {values: {shots: SHOTS}}}"
    for cid, shots in [
        ("linspace-10^7", "{linspace: [1, 10, 10000000]}"),
        ("range-10^9", "{range: [1, 1000000000]}"),
        ("range-step-0", "{range: [1, 10, 0]}"),
        ("range-inf", "{range: [1, .inf]}"),
        ("range-empty", "{range: [10, 1]}"),
        ("shots-list-huge", "[1000000000000]"),
    ]:
        add(f"sweep-{cid}", _sub(job, sweep.replace("SHOTS", shots)))
    grid = (
        "{name: e2, primitive: estimator, circuit: ansatz, observables: [zz], sweep: {values: "
        "{'θ[0]': {linspace: [0, 1, 1000]}, 'θ[1]': {linspace: [0, 1, 1000]}, 'θ[2]': [0], 'θ[3]': [0]}}}"
    )
    add("sweep-grid-10^6", BASE + f"  - {grid}\n")

    # --- names and paths --------------------------------------------------------------------------------------
    for v in ["'.'", "'..'", "'../escape'", "'/etc'", "''", "'a b'", "'x' ", "'" + "n" * 200 + "'"]:
        add(f"name={v.strip()[:12]}", _sub("name: hostile", f"name: {v}"))
    add("job-name-slash", _sub("name: counts,", "name: 'a/b',"))
    add("file-absolute", _sub("  ansatz:", "  f: {file: /etc/hostname}\n  ansatz:"))
    add("file-escape", _sub("  ansatz:", "  f: {file: ../../../../etc/hostname}\n  ansatz:"))
    add(
        "file-symlink-out",
        _sub("  ansatz:", "  f: {file: link.qasm}\n  ansatz:"),
        files={"link.qasm": "SYMLINK:/etc/hostname"},
    )
    add("file-fifo", _sub("  ansatz:", "  f: {file: pipe.qasm}\n  ansatz:"), files={"pipe.qasm": "FIFO"})
    add("file-dev-zero", _sub("  ansatz:", "  f: {file: /dev/zero}\n  ansatz:"))
    add("file-directory", _sub("  ansatz:", "  f: {file: sub}\n  ansatz:"), files={"sub/x": "1"})
    add("file-missing", _sub("  ansatz:", "  f: {file: missing.qasm}\n  ansatz:"))
    add(
        "file-huge",
        _sub("  ansatz:", "  f: {file: big.qasm}\n  ansatz:"),
        files={"big.qasm": "OPENQASM 3.0;\nqubit[1] q;\n" + "x q[0];\n" * 400000},
    )
    add("qasm-include-absolute", _sub(BELL, 'OPENQASM 3.0; include "/etc/hostname"; qubit[1] q;'))
    add("qasm-include-escape", _sub(BELL, 'OPENQASM 3.0; include "../../etc/hostname"; qubit[1] q;'))
    add(
        "qasm-include-self",
        _sub("  ansatz:", "  f: {file: self.qasm}\n  ansatz:"),
        files={"self.qasm": 'OPENQASM 3.0;\ninclude "self.qasm";\nqubit[1] q;\n'},
    )
    add("qasm-undefined-gate", _sub("h q[0];", "hadamard q[0];"))
    add("qasm-syntax", _sub("h q[0];", "h q[0]"))
    add("qasm-million-gates", _sub(BELL, "OPENQASM 3.0; qubit[1] q; " + "x q[0]; " * 1000000))
    bomb = (
        'OPENQASM 3.0; include "stdgates.inc"; gate g0 q { x q; } '
        + " ".join(f"gate g{i} q {{ g{i - 1} q; g{i - 1} q; }}" for i in range(1, 40))
        + " qubit[1] q; g39 q[0];"
    )
    add("qasm-gate-bomb", _sub(BELL, bomb))
    add("qasm-empty", _sub(BELL, "OPENQASM 3.0;"))
    # a dynamic circuit whose outcomes the exact reference would have to follow in 2^4000 statevectors
    branching = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; '
    branching += "for int i in [0:3999] { h q[0]; c[0] = measure q[0]; if (c[0]) { x q[1]; } } c = measure q;"
    add("qasm-exact-branches", _sub("circuit: bell}", "circuit: bell, exact: statevector}", _sub(BELL, branching)))
    # a loop qrun writes out (its variable indexes a register), under the gate limit but past a circuit's text
    unrolled = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; for int i in [0:199999] { x q[i % 2]; }'
    add("qasm-loop-written-out", _sub(BELL, unrolled))
    add("observable-qubit-past-any", _sub("zz: ZZ", "zz: Z0 Z" + "9" * 5000))
    sweep = "{'θ[0]': [0, 1.5707963267948966, 0.1], 'θ[1]': {linspace: [0, %r, 1000]}, 'θ[2]': {linspace: [0, %r, 67]}}"
    add(  # 201,000 parameter sets, each checked before anything runs; the first off a multiple of π/2 is the 134,000th
        "stabilizer-many-sets",
        "limits: {sweep_points: 2000000}\n"
        + _sub(
            "parameter_values: [[0, 0, 0, 0]]",
            "parameter_values: [[0, 0, 0, 0]], exact: stabilizer, sweep: {values: "
            + sweep % (999 * math.pi / 2, 66 * math.pi / 2)
            + "}",
        ),
    )
    add("values-file-outside", _sub("parameter_values: [[0, 0, 0, 0]]", "parameter_values: {file: /etc/passwd.csv}"))
    add("library-not-allowed", _sub("library: real_amplitudes", "library: QFT"))
    add("library-bad-arg", _sub("reps: 1}", "reps: 1, evil: 1}"))
    on_device = _sub("backend: aer", "backend: fake_sherbrooke")
    add("layout-qubit-past-device", _sub("reps: 1}}", "reps: 1}, layout: [0, 99999]}", on_device))
    add("layout-thousand-qubits", _sub("reps: 1}}", f"reps: 1}}, layout: {list(range(1000))}}}", on_device))
    add("layout-past-max-items", _sub("reps: 1}}", f"reps: 1}}, layout: {list(range(1001))}}}", on_device))
    add("layout-not-a-list", _sub("reps: 1}}", "reps: 1}, layout: '0,1'}", on_device))
    add("layout-booleans", _sub("reps: 1}}", "reps: 1}, layout: [true, false]}", on_device))
    add("layout-negative", _sub("reps: 1}}", "reps: 1}, layout: [-1, 0]}", on_device))
    add("qubits-chain-zero", None, args=["qubits", "fake_fez", "--chain", "0"])
    add("qubits-chain-past-max", None, args=["qubits", "fake_fez", "--chain", "100000"])

    # --- templates and --set ----------------------------------------------------------------------------------
    tmpl = "vars:\n  tag: a\n" + _sub("name: hostile", "name: hostile-{{ tag }}")
    add("set-injects-a-key", tmpl, args=["validate", "spec.yaml", "--set", "tag=x\nmode: batch"], both=False)
    add("set-yaml-structure", tmpl, args=["render", "spec.yaml", "--set", "tag=x: y"], both=False)
    add("set-flow-mapping", tmpl, args=["render", "spec.yaml", "--set", "tag={a: 1}"], both=False)
    add("set-unused-variable", tmpl, args=["validate", "spec.yaml", "--set", "nope=1"], both=False)
    add("set-on-a-plain-spec", BASE, args=["validate", "spec.yaml", "--set", "shots=5"], both=False)
    add("set-no-equals", tmpl, args=["validate", "spec.yaml", "--set", "tag"], both=False)
    add("set-bad-name", tmpl, args=["validate", "spec.yaml", "--set", "a-b=1"], both=False)
    add(
        "vars-file-outside-mapping",
        tmpl,
        args=["validate", "spec.yaml", "--vars", "v.yaml"],
        files={"v.yaml": "- 1\n"},
        both=False,
    )
    add(
        "vars-file-fifo", tmpl, args=["validate", "spec.yaml", "--vars", "v.yaml"], files={"v.yaml": "FIFO"}, both=False
    )
    add(
        "template-nested-range",
        BASE + "x: {% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
    )
    add("template-huge-multiply", BASE + "x: {{ 'A' * 10**9 }}\n")
    add("template-huge-power", BASE + "x: {{ 2**100000000 }}\n")
    add("template-range-too-big", BASE + "x: {{ range(10**9) | list | length }}\n")
    add("template-output-10MB", BASE + "x: '{% for i in range(100000) %}{{ 'A' * 100 }}{% endfor %}'\n")
    add("yaml-recursive-alias", _sub("jobs:", "extra: &a [1, *a]\njobs:"))
    add("yaml-recursive-merge", _sub("jobs:", "extra: &m {a: 1, b: {<<: *m}}\njobs:"))
    add("template-recursion", BASE + "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}x: {{ f(0) }}\n")
    add("template-attribute-escape", BASE + "x: {{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    add("template-undefined", BASE + "x: {{ nope }}\n")
    add("template-syntax", BASE + "x: {{ 1 + }}\n")
    add("template-divide-by-zero", BASE + "x: {{ 1 / 0 }}\n")
    add("template-in-vars-block", "vars:\n  a: {{ b }}\n" + BASE)
    add("template-include", BASE + "x: {% include '/etc/hostname' %}\n")
    add("template-import", BASE + "{% import 'os' as os %}x: 1\n")

    # --- command line and run folders ---------------------------------------------------------------------------
    add(
        "resume-not-a-run",
        BASE,
        args=["spec.yaml", "--resume", "notarun", "--out", "results"],
        files={"notarun/x": "1"},
        both=False,
    )
    add(
        "resume-truncated-metadata",
        BASE,
        args=["spec.yaml", "--resume", "results/hostile/r", "--out", "results"],
        files={"results/hostile/r/metadata.json": '{"status": "runn', "results/hostile/r/spec.yaml": BASE},
        both=False,
    )
    add("show-truncated-metadata", None, args=["show", "r"], files={"r/metadata.json": '{"jobs": ['}, both=False)
    add("show-not-a-run", None, args=["show", "r"], files={"r/x": "1"}, both=False)
    add("out-is-a-file", BASE, args=["spec.yaml", "--out", "afile", "-q"], files={"afile": "x"}, both=False)
    add("out-in-proc", BASE, args=["spec.yaml", "--out", "/proc/qrun-results", "-q"], both=False)
    add("unknown-option", BASE, args=["spec.yaml", "--bogus"], both=False)
    add("unknown-estimates-source", BASE, args=["validate", "spec.yaml", "--estimates", "magic"], both=False)

    # --- round three: a red team's cases, in our words ------------------------------------------------------------
    def qasm(code: str) -> str:
        return _sub(f"bell: {{qasm: '{BELL}'}}", f"bell: {{qasm: '{code}'}}")

    q3 = 'OPENQASM 3.0; include "stdgates.inc"; '
    add("qasm-include-on-one-line-etc", qasm('OPENQASM 2.0; include "/etc/passwd"; qreg q[2]; creg c[2];'))
    add(
        "qasm-include-on-one-line-up",
        qasm('OPENQASM 2.0; include "qelib1.inc"; include "../gates.inc"; qreg q[2]; creg c[2]; measure q -> c;'),
    )
    add(
        "qasm-include-keeps-the-rest-of-its-line",
        qasm('OPENQASM 2.0; include "qelib1.inc"; include "x.inc"; qreg q[2]; creg c[2]; x q[0]; measure q -> c;'),
        files={"x.inc": "gate flip a { x a; }\n"},
    )
    add("qasm-two-billion-qubits", qasm(q3 + "qubit[2147483648] q; bit[2] c;"))
    add("qasm-for-a-billion", qasm(q3 + "qubit[2] q; bit[2] c; for int i in [0:999999999] { h q; } c = measure q;"))
    add("qasm-while-forever", qasm(q3 + "qubit[2] q; bit[2] c; while (true) { x q[0]; } c = measure q;"))
    add("qasm-inv-chain", qasm(q3 + "qubit[2] q; bit[2] c; " + "inv @ " * 40 + "x q[0]; c = measure q;"))
    add("qasm-pow-bomb", qasm(q3 + "qubit[2] q; bit[2] c; pow(1000000000) @ x q[0]; c = measure q;"))
    add("qasm-broadcast-lines", qasm(q3 + "qubit[30] q; bit[2] c;" + " h q;" * 200_000))
    add("qasm-infinite-angle", qasm(q3 + "qubit[2] q; bit[2] c; rx(1e999) q[0]; c = measure q;"))
    add("qasm-no-qubits", qasm(q3 + "bit[2] c;").replace("circuit: bell}", "circuit: bell, measure_all: true}"))
    add(
        "quantum-volume-depth-10^7",
        _sub("  ansatz:", "  qv: {library: {name: quantum_volume, args: {num_qubits: 2, depth: 10000000}}}\n  ansatz:"),
    )
    add(
        "too-wide-to-simulate",
        _sub("backend: aer", "backend: fake_sherbrooke").replace("num_qubits: 2, reps: 1", "num_qubits: 100, reps: 1"),
    )
    for key, old_text, new_text in [
        ("num_qubits", "num_qubits: 2, reps: 1", "num_qubits: 2.0, reps: 1"),
        ("seed", "seed: 1", "seed: 3.0"),
        ("shots", "default_shots: 100", "default_shots: 100.0"),
        ("digits", "seed: 1", "seed: " + "7" * 5000),
    ]:
        add(f"whole-float-{key}", _sub(old_text, new_text))
    add(
        "template-three-string-loops",
        BASE + "x: \"{% for a in 'x' * 3000 %}{% for b in 'x' * 3000 %}{% for c in 'x' * 3000 %}"
        '{% endfor %}{% endfor %}{% endfor %}"\n',
        both=False,  # 3 s by design; a run renders through the same bounded child
    )
    bomb = "{a: &a [x,x,x,x,x,x,x,x,x], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], " + (
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d], f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e], "
        "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]}"
    )
    add("set-alias-bomb", BASE, args=["validate", "spec.yaml", "--set", f"options.extra={bomb}"], both=False)
    add(
        "set-deep", BASE, args=["validate", "spec.yaml", "--set", "options.seed=" + "[" * 5000 + "]" * 5000], both=False
    )
    # a dotted path makes the mappings it names where the schema allows any name (vars): as deep as its keys go
    deep_path = "+vars." + ".".join(["a"] * 3000) + "=1"
    add("set-deep-path", BASE, args=["validate", "spec.yaml", "--set", deep_path], both=False)
    add("set-deep-path-and-value", BASE, args=["validate", "spec.yaml", "+vars.a.b=" + "[" * 62 + "]" * 62], both=False)
    add(
        "set-bare-past-a-file-name", BASE, args=["validate", "spec.yaml", "options.seed=" + "0" * 300 + "7"], both=False
    )
    add(
        "set-not-utf8",
        BASE,
        args=["validate", "spec.yaml", "--set", "options.seed=" + os.fsdecode(b"\xff")],
        both=False,
    )

    # --- derived values that name each other: a chain as long as a spec may make, a doubling, a circle -----------
    chain = "".join(f"  d{i}: d{i - 1} + 1\n" for i in range(1, 10_000))
    add("derived-chain-10000", BASE + "derived:\n  d0: energy.zz\n" + chain)
    add(
        "derived-doubling",
        BASE + "derived:\n  d0: energy.zz\n" + "".join(f"  d{i}: d{i - 1} * d{i - 1}\n" for i in range(1, 64)),
    )
    add("derived-circle", BASE + "derived:\n  a: b + energy.zz\n  b: c * 2\n  c: a\n")
    circle = "".join(f"  c{i}: c{(i + 1) % 10_000} + 1\n" for i in range(10_000))
    add("derived-circle-10000", BASE + "derived:\n" + circle)
    # one text as long as a spec may write (4,000 characters), nested as deep as it can go
    add("derived-deep-unary", BASE + "derived:\n  d: " + "-" * 3_980 + "energy.zz\n")
    add("derived-long-sum", BASE + "derived:\n  d: " + " + ".join(["energy.zz"] * 330) + "\n")
    add("derived-deep-index", BASE + "derived:\n  d: energy.zz" + "[0]" * 1_300 + "\n")
    # a fit: a long model at many points is refused; one that cannot converge stops at the solver's bound
    terms = " + ".join(f"p{k % 19}*exp(-x/p{(k + 1) % 19})*cos(p{(k + 2) % 19}*x)" for k in range(15))
    start = "{" + ", ".join(f"p{k}: 1.5" for k in range(19)) + "}"

    def fit(points: int) -> str:
        xs = [k / 100 for k in range(points)]
        ys = ", ".join(["energy.zz"] * points)
        return BASE + f"derived:\n  big:\n    fit: {terms}\n    x: {xs}\n    y: [{ys}]\n    start: {start}\n"

    add("derived-fit-too-many-terms", fit(1_000))
    add("derived-fit-unconverged", fit(210))

    # --- run folders, as untrusted as specs: read by show, status, plot, diff and list ----------------------------
    def run_folder(meta_change=None, **extra: str) -> dict:
        meta = {
            "format": 1,
            "name": "hostile",
            "status": "completed",
            "error": None,
            "journal": 0,
            "session": None,
            "spec": {"file": "spec.yaml", "sha256": "0" * 64, "variables": {}, "overrides": {}, "git": None},
            "attempts": [{"status": "completed", "submissions": []}],
            "jobs": [
                {"index": 0, "name": "counts", "primitive": "sampler", "status": "done", "file": "jobs/00-counts.json"}
            ],
        }
        if meta_change:
            meta_change(meta)
        files = {"r/metadata.json": json.dumps(meta), "r/spec.yaml": BASE}
        files.setdefault("r/jobs/00-counts.json", '{"status": "done", "counts": {"c": [{"00": 1}]}}')
        files.update({f"r/{k.replace('__', '/')}": v for k, v in extra.items()})
        return files

    def job_file(name: str):
        return lambda m: m["jobs"][0].update(file=name)

    for command in ("show", "status"):
        add(
            f"{command}-job-file-climbs-out",
            None,
            ["show" if command == "show" else command, "r"],
            run_folder(job_file("jobs/../../outside.txt")),
            both=False,
        )
    add("show-job-file-absolute", None, ["show", "r"], run_folder(job_file("/etc/passwd")), both=False)
    add(
        "show-job-file-symlink-out",
        None,
        ["show", "r"],
        run_folder(**{"jobs__00-counts.json": "SYMLINK:/etc/hostname"}),
        both=False,
    )
    add("show-metadata-is-dev-zero", None, ["show", "r"], {"r/metadata.json": "SYMLINK:/dev/zero"}, both=False)
    add("show-metadata-is-a-fifo", None, ["show", "r"], {"r/metadata.json": "FIFO"}, both=False)
    add("show-job-file-is-a-fifo", None, ["show", "r"], run_folder(**{"jobs__00-counts.json": "FIFO"}), both=False)
    add("list-with-a-fifo-run", None, ["list", "results"], {"results/hostile/r/metadata.json": "FIFO"}, both=False)
    add(
        "validate-beside-a-fifo-run",
        BASE,
        ["validate", "spec.yaml", "--out", "results"],
        {"results/hostile/r/metadata.json": "FIFO"},
        both=False,
    )
    for cid, change in [
        ("jobs-not-a-list", lambda m: m.update(jobs="x")),
        ("job-null", lambda m: m.update(jobs=[None])),
        ("job-name-a-number", lambda m: m["jobs"][0].update(name=7)),
        ("status-a-list", lambda m: m.update(status=["done"])),
        ("journal-negative", lambda m: m.update(journal=-1)),
    ]:
        # every view reads through the same checked reader: each damage through show, one of them through all
        for command in ("show", "status", "plot", "diff") if cid == "jobs-not-a-list" else ("show",):
            args = [command, "r", "r"] if command == "diff" else [command, "r"]
            add(f"{command}-{cid}", None, args, run_folder(change), both=False)
    add(
        "show-journal-line-of-wrong-types",
        None,
        ["show", "r"],
        run_folder(**{"events.jsonl": '{"set": {"5": {"status": "done"}}}\n{"top": {}}\n'}),
        both=False,
    )
    add(
        "show-journal-line-not-json",
        None,
        ["show", "r"],
        run_folder(**{"events.jsonl": '{"top": \n{"top": {}}\n'}),
        both=False,
    )
    add(
        "show-points-file-climbs-out",
        None,
        ["plot", "r"],
        run_folder(
            **{
                "jobs__00-counts.json": '{"job": "counts", "primitive": "sampler", "status": "done", '
                '"points_file": "../../x.points.jsonl"}'
            }
        ),
        both=False,
    )
    return out


def _materialize(files: dict, folder: Path) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "FIFO":
            os.mkfifo(path)
        elif isinstance(content, str) and content.startswith("SYMLINK:"):
            path.symlink_to(content.removeprefix("SYMLINK:"))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def start_case(case: dict) -> dict:
    """Fork a child that runs qrun's main() on the case under the limits; returns what finish_case needs."""
    from qrun.cli import main

    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    _materialize(case["files"], folder)
    err_path = folder.parent / f"{folder.name}.err"
    job = {"case": case, "folder": folder, "before": _snapshot(folder), "err_path": err_path, "start": time.monotonic()}
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.chdir(folder)
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
            signal.alarm(TIMEOUT)
            fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 2)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            sys.stderr = os.fdopen(2, "w", closefd=False)
            code = main(case["args"])
            sys.stderr.flush()
        except BaseException:  # anything escaping main() is itself a finding
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
            code = 99
        os._exit(code)
    job["pid"] = pid
    return job


def finish_case(job: dict, status: int) -> dict:
    folder = job["folder"]
    try:
        seconds = time.monotonic() - job["start"]
        err = job["err_path"].read_text(encoding="utf-8", errors="replace")
        job["err_path"].unlink()
        return {
            "id": job["case"]["id"],
            "code": os.waitstatus_to_exitcode(status),
            "err": err.replace(str(folder), "{dir}"),
            "seconds": seconds,
            "written": sorted(set(_snapshot(folder)) - set(job["before"])),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def in_part(cid: str, part: str | None) -> bool:
    """Whether a case belongs to part "K/N" of the corpus; an input and its /run case always share a part."""
    if part is None:
        return True
    import zlib

    k, n = (int(x) for x in part.split("/"))
    return zlib.crc32(cid.removesuffix("/run").encode()) % n == k


def run_all(part: str | None = None) -> list[dict]:
    # Warm the interpreter once so each forked case starts fast, qiskit included: most cases parse a circuit or run.
    # Unlimited, importing qiskit reserves over 1 GB of address space (OpenBLAS's buffers), so it is imported here
    # under the children's own limit, as a real qrun process under that limit would import it; the limit is then
    # lifted for the runner itself. One BLAS thread: the children are forked, and a thread does not survive a fork.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    import jinja2.sandbox  # noqa: F401
    import jsonschema  # noqa: F401

    import qrun.app.pipeline  # noqa: F401
    import qrun.spec.validate  # noqa: F401

    unlimited = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, unlimited[1]))
    for module in WARM:
        __import__(module)
    resource.setrlimit(resource.RLIMIT_AS, unlimited)

    # Two children at a time: the machine has two cores, and each case is a separate process anyway.
    pending, running, done = [c for c in cases() if in_part(c["id"], part)], {}, {}
    order = [c["id"] for c in pending]
    while pending or running:
        while pending and len(running) < WORKERS:
            job = start_case(pending.pop(0))
            running[job["pid"]] = job
        pid, status = os.wait()
        job = running.pop(pid)
        done[job["case"]["id"]] = finish_case(job, status)
    return [done[cid] for cid in order]


if __name__ == "__main__":
    given = sys.argv[sys.argv.index("--part") + 1] if "--part" in sys.argv else None
    results = run_all(given)
    if "--update" in sys.argv:
        # a successful case's stderr is progress with timings in it: only its exit code is pinned
        expected = {r["id"]: {"code": r["code"], "err": r["err"] if r["code"] else None} for r in results}
        EXPECTED.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
