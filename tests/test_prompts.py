import pytest

from prox import chunk_document, chunk_prompt, doc_prompt
from prox.text.prompts import SYSTEM_PROMPT, llama2_chat


def test_llama2_format_matches_the_chat_template():
    assert llama2_chat("Hello.\n\n") == (
        "<s>[INST] <<SYS>>\nYou are a helpful, respectful and honest assistant.\n<</SYS>>\n\nHello. [/INST]"
    )


def test_doc_prompt(llama2_tokenizer):
    prompt = doc_prompt("A short document.  \n", llama2_tokenizer)
    assert prompt.text == llama2_chat("A short document.")
    assert prompt.token_ids[0] == llama2_tokenizer.bos_token_id
    assert prompt.token_ids.count(llama2_tokenizer.bos_token_id) == 1
    assert llama2_tokenizer.decode(prompt.token_ids, skip_special_tokens=True).startswith("[INST] <<SYS>>")
    assert not prompt.truncated


@pytest.mark.parametrize("budget", [2000, 300, 120])
def test_long_documents_are_cut_never_the_template(llama2_tokenizer, web_sample, budget):
    document = max((r["text"] for r in web_sample), key=len)
    prompt = doc_prompt(document, llama2_tokenizer, max_tokens=budget)
    assert prompt.truncated
    assert budget - 5 <= len(prompt.token_ids) <= budget
    assert prompt.text.endswith(" [/INST]") and SYSTEM_PROMPT in prompt.text
    assert llama2_tokenizer.decode(prompt.token_ids[-5:]).endswith("[/INST]")
    kept = prompt.text.split("<</SYS>>\n\n", 1)[1].removesuffix(" [/INST]")
    assert document.startswith(kept)


def test_chunk_prompt_without_chat_template_uses_llama2(llama2_tokenizer):
    chunk = chunk_document("first\nsecond", llama2_tokenizer)[0]
    prompt = chunk_prompt(chunk, llama2_tokenizer)
    assert prompt.text == llama2_chat("[doc]\n[000]first\n[001]second\n[/doc]")


def test_chunk_prompt_uses_the_tokenizers_chat_template(llama2_tokenizer):
    import copy

    tokenizer = copy.deepcopy(llama2_tokenizer)
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    prompt = chunk_prompt("[000]only line", tokenizer)
    assert prompt.text == f"<|system|>{SYSTEM_PROMPT}\n<|user|>[doc]\n[000]only line\n[/doc]\n<|assistant|>"
