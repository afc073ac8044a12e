"""Where expensive featurisation runs: this process, local processes, or a Dask cluster.

A plugin whose preprocessing is costly (conformers, mesh curvature, spectra of many
series) maps a per-record function over its records with the executor the user chose,
instead of starting a pool of its own::

    from cnnsuite.executors import cached_map, executor_for

    with executor_for(config) as executor:
        results = cached_map(featurise_one, smiles, executor=executor,
                             namespace="drugs-atoms", settings=feature_settings)

The user chooses with ``cnnsuite run PLUGIN --executor SPEC`` or
``--set featurize.executor=SPEC``:

- ``local`` (default): a pool of local processes, ``featurize.workers`` of them
  (0: one per core);
- ``serial``: this process only (debugging, tiny inputs);
- ``dask-local``: a Dask ``LocalCluster`` of ``featurize.workers`` single-threaded
  worker processes (``pip install "cnnsuite[dask]"``);
- ``dask://HOST:PORT`` (or ``tcp://HOST:PORT``): an existing Dask scheduler, whose
  workers must have the plugin installed.

`cached_map` keeps every record's result in shards under the cache folder,
content-addressed by the record and the featuriser's settings, so that a second run,
another seed or another split computes only what it has not seen; finished shards
survive an interrupted run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ._cache import cache_dir
from ._config import check_executor_spec
from ._records import atomic_write_bytes, to_jsonable

__all__ = ["DaskExecutor", "Executor", "MapStats", "ProcessExecutor", "SerialExecutor",
           "cached_map", "executor_for", "get_executor"]

class Executor(Protocol):
    """Maps a picklable function over items, keeping their order."""

    name: str
    workers: int

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            chunksize: int | None = None) -> list[Any]: ...

    def close(self) -> None: ...


def _chunksize(n: int, workers: int, chunksize: int | None) -> int:
    return chunksize or max(1, min(64, n // (4 * max(workers, 1))))


class SerialExecutor:
    """Everything in this process."""

    name = "serial"
    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            chunksize: int | None = None) -> list[Any]:
        return [fn(item) for item in items]

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A pool of local processes (``fork`` where the platform has it, else ``spawn``).

    Fork, because spawn re-imports the caller's ``__main__`` and breaks scripts without a
    main guard; the workers run only the featuriser (RDKit, trimesh, NumPy), never the
    parent's TensorFlow threads. A worker that dies (killed, out of memory) raises a
    `RuntimeError` that says so instead of hanging the run.
    """

    name = "local"

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            chunksize: int | None = None) -> list[Any]:
        if self.workers == 1 or len(items) < 2:
            return [fn(item) for item in items]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        size = _chunksize(len(items), self.workers, chunksize)
        try:
            with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
                return list(pool.map(fn, items, chunksize=size))
        except BrokenProcessPool as exc:
            raise RuntimeError(f"a featurisation worker process died ({exc}); rerun with "
                               "--executor serial to see the failing record, or with "
                               "fewer featurize.workers if memory ran out") from exc

    def close(self) -> None:
        pass


def _apply_chunk(fn: Callable[[Any], Any], chunk: Sequence[Any]) -> list[Any]:
    return [fn(item) for item in chunk]


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler, or a `LocalCluster` it starts."""

    def __init__(self, address: str | None = None, workers: int = 0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError('the dask executors need Dask: pip install "cnnsuite[dask]"'
                              ) from exc
        self._cluster = None
        if address is None:
            n = workers or os.cpu_count() or 1
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)
            self.name = "dask-local"
        else:
            self.client = Client(address, timeout=30)
            self.name = f"dask {address}"
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any],
            chunksize: int | None = None) -> list[Any]:
        size = _chunksize(len(items), self.workers, chunksize)
        chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
        token = secrets.token_hex(4)
        futures = [self.client.submit(_apply_chunk, fn, chunk, pure=False,
                                      key=f"cnnsuite-featurize-{token}-{i}")
                   for i, chunk in enumerate(chunks)]
        return [result for part in self.client.gather(futures) for result in part]

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def get_executor(spec: str = "local", workers: int = 0) -> Executor:
    """The executor named by `spec` (see the module docstring)."""
    spec = spec.strip()
    if spec == "local":
        return ProcessExecutor(workers)
    if spec == "serial":
        return SerialExecutor()
    if spec == "dask-local":
        return DaskExecutor(None, workers)
    if spec.startswith(("dask://", "tcp://", "tls://")):
        address = spec.removeprefix("dask://")
        if "://" not in address:
            address = f"tcp://{address}"
        return DaskExecutor(address, workers)
    check_executor_spec(spec)  # raises: no other spec is known
    raise AssertionError(spec)


@contextmanager
def executor_for(config: dict[str, Any]) -> Iterator[Executor]:
    """The executor a run's configuration asks for (``featurize.executor``, ``.workers``)."""
    section = config.get("featurize", {})
    executor = get_executor(str(section.get("executor", "local")),
                            int(section.get("workers", 0)))
    try:
        yield executor
    finally:
        executor.close()


