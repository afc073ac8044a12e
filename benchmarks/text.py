"""Benchmark of the `text` plugin: Kim's CNN-rand on MR, SST-2 and TREC, and tokeniser speed.

    nice -n 10 .venv/bin/python benchmarks/text.py [--data PATH] [--seeds 3] [--first-seed 0]
        [--folds 10] [--budget-min 0] [--json PATH] [--set KEY=VALUE] [--only SST-2,TREC,MR]
        [--dev] [--ensemble] [--report JSON [--report JSON ...]]
        [--skip-speed] [--skip-accuracy] [--speed-ours-only]

Protocol, as Kim (2014) for CNN-rand (random word vectors; pretrained ones are not
available offline): MR by 10-fold cross-validation (a tenth of the data as the test
fold, a tenth held out of the rest for early stopping); SST-2 trained on
``stsa.binary.train``, stopped on ``.dev``, scored on ``.test``; TREC trained on
``TREC.train.all`` (a tenth held out for early stopping), scored on ``TREC.test.all``.
Each protocol is repeated for every seed (the seed also reshuffles MR's folds) and
reported as mean and standard deviation over the runs. Settings are chosen with
``--dev`` (validation accuracy only; the test split is never featurised), which also
names the epoch where the seeds' mean validation curve peaks: ``--set split.val=0 --set
train.epochs=N`` then retrains on all of TREC's training file for that many epochs, the
usual practice where a set has no dev file. ``--ensemble`` adds a row (not Kim's
protocol): the seeds' models with their class probabilities averaged; ``--set
model.ensemble=N`` instead makes each run's model an ensemble of N networks (one model
per seed, labelled as such in the table; not Kim's single-network protocol either).
Training goes through the plugin's methods and the host's tf.data pipeline
(`cnnsuite._runner.make_dataset`), as ``cnnsuite run`` does, without writing run
records. With ``--budget-min`` no training starts after that many minutes, and the table
says how many runs each row holds.

Speed, on all of MR in one process (ratios are what to compare on a shared machine):
learning a vocabulary (ours: word counts and a greedy WordPiece construction;
tensorflow-text's ``bert_vocab_from_dataset``; Keras ``TextVectorization.adapt``) and
tokenising all of MR (FastWordpieceTokenizer with our vocabulary, tensorflow-text's
BertTokenizer with the ``bert_vocab_from_dataset`` vocabulary, TextVectorization).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

KIM_CNN_RAND = {"MR": 76.1, "SST-2": 82.7, "TREC": 91.2}


def data_root(given: str | None) -> Path | None:
    """The text folder: --data, $CNNSUITE_BENCH_DATA/text, or ../shared/data/text."""
    candidates = [given] if given else []
    if os.environ.get("CNNSUITE_BENCH_DATA"):
        candidates.append(str(Path(os.environ["CNNSUITE_BENCH_DATA"]) / "text"))
    candidates.append(str(Path(__file__).resolve().parents[1].parent / "shared" / "data"
                          / "text"))
    for c in candidates:
        if c and (Path(c) / "rt-polarity.pos").is_file():
            return Path(c)
    return None


def _best_of(repeat: int, fn: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        tick = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - tick)
    return best, out


def speed(root: Path, vocab_size: int, only_ours: bool = False) -> list[dict[str, Any]]:
    """Vocabulary learning time and tokenisation throughput on MR: our two tokenizers,
    then (unless `only_ours`) tensorflow-text's and Keras' ways."""
    import keras
    import tensorflow as tf
    import tensorflow_text as tf_text
    from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset as bvd

    from cnnsuite_text import data, features

    cfg = {"encoding": "auto", "fallback_encoding": "cp1252", "text_column": "auto",
           "label_column": "auto", "format": "auto", "files": "*"}
    sentences = list(data.load_labelled(root / "rt-polarity", cfg).items)
    rows = []

    learn_s, vocab = _best_of(3, lambda: features.learn_vocab_from_sentences(
        sentences, vocab_size, 2, True, True))
    features.token_ids(sentences[:10], vocab, 100)  # build the tokenizer once
    tok_s, (_, lengths) = _best_of(3, lambda: features.token_ids(sentences, vocab, 10_000))
    rows.append({"method": "cnnsuite-text: word counts + greedy WordPiece; "
                           "FastWordpieceTokenizer in tf.data",
                 "learn_s": learn_s, "vocab": len(vocab), "tokens": int(lengths.sum()),
                 "tokenize_s": tok_s})

    learn_s, words = _best_of(3, lambda: features.learn_vocab_from_sentences(
        sentences, sys.maxsize, 1, True, True, words=True))
    features.token_ids(sentences[:10], words, 100, words=True)
    tok_s, (_, lengths) = _best_of(3, lambda: features.token_ids(sentences, words, 10_000,
                                                                 words=True))
    rows.append({"method": "cnnsuite-text: Kim's words (clean_str as tf.strings.regex_replace, "
                           "every word); FastWordpieceTokenizer over whole words in tf.data",
                 "learn_s": learn_s, "vocab": len(words), "tokens": int(lengths.sum()),
                 "tokenize_s": tok_s})
    if only_ours:
        return rows

    ds = tf.data.Dataset.from_tensor_slices(sentences).batch(1000).prefetch(2)
    tick = time.perf_counter()
    bert_vocab = bvd.bert_vocab_from_dataset(
        ds, vocab_size=vocab_size, reserved_tokens=["[PAD]", "[UNK]"],
        bert_tokenizer_params={"lower_case": True}, learn_params={})
    learn_s = time.perf_counter() - tick
    lookup = tf.lookup.StaticVocabularyTable(
        tf.lookup.KeyValueTensorInitializer(bert_vocab, tf.range(len(bert_vocab),
                                                                 dtype=tf.int64)), 1)
    bert = tf_text.BertTokenizer(lookup, lower_case=True, unknown_token="[UNK]")
    strings = tf.constant(sentences)
    tok_s, out = _best_of(3, lambda: bert.tokenize(strings).merge_dims(-2, -1))
    rows.append({"method": "tensorflow-text bert_vocab_from_dataset; BertTokenizer",
                 "learn_s": learn_s, "vocab": len(bert_vocab),
                 "tokens": int(out.flat_values.shape[0]), "tokenize_s": tok_s})
    fast_s, out = _best_of(3, lambda: features.token_ids(sentences, bert_vocab, 10_000))
    rows.append({"method": "bert_vocab_from_dataset vocabulary; FastWordpieceTokenizer",
                 "learn_s": learn_s, "vocab": len(bert_vocab), "tokens": int(out[1].sum()),
                 "tokenize_s": fast_s})

    def adapt() -> Any:
        layer = keras.layers.TextVectorization(max_tokens=vocab_size, output_mode="int")
        layer.adapt(strings, batch_size=1000)
        return layer

    learn_s, layer = _best_of(3, adapt)
    tok_s, out = _best_of(3, lambda: layer(strings))
    rows.append({"method": "Keras TextVectorization (words, lower case, strip punctuation)",
                 "learn_s": learn_s, "vocab": int(layer.vocabulary_size()),
                 "tokens": int((out.numpy() > 0).sum()), "tokenize_s": tok_s})
    return rows


def protocols(folds: int) -> list[tuple[str, str, str, list[str]]]:
    """(name, protocol, files glob, overrides) of each data set."""
    return [
        ("SST-2", "train / dev / test files", "stsa.binary.*", []),
        ("TREC", "train / test files", "TREC.*", []),
        ("MR", f"{folds}-fold CV", "rt-polarity.*", [f"split.cv_folds={folds}"]),
    ]


def train_once(root: Path, glob: str, overrides: list[str], seed: int,
               score_test: bool = True) -> dict[str, Any]:
    """One training of the plugin's default model, as `cnnsuite run` trains it.

    Without `score_test` the test split is never featurised nor scored: the result is
    the validation accuracy of the kept (best) epoch and the whole validation curve, for
    choosing settings (with ``train.patience=0`` every epoch runs, as the host does
    without early stopping). With ``split.val=0`` and no dev file there is no validation
    split: the model trains on all the training data for ``train.epochs`` epochs (an
    epoch count chosen on validation before). The test probabilities are kept, for
    averaging the seeds' models (``--ensemble``).
    """
    import keras
    import numpy as np

    from cnnsuite import get_manifest, load_plugin
    from cnnsuite._config import resolve_config
    from cnnsuite._runner import make_dataset, predict_batches

    manifest = get_manifest("text")
    plugin = load_plugin(manifest)
    config = resolve_config(manifest, overrides=[f"data.files={glob}", *overrides], seed=seed)
    keras.utils.set_random_seed(seed)
    tick = time.perf_counter()
    examples = plugin.load_data(str(root), config)
    splits = plugin.split(examples, config, seed)
    state = plugin.fit_state(splits["train"], config)
    feats = {k: plugin.featurize(v, state, config) for k, v in splits.items()
             if len(v) and (score_test or k != "test")}
    if "val" not in feats and not score_test:
        raise SystemExit("--dev needs a validation split: leave split.val above 0")
    model = plugin.build_model(feats["train"], state, config)
    patience = int(config["train"]["patience"])
    val_ds = (make_dataset(feats["val"], config, plugin, training=False)
              if "val" in feats else None)
    callbacks = [keras.callbacks.EarlyStopping(
        monitor=str(config["train"].get("monitor", "val_loss")), patience=patience,
        restore_best_weights=True)] if val_ds is not None and patience > 0 else []
    history = model.fit(make_dataset(feats["train"], config, plugin, training=True),
                        validation_data=val_ds, epochs=int(config["train"]["epochs"]),
                        verbose=0, callbacks=callbacks)
    curve = history.history.get("val_accuracy", [])
    val_acc = max(curve) if curve else float("nan")
    out: dict[str, Any] = {"val_accuracy": val_acc, "val_curve": curve,
                           "n_train": len(feats["train"]),
                           "epochs": len(history.history["loss"]),
                           "best_epoch": 1 + curve.index(val_acc) if curve else 0}
    if not score_test:
        return {**out, "n_val": len(feats["val"]), "seconds": time.perf_counter() - tick}
    y_pred = predict_batches(model, feats["test"], config)
    metrics = plugin.evaluate(y_pred, feats["test"], splits["test"], state, config).values
    names = list(state["class_names"])
    # by class name, so models of other seeds (other vocabularies) average alike
    for part in ("test", "val") if "val" in feats else ("test",):
        probs = y_pred if part == "test" else predict_batches(model, feats[part], config)
        out[f"{part}_y"] = [names[int(t)] for t in np.asarray(feats[part].y)]
        out[f"{part}_probs"] = np.round(np.asarray(probs, dtype=float), 5).tolist()
    return {**out, "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "n_test": len(feats["test"]), "class_names": names,
            "seconds": time.perf_counter() - tick}


def accuracy(root: Path, seeds: range, folds: int, budget_s: float, json_path: Path | None,
             extra: list[str], only: set[str] | None = None,
             dev: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every protocol (or those in `only`) for every seed (MR: every fold), cheapest
    first, within the budget. With `dev`, validation accuracy only (no test scoring)."""
    start = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in protocols(folds)}
    # the cheap protocols for every seed first, then MR's folds seed by seed
    jobs = []
    for name, _, glob, overrides in protocols(folds):
        if only and name not in only:
            continue
        for seed in seeds:
            if name == "MR":
                jobs += [(name, glob, [*overrides, *extra, f"split.fold={k}"], seed)
                         for k in range(folds)]
            else:
                jobs.append((name, glob, [*overrides, *extra], seed))
    for name, glob, overrides, seed in jobs:
        if budget_s and time.perf_counter() - start > budget_s:
            print(f"budget spent: {name} seed {seed} {overrides} not run", file=sys.stderr)
            continue
        row = {"seed": seed, "overrides": overrides,
               **train_once(root, glob, overrides, seed, score_test=not dev)}
        results[name].append(row)
        score = (f"val accuracy {row['val_accuracy']:.4f} (best epoch {row['best_epoch']})"
                 if dev else f"accuracy {row['accuracy']:.4f}")
        print(f"{name} seed {seed} {' '.join(overrides)}: {score} "
              f"({row['epochs']} epochs, {row['seconds']:.0f} s)", file=sys.stderr, flush=True)
        if json_path:
            json_path.write_text(json.dumps(results, indent=1))
    return results


