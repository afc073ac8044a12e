"""Multi-process training on the Keras 3 distribution API (JAX backend), and its launcher.

Keras 3 does not work with TensorFlow's ``MultiWorkerMirroredStrategy``; data-parallel
training across processes and machines uses ``keras.distribution`` on JAX, with the
processes joined through JAX's coordinator (gloo collectives on CPU). The same settings
come from options or from environment variables, so that cluster launchers (Slurm,
Kubernetes, ``cnnsuite launch``) can set them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

from ._errors import UsageError

__all__ = ["Distributed", "launch", "select_backend"]

ENV_COORDINATOR = "CNNSUITE_COORDINATOR"
ENV_NUM_PROCESSES = "CNNSUITE_NUM_PROCESSES"
ENV_PROCESS_ID = "CNNSUITE_PROCESS_ID"


def select_backend(backend: str | None) -> None:
    """Make `backend` Keras' backend; it must happen before Keras is imported."""
    if backend is None:
        return
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise UsageError(f"--backend {backend}: Keras was already imported with the "
                             f"{keras.backend.backend()} backend in this process")
        return
    os.environ["KERAS_BACKEND"] = backend


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a data-parallel job."""

    coordinator: str | None
    num_processes: int
    process_id: int

    @property
    def is_chief(self) -> bool:
        """Process 0 writes the run record."""
        return self.process_id == 0

    @classmethod
    def from_options(cls, coordinator: str | None, num_processes: int | None,
                     process_id: int | None) -> Distributed:
        """Options first, then ``$CNNSUITE_COORDINATOR`` and friends; checked."""
        coordinator = coordinator or os.environ.get(ENV_COORDINATOR) or None
        try:
            n = int(num_processes if num_processes is not None
                    else os.environ.get(ENV_NUM_PROCESSES, "1"))
            i = int(process_id if process_id is not None
                    else os.environ.get(ENV_PROCESS_ID, "0"))
        except ValueError:
            raise UsageError(f"${ENV_NUM_PROCESSES} and ${ENV_PROCESS_ID} must be "
                             "integers") from None
        if n < 1 or not 0 <= i < n:
            raise UsageError(f"process id {i} is not in 0..{n - 1}")
        if n > 1 and not coordinator:
            raise UsageError(f"--distribute with {n} processes needs --coordinator HOST:PORT "
                             f"(or ${ENV_COORDINATOR})")
        return cls(coordinator, n, i)

    def initialize(self) -> None:
        """Join the job and make every device of every process one data-parallel mesh."""
        import keras

        if keras.backend.backend() != "jax":
            raise UsageError("--distribute needs --backend jax: Keras 3 trains across "
                             "processes on JAX (TensorFlow's MultiWorkerMirroredStrategy does "
                             "not work with Keras 3)")
        import jax

        if self.num_processes > 1:
            jax.config.update("jax_cpu_collectives_implementation", "gloo")  # type: ignore[no-untyped-call]
            keras.distribution.initialize(job_addresses=self.coordinator,
                                          num_processes=self.num_processes,
                                          process_id=self.process_id)
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=keras.distribution.list_devices()))


def localise(model: Any, rebuild: Any) -> Any:
    """A copy of a model trained under a distribution, as an ordinary local model.

    Variables of a data-parallel model are replicated across processes; each process
    holds a full copy, read here, and loads it into a model built without distribution,
    so that saving and predicting on NumPy arrays work as in a single-process run.
    """
    import keras
    import numpy as np

    weights = []
    for variable in model.weights:
        value = variable.value
        local = value.addressable_data(0) if hasattr(value, "addressable_data") else value
        weights.append(np.asarray(local))
    keras.distribution.set_distribution(None)
    fresh = rebuild()
    fresh.set_weights(weights)
    return fresh


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pump(stream: IO[str], prefix: str, out: IO[str]) -> None:
    for line in stream:
        out.write(f"{prefix}{line}")
        out.flush()


def launch(num_processes: int, args: list[str], port: int | None = None,
           grace_s: float = 10.0) -> int:
    """Run ``cnnsuite ARGS`` in `num_processes` local processes; stop all if one fails."""
    if num_processes < 1:
        raise UsageError("launch -n must be at least 1")
    port = port or free_port()
    procs: list[subprocess.Popen[str]] = []
    pumps = []
    for i in range(num_processes):
        env = {**os.environ, ENV_COORDINATOR: f"localhost:{port}",
               ENV_NUM_PROCESSES: str(num_processes), ENV_PROCESS_ID: str(i)}
        proc = subprocess.Popen([sys.executable, "-m", "cnnsuite", *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        procs.append(proc)
        print(f"[launch] process {i}: pid {proc.pid}", file=sys.stderr, flush=True)
        assert proc.stdout is not None
        pump = threading.Thread(target=_pump, args=(proc.stdout, f"[{i}] ", sys.stderr),
                                daemon=True)
        pump.start()
        pumps.append(pump)
    failed: tuple[int, int] | None = None
    try:
        while failed is None and any(p.poll() is None for p in procs):
            for i, proc in enumerate(procs):
                code = proc.poll()
                if code is not None and code != 0:
                    failed = (i, code)
                    break
            time.sleep(0.2)
        if failed is None:
            failed = next(((i, p.returncode) for i, p in enumerate(procs) if p.returncode), None)
    except KeyboardInterrupt:
        failed = (-1, 130)
    if failed is not None:
        _stop_all(procs, grace_s)
    for pump in pumps:
        pump.join(timeout=2)
    if failed is None:
        return 0
    index, code = failed
    if index >= 0:
        reason = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        print(f"[launch] process {index} failed ({reason}); stopped the other processes",
              file=sys.stderr, flush=True)
    return 1


def _stop_all(procs: list[subprocess.Popen[str]], grace_s: float) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
