"""A batch's jobs in one columnar file: each result field stacked over the batch's jobs, their JSON bodies beside.

A local run of many small jobs wrote one JSON file per job, each with its result in the runtime's JSON encoding
(zlib and base64 of every small array). At 10,000 jobs that record-keeping cost more than the simulation
(benchmarks/RESULTS.md). A batch file is an uncompressed `.npz` (numpy's zip of `.npy` arrays, no pickles):

- `index`: UTF-8 JSON, `{"format", "bodies", "pub_metadata", "pub_metadata_of", "metadata", "pub_type", "shape",
  "fields"}`: each job's JSON body (what its own file would hold, but for `primitive_result`), the distinct PUB
  result metadata and which one is each job's, the PrimitiveResult's metadata, and how to rebuild each data field
  (an array, or a BitArray of `num_bits`);
- `f.NAME`: data field NAME of every job's result, stacked: row k is job k's.

It is read as untrusted input, like every file of a run folder: stored (uncompressed) members only, each array's
header checked against its bytes before numpy sees them, no object arrays. numpy's own np.load would allocate what
a header claims before reading, and follows pickles when asked; qrun needs neither.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from ..errors import RunFolderError
from ..model.outcomes import StackedResults
from . import runfolder
from .fsio import JSON_OPTIONS, atomic_write_bytes, plain

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy as np
    from qiskit.primitives import PrimitiveResult

    from ..model.jobfile import JobFile

FORMAT = 1
INDEX = "index"
FIELD = "f."
# A local run of this many jobs or more keeps each PUB-batched runtime job's jobs in one file. A smaller run keeps a
# JSON file per job, which a person reads with any editor; at this size a file each costs little either way.
BATCH_FROM = 100
# A batch whose file would be larger (a batch of samplers of many shots) keeps a file per job instead: every reader
# reads at most runfolder.MAX_JOB_FILE_BYTES of one file, and holds the batch file it read last in memory.
MAX_BATCH_BYTES = 64 * 1024 * 1024


def store(run_dir: Path, relative: str, bodies: list[JobFile], results: Sequence[PrimitiveResult]) -> str | None:
    """Write `results` and their jobs' `bodies` as the batch file `relative` (atomic, not fsynced: a local run is
    recomputed cheaply); None, writing nothing, when they do not stack into columns."""
    layout = columns(results)
    data = None if layout is None else encode(layout, bodies, results)
    if data is None or len(data) > MAX_BATCH_BYTES:
        return None
    atomic_write_bytes(runfolder.member(run_dir, relative), data, durable=False)
    return relative


def columns(results: Sequence[PrimitiveResult]) -> dict[str, object] | None:
    """How `results` stack into columns: each field's kind and the shared shape, or None when they do not (another
    PUB count, field, shape or dtype; metadata JSON cannot write). Their jobs then get a file each."""
    import numpy as np
    from qiskit.primitives import BitArray, PubResult, SamplerPubResult

    if isinstance(results, StackedResults):  # stacked already: its arrays are the columns
        first = next(iter(results.fields.values()))
        if results.bits is not None:  # registers: each row a job's (sets, shots, bytes), as BitArray holds them
            return {
                "pub_type": "SamplerPubResult",
                "shape": list(first.shape[1:-2]),
                "fields": {name: {"type": "BitArray", "num_bits": results.bits[name]} for name in results.fields},
            }
        return {
            "pub_type": "PubResult",
            "shape": list(first.shape[1:]),
            "fields": {name: {"type": "ndarray"} for name in results.fields},
        }
    first = results[0]
    if len(first) != 1 or type(first[0]) not in (PubResult, SamplerPubResult):
        return None
    head = first[0].data
    fields: dict[str, dict[str, object]] = {}
    for name, value in head.items():
        if type(value) is BitArray:
            fields[name] = {"type": "BitArray", "num_bits": value.num_bits}
        elif type(value) is np.ndarray and not value.dtype.hasobject:
            fields[name] = {"type": "ndarray"}
        else:
            return None
    signature = _signature(first)
    if any(len(r) != 1 or type(r[0]) is not type(first[0]) or _signature(r) != signature for r in results[1:]):
        return None
    return {"pub_type": type(first[0]).__name__, "shape": list(head.shape), "fields": fields}


def _signature(result: PrimitiveResult) -> list[tuple[str, object, tuple[int, ...], int]]:
    from qiskit.primitives import BitArray

    pub = result[0]
    out = []
    for name, value in pub.data.items():
        if type(value) is BitArray:
            out.append((name, value.array.dtype, value.array.shape, value.num_bits))
        else:
            out.append((name, value.dtype, value.shape, -1))
    out.append(("", None, pub.data.shape, -2))
    return out


def encode(layout: dict[str, object], bodies: list[JobFile], results: Sequence[PrimitiveResult]) -> bytes | None:
    """The batch file's bytes, or None when a metadata value is not plain JSON (the jobs get a file each)."""
    import numpy as np
    from qiskit.primitives import BitArray

    if isinstance(results, StackedResults):
        metadata, index_of, top = results.pub_metadata, results.metadata_of, results.metadata
    else:
        distinct: dict[int, int] = {}  # the jobs of one PUB share its metadata: written once, named by position
        metadata = []
        for r in results:
            if id(r[0].metadata) not in distinct:
                distinct[id(r[0].metadata)] = len(metadata)
                metadata.append(r[0].metadata)
        index_of = [distinct[id(r[0].metadata)] for r in results]
        top = results[0].metadata
    try:  # orjson, as every file of a run: strict JSON (a NaN is null)
        index = orjson.dumps(
            {
                "format": FORMAT,
                **layout,
                "bodies": bodies,
                "pub_metadata": metadata,
                "pub_metadata_of": index_of,
                "metadata": top,
            },
            default=plain,
            option=JSON_OPTIONS,
        )
    except TypeError:  # orjson.JSONEncodeError: a value only the runtime's encoder writes
        return None
    arrays: dict[str, np.ndarray] = {INDEX: np.frombuffer(index, dtype=np.uint8)}
    if isinstance(results, StackedResults):
        arrays.update((FIELD + name, values) for name, values in results.fields.items())
    else:
        for name in results[0][0].data:
            values = [r[0].data[name] for r in results]
            arrays[FIELD + name] = np.stack([v.array if isinstance(v, BitArray) else v for v in values])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:  # what np.savez writes, with no pickle allowed
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return out.getvalue()