def print_dev(results: dict[str, list[dict[str, Any]]]) -> None:
    """Validation accuracy per seed, and the epoch where the seeds' mean curve peaks
    (the epoch count to retrain with on train + validation)."""
    print("| data set | runs | val accuracy % of the kept epoch, per seed | mean "
          "| best epoch of the mean curve | mean curve there % |")
    print("|---|---|---|---|---|---|")
    for name, rows_ in results.items():
        if not rows_:
            continue
        best = [100 * r["val_accuracy"] for r in rows_]
        n = min(len(r["val_curve"]) for r in rows_)
        mean_curve = [statistics.mean(r["val_curve"][e] for r in rows_) for e in range(n)]
        top = max(range(n), key=lambda e: mean_curve[e])
        print(f"| {name} | {len(rows_)} | {' / '.join(f'{v:.1f}' for v in best)} | "
              f"{statistics.mean(best):.2f} | {top + 1} of {n} | {100 * mean_curve[top]:.2f} |")
        print(f"<!-- {name} mean validation curve %: "
              f"{' '.join(f'{100 * v:.1f}' for v in mean_curve)} -->")


def ensemble_accuracy(rows_: list[dict[str, Any]], part: str = "test"
                      ) -> tuple[float, float] | None:
    """Accuracy and macro-F1 of the seeds' models averaged (mean class probabilities) on
    the `part` split ('test' or 'val'), where every run scored the same sentences; None
    where that cannot be."""
    import numpy as np
    from sklearn.metrics import f1_score

    if len(rows_) < 2 or not all(f"{part}_probs" in r for r in rows_):
        return None
    truth = rows_[0][f"{part}_y"]
    if any(r[f"{part}_y"] != truth for r in rows_):
        return None  # other sentences per seed (MR's folds, TREC's carved validation)
    names = sorted(set(rows_[0]["class_names"]))
    total = np.zeros((len(truth), len(names)))
    for r in rows_:
        order = [names.index(c) for c in r["class_names"]]
        total[:, order] += np.asarray(r[f"{part}_probs"])
    pred = [names[i] for i in total.argmax(axis=1)]
    acc = float(np.mean([p == t for p, t in zip(pred, truth, strict=True)]))
    return acc, float(f1_score(truth, pred, average="macro"))


