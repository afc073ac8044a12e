"""How long `cnnsuite list` takes, against `python -c pass`, in one run.

    .venv/bin/python benchmarks/cli_startup.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cnnsuite list": [sys.executable, "-m", "cnnsuite", "list"],
        "cnnsuite info images": [sys.executable, "-m", "cnnsuite", "info", "images"],
    }
    # interleave the commands so that machine noise hits them alike
    results: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, cmd in commands.items():
            results[name] += _time(cmd, 1)
    base = statistics.median(results["python -c pass"])
    print(f"| command | median (s) | min (s) | ratio to python -c pass |  (n={args.repeat})")
    print("|---|---|---|---|")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"| `{name}` | {med:.3f} | {min(times):.3f} | {med / base:.1f}x |")


if __name__ == "__main__":
    main()
