import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prox import DropDoc, KeepDoc, Normalize, Program, RemoveLines, SkipChunk, parse_program


def ops(text):
    program = parse_program(text)
    assert not program.errors, program.errors
    return list(program.operations)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("drop_doc()", [DropDoc()]),
        ("keep_doc()", [KeepDoc()]),
        ("untouch_doc()", [KeepDoc()]),
        ("skip_chunk()", [SkipChunk()]),
        ("keep_chunk()", [SkipChunk()]),
        ("remove_lines(line_start=3, line_end=7)", [RemoveLines(3, 7)]),
        ("remove_lines(3, 7)", [RemoveLines(3, 7)]),
        ("remove_lines(3, line_end=7)", [RemoveLines(3, 7)]),
        ("  remove_lines( line_start = 3 , line_end = 7 )  ", [RemoveLines(3, 7)]),
        ('normalize(source_str="a, b", target_str="c")', [Normalize("a, b", "c")]),
        ("normalize(source_str='Click here', target_str='')", [Normalize("Click here", "")]),
        ('normalize("x) y=(z", "w")', [Normalize("x) y=(z", "w")]),
        ('normalize(source_str="only")', [Normalize("only", "")]),
        (r'normalize(source_str="say \"hi\"\n", target_str="\u00e9")', [Normalize('say "hi"\n', "é")]),
        ('normalize(source_str="""it\'s "quoted" """, target_str=\'\'\'x\'\'\')', [Normalize('it\'s "quoted" ', "x")]),
        ('normalize(source_str="""two\nlines""", target_str="")', [Normalize("two\nlines", "")]),
        ("```python\nremove_lines(1, 2)\n```", [RemoveLines(1, 2)]),
        ("# a comment\n\nskip_chunk()  # trailing comment", [SkipChunk()]),
        ("remove_lines(1, 2); skip_chunk()", [RemoveLines(1, 2), SkipChunk()]),
    ],
)
def test_parses(text, expected):
    assert ops(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("os.system('rm -rf /')", "not a plain operation name"),
        ("__import__('os').system('touch /tmp/x')", "not a plain operation name"),
        ("eval('drop_doc()')", "unknown operation"),
        ("drop_doc", "not a call"),
        ("x = drop_doc()", "not a call"),
        ("remove_lines(line_start=3, line_end=", "syntax error"),
        ("normalize(", "syntax error"),
        ("remove_lines(all=True)", "unknown argument 'all'"),
        ("remove_lines(1)", "missing argument 'line_end'"),
        ("remove_lines(1, 2, 3)", "takes 2 arguments"),
        ("remove_lines(line_start=1, line_start=2, line_end=3)", "given twice"),
        ("remove_lines(1, line_start=2)", "given twice"),
        ("remove_lines(line_start=2, line_end=1)", "after line_end"),
        ("remove_lines(line_start=-3, line_end=2)", "negative"),
        ("remove_lines(1.0, 2)", "must be int"),
        ("remove_lines(True, 2)", "must be int"),
        ("remove_lines('1', 2)", "must be int"),
        ("remove_lines(1+1, 2)", "literals"),
        ("normalize(source_str=x)", "literals"),
        ("normalize(source_str=f'{x}')", "literals"),
        ("normalize(source_str=b'x')", "must be str"),
        ("normalize(source_str=normalize('a'))", "literals"),
        ("normalize(**{'source_str': 'a'})", "** arguments"),
        ("drop_doc(1)", "takes 0 arguments"),
        ("remove_li", "not a call"),
        ("remove_lines(1, 2) extra", "syntax error"),
        ("(" * 500, "syntax error"),
        ("x" * 30000, "line too long"),
        ("drop\x00_doc()", "null bytes"),
    ],
)
def test_rejects(text, message):
    program = parse_program(text)
    assert program.operations == ()
    assert len(program.errors) == 1
    assert message in program.errors[0].message


def test_bad_lines_do_not_hide_good_ones():
    program = parse_program("normalize(\nnormalize(source_str='Click here', target_str='')\nremove_lines(3, 7)\nremove_li")
    assert list(program.operations) == [Normalize("Click here", ""), RemoveLines(3, 7)]
    assert [e.line for e in program.errors] == [0, 3]


def test_canonical_text():
    program = parse_program("remove_lines(3, 7)\nnormalize('a\\tb')")
    assert str(program) == 'remove_lines(line_start=3, line_end=7)\nnormalize(source_str="a\\tb", target_str="")'


def test_empty_and_none():
    assert parse_program("") == Program()
    assert parse_program(None) == Program()


operations = st.one_of(
    st.just(DropDoc()),
    st.just(KeepDoc()),
    st.just(SkipChunk()),
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)).map(lambda t: RemoveLines(min(t), max(t))),
    st.builds(Normalize, st.text(), st.text()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operations, max_size=12))
def test_round_trip(ops_list):
    program = Program(tuple(ops_list))
    text = str(program)
    assert parse_program(text) == program
    for line in text.split("\n") if text else []:
        ast.parse(line)  # every canonical line is valid Python on its own


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text):
    program = parse_program(text)
    assert all(hasattr(op, "level") for op in program.operations)


call_like = st.builds(
    lambda name, args: f"{name}({args}",
    st.sampled_from(["remove_lines", "normalize", "drop_doc", "skip_chunk", "os.system", "__import__"]),
    st.text(alphabet=st.sampled_from(list("0123456789=,'\"()[]{}\\ nxstr_lie:#")), max_size=40),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(call_like, max_size=8))
def test_never_raises_on_call_like_text(lines):
    parse_program("\n".join(lines))
