"""Utterances with their semantic frames: the ATIS and JSON Lines formats, and a generator.

Formats, chosen by `load_frames` from each file's suffix (or ``parse.format``):

- ATIS (``*.iob``): ``BOS words EOS<TAB>tags intent``, one IOB slot tag per token from
  BOS to the last word, then the intent in the place of EOS's tag (multi-intent labels
  are joined with ``#`` and kept as one label, as published results count them);
- JSON Lines (``*.jsonl``, ``*.json``, ``*.ndjson``): ``{"text": ..., "intent": ...,
  "slots": [{"start": ..., "end": ..., "label": ...}]}`` with character offsets
  (``end`` exclusive) that must fall on word boundaries.

Lines that cannot be used (a tag count that differs from the word count, a tag that is
not IOB, an empty utterance, a slot off the word boundaries) are listed as `Rejected`
with the file, the line and the reason; they are never dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnsuite import BadInputError, Examples, Rejected

from ..data import decode_lines, source_files, split_of

__all__ = ["Utterance", "generated_requests", "load_frames", "read_atis", "read_jsonl",
           "spans_to_tags", "split_into_words"]

JSONL_SUFFIXES = {".jsonl", ".json", ".ndjson"}
TAG = re.compile(r"O|[BI]-\S+")
# a word: letters and digits, with inner apostrophes, colons, slashes, dots or hyphens
# ("o'clock", "8:30", "ap/57", "u.s"), or one other symbol on its own
WORD = re.compile(r"\w+(?:['’:/.\-]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Utterance:
    """One utterance: its text, its words with character offsets, and its frame if known."""

    text: str
    words: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]
    tags: tuple[str, ...] | None = None
    intent: str | None = None


def split_into_words(text: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """Words of raw text and their ``[start, end)`` character offsets."""
    found = [(m.group(), (m.start(), m.end())) for m in WORD.finditer(text)]
    return tuple(w for w, _ in found), tuple(o for _, o in found)


def from_words(words: list[str], tags: list[str] | None, intent: str | None) -> Utterance:
    """An utterance from pre-split words (ATIS), its text the words joined by spaces."""
    offsets, start = [], 0
    for word in words:
        offsets.append((start, start + len(word)))
        start += len(word) + 1
    return Utterance(" ".join(words), tuple(words), tuple(offsets),
                     None if tags is None else tuple(tags), intent)


def _bad_tag(tags: list[str], words: list[str]) -> str | None:
    for i, tag in enumerate(tags):
        if not TAG.fullmatch(tag):
            return (f"tag {tag!r} of word {i + 1} ({words[i]!r}) is not IOB "
                    "(O, B-label or I-label)")
    return None


def parse_atis_line(line: str) -> Utterance | str:
    """One ATIS line as an utterance, or the reason it cannot be used."""
    if "\t" not in line:
        return "no tab between the words and the tags (expected 'BOS words EOS<TAB>tags intent')"
    left, right = line.split("\t", 1)
    words, labels = left.split(), right.split()
    if words[:1] == ["BOS"]:
        words = words[1:]
        labels = labels[1:]  # BOS's tag
    if words[-1:] == ["EOS"]:
        words = words[:-1]
    if not words:
        return "empty utterance (no words between BOS and EOS)"
    if len(labels) != len(words) + 1:
        return (f"{len(labels) - 1} slot tags for {len(words)} words (expected one tag per "
                "word, then the intent)")
    tags, intent = labels[:-1], labels[-1]
    if TAG.fullmatch(intent):
        return f"the intent {intent!r} looks like a slot tag: is the intent missing?"
    bad = _bad_tag(tags, words)
    if bad:
        return bad
    return from_words(words, tags, intent)


def read_atis(path: Path, cfg: dict[str, Any]) -> tuple[list[Utterance], list[str],
                                                        list[Rejected]]:
    """The usable lines of an ATIS file, their ids, and the rejected lines with reasons."""
    return _read_lines(path, cfg, parse_atis_line)


def _read_lines(path: Path, cfg: dict[str, Any], parse: Callable[[str], Utterance | str]
                ) -> tuple[list[Utterance], list[str], list[Rejected]]:
    """Each decoded line through `parse`: utterances with ``file:line`` ids, or rejections."""
    decoded = decode_lines(path, cfg["encoding"], cfg["fallback_encoding"])
    out, ids, rejected = [], [], list(decoded.rejected)
    for number, line in decoded.lines:
        parsed = parse(line)
        where = f"{path.name}:{number}"
        if isinstance(parsed, str):
            rejected.append(Rejected(where, parsed, str(path)))
        else:
            out.append(parsed)
            ids.append(where)
    return out, ids, rejected


def spans_to_tags(offsets: tuple[tuple[int, int], ...], slots: list[dict[str, Any]],
                  text: str) -> list[str] | str:
    """IOB tags of words from character spans, or the reason the spans do not fit."""
    starts = {s: i for i, (s, _) in enumerate(offsets)}
    ends = {e: i for i, (_, e) in enumerate(offsets)}
    tags = ["O"] * len(offsets)
    for slot in slots:
        if not isinstance(slot, dict):
            return f"slot {slot!r} is not an object with start, end and label"
        start, end, label = slot.get("start"), slot.get("end"), slot.get("label")
        if not isinstance(label, str) or not label.strip() or " " in label.strip():
            return f"slot {slot!r}: label must be a non-empty word"
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end \
                <= len(text):
            return (f"slot {label!r}: offsets [{start}, {end}) are not integers inside the "
                    f"text (length {len(text)})")
        first, last = starts.get(start), ends.get(end)
        if first is None or last is None or last < first:
            return (f"slot {label!r} [{start}, {end}) = {text[start:end]!r} does not start and "
                    "end on word boundaries")
        if any(t != "O" for t in tags[first: last + 1]):
            return f"slot {label!r} [{start}, {end}) overlaps another slot"
        tags[first] = f"B-{label.strip()}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{label.strip()}"
    return tags


def parse_jsonl_line(line: str) -> Utterance | str:
    """One JSON Lines record as an utterance, or the reason it cannot be used."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(record, dict):
        return "not a JSON object"
    text, intent, slots = record.get("text"), record.get("intent"), record.get("slots", [])
    if not isinstance(text, str) or not text.strip():
        return "empty utterance (no 'text')"
    if not isinstance(intent, str) or not intent.strip():
        return "no 'intent'"
    if not isinstance(slots, list):
        return "'slots' is not a list"
    words, offsets = split_into_words(text)
    if not words:
        return "empty utterance (no words in 'text')"
    tags = spans_to_tags(offsets, slots, text)
    if isinstance(tags, str):
        return tags
    return Utterance(text, words, offsets, tuple(tags), intent.strip())


