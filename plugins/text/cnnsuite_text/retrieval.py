"""Query-document retrieval, CLSM style (Shen et al., 2014): twin convolutional encoders.

Query and document go through one shared encoder (word-piece embeddings, a convolution
of width 3, max-over-time pooling, a tanh semantic layer); relevance is the cosine of
the two vectors. Training maximises the softmax of the relevant document's cosine,
scaled by gamma, against the other documents of the batch, which serve as the sampled
negatives. The model outputs ``[query vector, document vector]`` per pair, so the
host's per-example training and prediction work unchanged; `InBatchSoftmaxLoss` forms
the batch's cosine matrix from them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from cnnsuite import BadInputError, Examples, Metrics, Rejected

from .data import decode_lines, read_rows, source_files
from .model import SentenceConvolutions

QUERY_COLUMNS = ("query", "question", "q", "search")
DOCUMENT_COLUMNS = ("document", "doc", "passage", "text", "answer", "title", "d")
RELEVANCE_COLUMNS = ("relevance", "label", "score", "rel", "grade")


@keras.saving.register_keras_serializable(package="cnnsuite_text")
class InBatchSoftmaxLoss(keras.losses.Loss):
    """Softmax over each query's relevant document and the batch's other documents.

    ``y_pred`` is ``[q | d]`` (unit vectors); pairs whose relevance (``y_true``) is not
    positive add no term of their own but still serve as negatives.
    """

    def __init__(self, gamma: float = 10.0, name: str = "in_batch_softmax",
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.gamma = float(gamma)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        dim = ops.shape(y_pred)[-1] // 2
        q, d = y_pred[:, :dim], y_pred[:, dim:]
        logits = self.gamma * ops.matmul(q, ops.transpose(d))
        # another pair of the same query holds a relevant document, not a negative
        n = ops.shape(logits)[0]
        same_query = ops.logical_and(ops.matmul(q, ops.transpose(q)) > 1.0 - 1e-5,
                                     ops.logical_not(ops.eye(n, dtype="bool")))
        logits = ops.where(same_query, ops.full_like(logits, -1e9), logits)
        labels = ops.arange(n)
        per_query = keras.losses.sparse_categorical_crossentropy(labels, logits,
                                                                 from_logits=True)
        weight = ops.cast(ops.reshape(y_true, (-1,)) > 0, per_query.dtype)
        return per_query * weight * ops.cast(ops.shape(weight)[0], per_query.dtype) / \
            ops.maximum(ops.sum(weight), 1.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma}


def build_clsm(vocab_size: int, cfg: dict[str, Any]) -> keras.Model:
    """A compiled twin encoder over ``{"query": ids, "document": ids}``."""
    query = keras.Input(shape=(None,), dtype="int32", name="query")
    document = keras.Input(shape=(None,), dtype="int32", name="document")
    embed = keras.layers.Embedding(vocab_size, int(cfg["embedding_dim"]), mask_zero=True,
                                   name="embedding")
    convolve = SentenceConvolutions([3], int(cfg["conv_maps"]), activation="tanh",
                                    name="convolutions")
    semantic = keras.layers.Dense(int(cfg["semantic_dim"]), activation="tanh",
                                  name="semantic")
    unit = keras.layers.UnitNormalization(name="unit")
    vectors = [unit(semantic(convolve(embed(x)))) for x in (query, document)]
    outputs = keras.layers.Concatenate(name="query_document")(vectors)
    model = keras.Model({"query": query, "document": document}, outputs, name="clsm")
    model.compile(optimizer=keras.optimizers.Adam(float(cfg["learning_rate"])),
                  loss=InBatchSoftmaxLoss(float(cfg["gamma"])))
    return model


# -- data -----------------------------------------------------------------------------------

def _column(names: list[str], wanted: str, preferred: tuple[str, ...], role: str,
            path: Path, required: bool = True) -> str | None:
    if wanted != "auto":
        if wanted not in names:
            raise BadInputError(f"{path}: no column {wanted!r} (columns: {names}); "
                                f"set retrieval.{role}_column")
        return wanted
    lowered = {n.lower(): n for n in names}
    for name in preferred:
        if name in lowered:
            return lowered[name]
    if required:
        raise BadInputError(f"{path}: cannot tell the {role} column among {names}; "
                            f"set retrieval.{role}_column")
    return None


def load_pairs(source: Path, cfg: dict[str, Any], rcfg: dict[str, Any]) -> Examples:
    """Query-document pairs with optional graded relevance, from CSV/TSV/JSONL files.

    Pairs of one query stay in one split (``groups``); a missing relevance means 1.
    """
    queries: list[str] = []
    documents: list[str] = []
    relevance: list[float] = []
    ids: list[str] = []
    rejected: list[Rejected] = []
    for path in source_files(source, cfg.get("files", "*")):
        table = read_rows(path, cfg)
        rejected += table.rejected
        q_col = _column(table.names, rcfg["query_column"], QUERY_COLUMNS, "query", path)
        d_col = _column(table.names, rcfg["document_column"], DOCUMENT_COLUMNS, "document",
                        path)
        r_col = _column(table.names, rcfg["relevance_column"], RELEVANCE_COLUMNS,
                        "relevance", path, required=False)
        for where, record in table.rows:
            q, d = str(record.get(q_col) or "").strip(), str(record.get(d_col) or "").strip()
            if not q or not d:
                rejected.append(Rejected(where, "empty query or document", str(path)))
                continue
            try:
                rel = float(record.get(r_col, 1) if r_col else 1)
            except (TypeError, ValueError):
                rejected.append(Rejected(where, f"relevance {record.get(r_col)!r} is not a "
                                         "number", str(path)))
                continue
            queries.append(q)
            documents.append(d)
            relevance.append(rel)
            ids.append(where)
    if not queries:
        raise BadInputError(f"{source}: no usable query-document pairs "
                            f"({len(rejected)} rows rejected)")
    index = {q: i for i, q in enumerate(dict.fromkeys(queries))}
    return Examples(items=list(zip(queries, documents, strict=True)),
                    targets=np.array(relevance, dtype="float32"), ids=ids,
                    groups=np.array([index[q] for q in queries]), task="retrieval",
                    rejected=rejected, meta={"source": str(source)})


SYNONYMS = {"good": "decent", "great": "excellent", "wonderful": "marvellous",
            "funny": "hilarious", "clever": "smart", "boring": "dull", "bad": "poor",
            "awful": "terrible", "beautiful": "gorgeous", "moving": "touching",
            "silly": "goofy", "predictable": "formulaic"}
SUBJECT_WORDS = {"the film": "film", "this movie": "movie", "the plot": "plot",
                 "the acting": "acting", "the script": "script", "the cast": "cast",
                 "the soundtrack": "music", "the ending": "ending", "the dialogue": "dialogue",
                 "the story": "story", "the cinematography": "camera work",
                 "the screenplay": "screenplay", "the sequel": "sequel"}


def generated_pairs(n_queries: int, seed: int, docs_per_query: int = 3) -> Examples:
    """Search queries and the reviews that answer them (a documented generator).

    Each query asks for an aspect and a quality (``"excellent music"``), often through a
    synonym; its relevant documents are review sentences about that aspect with that
    adjective (relevance 2) or with it negated (relevance 1).
    """
    from .data import INTENSIFIERS, NEGATIVE, OPENERS, POSITIVE, VERBS

    rng = np.random.default_rng(seed)
    adjectives = POSITIVE + NEGATIVE
    combos = [(s, a) for s in SUBJECT_WORDS for a in adjectives]
    picked = rng.choice(len(combos), size=min(n_queries, len(combos)), replace=False)
    items, rel, groups = [], [], []
    for g, c in enumerate(picked):
        subject, adjective = combos[int(c)]
        word = SYNONYMS.get(adjective, adjective) if rng.random() < 0.6 else adjective
        aspect = SUBJECT_WORDS[subject]
        query = f"{word} {aspect}" if rng.random() < 0.5 else f"{aspect} that is {word}"
        for _ in range(docs_per_query):
            negated = rng.random() < 0.25
            parts = [str(rng.choice(OPENERS)), subject, str(rng.choice(VERBS)),
                     "not" if negated else "", str(rng.choice(INTENSIFIERS)), adjective, "."]
            items.append((query, " ".join(p for p in parts if p)))
            rel.append(1.0 if negated else 2.0)
            groups.append(g)
    return Examples(items=items, targets=np.array(rel, dtype="float32"),
                    ids=[f"generated-pairs/{i}" for i in range(len(items))],
                    groups=np.array(groups), task="retrieval",
                    meta={"source": "generated pairs (cnnsuite_text.retrieval.generated_pairs)"})


def read_query_and_documents(inputs: list[str], cfg: dict[str, Any]) -> Examples:
    """For prediction: the first input is the query; the others are documents or files."""
    if len(inputs) < 2:
        raise BadInputError("retrieval prediction needs a query and at least one document: "
                            "cnnsuite predict RUN 'query' 'doc 1' docs.txt ...")
    query = inputs[0].strip()
    if not query:
        raise BadInputError("the query (the first input) is empty")
    items, ids, rejected = [], [], []
    for item in inputs[1:]:
        if len(item) < 4096 and "\n" not in item and Path(item).is_file():
            decoded = decode_lines(Path(item), cfg["encoding"], cfg["fallback_encoding"])
            rejected += decoded.rejected
            for number, line in decoded.lines:
                items.append((query, line))
                ids.append(f"{item}:{number}")
        elif item.strip():
            items.append((query, item.strip()))
            ids.append(item.strip())
        else:
            rejected.append(Rejected(repr(item), "empty document", "predict"))
    return Examples(items=items, ids=ids, task="retrieval", rejected=rejected)


# -- metrics --------------------------------------------------------------------------------

def ranking_metrics(vectors: np.ndarray, pairs: list[tuple[str, str]], relevance: np.ndarray,
                    ks: list[int]) -> Metrics:
    """MRR, NDCG@k and recall@k of each query against every document of the split."""
    dim = vectors.shape[1] // 2
    queries = list(dict.fromkeys(q for q, _ in pairs))
    documents = list(dict.fromkeys(d for _, d in pairs))
    q_index = {q: i for i, q in enumerate(queries)}
    d_index = {d: i for i, d in enumerate(documents)}
    q_vec = np.zeros((len(queries), dim), dtype="float32")
    d_vec = np.zeros((len(documents), dim), dtype="float32")
    gains: dict[int, dict[int, float]] = defaultdict(dict)
    for (q, d), vec, rel in zip(pairs, vectors, relevance, strict=True):
        q_vec[q_index[q]] = vec[:dim]
        d_vec[d_index[d]] = vec[dim:]
        gains[q_index[q]][d_index[d]] = max(float(rel), gains[q_index[q]].get(d_index[d], 0))
    order = np.argsort(-(q_vec @ d_vec.T), axis=1)
    rr, recall, ndcg = [], {k: [] for k in ks}, {k: [] for k in ks}
    for qi, ranked in enumerate(order):
        relevant = {d: g for d, g in gains[qi].items() if g > 0}
        if not relevant:
            continue
        hits = np.array([relevant.get(int(d), 0.0) for d in ranked])
        first = int(np.flatnonzero(hits > 0)[0])
        rr.append(1.0 / (first + 1))
        ideal = np.sort(np.array(list(relevant.values())))[::-1]
        for k in ks:
            discount = 1.0 / np.log2(np.arange(2, k + 2))
            dcg = float(np.sum((2 ** hits[:k] - 1) * discount[: len(hits[:k])]))
            idcg = float(np.sum((2 ** ideal[:k] - 1) * discount[: len(ideal[:k])]))
            ndcg[k].append(dcg / idcg)
            recall[k].append(float(np.sum(hits[:k] > 0)) / len(relevant))
    if not rr:
        raise BadInputError("no query in the test split has a relevant document")
    values: dict[str, Any] = {"mrr": float(np.mean(rr)), "n_queries": len(rr),
                              "n_documents": len(documents)}
    for k in ks:
        values[f"ndcg@{k}"] = float(np.mean(ndcg[k]))
        values[f"recall@{k}"] = float(np.mean(recall[k]))
    return Metrics(values, headline="mrr", higher_is_better=True)
