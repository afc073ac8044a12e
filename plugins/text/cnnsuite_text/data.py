"""Loading labelled sentences: the generated default set and the real formats.

Formats, chosen by `load` from the path:

- one sentence per line in one file per class (MR's ``rt-polarity.pos`` / ``.neg``);
- ``label sentence`` lines (SST's ``stsa.binary.*``, TREC's ``TREC.*.all``);
- CSV / TSV with a header, or JSON Lines, with a text and a label column;
- given splits: files whose names hold ``train``, ``dev`` / ``val`` and ``test``.

A path that does not exist but names the common start of sibling files
(``.../rt-polarity``, ``.../stsa.binary``, ``.../TREC``) stands for those files.
Text is decoded line by line as UTF-8, falling back to the configured legacy encoding
(cp1252 by default, a superset of Latin-1's printable range); lines that decode under
neither, empty lines, and lines without a label are listed as `Rejected`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import BadInputError, Examples, Rejected

TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".ndjson"}
TEXT_COLUMNS = ("text", "sentence", "review", "query", "question", "content", "document")
LABEL_COLUMNS = ("label", "class", "category", "sentiment", "target", "intent", "y")
SPLIT_WORDS = {"train": "train", "training": "train", "dev": "val", "val": "val",
               "valid": "val", "validation": "val", "test": "test", "testing": "test"}


@dataclass
class Decoded:
    """The usable lines of one file, with the encodings used and what was rejected."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    encodings: Counter[str] = field(default_factory=Counter)


def decode_lines(path: Path, encoding: str = "auto", fallback: str = "cp1252") -> Decoded:
    """Decode a file line by line: UTF-8 first, then `fallback` (with ``encoding='auto'``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    tries = ["utf-8", fallback] if encoding == "auto" else [encoding]
    out = Decoded()
    parts = re.split(rb"\r\n|\n|\r", raw)
    if parts and parts[-1] == b"":
        parts.pop()  # the newline that ends the last line
    for number, line in enumerate(parts, start=1):
        text = None
        for name in tries:
            try:
                text = line.decode(name)
                out.encodings[name] += 1
                break
            except (UnicodeDecodeError, LookupError):
                continue
        where = f"{path.name}:{number}"
        if text is None:
            out.rejected.append(Rejected(where, f"undecodable bytes (tried {', '.join(tries)}); "
                                         "set data.encoding", str(path)))
        elif text.strip():
            out.lines.append((number, text.strip()))
        else:
            out.rejected.append(Rejected(where, "empty line", str(path)))
    return out


@dataclass
class Labelled:
    """Sentences with their label strings, before labels become class indices."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    encodings: Counter[str] = field(default_factory=Counter)

    def add(self, text: str, label: str, where: str) -> None:
        """Append one sentence."""
        self.texts.append(text)
        self.labels.append(label)
        self.ids.append(where)

    def extend(self, other: Labelled) -> None:
        """Append everything of `other`."""
        self.texts += other.texts
        self.labels += other.labels
        self.ids += other.ids
        self.rejected += other.rejected
        self.encodings.update(other.encodings)


def read_class_file(path: Path, label: str, cfg: dict[str, Any]) -> Labelled:
    """One sentence per line, every line of class `label` (MR style)."""
    decoded = decode_lines(path, cfg["encoding"], cfg["fallback_encoding"])
    out = Labelled(rejected=decoded.rejected, encodings=decoded.encodings)
    for number, text in decoded.lines:
        out.add(text, label, f"{path.name}:{number}")
    return out


def read_label_first(path: Path, cfg: dict[str, Any]) -> Labelled:
    """``label sentence`` lines (SST and TREC style); the label ends at the first space."""
    decoded = decode_lines(path, cfg["encoding"], cfg["fallback_encoding"])
    out = Labelled(rejected=decoded.rejected, encodings=decoded.encodings)
    for number, line in decoded.lines:
        label, _, text = line.partition(" ") if "\t" not in line else line.partition("\t")
        where = f"{path.name}:{number}"
        if not text.strip():
            out.rejected.append(Rejected(where, "no sentence after the label", str(path)))
            continue
        out.add(text.strip(), label.strip(), where)
    return out


def _pick_column(names: list[str], wanted: str, preferred: tuple[str, ...], role: str,
                 path: Path) -> str:
    if wanted != "auto":
        if wanted not in names:
            raise BadInputError(f"{path}: no column {wanted!r} (columns: {names}); "
                                f"set data.{role}_column")
        return wanted
    lowered = {n.lower(): n for n in names}
    for name in preferred:
        if name in lowered:
            return lowered[name]
    raise BadInputError(f"{path}: cannot tell the {role} column among {names}; "
                        f"set data.{role}_column")


@dataclass
class Table:
    """The records of a CSV, TSV or JSON Lines file, with its column names."""

    names: list[str]
    rows: list[tuple[str, dict[str, Any]]]
    rejected: list[Rejected] = field(default_factory=list)
    encodings: Counter[str] = field(default_factory=Counter)


