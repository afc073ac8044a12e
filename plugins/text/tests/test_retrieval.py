"""Retrieval: pair loading, ranking metrics on known rankings, the loss, a quick run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnsuite import BadInputError
from cnnsuite._runner import predict_run, run
from cnnsuite_text import retrieval

CFG = {"files": "*", "encoding": "auto", "fallback_encoding": "cp1252"}
RCFG = {"query_column": "auto", "document_column": "auto", "relevance_column": "auto"}


def test_pairs_with_and_without_relevance(tmp_path: Path) -> None:
    (tmp_path / "p.tsv").write_text("query\tdocument\trelevance\ncats\tcats purr\t2\n"
                                    "cats\tdogs bark\t0\ndogs\t\t1\ndogs\tdogs bark\thigh\n")
    pairs = retrieval.load_pairs(tmp_path / "p.tsv", CFG, RCFG)
    assert pairs.items == [("cats", "cats purr"), ("cats", "dogs bark")]
    assert pairs.targets.tolist() == [2.0, 0.0] and pairs.groups.tolist() == [0, 0]
    assert sorted(r.reason.split(" ")[0] for r in pairs.rejected) == ["empty", "relevance"]
    (tmp_path / "q.jsonl").write_text('{"question": "a", "passage": "b"}\n')
    assert retrieval.load_pairs(tmp_path / "q.jsonl", CFG, RCFG).targets.tolist() == [1.0]
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(BadInputError, match="query column"):
        retrieval.load_pairs(tmp_path / "bad.csv", CFG, RCFG)


def test_ranking_metrics_on_a_known_ranking() -> None:
    # query q1 ranks d2 above its relevant d1; q2 ranks its relevant d2 first
    q1, q2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    d1, d2 = np.array([0.6, 0.8]), np.array([0.8, 0.6])
    pairs = [("q1", "d1"), ("q2", "d2"), ("q2", "d1")]
    vectors = np.stack([np.r_[q1, d1], np.r_[q2, d2], np.r_[q2, d1]])
    rel = np.array([1.0, 1.0, 0.0])
    values = retrieval.ranking_metrics(vectors, pairs, rel, [1, 2]).values
    # q1: d2 (0.8) then d1 (0.6): rank 2; q2: d1 (0.8) then d2 (0.6): rank 2
    assert values["mrr"] == pytest.approx(0.5)
    assert values["recall@1"] == 0.0 and values["recall@2"] == 1.0
    assert values["ndcg@2"] == pytest.approx(1 / np.log2(3))


def test_loss_prefers_matching_pairs_and_ignores_same_query_documents() -> None:
    loss = retrieval.InBatchSoftmaxLoss(gamma=10.0)
    eye = np.eye(3, dtype="float32")
    matched = float(loss(np.ones(3), np.concatenate([eye, eye], axis=1)))
    crossed = float(loss(np.ones(3), np.concatenate([eye, eye[[1, 2, 0]]], axis=1)))
    assert matched < 0.01 < crossed
    # two pairs of one query, with two different relevant documents: neither is a negative
    q = np.array([[1, 0], [1, 0]], dtype="float32")
    d = np.array([[1, 0], [0.6, 0.8]], dtype="float32")
    assert float(loss(np.ones(2), np.concatenate([q, d], axis=1))) < 5.0


@pytest.mark.slow
def test_quick_retrieval_run_ranks_documents(tmp_path: Path) -> None:
    result = run("text", quick=True, out=tmp_path, overrides=["task=retrieve"])
    assert result.metrics["mrr"] >= 0.6
    assert {"ndcg@10", "recall@5"} <= set(result.metrics)
    rows, rejected = predict_run(result.run_dir, [
        "excellent music", "sadly , the film is dull .", "", "the soundtrack is great ."])
    assert [r["rank"] for r in rows] == [1, 2] and len(rejected) == 1
    assert rows[0]["input"] == "the soundtrack is great ."
