"""Settings are checked once, at start-up: a typo or an option the backend cannot honour is an error naming
the valid ones, before any document is read or any file is written."""

import json

import pytest
from typer.testing import CliRunner

import prox
from prox.cli import app
from prox.jobs import RefineJob
from prox.program.stored import Thresholds
from prox.settings import Batching, Models, RefineSettings
from prox.writers.registry import backend_options

runner = CliRunner()


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "A sentence of words that is long enough to keep.\n" * 20}) + "\n")
    return path


def refine(corpus, tmp_path, *extra):
    return runner.invoke(app, ["refine", str(corpus), "-o", str(tmp_path / "run"), *extra])


def test_an_unknown_option_key_fails_at_start_naming_the_valid_ones(corpus, tmp_path):
    result = refine(corpus, tmp_path, "--preset", "heuristic", "-O", "jugde=page")
    assert result.exit_code == 2
    assert "takes no option 'jugde'" in result.output and "judge" in result.output and "doc_filters" in result.output
    assert not (tmp_path / "run").exists()  # nothing was written
    text = runner.invoke(app, ["refine-text", str(corpus), "--preset", "heuristic", "-O", "jugde=page"])
    assert text.exit_code == 2 and "jugde" in text.output


def test_score_with_the_heuristic_backend_is_an_error(corpus, tmp_path):
    result = refine(corpus, tmp_path, "--preset", "heuristic", "--score")
    assert result.exit_code == 2
    assert "cannot score the doc stage" in result.output and "transformers" in result.output
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="cannot score"):
        prox.Refiner(preset="heuristic", score=True)


def test_a_drop_threshold_needs_a_writer_of_drop_probabilities(corpus, tmp_path):
    result = refine(corpus, tmp_path, "--preset", "heuristic", "--drop-threshold", "0.7")
    assert result.exit_code == 2 and "P(drop)" in result.output
    with pytest.raises(ValueError, match="P\\(drop\\)"):
        prox.Refiner(preset="heuristic", drop_threshold=0.7)
    assert prox.Refiner(drop_threshold=0.7).refine(["A text."])  # the default student writes P(drop)


def test_a_bad_preset_fails_at_start_up(corpus, tmp_path):
    result = refine(corpus, tmp_path, "--preset", "wbe")
    assert result.exit_code == 2 and "unknown preset 'wbe'" in result.output and "heuristic" in result.output
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="unknown preset"):
        RefineJob([str(corpus)], str(tmp_path / "job"), preset="wbe")  # the job, not a worker, says so
    with pytest.raises(ValueError, match="unknown backend"):
        prox.Refiner(preset=None, doc_model="m", backend="tensorflow")


def test_batching_has_four_names_and_checks_them():
    assert backend_options("heuristic") == ("line_rules", "doc_filters", "judge")
    assert {"prompts_per_batch", "chunk_tokens", "doc_answer_tokens", "chunk_answer_tokens"} <= set(backend_options("transformers"))
    with pytest.raises(ValueError, match="docs_per_step must be a positive whole number"):
        Batching(docs_per_step=0)
    settings = RefineSettings.of("heuristic", docs_per_step=8, prompts_per_batch=4, judge="page")
    assert settings.batching.docs_per_step == 8 and settings.writer("doc").options == {"judge": "page"}
    model = RefineSettings(Models(None, "some/model", backend="openai"), ("doc",), Batching(prompts_per_batch=4), score=True)
    assert model.writer("doc").options == {"prompts_per_batch": 4, "chunk_tokens": 1500, "doc_mode": "score"}
    assert model.writes_drop_probability()
    model.check_thresholds(Thresholds(drop_threshold=0.7))  # a scoring model writes P(drop): fine
    assert RefineSettings.of(None, "m", backend="openai", doc_mode="score").score  # the writers' spelling
    with pytest.raises(ValueError, match="doc_mode must be"):
        RefineSettings.of(None, "m", backend="openai", doc_mode="scores")


def test_models_resolve_per_stage_from_one_registry():
    assert Models().for_stage("doc").backend == "student" and Models().for_stage("doc").model.endswith("student_web")
    assert Models("heuristic").for_stage("doc").backend == "heuristic"
    web = Models("web", backend="openai")
    assert web.for_stage("doc").model == "gair-prox/web-doc-refining-lm"
    assert web.for_stage("chunk").model == "gair-prox/web-chunk-refining-lm"
    one = Models("heuristic", doc_model="m.gguf", backend="llamacpp")  # explicit models are not the heuristic preset's
    assert one.for_stage("chunk") == one.for_stage("doc") and one.for_stage("chunk").model == "m.gguf"
    with pytest.raises(ValueError, match="needs a model"):
        Models(None, backend="transformers")


def test_an_unknown_option_of_make_writer_names_the_valid_ones():
    from prox.writers import make_writer

    with pytest.raises(ValueError, match="its options: line_rules, doc_filters, judge"):
        make_writer("heuristic", batch_size=4)


def test_a_run_made_before_the_typed_settings_resumes(corpus, tmp_path):
    run = tmp_path / "run"
    first = RefineJob([str(corpus)], str(run)).run()
    identity = json.loads((run / "run.json").read_text())
    # what an earlier prox wrote: scoring and its threshold among the writer options, one batch_size
    identity.pop("score")
    identity.pop("docs_per_step")
    identity["thresholds"].pop("drop_threshold")
    identity.update(batch_size=64, writer_options={"constrained": True, "doc_mode": "generate", "drop_threshold": 0.5})
    (run / "run.json").write_text(json.dumps(identity))
    again = RefineJob([str(corpus)], str(run)).run()  # the same settings: resumed, not refused
    assert again["read"] == first["read"] == 1
    with pytest.raises(ValueError, match="short_words"):
        RefineJob([str(corpus)], str(run), thresholds=Thresholds(short_words=3)).run()
