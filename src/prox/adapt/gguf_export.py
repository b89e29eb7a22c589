"""Write a fine-tuned Llama-architecture model folder as a GGUF file, so the llama.cpp writer can run it.

Only the ``gguf`` package is needed (no llama.cpp converter script). The tokenizer and chat template
are copied verbatim from a *donor* GGUF, normally the GGUF the model was fine-tuned from: its
vocabulary is the model's. Query and key projections are permuted into llama.cpp's rotary layout
(transformers' GGUF loader undoes the same permutation when it reads a GGUF).
"""

from __future__ import annotations

import json
import os

from prox.errors import UsageError

LAYER_TENSORS = {  # Hugging Face name inside a layer -> GGUF name inside a block
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def _permute(weights, n_head: int):
    """Hugging Face's rotate-half layout of q/k rows -> llama.cpp's interleaved one."""
    return weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def export_gguf(folder: str, output: str, donor_gguf: str, dtype: str = "f16") -> str:
    """``folder`` (a Llama-architecture model saved by transformers) as ``output``, tokenizer from ``donor_gguf``."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    with open(os.path.join(folder, "config.json")) as handle:
        config = json.load(handle)
    if config.get("model_type") != "llama":
        raise UsageError(f"GGUF export supports Llama-architecture models, not {config.get('model_type')!r}")
    tensors: dict = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            tensors.update(load_file(os.path.join(folder, name)))
    heads, kv_heads = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    hidden = config["hidden_size"]
    float_type = {"f16": np.float16, "f32": np.float32}[dtype]

    writer = gguf.GGUFWriter(output, "llama")
    writer.add_context_length(config.get("max_position_embeddings", 4096))
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(config.get("head_dim", hidden // heads))
    writer.add_rope_freq_base(float(config.get("rope_theta", (config.get("rope_parameters") or {}).get("rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-5)))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    reader = gguf.GGUFReader(donor_gguf)
    vocab = len(reader.fields["tokenizer.ggml.tokens"].data)
    writer.add_vocab_size(vocab)
    for key, field in reader.fields.items():  # the donor's tokenizer and chat template, verbatim
        if not key.startswith("tokenizer."):
            continue
        kind = gguf.GGUFValueType(field.types[0])
        if kind == gguf.GGUFValueType.ARRAY:
            writer.add_array(key, field.contents())
        else:
            writer.add_key_value(key, field.contents(), kind)

    def add(name: str, array) -> None:
        array = np.ascontiguousarray(array.astype(np.float32))
        writer.add_tensor(name, array if array.ndim == 1 else array.astype(float_type))  # norms stay f32

    add("token_embd.weight", tensors["model.embed_tokens.weight"])
    add("output_norm.weight", tensors["model.norm.weight"])
    if "lm_head.weight" in tensors and not config.get("tie_word_embeddings", False):
        add("output.weight", tensors["lm_head.weight"])  # absent: llama.cpp ties it to the embeddings
    for layer in range(config["num_hidden_layers"]):
        for hf_name, gguf_name in LAYER_TENSORS.items():
            weights = tensors[f"model.layers.{layer}.{hf_name}"]
            if hf_name.startswith("self_attn.q_proj"):
                weights = _permute(weights, heads)
            elif hf_name.startswith("self_attn.k_proj"):
                weights = _permute(weights, kv_heads)
            add(f"blk.{layer}.{gguf_name}", weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return output
