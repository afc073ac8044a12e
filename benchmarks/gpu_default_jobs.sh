#!/usr/bin/env bash
# Default runs of plugins on a GPU machine that has JAX with CUDA but no TensorFlow, with
# wall-clock times and headline metrics in one table (train.pipeline=auto picks Python
# batches there). Usage, from the repository root:
#   bash benchmarks/gpu_default_jobs.sh [--cpu-too PLUGIN] PLUGIN[:--set key=value ...] ...
# Wheels that machine lacks (keras, namex, optree, rdkit, tomli-w for Python 3.12) are read
# from ./.whl when it exists. Results: $OUT/summary.md (or ./gpu-summary.md).
set -uo pipefail
out=${OUT:-.}
summary="$out/summary.md"
site=/tmp/cnnsuite-site
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site" .whl/*.whl || exit 1
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile \
    --target "$site" . plugins/images plugins/drugs plugins/anomaly plugins/video || exit 1
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=jax
export CNNSUITE_CACHE_DIR=/tmp/cnnsuite-cache PYTHONUNBUFFERED=1
cpu_too=""
if [ "${1:-}" = "--cpu-too" ]; then cpu_too=$2; shift 2; fi
{
    echo "device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
    echo "cores: $(nproc); python $(python3 -V 2>&1 | cut -d' ' -f2); $(python3 -c \
        'import jax, keras; print("jax", jax.__version__, jax.devices(), "keras", keras.__version__)')"
    echo
    echo "| job | platform | wall s | load / featurise / train / evaluate s | headline |"
    echo "|---|---|---|---|---|"
} > "$summary"
one() {  # one run: platform label, then the cnnsuite run arguments
    local label=$1; shift
    local start end dir
    start=$(date +%s.%N)
    dir=$(python3 -m cnnsuite run "$@" --backend jax --out /tmp/gpu-runs 2>"$out/last-stderr.txt" \
          | tail -n 1)
    end=$(date +%s.%N)
    python3 - "$dir" "$label" "$start" "$end" "$*" >> "$summary" <<'EOF'
import json, sys
from pathlib import Path
run_dir, label, start, end, args = sys.argv[1:]
try:
    run = json.loads((Path(run_dir) / "run.json").read_text())
    metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    t = run.get("timings_s", {})
    phases = " / ".join(f"{t.get(k, float('nan')):.1f}"
                        for k in ("load_s", "featurize_s", "train_s", "evaluate_s"))
    head = metrics["headline"]
    shown = f"{head['name']} = {head['value']:.4g} on {metrics.get('n_test')} test rows"
except Exception as exc:  # noqa: BLE001 - a failed run is reported in the table
    phases, shown = "failed", f"{type(exc).__name__}: {exc}"[:120]
print(f"| `cnnsuite run {args}` | {label} | {float(end) - float(start):.1f} | {phases} | {shown} |")
EOF
}
for job in "$@"; do
    IFS=':' read -r plugin extra <<< "$job"
    # shellcheck disable=SC2086  # the extra settings are separate words on purpose
    one GPU "$plugin" $extra
    if [ "$plugin" = "$cpu_too" ]; then
        JAX_PLATFORMS=cpu one "CPU ($(nproc) cores)" "$plugin" $extra
    fi
done
cat "$summary"
