"""Every spec `make bench` runs is one qrun accepts: a benchmark whose spec a newer check refuses stops the whole
`make bench` where it stands (transpile_100's 100-qubit circuit did, once qrun refused circuits wider than a
simulated device's statevector on this machine)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import engines_and_validate  # noqa: E402
import scale  # noqa: E402
import scale_sweeps  # noqa: E402
import sweep_200  # noqa: E402
import transpile_100  # noqa: E402
import transpile_heavy  # noqa: E402

SPECS = {
    "engines, auto": engines_and_validate.ENGINE_SPEC.replace("ENGINE", "auto"),
    "engines, runtime": engines_and_validate.ENGINE_SPEC.replace("ENGINE", "runtime"),
    "validate, 1,000 jobs": engines_and_validate.big_spec(),
    "small estimator jobs": scale.spec(50),
    "small sampler jobs": scale.spec(50, scale.SAMPLER_JOB),
    "one job of many rows": scale.rows_spec(50),
    "sweep": scale_sweeps.SWEEP.replace("POINTS", "10000"),
    "width 24": scale_sweeps.WIDE.replace("QUBITS", "24")
    .replace("OBS", "I" * 23)
    .replace("VALUES", scale_sweeps._values(96)),
    "dask": scale_sweeps.DASK.replace("POINTS", "1000").replace("VALUES", scale_sweeps._values(72)),
    "sweep-200": sweep_200.spec_text(),
    "transpile-100": transpile_100.SPEC,
    "transpile-heavy": transpile_heavy.SPEC,
}


@pytest.mark.parametrize("name", SPECS)
def test_each_benchmark_spec_passes_qrun_validate(name, qrun, write_spec):
    result = qrun("validate", write_spec(SPECS[name], "bench.yaml"))
    assert result.code == 0, result.err