def read_jsonl(path: Path, cfg: dict[str, Any]) -> tuple[list[Utterance], list[str],
                                                         list[Rejected]]:
    """The usable records of a JSON Lines file, their ids, and the rejected lines."""
    return _read_lines(path, cfg, parse_jsonl_line)


def frames_to_examples(utterances: list[Utterance], ids: list[str],
                       subset: list[str] | None, rejected: list[Rejected],
                       source: str) -> Examples:
    """Examples whose items are utterances and whose targets are intent indices."""
    intents = sorted({u.intent for u in utterances if u.intent is not None})
    index = {name: i for i, name in enumerate(intents)}
    return Examples(items=utterances, targets=np.array([index[u.intent] for u in utterances],
                                                       dtype="int64"),
                    ids=ids, class_names=intents, rejected=rejected,
                    subset=None if subset is None else np.array(subset, dtype=object),
                    meta={"source": source})


def load_frames(source: Path, cfg: dict[str, Any], fmt: str = "auto") -> Examples:
    """Utterances with frames from an ATIS or JSON Lines file, a folder, or a prefix path.

    Files whose names say ``train``, ``dev``/``val`` or ``test`` keep that split.
    """
    if fmt not in ("auto", "atis", "jsonl"):
        raise BadInputError(f"parse.format={fmt!r}: choose 'auto', 'atis' or 'jsonl'")
    files = source_files(source, cfg.get("files", "*"))
    utterances: list[Utterance] = []
    ids: list[str] = []
    subset: list[str] = []
    rejected: list[Rejected] = []
    splits = [split_of(p) for p in files]
    for path, split in zip(files, splits, strict=True):
        jsonl = fmt == "jsonl" or (fmt == "auto" and path.suffix.lower() in JSONL_SUFFIXES)
        got, got_ids, bad = (read_jsonl if jsonl else read_atis)(path, cfg)
        utterances += got
        ids += got_ids
        rejected += bad
        subset += [split or "train"] * len(got)
    if not utterances:
        reasons = "; ".join(f"{r.id}: {r.reason}" for r in rejected[:3])
        raise BadInputError(f"{source}: no usable utterances ({len(rejected)} lines rejected"
                            + (f", e.g. {reasons}" if reasons else "") + "); expected ATIS "
                            "('BOS words EOS<TAB>tags intent') or JSON Lines ({\"text\", "
                            "\"intent\", \"slots\"})")
    given = all(splits) and len(files) > 1
    return frames_to_examples(utterances, ids, subset if given else None, rejected,
                              str(source))


# -- the offline default: a documented generator of air-travel requests --------------------

