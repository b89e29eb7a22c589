"""Why a run's writer decided what it did, line by line: the evidence ``prox show --why`` prints.

The rules and the students cost milliseconds a page, so their evidence is computed again from the run's
settings (``run.json``): the heuristic's rule for each line it removes and the words its doc filters judged,
a student's P(remove) for each line and its P(drop). Where the run stored P(remove) of each line
(``metadata.remove_probability``: a student whose language model read the page, ``smollm2-web``), the stored
figures are shown, not computed again. A generative model's evidence is its programs and P(drop), which every
view shows already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from prox.errors import UsageError
from prox.program.words import word_units
from prox.report.diff import DocView
from prox.text.language import rules_language

EXPLAINED = ("heuristic", "student")  # the backends whose evidence is computed again


@dataclass
class Why:
    lines: list[str] = field(default_factory=list)  # a note per line of the original text ("" for none)
    notes: list[str] = field(default_factory=list)  # about the whole document


class Explainer:
    """The evidence of a run's doc and chunk writers (either may be None: not a rule or student writer)."""

    def __init__(self, doc_writer=None, chunk_writer=None):
        self.doc_writer, self.chunk_writer = doc_writer, chunk_writer

    @classmethod
    def of_run(cls, identity: dict) -> "Explainer":
        """The writers a ``prox refine`` run's ``run.json`` names, built again where they are rules or a student."""
        from dataclasses import replace

        from prox.engine import Engine
        from prox.settings import STAGES, RefineSettings

        if identity.get("command") != "refine":
            raise UsageError("--why needs a prox refine run: a prox execute run re-executed stored programs, which are its evidence")
        settings = RefineSettings.of(identity.get("preset"), identity.get("doc_model"), identity.get("chunk_model"),
                                     identity.get("backend"), identity.get("stages") or STAGES,
                                     **(identity.get("writer_options") or {}))
        explained = tuple(stage for stage in settings.stages if settings.models.for_stage(stage).backend in EXPLAINED)
        if not explained:
            backend = settings.models.for_stage(settings.stages[0]).backend
            raise UsageError(f"--why computes the evidence of the heuristic and of students; this run's writer is {backend}, "
                             "whose programs (and P(drop), where it scored) are its evidence")
        engine = Engine.build(replace(settings, stages=explained))  # one writer for both stages when they share one
        return cls(engine.doc_writer, engine.chunk_writer)

    def explain(self, doc: DocView) -> Why:
        lines = doc.raw.split("\n")
        why = Why([""] * len(lines), [])
        language = rules_language(doc.raw)
        why.notes.append(f"language: {doc.metadata.get('prox', {}).get('language') or language}")
        for writer in dict.fromkeys(w for w in (self.chunk_writer, self.doc_writer) if w is not None):
            if writer.name == "heuristic":
                self._heuristic(writer, lines, language, why, doc=writer is self.doc_writer, chunk=writer is self.chunk_writer)
            else:
                self._student(writer, lines, language, why, doc=writer is self.doc_writer, chunk=writer is self.chunk_writer,
                              stored=doc.metadata.get("remove_probability"))
        return why

    @staticmethod
    def _heuristic(writer, lines: list[str], language: str, why: Why, doc: bool, chunk: bool) -> None:
        if chunk:
            why.lines = [f"rules: {cause}" if cause and cause != "prose" else cause for cause in writer.line_rules.causes(lines)]
        if doc:
            from prox.writers.heuristic import FILTER_LANGUAGES, MIN_CONTENT_UNITS

            content = writer.line_rules.signals(lines).paragraphs()
            why.notes.append(f"the line rules keep {word_units(content):,} of {word_units(chr(10).join(lines)):,} words")
            if language in FILTER_LANGUAGES:
                why.notes.append(f"doc filters ({', '.join(writer.doc_filters) or 'none'}) on those words: "
                                 f"{writer.drop_reason(chr(10).join(lines)) or 'passed'}")
            else:
                why.notes.append(f"English filters do not judge {language}: dropped only under {MIN_CONTENT_UNITS} words of content")

    @staticmethod
    def _student(writer, lines: list[str], language: str, why: Why, doc: bool, chunk: bool, stored=None) -> None:
        student = writer.student
        (p_remove,) = student.p_remove([lines])  # the features' own: what the doc model reads
        threshold = student.line_threshold
        if chunk:
            decided = stored if isinstance(stored, list) and len(stored) == len(lines) else p_remove
            why.lines = [f"P(remove) {p:.2f}" + (" -> remove" if p >= threshold else "") if line.strip() else ""
                         for line, p in zip(lines, decided)]
        if doc:
            kept = "\n".join(line for line, p in zip(lines, p_remove) if p < threshold)
            why.notes.append(f"the line model keeps {word_units(kept):,} of {word_units(chr(10).join(lines)):,} words "
                             f"(P(remove) < {threshold})")
            learned = student.doc_languages
            if learned and language not in learned:
                from prox.writers.heuristic import MIN_CONTENT_UNITS

                why.notes.append(f"the doc model learned {', '.join(learned)}, not {language}: dropped only under "
                                 f"{MIN_CONTENT_UNITS} words of content")
            else:
                p_drop = student.p_drop([lines], [p_remove])
                if p_drop is not None:
                    why.notes.append(f"P(drop) {float(p_drop[0]):.3f}: drops at >= {student.doc_threshold}")


def explain_all(docs: list[DocView], identity: dict) -> list[Optional[Why]]:
    """Evidence for each of ``docs`` of one run."""
    explainer = Explainer.of_run(identity)
    return [explainer.explain(doc) for doc in docs]
