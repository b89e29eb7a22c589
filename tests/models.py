"""Tiny random-weight models built from a config, for plumbing tests (no download)."""

from __future__ import annotations

from pathlib import Path


def tiny_llama(folder: Path, tokenizer, seed: int = 0) -> Path:
    """A 2-layer Llama with random weights and the given tokenizer, saved to ``folder``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_llama_gguf(path: Path, donor_gguf: str, seed: int = 0) -> Path:
    """A 2-layer Llama GGUF file with random weights and the tokenizer of ``donor_gguf``.

    For llama.cpp (and transformers' GGUF loader): no converter script needed, only the gguf package.
    """
    import gguf
    import numpy as np

    reader = gguf.GGUFReader(donor_gguf)
    writer = gguf.GGUFWriter(str(path), "llama")
    hidden, ffn, heads, kv_heads, layers = 64, 128, 4, 2, 2
    vocab = len(reader.fields["tokenizer.ggml.tokens"].data)
    writer.add_context_length(4096)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(ffn)
    writer.add_block_count(layers)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(hidden // heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    for key, field in reader.fields.items():  # the donor's tokenizer, verbatim
        if not key.startswith("tokenizer."):
            continue
        value = field.contents()
        kind = gguf.GGUFValueType(field.types[0])
        if kind == gguf.GGUFValueType.ARRAY:
            writer.add_array(key, value)
        else:
            writer.add_key_value(key, value, kind)
    rng = np.random.default_rng(seed)

    def weight(*shape):
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    head_dim = hidden // heads
    writer.add_tensor("token_embd.weight", weight(vocab, hidden))
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    writer.add_tensor("output.weight", weight(vocab, hidden))
    for layer in range(layers):
        block = f"blk.{layer}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"{block}.attn_q.weight", weight(hidden, hidden))
        writer.add_tensor(f"{block}.attn_k.weight", weight(kv_heads * head_dim, hidden))
        writer.add_tensor(f"{block}.attn_v.weight", weight(kv_heads * head_dim, hidden))
        writer.add_tensor(f"{block}.attn_output.weight", weight(hidden, hidden))
        writer.add_tensor(f"{block}.ffn_gate.weight", weight(ffn, hidden))
        writer.add_tensor(f"{block}.ffn_up.weight", weight(ffn, hidden))
        writer.add_tensor(f"{block}.ffn_down.weight", weight(hidden, ffn))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
