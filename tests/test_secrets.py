"""No secret in any file prox writes (issue 26): run.json, logs/executor.json, the card, the report, error messages."""

from __future__ import annotations

import json
import subprocess

import pytest

from prox.masking import MASK, is_secret, mask, mask_text
from prox.report.card import command_line

SECRET_NAMES = ["key", "api_key", "apikey", "apiKey", "APIKey", "x-api-key", "X-Api-Key", "openai_api_key", "token",
                "hf_token", "HF_TOKEN", "access_token", "accessToken", "refresh_token", "auth_token", "secret",
                "client_secret", "aws_secret_access_key", "password", "db.password", "passwd", "auth", "basic_auth",
                "Authorization", "Proxy-Authorization", "credential", "credentials", "bearer", "cookie", "Cookie",
                "private_key", "privateKey", "session_key", "ssh_key"]
DATA_NAMES = ["tokenizer", "tokenizer_name", "max_tokens", "max_batch_tokens", "max_new_tokens", "answer_tokens",
              "tokens", "token_ids", "pad_token", "eos_token", "eos_token_id", "keys", "id_key", "text_key", "sort_key",
              "cache_key", "key_field", "keyword", "monkey", "author", "model", "base_url", "mode", "extra_body",
              "timeout", "prompts_per_batch"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_names_of_secrets(name):
    assert is_secret(name)


@pytest.mark.parametrize("name", DATA_NAMES)
def test_names_of_data_are_no_secrets(name):
    assert not is_secret(name)


def test_mask_is_a_deep_copy_masking_by_name_and_in_every_string():
    settings = {"writer_options": {"api_key": "sk-1", "tokenizer": "t", "max_batch_tokens": 4096, "hf_token": None,
                                   "password": "", "base_url": "http://alice:pw@host:8000/v1",
                                   "extra_body": {"api_key": "k2", "headers": [{"Authorization": "Bearer abc"}]}},
                "inputs": ["s3://key:secret@bucket/a.jsonl", "plain.jsonl"], "limit": 3, "score": False}
    before = json.dumps(settings)
    masked = mask(settings)
    assert json.dumps(settings) == before  # the settings themselves are left alone
    assert masked == {"writer_options": {"api_key": MASK, "tokenizer": "t", "max_batch_tokens": 4096, "hf_token": None,
                                         "password": "", "base_url": "http://***@host:8000/v1",
                                         "extra_body": {"api_key": MASK, "headers": [{"Authorization": MASK}]}},
                      "inputs": ["s3://***@bucket/a.jsonl", "plain.jsonl"], "limit": 3, "score": False}
    assert mask(masked) == masked


@pytest.mark.parametrize("text, expected", [
    ("http://alice:pw@host/v1", "http://***@host/v1"),
    ("https://bob@host.org/a", "https://***@host.org/a"),  # user only
    ("see http://u:p@ss@host/x now", "see http://***@host/x now"),  # an unescaped @ in the password
    ("https://host/v1?api_key=zzz&n=1", "https://host/v1?api_key=***&n=1"),
    ("Authorization: Bearer abc.def==", "Authorization: ***"),
    ("sent with Bearer sk-abc", "sent with Bearer ***"),
    ("Settings(options={'api_key': 'sk-1', 'max_tokens': 5, 'token': None})",
     "Settings(options={'api_key': '***', 'max_tokens': 5, 'token': None})"),
    ('{"hf_token": "hf_x", "tokenizer": "t"}', '{"hf_token": "***", "tokenizer": "t"}'),
    ("-O api_key=sk-9 -O tokenizer=t -O max_batch_tokens=4096", "-O api_key=*** -O tokenizer=t -O max_batch_tokens=4096"),
    ("ConnectError: [Errno 111] Connection refused", "ConnectError: [Errno 111] Connection refused"),
    ("mail me at a@b.org, time: 3 s", "mail me at a@b.org, time: 3 s"),
])
def test_mask_text(text, expected):
    assert mask_text(text) == expected
    assert mask_text(expected) == expected


def test_error_messages_name_no_credential():
    from servers import free_port

    from prox.adapt.annotate import Teacher, TeacherUnreachable
    from prox.errors import describe

    assert describe(ValueError("cannot reach http://u:pw-secret@h/v1")) == "ValueError: cannot reach http://***@h/v1"
    teacher = Teacher("t", f"http://u:pw-secret@127.0.0.1:{free_port()}/v1", max_retries=0, timeout=1.0)
    with pytest.raises(TeacherUnreachable) as caught:
        teacher.ask(["hello"])
    assert "pw-secret" not in str(caught.value) and "http://***@127.0.0.1" in str(caught.value)


def _expanded(line: str, environment: dict) -> list[str]:
    """The words bash makes of a command line, with ``environment`` set."""
    script = f"words() {{ printf '%s\\0' \"$@\"; }}; words {line}"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True, env=environment)
    return done.stdout.split("\0")[:-1]


