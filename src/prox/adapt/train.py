"""Supervised fine-tuning of a causal LM into a refining model, on annotation records.

Prompts are built by the same functions the writers use at inference (``doc_prompt``, ``chunk_prompt``
with the model's own tokenizer and chat template), so training sees exactly what inference will; the
loss is on the program tokens (and the end-of-sequence token) only, and only their logits are computed
(the vocabulary projection of every prompt token was a fifth of the work). Batches are grouped by length,
left-padded as at inference. Full fine-tuning or LoRA (merged into the weights at the end, and kept
unmerged in ``OUTPUT/adapter``: what prox ships); resumable from the last checkpoint; CPU or GPU.
The output folder is a plain Hugging Face model folder: it loads in the transformers and vLLM writers;
fine-tuned from a Llama-architecture GGUF, it also holds ``model.gguf`` for the llama.cpp writer.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from prox.errors import UsageError

IGNORE = -100  # label of tokens the loss skips (the prompt)


@dataclass
class TrainConfig:
    model: str  # hub id, folder or .gguf file
    output: str
    levels: tuple[str, ...] = ("doc", "chunk")
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    learning_rate: float | None = None  # default: 2e-5 full, 2e-4 LoRA
    batch_size: int = 4
    gradient_accumulation: int = 1
    max_length: int = 2304  # the longest doc prompt (2,000) plus a program
    doc_prompt_tokens: int = 2000  # as the writers' doc_prompt_tokens: train on the prompts inference builds
    gguf_dtype: str = "f16"  # of model.gguf, written when the base model is a Llama-architecture GGUF
    lora: bool = False
    lora_rank: int = 16
    lora_alpha: int = 32
    init_adapter: str | None = None  # a LoRA adapter folder to go on training (rank and alpha are its own)
    length_grouped: bool = True  # batches of similar lengths: little padding
    save_steps: int = 50
    seed: int = 0
    device: str | None = None
    extra: dict = field(default_factory=dict)  # more transformers TrainingArguments


def prompt_ids(record: dict, tokenizer: Any, doc_prompt_tokens: int = 2000) -> list[int]:
    """The prompt the writers build for this record, as token ids."""
    from prox.text.chunker import Chunk
    from prox.text.prompts import chunk_prompt, doc_prompt

    if record["level"] == "doc":
        return list(doc_prompt(record["text"], tokenizer, doc_prompt_tokens).token_ids)
    chunk = Chunk(record["chunk"], record["line_start"], record["line_end"], 0)
    return list(chunk_prompt(chunk, tokenizer).token_ids)


def examples(records: Iterable[dict], tokenizer: Any, levels: Iterable[str] = ("doc", "chunk"), max_length: int = 2304,
             doc_prompt_tokens: int = 2000) -> tuple[list[dict], int]:
    """Tokenized examples (prompt masked out of the labels), and how many records were too long."""
    eos = tokenizer.eos_token_id
    found, too_long = [], 0
    for record in records:
        if record.get("level") not in levels:
            continue
        prompt = prompt_ids(record, tokenizer, doc_prompt_tokens)
        completion = tokenizer.encode(record["program"], add_special_tokens=False) + ([eos] if eos is not None else [])
        if len(prompt) + len(completion) > max_length:
            too_long += 1
            continue
        found.append({"input_ids": prompt + completion, "labels": [IGNORE] * len(prompt) + completion})
    return found, too_long


def read_records(paths: Iterable[str]) -> list[dict]:
    """Annotation records from JSONL files (``prox annotate`` / ``prox derive`` output)."""
    from prox.records import Record, expand
    from prox.records import read_records as read

    records = []
    for item in read(expand(list(paths))):
        if not isinstance(item, Record):
            raise UsageError(f"{item.file}, {item.where}: {item.error}")
        if item.data.get("level") not in ("doc", "chunk") or not isinstance(item.data.get("program"), str):
            raise UsageError(f"{item.file}, {item.where}: not an annotation record (needs level doc|chunk and a program)")
        records.append(item.data)
    return records


def train(config: TrainConfig, records: list[dict]) -> dict:
    """Fine-tune; returns figures (examples, steps, final loss, seconds). Reruns resume."""
    import torch
    from transformers import DataCollatorForSeq2Seq, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    from prox.writers.transformers_writer import cpu_has_bf16, load_model

    if config.init_adapter and not config.lora:
        raise UsageError(f"init_adapter={config.init_adapter!r} goes on training a LoRA adapter: set lora=True")
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model, tokenizer = load_model(config.model, "fp32", device)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    data, too_long = examples(records, tokenizer, config.levels, config.max_length, config.doc_prompt_tokens)
    if not data:
        raise UsageError(f"no training examples at levels {', '.join(config.levels)} (too long: {too_long})")
    if config.lora and config.init_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, config.init_adapter, is_trainable=True)
        model = model.float()  # a shipped adapter is bf16; train in fp32 as a fresh one
    elif config.lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, task_type="CAUSAL_LM",
                                                 target_modules="all-linear"))
    model.train()
    tokenizer.padding_side = "left"  # answers end every row, as in generation: their logits are the last ones
    checkpoints = os.path.join(config.output, "checkpoints")
    bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported() or (device == "cpu" and cpu_has_bf16())
    arguments = TrainingArguments(
        output_dir=checkpoints, per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation, num_train_epochs=config.epochs,
        max_steps=config.max_steps, learning_rate=config.learning_rate or (2e-4 if config.lora else 2e-5),
        lr_scheduler_type="cosine", warmup_steps=_warmup(config, len(data)), logging_steps=5, save_steps=config.save_steps,
        save_total_limit=2, seed=config.seed, bf16=bf16, use_cpu=device == "cpu", report_to=[],
        remove_unused_columns=False, dataloader_num_workers=0,
        train_sampling_strategy="group_by_length" if config.length_grouped else "random",
        **{"disable_tqdm": not sys.stderr.isatty(), **config.extra},  # the step bar on a terminal, not in a log
    )
    trainer = _trainer_class()(model=model, args=arguments, train_dataset=data,
                      data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE))
    last = get_last_checkpoint(checkpoints) if os.path.isdir(checkpoints) else None
    result = trainer.train(resume_from_checkpoint=last)
    if config.lora:
        model.save_pretrained(os.path.join(config.output, "adapter"))
    final = model.merge_and_unload() if config.lora else model
    final.save_pretrained(config.output)
    tokenizer.save_pretrained(config.output)
    if config.model.endswith(".gguf") and getattr(final.config, "model_type", None) == "llama":
        from prox.adapt.gguf_export import export_gguf

        export_gguf(config.output, os.path.join(config.output, "model.gguf"), config.model, config.gguf_dtype)  # for the llama.cpp writer
    figures = {"examples": len(data), "too_long": too_long, "steps": result.global_step,
               "train_loss": round(result.training_loss, 4), "seconds": round(result.metrics.get("train_runtime", 0.0), 1),
               "resumed_from": last, "config": asdict(config)}
    with open(os.path.join(config.output, "prox_train.json"), "w") as handle:
        json.dump(figures, handle, indent=2, default=str)
    return figures


def program_loss(model, inputs: dict, num_items: Any = None):
    """Cross-entropy of the program tokens, computing logits only from the first one on.

    Rows are left-padded, so every row's answer ends at the last position; positions are counted from
    each row's first real token, as the writers number a left-padded batch."""
    import torch

    labels, attention = inputs["labels"], inputs["attention_mask"]
    answer = labels.ne(IGNORE)
    width = labels.shape[1]
    keep = int((width - answer.int().argmax(-1)).max()) + 1  # from the token before the longest answer
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=inputs["input_ids"], attention_mask=attention, position_ids=positions,
                   logits_to_keep=keep).logits[:, :-1].float()
    target = labels[:, width - keep + 1 :]
    total = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                              ignore_index=IGNORE, reduction="sum")
    count = num_items if num_items is not None else answer.sum()
    return total / count


def _trainer_class():
    from transformers import Trainer

    class ProgramTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = program_loss(model, inputs, num_items_in_batch)
            return (loss, None) if return_outputs else loss

    return ProgramTrainer


def _warmup(config: TrainConfig, n_examples: int) -> int:
    """3% of the optimizer steps (an integer, which every transformers version takes)."""
    import math

    per_epoch = math.ceil(n_examples / (config.batch_size * config.gradient_accumulation))
    steps = config.max_steps if config.max_steps > 0 else math.ceil(per_epoch * config.epochs)
    return round(0.03 * steps)
