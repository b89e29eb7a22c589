import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prox import Normalize, Program, RemoveLines, SkipChunk, execute_chunk, execute_doc, parse_program
from prox.program import executor

WORDS = " ".join(f"word{i}" for i in range(30))


def doc(n_lines=6):
    return "\n".join(f"line {i}: {WORDS}" for i in range(n_lines))


def test_doc_level():
    assert execute_doc("some text", "drop_doc()").dropped
    assert execute_doc("some text", "drop_doc()").text == ""
    kept = execute_doc("some text", "keep_doc()")
    assert not kept.dropped and kept.text == "some text" and kept.reason == "keep_doc"
    garbage = execute_doc("some text", "I think we should drop_doc")
    assert not garbage.dropped and garbage.reason == "no_doc_operation" and garbage.trace.errors


def test_remove_lines_and_normalize():
    text = "keep 0\nnav 1\nnav 2\n" + WORDS + " Click here\nfooter"
    result = execute_chunk(text, ['remove_lines(line_start=1, line_end=2)', 'normalize(source_str=" Click here", target_str="")\nremove_lines(4, 4)'])
    assert result.reason == "refined"
    assert result.text == "keep 0\n" + WORDS
    assert result.trace.removed_lines == (1, 2, 4)
    assert result.trace.normalizations[0].count == 1


def test_normalize_runs_first_and_can_move_lines():
    # the reference normalizes the whole document first, then removes lines of the normalized text
    text = "a\nb\n" + WORDS
    result = execute_chunk(text, 'normalize(source_str="a\\nb", target_str="ab")\nremove_lines(0, 0)')
    assert result.text == WORDS


def test_blank_sources_are_ignored():
    text = doc()
    result = execute_chunk(text, 'normalize(source_str=" ", target_str="")\nnormalize(source_str="", target_str="x")')
    assert result.text == text and [n.count for n in result.trace.normalizations] == [0, 0]


def test_range_errors_and_rejection():
    text = doc(4)
    clipped = execute_chunk(text, "remove_lines(2, 10)")
    assert clipped.trace.errors and clipped.reason == "refined" and clipped.text == "\n".join(text.split("\n")[:2])
    # two errors: the program is rejected, the original text is kept
    rejected = execute_chunk(text, "remove_lines(2, 10)\nremove_lines(20, 30)")
    assert rejected.reason == "program_rejected" and rejected.text == text and not rejected.dropped
    # merged ranges count once, as in the reference
    assert len(execute_chunk(text, "remove_lines(2, 10)\nremove_lines(5, 30)").trace.errors) == 1


def test_decisions():
    text = doc(20)
    assert execute_chunk(text, "remove_lines(0, 19)").reason == "mostly_removed"
    assert execute_chunk(text, "remove_lines(1, 19)").reason == "mostly_removed"  # 1/20 <= 0.05
    assert execute_chunk(text, "remove_lines(2, 19)").reason == "refined"
    assert execute_chunk(text, "remove_lines(2, 19)", drop_fraction=0.85).reason == "mostly_removed"
    short = "one two three\nfour five six seven eight nine ten eleven twelve"
    assert execute_chunk(short, "remove_lines(1, 1)").reason == "too_short"
    assert execute_chunk(short, "skip_chunk()", short_words=5).reason == "refined"
    # too short wins even when the program was rejected, as in the reference
    assert execute_chunk("tiny doc", "bad(\nworse(").reason == "too_short"
    assert execute_chunk(text, "bad(\nworse(").reason == "program_rejected"
    assert execute_chunk(text, "bad(\nworse(", error_limit=3).reason == "refined"


def test_empty_documents_do_not_raise():
    for text in ("", "   ", "\n\n"):
        result = execute_chunk(text, "remove_lines(0, 0)")
        assert result.dropped and result.reason == "empty"
        assert execute_doc(text, "keep_doc()").text == text


def test_accepts_program_objects():
    program = Program((RemoveLines(0, 0), SkipChunk(), Normalize("line", "LINE")))
    result = execute_chunk(doc(3), program)
    assert result.text.startswith("LINE 1")


