"""The student: two gradient-boosted tree models (LightGBM) that write ProX programs at rule speed.

The line model gives each line P(remove) from its features (``prox.distill.features``); the doc model
gives each document P(drop) from figures of the text the line model keeps. A student is a folder:
``student.json`` (what it is, its features, thresholds and how it was trained) and each model as
LightGBM's own text format, which loads without unpickling anything, so a folder from elsewhere is
data, not code.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from prox.distill.boosting import DOC_PARAMS, DOC_ROUNDS, LINE_PARAMS, LINE_ROUNDS, boost, lightgbm_or_explain
from prox.distill.features import DOC_FEATURES, LINE_FEATURES, SLICE, doc_features, line_feature_slices, line_features
from prox.distill.line_lm import LineLM
from prox.distill.model_file import check_model_file
from prox.distill.sources import Doc, Examples, Page
from prox.errors import UsageError

MANIFEST = "student.json"  # the file that makes a folder a student
KIND = "prox-student"
VERSION = 2  # 2: table rows, words of any script and wrapped prose in the features; doc languages
PAGE_SHARE = 0.5
PAGE_CONTENT_WORDS = 50  # a line-labelled page is a document to keep when its kept lines hold this many words
LANGUAGE_DOCS = 20  # the doc model judges the languages it saw this many labelled documents in
# below these a student is warned about: with fewer, its figures on held-out pages swing with the sample (students
# from 80 and from 1,000 training pages of CleanEval differ by 0.05 macro F1 on Dragnet, docs/benchmarks.md)
FEW_PAGES = 200
FEW_DOCS = 200


@dataclass
class Student:
    line_model: Optional[object] = None  # lightgbm.Booster
    doc_model: Optional[object] = None
    line_threshold: float = 0.5  # remove a line when P(remove) >= this
    doc_threshold: float = 0.5  # drop a document when P(drop) >= this
    info: dict = field(default_factory=dict)  # how it was trained: sources, counts, seconds
    doc_languages: tuple = ()  # the languages the doc model learned (none: it judges every document)
    threads: int = 1  # prediction threads: one per worker, as datatrove's tasks run side by side
    lm: Optional[LineLM] = None  # a language model's reading of the lines, for the pages it reads (prox.distill.line_lm)

    def p_remove(self, pages: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """P(remove) of every line of every page: one call to the model per ``SLICE`` lines of features (many small
        pages go together; a page of a million lines goes a slice at a time, so its matrix is never whole)."""
        if self.line_model is None or not pages:
            return [np.zeros(len(lines)) for lines in pages]
        pieces: list[list[np.ndarray]] = [[] for _ in pages]
        pending: list[tuple[int, np.ndarray]] = []

        def predict() -> None:
            scores = self.line_model.predict(np.concatenate([block for _, block in pending]), num_threads=self.threads)
            cuts = np.cumsum([len(block) for _, block in pending])[:-1]
            for (page, _), part in zip(pending, np.split(scores, cuts)):
                pieces[page].append(part)
            pending.clear()

        rows = 0
        for page, lines in enumerate(pages):
            for block in line_feature_slices(lines):
                pending.append((page, block))
                rows += len(block)
                if rows >= SLICE:
                    predict()
                    rows = 0
        if pending:
            predict()
        return [np.concatenate(own) if own else np.zeros(0) for own in pieces]

    def p_drop(self, pages: Sequence[Sequence[str]], p_remove: Sequence[np.ndarray]) -> Optional[np.ndarray]:
        """P(drop) of every document, or None without a doc model."""
        if self.doc_model is None:
            return None
        if not pages:
            return np.zeros(0)
        rows = np.stack([doc_features(lines, p) for lines, p in zip(pages, p_remove)])
        return self.doc_model.predict(rows, num_threads=self.threads)

    # -- training ----------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, examples: Examples, rounds: int = LINE_ROUNDS, doc_rounds: int = DOC_ROUNDS, page_share: float = PAGE_SHARE) -> "Student":
        """Train the line model on ``examples.pages`` and the doc model on ``examples.docs`` (either may be empty).

        With both, the pages join the doc model's examples too (kept when their kept lines hold
        ``PAGE_CONTENT_WORDS``), weighing ``page_share`` of the labelled documents: doc labels alone come from
        extracted text and would teach the model to drop raw pages for their noise. ``page_share=0`` turns it off."""
        lightgbm = lightgbm_or_explain()
        if not examples.pages and not examples.docs:
            raise UsageError("no training examples: give line-labelled pages, doc-labelled documents, records or runs")
        student, threads = cls(), os.cpu_count() or 1
        start = time.perf_counter()
        figures: dict = {"origins": examples.origins}
        if examples.pages:
            x, y, weight = _line_matrix(examples.pages)
            data = lightgbm.Dataset(x, label=y, weight=weight, feature_name=_names(LINE_FEATURES), free_raw_data=True)
            student.line_model = boost(lightgbm, {**LINE_PARAMS, "num_threads": threads}, data, rounds, "line model")
            figures.update(pages=len(examples.pages), lines=int(len(y)), lines_removed=int(y.sum()))
        line_seconds = time.perf_counter() - start
        docs = list(examples.docs)
        if docs and page_share > 0:
            docs += [Doc("\n".join(page.lines), _content_words(page) >= PAGE_CONTENT_WORDS, from_page=True) for page in examples.pages]
        if docs and len({d.keep for d in docs}) == 2:
            pages = [d.text.split("\n") for d in docs]
            rows = np.stack([doc_features(lines, p) for lines, p in zip(pages, student.p_remove(pages))])
            labels = np.array([not d.keep for d in docs], dtype=np.float32)
            data = lightgbm.Dataset(rows, label=labels, weight=_doc_weights(docs, page_share),
                                    feature_name=_names(DOC_FEATURES), free_raw_data=True)
            student.doc_model = boost(lightgbm, {**DOC_PARAMS, "num_threads": threads}, data, doc_rounds, "doc model")
            student.doc_languages = languages_of(docs)
            figures["doc_languages"] = list(student.doc_languages)
            figures.update(docs=len(examples.docs), docs_from_pages=len(docs) - len(examples.docs), docs_dropped=int(labels.sum()))
        elif docs:
            figures["docs_skipped"] = f"{len(docs)} documents, all with one label: no doc model"
        figures.update(line_seconds=round(line_seconds, 1), seconds=round(time.perf_counter() - start, 1))
        student.info = figures
        return student

    # -- a folder ----------------------------------------------------------------------------------------
    def save(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        manifest = {"kind": KIND, "version": VERSION, "line_threshold": self.line_threshold,
                    "doc_threshold": self.doc_threshold, "line_features": list(LINE_FEATURES),
                    "doc_features": list(DOC_FEATURES), "doc_languages": list(self.doc_languages), "training": self.info,
                    "line_model": "lines.txt" if self.line_model is not None else None,
                    "doc_model": "docs.txt" if self.doc_model is not None else None}
        if self.lm is not None:
            manifest["lm"] = self.lm.save(folder)
        for name, model in (("lines.txt", self.line_model), ("docs.txt", self.doc_model)):
            if model is not None:
                model.save_model(os.path.join(folder, name))
        with open(os.path.join(folder, MANIFEST), "w") as handle:
            json.dump(manifest, handle, indent=2)

    @classmethod
    def load(cls, folder: str) -> "Student":
        path = os.path.join(folder, MANIFEST)
        with open(path) as handle:
            manifest = json.load(handle)
        if manifest.get("kind") != KIND or manifest.get("version") != VERSION:
            raise UsageError(f"{path}: not a prox student of version {VERSION}")
        for key, names in (("line_features", LINE_FEATURES), ("doc_features", DOC_FEATURES)):
            if manifest.get(key) != list(names):
                raise UsageError(f"{path}: made with other {key.replace('_', ' ')} than this prox computes; distill it again")
        lightgbm = lightgbm_or_explain()
        models = {}
        for key in ("line_model", "doc_model"):
            name = manifest.get(key)
            if not name:
                models[key] = None
                continue
            path = os.path.join(folder, os.path.basename(str(name)))  # a file of the folder, never a path out of it
            if not os.path.isfile(path):
                raise UsageError(f"{folder}: its {key.replace('_', ' ')} {os.path.basename(path)} is missing; distill it again")
            check_model_file(path, len(LINE_FEATURES if key == "line_model" else DOC_FEATURES))
            try:
                models[key] = lightgbm.Booster(model_file=path)
            except lightgbm.basic.LightGBMError as exc:
                raise UsageError(f"{folder}: its {key.replace('_', ' ')} {os.path.basename(path)} cannot be loaded "
                                 f"({str(exc).strip().splitlines()[-1][:200]}); distill it again") from None
        lm = LineLM.load(folder, manifest["lm"]) if manifest.get("lm") else None
        return cls(models["line_model"], models["doc_model"], float(manifest["line_threshold"]),
                   float(manifest["doc_threshold"]), manifest.get("training", {}), tuple(manifest.get("doc_languages") or ()),
                   lm=lm)


def is_student(folder: str) -> bool:
    """Whether ``folder`` is a ``prox distill`` student (checked without loading a model)."""
    return os.path.isfile(os.path.join(folder, MANIFEST))


def too_few(info: dict) -> list[str]:
    """Warnings for a student that learned from too few examples (``Student.info``)."""
    warnings = []
    if 0 < info.get("pages", 0) < FEW_PAGES:
        warnings.append(f"the line model learned from {info['pages']} pages: fewer than {FEW_PAGES} rarely carry over to other sites")
    labelled = info.get("docs", 0)
    if "docs" in info and labelled < FEW_DOCS:
        warnings.append(f"the doc model learned from {labelled} labelled documents: fewer than {FEW_DOCS} rarely carry over")
    return warnings


def languages_of(docs: Sequence[Doc]) -> tuple:
    """The languages with at least ``LANGUAGE_DOCS`` of ``docs`` (CLD2's codes): what the doc model can judge."""
    from collections import Counter

    from prox.text.language import rules_language

    counts = Counter(rules_language(d.text) for d in docs)
    return tuple(sorted(code for code, n in counts.items() if n >= LANGUAGE_DOCS))


def _line_matrix(pages: Sequence[Page]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels (1 = remove) and weights: each page weighs as much as sqrt(its lines), so long pages
    teach more but do not drown the rest."""
    x = np.concatenate([line_features(page.lines) for page in pages])
    y = np.concatenate([np.array([not k for k in page.keep], dtype=np.float32) for page in pages])
    weight = np.concatenate([np.full(len(page.lines), 1 / np.sqrt(max(len(page.lines), 1)), np.float32) for page in pages])
    return x, y, weight


def _content_words(page: Page) -> int:
    return sum(len(line.split()) for line, keep in zip(page.lines, page.keep) if keep)


def _doc_weights(docs, page_share: float) -> np.ndarray:
    """Documents read off line-labelled pages weigh ``page_share`` of the labelled documents in all, so they
    teach that a page with content is kept without outvoting what people said of whole documents."""
    from_pages = np.array([d.from_page for d in docs])
    weight = np.ones(len(docs), dtype=np.float32)
    if from_pages.any() and not from_pages.all():
        weight[from_pages] = page_share * (~from_pages).sum() / from_pages.sum()
    return weight


def _names(features: Sequence[str]) -> list[str]:
    """Feature names LightGBM accepts (no spaces or special characters)."""
    table = str.maketrans({"@": "_at_", "+": "p", "-": "m", "±": "_pm"})
    return [name.translate(table) for name in features]