CITIES = ("boston", "denver", "dallas", "atlanta", "pittsburgh", "baltimore", "san francisco",
          "new york", "salt lake city", "philadelphia", "washington", "oakland", "miami",
          "st. louis", "los angeles", "las vegas", "seattle", "chicago", "houston", "detroit")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = ("morning", "afternoon", "evening", "night")
AIRLINES = ("delta", "united", "american airlines", "us air", "continental", "twa")
CLASSES = ("first class", "coach", "business class")
TIMES = ("8 am", "838 am", "noon", "5 pm", "1110 pm", "7 o'clock")


class _Builder:
    """Builds one utterance word by word, recording the slots' word spans."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.tags: list[str] = []

    def say(self, text: str, label: str | None = None) -> None:
        for i, word in enumerate(text.split()):
            self.words.append(word)
            self.tags.append("O" if label is None else f"{'B' if i == 0 else 'I'}-{label}")


def generated_requests(n: int, seed: int) -> Examples:
    """Air-travel requests with their frames, ATIS style (a documented generator).

    Five intents, each with its own phrasings (``flight``, ``airfare``, ``airline``,
    ``flight_time``, ``ground_service``), and up to eight slot types whose label depends
    on the context, not on the word: a city is ``fromloc`` after "from" or "leaving" and
    ``toloc`` after "to" or "arriving in", a time of day is ``depart_time`` or
    ``arrive_time`` after "leaving" or "arriving". Cities may be several words long
    ("salt lake city"), so spans need B- and I- tags.
    """
    rng = np.random.default_rng(seed)

    def pick(options: tuple[str, ...]) -> str:
        return str(options[int(rng.integers(len(options)))])

    def route(b: _Builder) -> None:
        origin, destination = rng.choice(len(CITIES), 2, replace=False)
        if rng.random() < 0.5:
            b.say("from")
            b.say(CITIES[origin], "fromloc.city_name")
            b.say("to")
            b.say(CITIES[destination], "toloc.city_name")
        else:
            b.say("leaving")
            b.say(CITIES[origin], "fromloc.city_name")
            b.say("and arriving in")
            b.say(CITIES[destination], "toloc.city_name")

    def when(b: _Builder) -> None:
        roll = rng.random()
        if roll < 0.35:
            b.say("on")
            b.say(pick(DAYS), "depart_date.day_name")
        if 0.2 < roll < 0.6:
            b.say(pick(("in the", "leaving in the")))
            b.say(pick(PERIODS), "depart_time.period_of_day")
        elif roll >= 0.8:
            b.say(pick(("arriving at", "arriving before")))
            b.say(pick(TIMES), "arrive_time.time")
        elif roll >= 0.6:
            b.say(pick(("leaving at", "departing after")))
            b.say(pick(TIMES), "depart_time.time")

    utterances, ids = [], []
    for i in range(n):
        b = _Builder()
        intent = pick(("flight", "flight", "airfare", "airline", "flight_time",
                       "ground_service"))
        if intent == "flight":
            b.say(pick(("show me", "i want", "list", "i need", "what are the")))
            if rng.random() < 0.3:
                b.say(pick(AIRLINES), "airline_name")
            if rng.random() < 0.2:
                b.say(pick(CLASSES), "class_type")
            b.say(pick(("flights", "a flight")))
            route(b)
            when(b)
        elif intent == "airfare":
            b.say(pick(("how much is", "what is the cost of", "show me the fares for")))
            if rng.random() < 0.3:
                b.say(pick(("a round trip", "a one way")), "round_trip")
            else:
                b.say(pick(("a", "the cheapest")))
            if rng.random() < 0.3:
                b.say(pick(CLASSES), "class_type")
            b.say(pick(("ticket", "fare", "flight")))
            route(b)
            if rng.random() < 0.4:
                when(b)
        elif intent == "airline":
            b.say(pick(("which airlines fly", "what airlines have flights", "which carriers go")))
            route(b)
            if rng.random() < 0.4:
                when(b)
        elif intent == "flight_time":
            b.say(pick(("what time does the", "when does the")))
            if rng.random() < 0.5:
                b.say(pick(AIRLINES), "airline_name")
            b.say("flight")
            route(b)
            b.say(pick(("leave", "depart", "arrive")))
        else:
            b.say(pick(("what ground transportation is there in", "is there a limousine in",
                        "how do i get downtown in", "show me car rentals in")))
            b.say(pick(CITIES), "city_name")
            if rng.random() < 0.3:
                b.say("on")
                b.say(pick(DAYS), "day_name")
        utterances.append(from_words(b.words, b.tags, f"atis_{intent}"))
        ids.append(f"generated-requests/{i}")
    return frames_to_examples(utterances, ids, None, [],
                              "generated air-travel requests "
                              "(cnnsuite_text.parsing.data.generated_requests)")