lines_strategy = st.lists(st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=30), min_size=1, max_size=15)
op_strategy = st.one_of(
    st.tuples(st.integers(0, 20), st.integers(0, 20)).map(lambda t: f"remove_lines({min(t)}, {max(t)})"),
    st.builds(lambda a, b: str(Normalize(a, b)), st.text(max_size=5), st.text(max_size=5)),
    st.just("skip_chunk()"),
    st.text(max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(lines_strategy, st.lists(op_strategy, max_size=8))
def test_refined_lines_are_a_subsequence_of_the_normalized_lines(lines, program_lines):
    text = "\n".join(lines)
    result = execute_chunk(text, "\n".join(program_lines), short_words=-1, drop_fraction=2.0)
    normalized = text
    for n in result.trace.normalizations:
        if n.source_str not in ("", " "):
            normalized = normalized.replace(n.source_str, n.target_str)
    if result.reason == "program_rejected":
        assert result.text == text
        return
    if result.dropped:
        return
    removed = set(result.trace.removed_lines)
    kept = [line for i, line in enumerate(normalized.split("\n")) if i not in removed]
    assert result.text == "\n".join(kept)
    remaining = iter(normalized.split("\n"))
    assert all(any(line == other for other in remaining) for line in kept)  # a subsequence, in order


@settings(max_examples=400, deadline=None)
@given(st.text(), st.text())
def test_never_raises(text, program):
    execute_chunk(text, program)
    execute_doc(text, program)


def _word_counters():
    from prox.program import words

    counters = [pytest.param(words._python_word_count, id="python")]
    if words.word_count is not words._python_word_count:
        counters.append(pytest.param(words.word_count, id="compiled"))
    return counters


def test_the_compiled_word_counter_is_built_where_there_is_a_compiler():
    import shutil
    import sysconfig

    from prox.program import words

    if not (shutil.which(sysconfig.get_config_var("CC").split()[0] if sysconfig.get_config_var("CC") else "cc")):
        pytest.skip("no C compiler: prox counts words in pure Python")
    assert words.word_count is not words._python_word_count, "prox.program._speedups was not built"
    assert executor.canonical_doc_result is not executor._python_canonical_doc_result


def _canonical_doc_results():
    found = [pytest.param(executor._python_canonical_doc_result, id="python")]
    if executor.canonical_doc_result is not executor._python_canonical_doc_result:
        found.append(pytest.param(executor.canonical_doc_result, id="compiled"))
    return found


@pytest.mark.parametrize("canonical", _canonical_doc_results())
def test_canonical_doc_programs_skip_the_parse_and_agree_with_it(canonical):
    text = "Two words\n\nand three more"
    for program in ("keep_doc()", "drop_doc()"):
        fast = canonical(executor.ExecutionResult, text, program)
        assert type(fast) is executor.ExecutionResult
        slow = execute_doc(text, program + " ")  # not canonical: parsed
        assert (fast.text, fast.dropped, fast.reason) == (slow.text, slow.dropped, slow.reason)
        assert fast.trace == slow.trace
    for other in ("keep_doc() ", "drop_doc(x)", "remove_doc", "", "keep_doc()\n", "kéép_doc()", parse_program("keep_doc()"),
                  ["keep_doc()"], None, 7):
        assert canonical(executor.ExecutionResult, text, other) is None


@pytest.mark.parametrize("word_count", _word_counters())
def test_word_count_is_str_split_exactly(word_count):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from prox.program.words import ASCII_SPACES, LONG, SPACES

    assert set(ASCII_SPACES) == {chr(c) for c in range(128) if chr(c).isspace()}
    spaces = [c for c in map(chr, range(0x110000)) if c.isspace()]
    assert sorted(SPACES) == spaces

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet=st.sampled_from(spaces + list("ab.é日🙂\x00\x7f")), max_size=60) | st.text(max_size=60))
    def agrees(text):
        assert word_count(text) == len(text.split())

    agrees()
    for text in ("日本 語\u3000x\xa0y " * 200, "\ud800 é " * 300, "é" * LONG, " é" * LONG + " ", "\u2028" * LONG):
        assert len(text) >= LONG and word_count(text) == len(text.split())  # the table path
    for code in range(0x110000):  # every character between two words
        text = "a" + chr(code) + "b"
        assert word_count(text) == len(text.split()), hex(code)
    assert word_count("") == 0 and word_count("  a\tb\n\nc  ") == 3 and word_count("x") == 1


def test_removing_line_ranges_matches_the_plain_definition():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.sampled_from(["", "a b", "c", " d  e ", "ü ß\u3000x", "\t"]), min_size=1, max_size=60),
           st.lists(st.tuples(st.integers(0, 63), st.integers(0, 8)), max_size=4))
    def agrees(lines, spans):
        text = "\n".join(lines)
        program = [f"remove_lines(line_start={a}, line_end={a + n})" for a, n in spans]
        result = execute_chunk(text, program, short_words=-1, drop_fraction=1.0, error_limit=99)
        gone = {i for a, n in spans for i in range(a, a + n + 1)}
        kept = [line for i, line in enumerate(lines) if i not in gone]
        assert result.text == "\n".join(kept) or (result.dropped and not "\n".join(kept).split())
        assert result.trace.removed_lines == tuple(sorted(gone & set(range(len(lines)))))
        assert result.trace.words_after == len("\n".join(kept).split())
        assert result.trace.words_before == len(text.split())

    agrees()


def test_normalizations_of_one_document_have_a_work_budget():
    """A record may carry any number of chunk programs; each normalize scans the whole document, so the document's
    normalizations together may scan it NORMALIZE_SCANS times: the rest are skipped, with one error."""
    from prox.program.executor import execute_chunk
    from prox.program.limits import NORMALIZE_SCANS, normalize_budget

    text = ("a line of words about rivers\n") * 200
    programs = [f'normalize(source_str="rivers{i}", target_str="")' for i in range(NORMALIZE_SCANS * 3)]
    result = execute_chunk(text, programs)
    assert len(result.trace.normalizations) == normalize_budget(len(text)) // len(text)
    (error,) = [e for e in result.trace.errors if "normalizations skipped" in e]
    assert error.startswith(f"{NORMALIZE_SCANS * 3 - len(result.trace.normalizations):,} normalizations skipped")
    few = execute_chunk(text, ['normalize(source_str="rivers", target_str="streams")'] * 3)
    assert not few.trace.errors and few.text.count("streams") == 200
