"""Refining any web text without harm: extracted text with tables, teasers inside sentences, other languages."""

from __future__ import annotations

import json

import pytest

import prox
from prox.program.words import word_units
from prox.text.language import identify, sample
from prox.text.line_rules import LineRules, table_row
from prox.writers.heuristic import HeuristicWriter

WRITERS = ["heuristic", "student-web"]

TABLE_PAGE = """Household energy use by region, 2023
The survey asked 4,000 households how much energy they used for heating, hot water and cooking last winter.
Most of the difference between regions comes from the climate, but the age of the housing matters too.
| Region | Households | Heating (kWh) | Hot water (kWh) |
| North | 1,020 | 14,200 | 2,900 |
| Midlands | 980 | 12,800 | 2,750 |
| South East | 1,050 | 11,300 | 2,600 |
| South West | 950 | 11,900 | 2,700 |
Homes built before 1930 used about a third more energy for heating than homes built after 2000.
Insulation made the next largest difference: lofts with more than 200 mm of insulation cut heating use by a tenth.
Households that turned their thermostat down by one degree used about seven per cent less energy for heating,
and most of them said they did not notice the difference after the first week.
The survey will be repeated next winter, with questions on heat pumps and on solar panels added to it."""

POLISH_PAGE = """Strona główna
Wiadomości
Sport
Pogoda
Kontakt
Rada miasta zdecydowała we wtorek o budowie nowego mostu na Wiśle, który ma połączyć dwie dzielnice.
Budowa ma się rozpocząć wiosną przyszłego roku i potrwać około trzech lat, a jej koszt oszacowano na 400 milionów złotych.
Prezydent miasta powiedział, że most skróci dojazd do centrum dla kilkudziesięciu tysięcy mieszkańców każdego dnia.
Mieszkańcy okolicznych ulic obawiają się jednak hałasu i wzrostu ruchu samochodowego w ich sąsiedztwie.
Radni opozycji chcieli, aby najpierw przeprowadzono konsultacje społeczne, ale ich wniosek został odrzucony.
Zaloguj się
Regulamin | Polityka prywatności | Reklama"""

CHINESE_PAGE = """首页
新闻
体育
财经
联系我们
市政府周二宣布，将在明年春天开始修建一座横跨长江的新大桥，连接城市的两个主要城区。
这座大桥预计耗资四十亿元，工期大约三年，建成后将大大缩短市民前往市中心的通勤时间。
市长表示，新大桥每天可以为数万名市民节省将近半个小时的交通时间，同时也会带动周边地区的发展。
不过，附近的居民担心施工期间的噪音问题，以及大桥通车以后交通流量增加带来的影响。
一些市民代表建议政府先举行听证会，广泛听取各方面的意见，然后再做出最后的决定。
版权所有 © 2024 新闻网
关于我们 | 广告服务 | 网站地图"""


def _kept_lines(result, text: str) -> list[str]:
    removed = set(result.trace.removed_lines)
    return [] if result.dropped else [line for i, line in enumerate(text.split("\n")) if i not in removed]


@pytest.mark.parametrize("preset", WRITERS)
def test_a_table_formatted_extracted_page_keeps_its_rows(preset):
    result = prox.Refiner(preset=preset).refine([TABLE_PAGE])[0]
    kept = _kept_lines(result, TABLE_PAGE)
    assert not result.dropped
    assert [line for line in TABLE_PAGE.split("\n") if line.startswith("|")] == [line for line in kept if line.startswith("|")]
    assert "| North | 1,020 | 14,200 | 2,900 |" in result.text


def test_table_rows_are_judged_by_their_cells():
    assert table_row("| a | | b |") == "a | b" and table_row("| |") == "" and table_row("a | b") is None
    signals = LineRules().signals(["| Home | News | Sport | Contact |", "| North | 1,020 | 14,200 |", "| | | |"])
    assert signals.separators == [3, 0, 0]  # a row of short labels is a link bar; a row of figures is data


@pytest.mark.parametrize("preset", WRITERS)
@pytest.mark.parametrize("page, article", [(POLISH_PAGE, "Rada miasta"), (CHINESE_PAGE, "市政府周二宣布")])
def test_polish_and_chinese_pages_keep_their_article(preset, page, article):
    result = prox.Refiner(preset=preset).refine([page])[0]
    assert not result.dropped, result.reason
    body = [line for line in page.split("\n") if len(line) > 40 and "|" not in line]
    kept = _kept_lines(result, page)
    assert all(line in kept for line in body) and article in result.text
    assert "Wiadomości" not in kept and "体育" not in kept  # the menu goes


