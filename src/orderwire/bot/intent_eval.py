"""Measuring the intent classifier on labelled messages: precision, recall, F1, confusions, a Markdown report.

The labelled sets live beside this module in `data/`: `intents_eval.csv` is the evaluation set (written
before the rules; the goal is measured on it), `intents_dev.csv` the development set the rules were tuned
on, `intents_blind.csv` a set written after all tuning and measured once (docs/classifier.md has the
history). All are CSV with columns text, intent, language (en, hi, hinglish, mixed).
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orderwire.bot.intents import CONFIDENT, INTENTS, classify

DATA = Path(__file__).parent / "data"
EVAL_SET = DATA / "intents_eval.csv"
DEV_SET = DATA / "intents_dev.csv"
BLIND_SET = DATA / "intents_blind.csv"
LANGUAGES = ("en", "hi", "hinglish", "mixed")
GOAL = 0.90
DOC_START = "<!-- classifier-results:start -->"
DOC_END = "<!-- classifier-results:end -->"


@dataclass(frozen=True)
class Example:
    """One labelled customer message."""

    text: str
    intent: str
    language: str


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent, with its number of labelled examples."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """How the classifier did on one labelled set."""

    name: str
    total: int
    correct: int
    per_intent: dict[str, IntentScore]
    per_language: dict[str, tuple[int, int]]  # language -> (correct, total)
    confusions: list[tuple[str, str, int]]  # (expected, predicted, count), most frequent first
    misses: list[tuple[Example, str, float]]  # (example, predicted intent, confidence)
    unclear: int  # predictions below CONFIDENT
    median_microseconds: float  # per message, first pass (word cache may be cold)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_examples(path: Path) -> list[Example]:
    """The labelled messages in a CSV file (text, intent, language); unknown intents or languages fail."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    examples = [Example(row["text"], row["intent"].strip(), row["language"].strip()) for row in rows]
    for number, example in enumerate(examples, start=2):
        if example.intent not in INTENTS or example.language not in LANGUAGES:
            raise ValueError(f"{path.name} line {number}: unknown intent or language in {example}")
    return examples


def evaluate(name: str, examples: Sequence[Example]) -> Report:
    """Classify every example and score the answers against the labels."""
    predicted, timings = [], []
    for example in examples:
        started = time.perf_counter()
        predicted.append(classify(example.text))
        timings.append(time.perf_counter() - started)
    pairs = Counter((e.intent, p.intent) for e, p in zip(examples, predicted, strict=True))
    per_intent = {}
    for intent in INTENTS:
        hits = pairs[(intent, intent)]
        said = sum(n for (_, got), n in pairs.items() if got == intent)
        support = sum(n for (expected, _), n in pairs.items() if expected == intent)
        precision = hits / said if said else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = IntentScore(precision, recall, f1, support)
    per_language = {
        language: (
            sum(
                e.intent == p.intent
                for e, p in zip(examples, predicted, strict=True)
                if e.language == language
            ),
            sum(e.language == language for e in examples),
        )
        for language in LANGUAGES
    }
    confusions = sorted(
        ((expected, got, n) for (expected, got), n in pairs.items() if expected != got),
        key=lambda row: (-row[2], row[0], row[1]),
    )
    misses = [
        (e, p.intent, p.confidence) for e, p in zip(examples, predicted, strict=True) if e.intent != p.intent
    ]
    return Report(
        name=name,
        total=len(examples),
        correct=sum(pairs[(i, i)] for i in INTENTS),
        per_intent=per_intent,
        per_language=per_language,
        confusions=confusions,
        misses=misses,
        unclear=sum(p.confidence < CONFIDENT for p in predicted),
        median_microseconds=statistics.median(timings) * 1e6 if timings else 0.0,
    )


def render_table(report: Report) -> list[str]:
    """Markdown lines: per-intent precision/recall/F1, accuracy overall and per language, confusions."""
    lines = [
        f"**{report.name}**: {report.correct}/{report.total} correct, "
        f"**accuracy {report.accuracy:.1%}**; {report.unclear} answers below the confidence threshold "
        f"{CONFIDENT}; median {report.median_microseconds:.0f} µs per message.",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for intent, score in report.per_intent.items():
        lines.append(
            f"| {intent} | {score.precision:.2f} | {score.recall:.2f} | {score.f1:.2f} | {score.support} |"
        )
    by_language = ", ".join(
        f"{language} {correct}/{total}" for language, (correct, total) in report.per_language.items() if total
    )
    lines += ["", f"By language: {by_language}.", ""]
    if report.confusions:
        lines.append("Confusions (expected → predicted: count): " + "; ".join(
            f"{expected} → {got}: {n}" for expected, got, n in report.confusions
        ) + ".")  # fmt: skip
        lines.append("")
        lines.append("Misclassified messages:")
        lines.append("")
        lines += [
            f"- `{example.text}` ({example.language}): expected {example.intent}, "
            f"got {got} ({confidence:.2f})"
            for example, got, confidence in report.misses
        ]
    else:
        lines.append("No confusions.")
    return lines


def render_section(reports: Sequence[Report], day: str, command: str) -> str:
    """The generated part of docs/classifier.md, between its markers."""
    lines = [DOC_START, f"Measured on {day} with `{command}` (rewrites this section).", ""]
    for report in reports:
        lines += [*render_table(report), ""]
    return "\n".join([*lines, DOC_END])


def update_doc(existing: str, section: str) -> str:
    """The document with its generated section replaced (or appended when it has none)."""
    start, end = existing.find(DOC_START), existing.find(DOC_END)
    if start == -1 or end == -1:
        return f"{existing.rstrip() or '# Intent classifier'}\n\n{section}\n"
    return existing[:start] + section + existing[end + len(DOC_END) :]