@dataclass(frozen=True)
class Batch:
    """A batch file read back: its index and its stacked fields."""

    path: Path
    index: dict[str, object]
    fields: dict[str, np.ndarray]

    @property
    def bodies(self) -> list[object]:
        bodies = self.index.get("bodies")
        return bodies if isinstance(bodies, list) else []

    def body(self, row: int) -> object:
        if not 0 <= row < len(self.bodies):
            raise RunFolderError(
                f"{self.path}: has no job {row} (it holds {len(self.bodies)}); the run folder is damaged"
            )
        return self.bodies[row]

    def result(self, row: int) -> PrimitiveResult:
        """Job `row`'s PrimitiveResult, as the primitive returned it."""
        from qiskit.primitives import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult

        self.body(row)
        layout = self.index.get("fields")
        pub_metadata = self.index.get("pub_metadata")
        shape = self.index.get("shape")
        if not (isinstance(layout, dict) and isinstance(pub_metadata, list) and isinstance(shape, list)):
            raise self._damaged("its index does not say how to rebuild a result")
        data: dict[str, object] = {}
        for name, how in layout.items():
            column = self.fields.get(FIELD + name)
            if column is None or len(column) <= row or not isinstance(how, dict):
                raise self._damaged(f"field {name!r} is missing or short")
            if how.get("type") == "BitArray" and isinstance(how.get("num_bits"), int):
                try:
                    data[name] = BitArray(column[row], how["num_bits"])
                except (TypeError, ValueError) as e:
                    raise self._damaged(f"field {name!r}: {e}") from None
            else:
                data[name] = column[row]
        kind = SamplerPubResult if self.index.get("pub_type") == "SamplerPubResult" else PubResult
        try:
            bin_ = DataBin(**data, shape=tuple(int(n) for n in shape))
        except (TypeError, ValueError) as e:
            raise self._damaged(f"its fields do not make a result: {e}") from None
        which = self.index.get("pub_metadata_of")
        k = which[row] if isinstance(which, list) and row < len(which) and isinstance(which[row], int) else -1
        meta = pub_metadata[k] if 0 <= k < len(pub_metadata) and isinstance(pub_metadata[k], dict) else {}
        top = self.index.get("metadata")
        return PrimitiveResult([kind(bin_, metadata=meta)], metadata=top if isinstance(top, dict) else {})

    def _damaged(self, what: str) -> RunFolderError:
        return RunFolderError(f"{self.path}: {what}; the run folder is damaged")