def test_a_page_is_not_dropped_for_its_language():
    writer = HeuristicWriter()
    assert writer.drop_reason(POLISH_PAGE) is None and writer.drop_reason(CHINESE_PAGE) is None
    # English filters still judge English: the same length of English menu text is dropped
    assert writer.drop_reason("Home\nNews\nContact\nA short line about nothing.") is not None


def test_the_teaser_goes_and_its_sentence_stays():
    text = ("A headline about the town\n"
            "The council met on Tuesday to discuss the new budget for the schools and the roads. Read more »\n"
            "The mayor said [citation needed] that taxes would not rise this year, whatever the council decides.\n"
            "Continue reading...")
    for preset in WRITERS:
        result = prox.Refiner(preset=preset, stages=["chunk"]).refine([text])[0]
        program = "\n".join(result.chunk_programs)
        assert 'normalize(source_str="Read more »", target_str="")' in program
        assert "The council met on Tuesday to discuss the new budget for the schools and the roads." in result.text
        assert "Read more" not in result.text and "[citation needed]" not in result.text
        assert "taxes would not rise" in result.text


def test_words_of_any_script():
    assert word_units("two words") == 2
    assert word_units("市政府周二宣布") == 1 + 7 // 2  # one str.split word; about a word per two characters
    assert word_units("Καλημέρα κόσμε") == 2 and word_units("Добрый день") == 2  # spaced scripts: as str.split
    # the executor's length rules read Chinese in such words: a refined Chinese article is no "mostly removed" page
    page = "\n".join(["首页 新闻 体育 财经 联系我们 关于我们 广告服务 网站地图 登录 注册"] * 3 + [CHINESE_PAGE.split("\n")[5]])
    assert not prox.execute_chunk(page, "remove_lines(line_start=0, line_end=2)").dropped


def test_language_identification():
    assert [identify(t) for t in (TABLE_PAGE, POLISH_PAGE, CHINESE_PAGE)] == ["en", "pl", "zh"]
    assert identify("") == "und" and identify("\x00\ud800 12 34") == "und"
    long = "x" * 10_000
    assert len(sample(long)) <= 1502 and sample("short") == "short"


def test_the_shipped_student_is_the_default_and_says_what_it_learned():
    from prox.settings import DEFAULT_PRESET, PRESETS

    assert DEFAULT_PRESET == "student-web" and prox.Refiner().settings.models.for_stage("chunk").backend == "student"
    with open(f"{PRESETS['student-web'].doc_model}/student.json") as handle:
        manifest = json.load(handle)
    origins = manifest["training"]["origins"]
    assert any("extracted_lines" in name for name in origins) and any("boilerplate_lines_dev" in name for name in origins)
    assert not any("multilingual" in name for name in origins)  # GPL-3.0: evaluation only
    assert manifest["doc_languages"] == ["en"]


def test_language_lands_in_the_metadata_and_the_card(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from prox.cli import app

    source = tmp_path / "in.jsonl"
    records = [{"id": f"pl-{i}", "text": POLISH_PAGE} for i in range(3)] + [{"id": f"zh-{i}", "text": CHINESE_PAGE} for i in range(3)]
    records += [{"id": "en", "text": TABLE_PAGE}]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = CliRunner().invoke(app, ["refine", str(source), "-o", str(tmp_path / "run"), "--no-progress"])
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for path in sorted((tmp_path / "run" / "kept").glob("*.jsonl*")) for line in path.read_text().splitlines()]
    assert {r["id"]: r["metadata"]["prox"]["language"] for r in written} == {**{f"pl-{i}": "pl" for i in range(3)},
                                                                             **{f"zh-{i}": "zh" for i in range(3)}, "en": "en"}
    data = yaml.safe_load((tmp_path / "run" / "README.md").read_text(encoding="utf-8").split("---\n")[1])
    assert data["language"] == ["pl", "zh", "en"]


def test_the_same_pages_in_another_form_split_as_the_originals():
    from prox.labels import LabelledDoc, LabelledSet

    raw = LabelledSet("raw", "docs", tuple(LabelledDoc(str(i), f"page {i}", True) for i in range(20)))
    extracted = LabelledSet("extracted", "docs", tuple(LabelledDoc(str(i), f"text {i}", True) for i in range(0, 20, 2)))
    raw_train, raw_validation = raw.split()
    train, validation = extracted.split_as(raw_validation)
    held = {item.id for item in raw_validation.items}
    assert {i.id for i in validation.items} == held & {i.id for i in extracted.items}
    assert not {i.id for i in train.items} & held and len(train.items) + len(validation.items) == 10