def ensemble_size(rows: list[dict[str, Any]]) -> int:
    """The networks in each run's model (``model.ensemble``, from the runs' overrides)."""
    sizes = {int(o.split("=", 1)[1]) for r in rows for o in r.get("overrides", [])
             if o.startswith("model.ensemble=")} or {1}
    if len(sizes) > 1:
        raise SystemExit(f"runs of several ensemble sizes merged: {sorted(sizes)}")
    return sizes.pop()


def seed_means(rows: list[dict[str, Any]], key: str) -> list[float]:
    """One value per seed: the mean over its runs (MR's folds), in percent."""
    seeds = sorted({r["seed"] for r in rows})
    return [100 * statistics.mean(r[key] for r in rows if r["seed"] == s) for s in seeds]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with rt-polarity.*, stsa.binary.*, TREC.*")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--vocab-size", type=int, default=16000)
    parser.add_argument("--budget-min", type=float, default=0.0,
                        help="start no training after this many minutes (0: no limit)")
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="a config override for every training")
    parser.add_argument("--only", help="comma-separated data sets to train (SST-2,TREC,MR)")
    parser.add_argument("--report", type=Path, action="append",
                        help="print the accuracy table of --json files (runs merged) "
                        "instead of training")
    parser.add_argument("--dev", action="store_true",
                        help="choosing settings: train and score on validation only, never "
                        "on test; prints the epoch where the seeds' mean curve peaks")
    parser.add_argument("--ensemble", action="store_true",
                        help="also score the seeds' models averaged, as a separate row "
                        "(an ensemble, not Kim's single-model protocol)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--speed-ours-only", action="store_true",
                        help="time only our tokenizers (bert_vocab_from_dataset takes minutes)")
    args = parser.parse_args()
    root = data_root(args.data)
    if root is None:
        print("text benchmark data not found (give --data or set CNNSUITE_BENCH_DATA)",
              file=sys.stderr)
        return 2
    import platform

    print(f"# text benchmark on {root} ({platform.machine()}, {os.cpu_count()} cores)\n")
    if not args.skip_speed:
        rows = speed(root, args.vocab_size, args.speed_ours_only)
        ours = rows[0]
        print("| vocabulary; tokeniser (all of MR, 10,662 sentences) | learn (s) | vocab "
              "| tokens | tokenise (s) | tokens/s | learn vs ours |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['method']} | {r['learn_s']:.2f} | {r['vocab']} | {r['tokens']} | "
                  f"{r['tokenize_s']:.3f} | {r['tokens'] / r['tokenize_s']:,.0f} | "
                  f"{r['learn_s'] / ours['learn_s']:.1f}x |")
        print(flush=True)
    if args.report:
        merged: dict[str, list[dict[str, Any]]] = {}
        for path in args.report:
            for name, rows in json.loads(path.read_text()).items():
                merged.setdefault(name, []).extend(rows)
        print_accuracy(merged, args.folds, args.ensemble)
    elif not args.skip_accuracy:
        only = set(args.only.split(",")) if args.only else None
        if only and not only <= set(KIM_CNN_RAND):
            print(f"--only: choose from {', '.join(KIM_CNN_RAND)}", file=sys.stderr)
            return 2
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        results = accuracy(root, seeds, args.folds, 60 * args.budget_min, args.json,
                           args.overrides, only, args.dev)
        if args.dev:
            print_dev(results)
        else:
            print_accuracy(results, args.folds, args.ensemble)
    return 0