def read_rows(path: Path, cfg: dict[str, Any]) -> Table:
    """Records of a CSV / TSV file with a header row, or of a JSON Lines file."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        decoded = decode_lines(path, cfg["encoding"], cfg["fallback_encoding"])
        table = Table([], [], decoded.rejected, decoded.encodings)
        for number, line in decoded.lines:
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                table.rows.append((f"{path.name}:{number}", record))
            except ValueError as exc:
                table.rejected.append(Rejected(f"{path.name}:{number}", f"bad JSON: {exc}",
                                               str(path)))
        table.names = sorted({k for _, r in table.rows for k in r})
        return table
    raw = path.read_bytes()
    tries = ["utf-8-sig", cfg["fallback_encoding"]] if cfg["encoding"] == "auto" \
        else [cfg["encoding"]]
    for name in tries:
        try:
            text = raw.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        names = list(reader.fieldnames or [])
        rows = [(f"{path.name}:{i + 2}", dict(r)) for i, r in enumerate(reader)]
        return Table(names, rows, encodings=Counter({name: 1}))
    raise BadInputError(f"{path}: undecodable as {' or '.join(tries)}; set data.encoding")


def read_table(path: Path, cfg: dict[str, Any]) -> Labelled:
    """CSV or TSV with a header row, or JSON Lines, with a text and a label column."""
    table = read_rows(path, cfg)
    out = Labelled(rejected=table.rejected, encodings=table.encodings)
    names, rows = table.names, table.rows
    text_col = _pick_column(names, cfg["text_column"], TEXT_COLUMNS, "text", path)
    label_col = _pick_column(names, cfg["label_column"], LABEL_COLUMNS, "label", path)
    for where, record in rows:
        sentence = record.get(text_col)
        label = record.get(label_col)
        if sentence is None or not str(sentence).strip():
            out.rejected.append(Rejected(where, f"empty {text_col!r}", str(path)))
        elif label is None or str(label).strip() == "":
            out.rejected.append(Rejected(where, f"no {label_col!r}", str(path)))
        else:
            out.add(str(sentence).strip(), str(label).strip(), where)
    return out


def read_labelled_file(path: Path, cfg: dict[str, Any]) -> Labelled:
    """A file with labels inside it: a table by its suffix, else ``label sentence`` lines."""
    fmt = cfg["format"]
    if fmt == "table" or (fmt == "auto" and path.suffix.lower() in TABLE_SUFFIXES):
        return read_table(path, cfg)
    return read_label_first(path, cfg)


def split_of(path: Path) -> str | None:
    """``train``, ``val`` or ``test`` when the file name says so, else None."""
    for word in re.split(r"[._\-\s]+", path.name.lower()):
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return None


def source_files(source: Path, pattern: str = "*") -> list[Path]:
    """The files a path stands for: itself, a folder's files matching `pattern`, or the
    siblings whose names start with the path's name and a dot."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = [p for p in sorted(source.glob(pattern)) if p.is_file()
                 and not p.name.startswith(".")
                 and p.name.lower() not in ("readme", "readme.md", "readme.txt", "license")]
    else:
        parent = source.parent
        files = [p for p in sorted(parent.iterdir()) if p.is_file()
                 and p.name.startswith(source.name + ".")] if parent.is_dir() else []
    if not files:
        where = f"files matching {pattern!r} in it" if source.is_dir() \
            else f"files named {source.name}.*"
        raise BadInputError(f"{source}: no such file or folder, nor {where}")
    return files


def class_name_of(path: Path, files: list[Path]) -> str:
    """A class file's class: what follows a stem shared by all files, else its own stem."""
    stems = {p.name.split(".", 1)[0] for p in files}
    if len(stems) == 1 and all("." in p.name for p in files):
        return path.name.split(".", 1)[1]
    return path.name.split(".", 1)[0]


def sort_labels(labels: set[str]) -> list[str]:
    """Class names in a stable order: numerically when every label is an integer."""
    if all(re.fullmatch(r"-?\d+", label) for label in labels):
        return sorted(labels, key=int)
    return sorted(labels)


def load_labelled(source: Path, cfg: dict[str, Any]) -> Examples:
    """Load any of the module's formats into `Examples` (``subset`` set for given splits)."""
    files = source_files(source, cfg.get("files", "*"))
    splits = [split_of(p) for p in files] if len(files) > 1 or source.is_dir() else [None]
    if all(splits):  # train first, as readers expect
        order = {"train": 0, "val": 1, "test": 2}
        files, splits = map(list, zip(*sorted(zip(files, splits, strict=True),
                                              key=lambda fs: order[str(fs[1])]), strict=True))
    data = Labelled()
    subset: list[str] = []
    if cfg["format"] == "classes" or (cfg["format"] == "auto" and len(files) > 1
                                      and not any(splits)):
        if len(files) < 2:
            raise BadInputError(f"{source}: one class file only ({files[0].name}); "
                                "one file per class needs at least two files")
        for path in files:
            data.extend(read_class_file(path, class_name_of(path, files), cfg))
    else:
        if len(files) > 1 and not all(splits):
            odd = [p.name for p, s in zip(files, splits, strict=True) if not s]
            raise BadInputError(f"{source}: files {odd} are neither train, dev nor test; "
                                "give one file or a folder of split files")
        for path, split in zip(files, splits, strict=True):
            part = read_labelled_file(path, cfg)
            data.extend(part)
            subset += [split or "train"] * len(part.texts)
    if not data.texts:
        raise BadInputError(f"{source}: no usable sentences ({len(data.rejected)} lines "
                            "rejected: " + "; ".join(f"{r.id} {r.reason}"
                                                     for r in data.rejected[:3]) + ")")
    names = sort_labels(set(data.labels))
    index = {name: i for i, name in enumerate(names)}
    subset_array = np.array(subset, dtype=object) if subset and any(splits) else None
    if subset_array is not None and not np.any(subset_array == "train"):
        raise BadInputError(f"{source}: no training file among {[p.name for p in files]}")
    return Examples(
        items=data.texts,
        targets=np.array([index[label] for label in data.labels], dtype="int64"),
        ids=data.ids,
        subset=subset_array,
        class_names=names,
        rejected=data.rejected,
        meta={"source": str(source), "files": [p.name for p in files],
              "encodings": dict(data.encodings)},
    )