# -- a sharded, content-addressed store of per-record results ---------------------------


@dataclass
class MapStats:
    """What the last `cached_map` call found in the store and what it computed."""

    cached: int = 0
    computed: int = 0
    not_stored: int = 0
    executor: str = ""


def _record_key(item: Any) -> str:
    digest = hashlib.sha256()
    if isinstance(item, np.ndarray):
        digest.update(f"{item.dtype}{item.shape}".encode())
        digest.update(np.ascontiguousarray(item).tobytes())
    elif isinstance(item, bytes):
        digest.update(item)
    else:
        digest.update(repr(item).encode())
    return digest.hexdigest()


def shard_folder(namespace: str, settings: Any) -> Path:
    """Where `cached_map` keeps the shards of `namespace` under `settings`."""
    blob = json.dumps(to_jsonable(settings), sort_keys=True, default=repr)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:24]
    return cache_dir() / "shards" / namespace / digest


def _load_shards(folder: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(folder.glob("*.pkl")):
        try:
            with path.open("rb") as handle:
                found.update(pickle.load(handle))
        except (OSError, EOFError, pickle.UnpicklingError):
            continue  # a damaged shard is recomputed, never trusted
    return found


def cached_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    executor: Executor | None = None,
    namespace: str,
    settings: Any,
    keep: Callable[[Any], bool] = lambda result: True,
    shard_size: int = 256,
    use_store: bool = True,
    stats: MapStats | None = None,
) -> list[Any]:
    """``[fn(item) for item in items]`` through `executor`, remembering results in shards.

    Results are stored under ``CACHE/shards/<namespace>/<settings digest>/`` in pickle
    shards of up to `shard_size` records, each written as soon as it is computed.
    Results for which `keep` is false (failures, whose reason may change with the
    software) are returned but not stored, so they are retried next time. Equal items
    are computed once. `stats`, when given, is filled in.
    """
    executor = executor or SerialExecutor()
    stats = stats if stats is not None else MapStats()
    stats.executor = executor.name
    keys = [_record_key(item) for item in items]
    folder = shard_folder(namespace, settings)
    found = _load_shards(folder) if use_store and folder.exists() else {}
    todo = list(dict.fromkeys(k for k in keys if k not in found))
    first = dict(zip(keys, items, strict=True))
    computed: dict[str, Any] = {}
    for start in range(0, len(todo), shard_size):
        part = todo[start:start + shard_size]
        results = executor.map(fn, [first[k] for k in part])
        chunk = dict(zip(part, results, strict=True))
        computed.update(chunk)
        stored = {k: v for k, v in chunk.items() if keep(v)}
        stats.not_stored += len(chunk) - len(stored)
        if use_store and stored:
            folder.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            pickle.dump(stored, buffer, protocol=pickle.HIGHEST_PROTOCOL)
            name = hashlib.sha256("".join(sorted(stored)).encode()).hexdigest()[:32]
            atomic_write_bytes(folder / f"{name}.pkl", buffer.getvalue())
    stats.cached = sum(1 for k in keys if k in found)
    stats.computed = len(keys) - stats.cached
    return [found[k] if k in found else computed[k] for k in keys]