def print_accuracy(results: dict[str, list[dict[str, Any]]], folds: int,
                   ensemble: bool = False) -> None:
    """The accuracy table; an MR seed counts only once all its folds ran. With
    `ensemble`, a row more per data set: the seeds' models averaged."""
    print("| data set | protocol | runs (seeds) | accuracy % mean ± sd over seeds "
          "| per seed % | dev % | macro-F1 % | Kim CNN-rand % | epochs (mean) | s per run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, protocol, *_ in protocols(folds):
        rows_ = results.get(name, [])
        if name == "MR":
            done = {s for s in {r["seed"] for r in rows_}
                    if sum(r["seed"] == s for r in rows_) == folds}
            rows_ = [r for r in rows_ if r["seed"] in done]
        if not rows_:
            print(f"| {name} | {protocol} | 0 | not run | | | | {KIM_CNN_RAND[name]} | | |")
            continue
        networks = ensemble_size(rows_)
        if networks > 1:
            protocol += (f", ensemble of {networks} CNN-rand networks (model.ensemble="
                         f"{networks}; not Kim's single-network protocol)")
        acc = seed_means(rows_, "accuracy")
        f1 = seed_means(rows_, "macro_f1")
        # the kept epoch's validation accuracy (none in runs from before it was recorded,
        # nor in runs retrained on train + validation)
        dev = (f"{statistics.mean(seed_means(rows_, 'val_accuracy')):.1f}"
               if all(r.get("val_accuracy", math.nan) == r.get("val_accuracy", math.nan)
                      for r in rows_) else "")
        if len(acc) > 1:
            spread = f"± {statistics.stdev(acc):.1f}"
        elif len(rows_) > 1:  # one seed: the spread over its folds
            spread = f"(folds ± {statistics.stdev(100 * r['accuracy'] for r in rows_):.1f})"
        else:
            spread = ""
        print(f"| {name} | {protocol} | {len(rows_)} ({len(acc)}) | "
              f"{statistics.mean(acc):.1f} {spread} | {' / '.join(f'{a:.1f}' for a in acc)} | "
              f"{dev} | {statistics.mean(f1):.1f} | "
              f"{KIM_CNN_RAND[name]} | "
              f"{statistics.mean(r['epochs'] for r in rows_):.1f} | "
              f"{statistics.mean(r['seconds'] for r in rows_):.0f} |")
        scored = ensemble_accuracy(rows_) if ensemble else None
        if scored:
            on_dev = ensemble_accuracy(rows_, "val")
            print(f"| {name} | ensemble: the {len(rows_)} models above, probabilities "
                  f"averaged (not Kim's single-model row) | {len(rows_)} | {100 * scored[0]:.1f} "
                  f"| | {f'{100 * on_dev[0]:.1f}' if on_dev else ''} | {100 * scored[1]:.1f} "
                  f"| {KIM_CNN_RAND[name]} | | |")


if __name__ == "__main__":
    sys.exit(main())