# -- the offline default: generated reviews ------------------------------------------------

SUBJECTS = ("the film", "this movie", "the plot", "the acting", "the script", "the cast",
            "the soundtrack", "the ending", "the dialogue", "the director's new picture",
            "the story", "its pacing", "the cinematography", "the lead performance",
            "the screenplay", "the sequel")
VERBS = ("is", "was", "feels", "seems", "remains", "turns out to be", "proves")
POSITIVE = ("good", "great", "wonderful", "moving", "clever", "funny", "gripping",
            "charming", "brilliant", "delightful", "touching", "witty", "superb",
            "engaging", "beautiful", "fresh")
NEGATIVE = ("bad", "dull", "boring", "tedious", "clumsy", "predictable", "lifeless",
            "awful", "shallow", "tiresome", "messy", "bland", "forgettable", "silly",
            "flat", "stale")
INTENSIFIERS = ("", "", "very", "really", "truly", "quite", "utterly", "rather")
NEGATIONS = ("not", "never", "hardly", "far from")
OPENERS = ("", "", "honestly ,", "overall ,", "in the end ,", "sadly ,", "luckily ,")


def generated_reviews(n: int, seed: int, noise: float = 0.03) -> Examples:
    """Short review sentences whose polarity needs n-grams: negation flips an adjective.

    A documented generator, so that the plugin runs offline with nothing downloaded:
    ``[opener] subject verb [negation] [intensifier] adjective [, but subject verb ...]``;
    the label is the polarity of the last clause (a negation flips it), with a
    fraction `noise` of labels flipped at random. Bag-of-words models cannot get the
    negated clauses right; a convolution of width 2 or more can.
    """
    rng = np.random.default_rng(seed)

    def clause() -> tuple[str, int]:
        polarity = int(rng.integers(0, 2))
        adjective = str(rng.choice(POSITIVE if polarity else NEGATIVE))
        words = [str(rng.choice(SUBJECTS)), str(rng.choice(VERBS))]
        if rng.random() < 0.35:
            words.append(str(rng.choice(NEGATIONS)))
            polarity = 1 - polarity
        intensifier = str(rng.choice(INTENSIFIERS))
        return " ".join(w for w in [*words, intensifier, adjective] if w), polarity

    texts, labels = [], []
    for _ in range(n):
        text, label = clause()
        if rng.random() < 0.3:
            second, label = clause()
            text = f"{text} , but {second}"
        opener = str(rng.choice(OPENERS))
        texts.append(f"{opener} {text} .".strip())
        labels.append(label if rng.random() >= noise else 1 - label)
    return Examples(items=texts, targets=np.array(labels, dtype="int64"),
                    ids=[f"generated/{i}" for i in range(n)],
                    class_names=["negative", "positive"],
                    meta={"source": "generated reviews (cnnsuite_text.data.generated_reviews)"})


def limit_stratified(examples: Examples, limit: int, seed: int) -> Examples:
    """At most `limit` examples, keeping class shares and given splits (0: all)."""
    if limit <= 0 or len(examples) <= limit:
        return examples
    rng = np.random.default_rng(seed)
    assert examples.targets is not None
    keys = examples.targets.astype(str)
    if examples.subset is not None:
        keys = np.char.add(keys, examples.subset.astype(str))
    picked = []
    for key in np.unique(keys):
        members = rng.permutation(np.flatnonzero(keys == key))
        picked.append(members[: max(1, round(limit * len(members) / len(examples)))])
    kept = examples.take(np.sort(np.concatenate(picked)))
    kept.rejected = examples.rejected
    return kept


def load(source: str | None, cfg: dict[str, Any], seed: int) -> Examples:
    """The examples at `source`, or the generated default when `source` is None."""
    if source is None:
        if cfg["source"] != "generated":
            raise BadInputError(f"data.source {cfg['source']!r}: the only offline set is "
                                "'generated'; give real data with --data PATH")
        examples = generated_reviews(int(cfg["n"]), seed)
    else:
        examples = load_labelled(Path(source), cfg)
    return limit_stratified(examples, int(cfg["limit"]), seed)
