"""Loaders: class files, label-first lines, tables, given splits, encodings, bad lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnsuite import BadInputError
from cnnsuite_text import data

CFG = {"source": "generated", "n": 100, "limit": 0, "files": "*", "format": "auto",
       "encoding": "auto", "fallback_encoding": "cp1252", "text_column": "auto",
       "label_column": "auto"}


def test_class_files_decode_latin1_lines_and_reject_empty_ones(tmp_path: Path) -> None:
    (tmp_path / "reviews.pos").write_bytes(b"a lovely film\n" + "café olé\n"
                                           .encode("latin-1") + b"\n   \nsuperb\n")
    (tmp_path / "reviews.neg").write_bytes(b"dull\nboring \x93stuff\x94\n")
    examples = data.load(str(tmp_path), CFG, seed=0)
    assert examples.class_names == ["neg", "pos"]
    assert len(examples) == 5
    assert "café olé" in examples.items and "boring \u201cstuff\u201d" in examples.items
    assert [r.reason for r in examples.rejected] == ["empty line", "empty line"]
    assert examples.meta["encodings"]["cp1252"] == 2


def test_strict_encoding_rejects_undecodable_lines(tmp_path: Path) -> None:
    (tmp_path / "x.pos").write_bytes(b"good\n\xff\xfe bad bytes\n")
    (tmp_path / "x.neg").write_bytes(b"bad\n")
    examples = data.load(str(tmp_path), {**CFG, "encoding": "utf-8"}, seed=0)
    assert len(examples) == 2
    assert examples.rejected[0].id == "x.pos:2"
    assert "undecodable" in examples.rejected[0].reason


def test_prefix_path_stands_for_sibling_files(tmp_path: Path) -> None:
    (tmp_path / "rt.pos").write_text("good\n")
    (tmp_path / "rt.neg").write_text("bad\n")
    (tmp_path / "other.txt").write_text("0 unrelated\n")
    examples = data.load(str(tmp_path / "rt"), CFG, seed=0)
    assert sorted(examples.items) == ["bad", "good"]
    examples = data.load(str(tmp_path), {**CFG, "files": "rt.*"}, seed=0)
    assert len(examples) == 2


def test_label_first_split_files(tmp_path: Path) -> None:
    (tmp_path / "sst.train").write_text("1 a fine film\n0 a dull film\n1 great\n")
    (tmp_path / "sst.dev").write_text("0 meh\n")
    (tmp_path / "sst.test").write_text("1 loved it\n0\n")
    examples = data.load(str(tmp_path), CFG, seed=0)
    assert examples.class_names == ["0", "1"]
    assert examples.subset is not None
    assert examples.subset.tolist() == ["train"] * 3 + ["val", "test"]
    assert examples.items[0] == "a fine film" and examples.targets.tolist()[:3] == [1, 0, 1]
    assert [r.reason for r in examples.rejected] == ["no sentence after the label"]


def test_trec_style_labels_sort_as_numbers(tmp_path: Path) -> None:
    lines = [f"{k} question {k}" for k in (10, 2, 1, 0)]
    (tmp_path / "q.train.all").write_text("\n".join(lines) + "\n")
    (tmp_path / "q.test.all").write_text("2 which one ?\n")
    examples = data.load(str(tmp_path), CFG, seed=0)
    assert examples.class_names == ["0", "1", "2", "10"]


def test_csv_tsv_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('id,Text,label\n1,"good, really",pos\n2,,neg\n3,bad,neg\n')
    examples = data.load(str(tmp_path / "a.csv"), CFG, seed=0)
    assert examples.items == ["good, really", "bad"] and examples.class_names == ["neg", "pos"]
    assert len(examples.rejected) == 1
    (tmp_path / "b.tsv").write_text("sentence\tsentiment\nnice\t1\nawful\t0\n")
    assert data.load(str(tmp_path / "b.tsv"), CFG, seed=0).items == ["nice", "awful"]
    (tmp_path / "c.jsonl").write_text('{"text": "nice", "label": "p"}\nnot json\n'
                                      '{"text": "bad", "label": "n"}\n')
    examples = data.load(str(tmp_path / "c.jsonl"), CFG, seed=0)
    assert examples.items == ["nice", "bad"]
    assert "bad JSON" in examples.rejected[0].reason
    with pytest.raises(BadInputError, match="label column"):
        (tmp_path / "d.csv").write_text("text,score\nx,1\n")
        data.load(str(tmp_path / "d.csv"), CFG, seed=0)


def test_nothing_usable_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "e.pos").write_text("\n\n")
    (tmp_path / "e.neg").write_text("\n")
    with pytest.raises(BadInputError, match="no usable sentences"):
        data.load(str(tmp_path), CFG, seed=0)
    with pytest.raises(BadInputError, match="no such file"):
        data.load(str(tmp_path / "missing"), CFG, seed=0)


def test_generated_reviews_are_seeded_and_need_negation() -> None:
    a = data.generated_reviews(200, seed=3)
    b = data.generated_reviews(200, seed=3)
    assert a.items == b.items and np.array_equal(a.targets, b.targets)
    negated = [t for t in a.items if " not " in f" {t} " and ", but" not in t]
    assert negated and 0.3 < a.targets.mean() < 0.7


@pytest.mark.realdata
def test_real_mr_loads_every_line(text_data: Path) -> None:
    examples = data.load(str(text_data / "rt-polarity"), CFG, seed=0)
    assert len(examples) == 10662 and examples.class_names == ["neg", "pos"]
    assert examples.rejected == []
    assert sum(examples.meta["encodings"].values()) == 10662
