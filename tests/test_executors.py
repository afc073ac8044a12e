"""The featurisation executors and the sharded store of per-record results."""

from __future__ import annotations

import operator
from pathlib import Path

import pytest

from cnnsuite import ConfigError
from cnnsuite._cli import main
from cnnsuite.executors import MapStats, cached_map, get_executor, shard_folder

ITEMS = list(range(-40, 40))


@pytest.mark.parametrize("spec", ["serial", "local"])
def test_local_executors_keep_order(spec: str) -> None:
    executor = get_executor(spec, workers=2)
    try:
        assert executor.map(operator.neg, ITEMS) == [-i for i in ITEMS]
        assert executor.map(operator.neg, []) == []
    finally:
        executor.close()


@pytest.mark.slow
def test_dask_local_cluster_keeps_order() -> None:
    pytest.importorskip("distributed")
    executor = get_executor("dask-local", workers=2)
    try:
        assert executor.workers == 2
        assert executor.map(operator.neg, ITEMS, chunksize=7) == [-i for i in ITEMS]
    finally:
        executor.close()


def test_bad_executor_spec_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="featurize.executor"):
        get_executor("spark://x")


def test_cli_rejects_a_bad_executor_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "images", "--quick", "--executor", "spark://x"]) == 2
    assert "featurize.executor" in capsys.readouterr().err


def test_cached_map_computes_each_record_once_and_retries_failures(tmp_path: Path) -> None:
    calls: list[str] = []

    def featurise(item: str) -> str | int:
        calls.append(item)
        return "cannot parse" if item.startswith("bad") else len(item)

    items = ["CCO", "c1ccccc1", "bad1", "CCO", "CCN"]
    settings = {"grid": 24, "resolution": 1.0}
    stats = MapStats()
    first = cached_map(featurise, items, namespace="t", settings=settings, shard_size=2,
                       keep=lambda r: not isinstance(r, str), stats=stats)
    assert first == [3, 8, "cannot parse", 3, 3]
    assert sorted(calls) == sorted(["CCO", "c1ccccc1", "bad1", "CCN"])  # CCO once
    assert (stats.cached, stats.computed, stats.not_stored) == (0, 5, 1)
    assert len(list(shard_folder("t", settings).glob("*.pkl"))) == 2

    calls.clear()
    again = cached_map(featurise, items + ["CCCC"], namespace="t", settings=settings,
                       keep=lambda r: not isinstance(r, str), stats=stats)
    assert again == first + [4]
    assert sorted(calls) == ["CCCC", "bad1"]  # the failure is retried, the rest are stored
    assert (stats.cached, stats.computed) == (4, 2)

    calls.clear()
    cached_map(featurise, items, namespace="t", settings={**settings, "grid": 32})
    assert len(calls) == 4  # other settings, other shards


def test_damaged_shard_is_recomputed(tmp_path: Path) -> None:
    settings = {"v": 1}
    cached_map(operator.neg, [1, 2, 3], namespace="d", settings=settings)
    for shard in shard_folder("d", settings).glob("*.pkl"):
        shard.write_bytes(b"not a pickle")
    stats = MapStats()
    assert cached_map(operator.neg, [1, 2, 3], namespace="d", settings=settings,
                      stats=stats) == [-1, -2, -3]
    assert stats.computed == 3