def test_the_cards_command_reads_secrets_from_the_environment_and_shows_the_rest():
    from prox.cli import parse_options

    options = {"api_key": MASK, "hf_token": "hf_x", "tokenizer": "org/tok", "max_batch_tokens": 4096,
               "base_url": "http://u:pw@h/v1", "extra_body": {"api_key": "k", "n": 1}, "id_key": "doc id"}
    line = command_line({"command": "refine", "inputs": ["in.jsonl"], "output": "out", "writer_options": options})
    assert 'api_key="$OPENAI_API_KEY"' in line and 'hf_token="$HF_TOKEN"' in line
    assert "-O tokenizer=org/tok -O max_batch_tokens=4096" in line and "pw" not in line and "hf_x" not in line
    words = _expanded(line, {"OPENAI_API_KEY": "sk-real", "HF_TOKEN": "hf_real", "PATH": "/usr/bin:/bin"})
    pairs = [words[i + 1] for i, word in enumerate(words) if word == "-O"]
    assert parse_options(pairs) == {"api_key": "sk-real", "hf_token": "hf_real", "tokenizer": "org/tok",
                                    "max_batch_tokens": 4096, "base_url": "http://***@h/v1",
                                    "extra_body": {"api_key": MASK, "n": 1}, "id_key": "doc id"}


def test_every_executor_writes_a_masked_executor_json(tmp_path):
    from prox.jobs import RefineJob
    from prox.pipeline.executors import LocalExecutor, QuietExecutor, RayExecutor, SlurmExecutor

    for executor, options in (("local", {}), ("slurm", {"partition": "p", "time": "1:00:00"})):
        job = RefineJob(["in.jsonl"], str(tmp_path / executor), executor=executor, executor_options=options,
                        backend="openai", doc_model="m", stages=["doc"],
                        writer_options={"api_key": "sk-SECRET", "base_url": "http://u:pw-SECRET@h/v1"})
        built = job.build_executor()
        assert isinstance(built, (LocalExecutor, QuietExecutor, SlurmExecutor, RayExecutor))
        built.save_executor_as_json()
        written = (tmp_path / executor / "logs" / "executor.json").read_text()
        assert "SECRET" not in written and '"api_key": "***"' in written and "http://***@h/v1" in written


@pytest.fixture()
def server():
    from servers import JsonServer

    server = JsonServer(lambda body: {"choices": [{"text": "keep_doc()"}], "usage": {"completion_tokens": 3}})
    yield server
    server.close()


def test_no_secret_in_any_file_of_a_run(server, tmp_path):
    """A real refine through a server, then its report: no file but datatrove's executor.pik (absent here, a Slurm
    executor pickles itself for its tasks) holds a secret. The card's command keeps what is no secret."""
    from conftest import shared_file
    from typer.testing import CliRunner

    from prox.cli import app

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": str(i), "text": f"Document {i} about rivers and bridges."}) + "\n"
                              for i in range(3)))
    run = tmp_path / "run"
    secrets = ("sk-SECRET-1", "pw-SECRET-2", "SECRET-3")
    base_url = server.url.replace("http://", f"http://alice:{secrets[1]}@")
    refined = CliRunner().invoke(app, [
        "refine", str(source), "--output", str(run), "--backend", "openai", "--doc-model", "m", "--stages", "doc",
        "-O", f"api_key={secrets[0]}", "-O", f"base_url={base_url}", "-O", f'extra_body={{"api_key": "{secrets[2]}"}}',
        "-O", f"tokenizer={shared_file('tokenizers/llama2')}", "-O", "mode=text", "-O", "max_batch_tokens=4096"])
    assert refined.exit_code == 0, refined.output
    reported = CliRunner().invoke(app, ["report", str(run)])
    assert reported.exit_code == 0, reported.output
    assert server.requests >= 3 and (run / "README.md").exists() and (run / "report.html").exists()
    assert not any(s in refined.output + reported.output for s in secrets)
    leaks = sorted(str(path.relative_to(run)) for path in run.rglob("*") if path.is_file() and path.name != "executor.pik"
                   and any(s.encode() in path.read_bytes() for s in secrets))
    assert leaks == []
    card = (run / "README.md").read_text()
    assert 'api_key="$OPENAI_API_KEY"' in card and "-O max_batch_tokens=4096" in card and "-O tokenizer=" in card
