"""The plan: every job ready to submit, and everything running needs without looking at the spec again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from .budget import Budget
from .device import Deferred, built
from .experiment import Job, Optimizer, OptimizerSettings
from .words import counted

if TYPE_CHECKING:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.providers import BackendV2
    from qiskit.quantum_info import SparsePauliOp

    from ..planning import sweeps
    from .records import InstanceUsage


class JobStats(TypedDict, total=False):
    """What planning found of a job's work, for its estimate and `qrun plan` (planning/work.job_stats)."""

    runtime_jobs: int
    qubits: int
    depth: int
    shots: int
    simulated_qubits: Sequence[int]
    physical_qubits: Sequence[int]  # on a device: the qubit each of the circuit's qubits is read from
    broken: Sequence[tuple[str, Sequence[int], float]]  # gates and readouts with a reported error >= 0.5 (faulty.py)


@dataclass(frozen=True)
class Block:
    """Consecutive jobs (plan positions start..stop-1) that go out in one session or one batch, and why."""

    mode: str
    reason: str
    start: int
    stop: int


@dataclass(frozen=True)
class Rung:
    """One rung of a mitigation ladder, as planned: the options it adds up to, and what it will cost."""

    name: str
    options: dict[str, object]
    engine: str
    qpu_seconds: float
    estimate: float


class Planned(TypedDict, total=False):
    """The fields of a JobPlan that its job kind decides (jobs/kind.JobKind.planned)."""

    precision: float | None
    shots: int | None
    initial_point: np.ndarray | None
    optimizer: OptimizerSettings
    rungs: Sequence[Rung]


@dataclass(slots=True)
class JobPlan:
    """One job, ready to submit: the ISA circuit, mapped observables, parameter rows and final options."""

    index: int
    name: str
    primitive: str
    runs: str  # the runtime primitive its kind's runtime jobs use: how its sweep points and batches are shaped
    circuit_name: str
    circuit: QuantumCircuit
    parameter_names: Sequence[str]
    parameter_values: np.ndarray | None
    job: Job  # as the spec declares it
    observables: Sequence[tuple[str, SparsePauliOp]] = ()
    shots: int | None = None
    precision: float | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    estimate: float = 0.0
    # how many times the job submits its work, one after another (its kind's evaluations: a minimize loop's most)
    max_evaluations: int = 1
    # minimize: where to start, and how to optimize
    initial_point: np.ndarray | None = None
    optimizer: OptimizerSettings = field(default_factory=lambda: Optimizer().settings())
    # a later job bound to an earlier minimize job's optimum (parameter_values: {from: NAME})
    parameter_source: str | None = None
    # a swept job: its points in order (made on demand), each with the observable it measures (estimator); the
    # swept names; and how many points go out per runtime job (chunk)
    points: sweeps.Points | None = None
    sweep_variables: Sequence[str] = ()
    chunk: int = 0  # (set by the planner for a swept job)
    # a one-chunk sweep's broadcast groups, computed here once (a longer sweep's are made chunk by chunk); the
    # unswept parameters' columns hold 0.0 until the runner fills in their values (known only then for {from: ...})
    groups: Sequence[sweeps.Group] = ()
    # how the estimate was made, and what `qrun plan` shows
    estimate_source: str = "declared"
    content_hash: str = ""
    units: int = 1
    stats: JobStats = field(default_factory=lambda: JobStats())
    engine: str = "runtime-client-primitives"
    # a fake device: the device simulated (only the qubits the job uses), and which physical qubits those are
    # (the ISA circuit and observables on just those qubits; the runner submits these instead)
    device: BackendV2 | None = None
    simulated_qubits: Sequence[int] | None = None
    sim_circuit: QuantumCircuit | None = None
    # on a device: the physical qubit each of the circuit's qubits ends on (the ISA circuit's final layout), which its
    # results read: what its `layout:` asked for, after routing, or what the transpiler chose
    physical_qubits: Sequence[int] | None = None
    qpu_seconds: float = 0.0  # what a device would charge for the quantum work (0 on aer)
    # exact: statevector: the circuit as written and its observables, before transpilation (records computes)
    reference_circuit: QuantumCircuit | None = None
    reference_observables: Mapping[str, SparsePauliOp] = field(default_factory=dict)
    observable_units: Mapping[str, str] = field(default_factory=dict)  # observable -> unit, where declared
    run_key: int = 0  # which point of a multirun the job belongs to (0 for a single run)
    simulation_seconds: float = 0.0  # a fake device: this machine's time to simulate it with the device's noise
    sim_observables: Sequence[tuple[str, SparsePauliOp]] | None = None
    # a ladder: each rung's name, its options, its engine and its estimated QPU seconds (planning/plan.py)
    rungs: Sequence[Rung] = ()

    @property
    def file_stem(self) -> str:
        return f"{self.index:02d}-{self.name}"


@dataclass(frozen=True)
class ServiceEstimates:
    """Where the usage estimates came from ("dry_run", or "model" when the service gave none, with `reason`), and
    the service's estimate of each job's QPU seconds (all its runtime jobs), by job index."""

    source: str
    reason: str = ""
    seconds: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def line(self) -> str:
        """What `qrun plan` says about them."""
        if self.source == "model":
            return f"usage estimates: qrun's model; the service gave none ({self.reason})"
        return (
            f"usage estimates: the service's dry run says about {self.total:g} QPU seconds for "
            f"{counted(len(self.seconds), 'job')}{self.reason and f'; {self.reason}'}"
        )

    def record(self) -> dict[str, object]:
        return {"source": self.source, "reason": self.reason, "seconds": {str(k): v for k, v in self.seconds.items()}}


@dataclass
class Plan:
    """Everything the runner needs, and nothing it would have to look up in the spec."""

    name: str
    backend_name: str
    backend_kind: str
    backend: BackendV2 | Deferred  # Deferred: `qrun plan` of a fake device, which never builds its object
    mode: str  # session or batch, resolved from mode: auto by the spec's structure (modes.resolve)
    max_time: int
    seed: int | None
    jobs: list[JobPlan]
    budget: Budget
    # located problems only the plan can see (e.g. an estimate far below qrun's own figure): (path, message)
    problems: list[tuple[tuple[str | int, ...], str]] = field(default_factory=list)
    mode_reason: str = ""  # why the jobs go out in that mode
    # the service's own usage estimates from dry runs (planning/dryrun.py), on a service backend that allows them
    service_estimates: ServiceEstimates | None = None
    # the jobs cut into sessions and batches (modes.blocks): mode: auto opens a session only where one is needed
    blocks: list[Block] = field(default_factory=list)
    points: tuple[str, ...] = ()  # a multirun's points, by its jobs' run_key: how the views name a job's point
    sessions: bool = True  # False on an Open Plan instance, which opens none (modes.blocks)
    instance_usage: InstanceUsage | None = None  # on the service: its allocation, read at the pre-flight
    # on a device: each run of jobs it takes as one runtime job (planning.batches.on_the_device), worked out once for
    # the budget, `qrun plan`'s views and a multirun's points
    batches: tuple[range, ...] = ()

    @property
    def device(self) -> BackendV2:
        """The backend object itself, which running needs (built now if the plan deferred it)."""
        return built(self.backend)

    @property
    def qpu_seconds(self) -> float:
        return sum(j.qpu_seconds for j in self.jobs)

    @property
    def points_here(self) -> int:
        """How many of a multirun's points this plan runs: all of them, or one backend's (multirun.by_backend)."""
        return len({j.run_key for j in self.jobs})

    @property
    def total_estimate(self) -> float:
        return sum(j.estimate for j in self.jobs)
