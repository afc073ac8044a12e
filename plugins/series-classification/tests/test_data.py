"""Loaders on small files the tests write: UCR .tsv, .ts, ARFF, long CSV; bundled sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnsuite import BadInputError
from cnnsuite_series_classification import data

TS_HEADER = """@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
"""


def test_ucr_tsv_label_first_and_nan_padded_tails(tmp_path: Path) -> None:
    path = tmp_path / "Toy_TRAIN.tsv"
    path.write_text("1\t0.5\t1.5\t2.5\n2\t3.0\t4.0\tNaN\n1\t1.0\t2.0\t3.0\n")
    series, labels = data.read_series_file(path)
    assert labels == ["1", "2", "1"]
    np.testing.assert_allclose(series[0], [[0.5, 1.5, 2.5]])
    assert np.isnan(series[1][0, 2])  # trimmed later by the preprocessing policy


def test_ts_multivariate_unequal_with_missing(tmp_path: Path) -> None:
    path = tmp_path / "toy.ts"
    path.write_text(TS_HEADER + "1,2,3:4,5,6:up\n1,?,3,4:4,5,6,7:down\n")
    series, labels = data.read_series_file(path)
    assert labels == ["up", "down"]
    assert [s.shape for s in series] == [(2, 3), (2, 4)]
    assert np.isnan(series[1][0, 1])


def test_arff_univariate(tmp_path: Path) -> None:
    path = tmp_path / "toy.arff"
    path.write_text("@relation toy\n@attribute att0 numeric\n@attribute att1 numeric\n"
                    "@attribute att2 numeric\n@attribute target {a,b}\n@data\n"
                    "1.0,2.0,3.0,a\n3.0,2.0,1.0,b\n")
    series, labels = data.read_series_file(path)
    assert labels == ["a", "b"]
    np.testing.assert_allclose(series[1], [[3.0, 2.0, 1.0]])


def test_long_csv_sorted_by_time(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("series_id,time,x,y,label\n"
                    "s1,2,3.0,30,walk\ns1,1,2.0,20,walk\ns1,0,1.0,10,walk\n"
                    "s2,0,5.0,50,run\ns2,1,6.0,,run\n")
    series, labels = data.read_series_file(path)
    assert labels == ["walk", "run"]
    np.testing.assert_allclose(series[0], [[1.0, 2.0, 3.0], [10, 20, 30]])
    assert series[1].shape == (2, 2) and np.isnan(series[1][1, 1])


def test_long_csv_without_series_id_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(BadInputError, match="series_id"):
        data.read_series_file(path)


def test_train_test_pair_keeps_the_official_split(tmp_path: Path) -> None:
    (tmp_path / "Toy_TRAIN.tsv").write_text("1\t1\t2\t3\n2\t3\t2\t1\n")
    (tmp_path / "Toy_TEST.tsv").write_text("2\t3\t2\t0\n1\t0\t2\t3\n3\t0\t0\t0\n")
    for source in (tmp_path, tmp_path / "Toy_TEST.tsv"):
        examples = data.load(str(source), "GunPoint")
        assert list(examples.subset) == ["train", "train", "test", "test", "test"]
        assert examples.class_names == ["1", "2", "3"]
        assert list(examples.targets) == [0, 1, 1, 0, 2]


def test_single_file_lets_the_host_split(tmp_path: Path) -> None:
    path = tmp_path / "all.tsv"
    path.write_text("a\t1\t2\nb\t2\t1\n")
    examples = data.load(str(path), "GunPoint")
    assert examples.subset is None and len(examples) == 2


def test_unknown_format_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(BadInputError, match="unknown series format"):
        data.read_series_file(tmp_path / "x.json")
    with pytest.raises(BadInputError, match="no such file or folder"):
        data.load(str(tmp_path / "missing.tsv"), "GunPoint")
    with pytest.raises(BadInputError, match="unknown bundled data set"):
        data.load(None, "NoSuchSet")


@pytest.mark.parametrize(("name", "n_train", "n_test", "channels"), [
    ("GunPoint", 50, 150, 1), ("BasicMotions", 40, 40, 6), ("JapaneseVowels", 270, 370, 12),
])
def test_bundled_sets_with_official_split(name: str, n_train: int, n_test: int,
                                          channels: int) -> None:
    examples = data.load(None, name)
    assert int(np.sum(examples.subset == "train")) == n_train
    assert int(np.sum(examples.subset == "test")) == n_test
    assert examples.items[0].shape[0] == channels