_LAST: list[tuple[tuple[str, int, int, int], Batch]] = []  # the batch file read last: its jobs are read in a row


def read(run_dir: Path, relative: str, limit: int = runfolder.MAX_JOB_FILE_BYTES) -> Batch | None:
    """The batch file `relative` inside `run_dir`, checked (None while there is none); the one read last is kept
    while it is unchanged, since a reader takes its jobs one after another."""
    path = runfolder.member(run_dir, relative)
    try:
        st = os.stat(path, follow_symlinks=False)
        key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        key = (str(path), -1, -1, -1)
    if _LAST and _LAST[0][0] == key:
        return _LAST[0][1]
    data = runfolder.read_bytes(run_dir, relative, limit, missing_ok=True)
    if data is None:
        return None
    batch = parse(path, data)
    _LAST[:] = [(key, batch)]
    return batch


def parse(path: Path, data: bytes) -> Batch:
    """A batch file's bytes, checked member by member; RunFolderError naming the file and what is wrong."""
    import numpy as np

    def damaged(what: str) -> RunFolderError:
        return RunFolderError(f"{path}: {what}; the run folder is damaged")

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise damaged("is not a batch file (numpy .npz)") from None
    arrays: dict[str, np.ndarray] = {}
    for info in members:
        name = info.filename.removesuffix(".npy")
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
            raise damaged(f"member {info.filename!r} is compressed or larger than the file")
        if name != INDEX and not name.startswith(FIELD):
            raise damaged(f"member {info.filename!r} is not one qrun writes")
        try:
            arrays[name] = npy_array(archive.read(info))
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise damaged(f"member {info.filename!r}: {e}") from None
    raw = arrays.pop(INDEX, None)
    if raw is None or raw.dtype != np.uint8:
        raise damaged("has no index")
    try:  # the run folder's own JSON reader (orjson, and json for what orjson refuses), with this file's wording
        index = runfolder.parse_json(path, raw.tobytes())
    except RunFolderError:
        raise damaged("its index is not valid JSON") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT or not isinstance(index.get("bodies"), list):
        raise damaged(f"its index is not a format-{FORMAT} batch index")
    return Batch(path, index, arrays)


def npy_array(blob: bytes, fortran_order: bool = False) -> np.ndarray:
    """One `.npy` file or member as a read-only array over its bytes: its header must describe exactly the bytes that
    follow and a plain (no object) dtype; ValueError otherwise. np.load would allocate what a header claims first.
    `fortran_order`: a column-major array is taken too (np.save writes a transposed array so)."""
    import numpy as np
    from numpy.lib import format as npy

    stream = io.BytesIO(blob)
    version = npy.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = npy.read_array_header_2_0(stream)
    else:
        raise ValueError(f"npy version {version} is not one numpy's savez writes")
    if dtype.hasobject:
        raise ValueError("holds objects (a pickle), which qrun does not load")
    if fortran and not fortran_order:
        raise ValueError("holds Fortran-ordered data, which qrun never writes")
    count = 1
    for n in shape:
        count *= int(n)
    start = stream.tell()
    if len(blob) - start != count * dtype.itemsize:
        raise ValueError(f"its header says {count} values of {dtype.itemsize} bytes, its data is {len(blob) - start}")
    return np.frombuffer(blob, dtype=dtype, count=count, offset=start).reshape(shape, order="F" if fortran else "C")
