"""Swedish text understanding shared by the course catalogue and the competence bank."""

from __future__ import annotations

import marshal
import site
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage import language
from storage.search import SearchIndex


def keys(text: str) -> list[str]:
    return [term.key for term in language.analyze(text).terms]


def test_case_punctuation_and_filler_are_gone() -> None:
    query = language.analyze("Finns det NÅN gratis kurs om demens, tack?!")
    assert [t.surface for t in query.terms] == ["demens"]
    assert [t.key for t in query.soft] == [language.key("kurs")]


def test_inflections_meet_on_one_key() -> None:
    assert language.key("undersköterskor") == language.key("undersköterska")
    assert language.key("läkemedelsgenomgångar") == language.key("läkemedelsgenomgång")
    assert keys("demenssjukdomar") == keys("demens")


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("demensutbildning", ("demens", "utbildning")),
        ("läkemedelsgenomgång", ("läkemedel", "genomgång")),
        ("sårvård", ("sår", "vård")),
        ("fallolyckor", ("fall", "olyckor")),
    ],
)
def test_compounds_split_on_the_hunspell_word_list(word: str, parts: tuple[str, ...]) -> None:
    assert language.split_compound(word) == parts


def test_whole_words_are_not_split() -> None:
    assert language.split_compound("diabetes") == ()
    assert language.split_compound("palliativ") == ()


@pytest.mark.parametrize(
    ("asked", "meant"),
    [
        ("usk", "undersköterska"),
        ("ssk", "sjuksköterska"),
        ("självmord", "suicid"),
        ("smitta", "hygien"),
        ("motiverande samtal", "mi"),
        ("livets slutskede", "palliativ"),
        ("svårläkta sår", "sårvård"),
        ("kronisk obstruktiv lungsjukdom", "kol"),
    ],
)
def test_reviewed_synonyms(asked: str, meant: str) -> None:
    query = language.analyze(asked)
    found = [t.key for t in query.terms] + sorted(query.audiences)
    assert found == [language.key(meant)]


def test_an_audience_is_not_a_topic() -> None:
    query = language.analyze("kurs om demens för undersköterskor")
    assert keys("kurs om demens för undersköterskor") == keys("demens")
    assert query.audiences == {language.key("undersköterska")}


def test_real_words_are_swedish_and_typos_are_not() -> None:
    assert language.is_swedish_word("truckkörning")
    assert language.is_swedish_word("undersköterskor")
    assert not language.is_swedish_word("diabetis")


def test_fold_is_diacritics_insensitive() -> None:
    assert language.fold("hjärtsvikt på äldreboende") == "hjartsvikt pa aldreboende"


@dataclass(frozen=True)
class Person:
    name: str


def people() -> SearchIndex[Person]:
    index: SearchIndex[Person] = SearchIndex({"name": 1.0, "skills": 3.0}, audience_facet="role")
    index.add(
        1, Person("Ada"), {"name": "Ada", "skills": ["sårvård", "diabetes"]}, {"role": ["ssk"]}
    )
    index.add(2, Person("Bo"), {"name": "Bo", "skills": ["demens", "BPSD"]}, {"role": ["usk"]})
    index.add(3, Person("Cy"), {"name": "Cy", "skills": ["KOL", "hjärtsvikt"]}, {"role": ["ssk"]})
    return index


def test_the_index_is_generic_over_documents() -> None:
    index = people()
    assert [hit.item.name for hit in index.search("bensår och svårläkta sår")] == ["Ada"]
    assert [hit.item.name for hit in index.search("demenssjukdomar")] == ["Bo"]
    assert [hit.item.name for hit in index.search("hjärtsvigt")] == ["Cy"]  # a typo
    assert index.search("truckkörning") == []


def test_documents_are_updated_and_removed_in_place() -> None:
    index = people()
    index.update(1, Person("Ada"), {"name": "Ada", "skills": ["palliativ vård"]})
    assert index.search("sårvård") == []
    assert [hit.item.name for hit in index.search("livets slut")] == ["Ada"]
    index.remove(1)
    assert index.search("livets slut") == []
    assert len(index) == 2


def test_unrelated_documents_never_pad_an_answer() -> None:
    index = people()
    hits = index.search("kol")
    assert [hit.item.name for hit in hits] == ["Cy"]
    assert all(hit.coverage >= 0.5 for hit in hits)


def test_the_word_list_cache_gives_the_same_words_and_survives_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start reads the parsed Hunspell list from the user's cache; a damaged or foreign
    cache file is parsed again instead of breaking the bot or changing what it understands."""
    monkeypatch.setattr(language, "cache_dir", lambda: tmp_path)
    parsed = language.lexicon.__wrapped__()
    (written,) = tmp_path.glob("lexicon-*.marshal")
    cached = language.lexicon.__wrapped__()
    assert (cached.words, cached.stems) == (parsed.words, parsed.stems)
    assert "demens" in cached.words and len(cached.words) > 100_000
    # each kind of damage is refused as a cache (a full parse per kind would cost seconds each)
    for damage in (b"", b"not marshal at all", marshal.dumps({"a": 1})):
        written.write_bytes(damage)
        assert language._read_cached(written) is None
    again = language.lexicon.__wrapped__()  # a refused cache: parsed again, and written anew
    assert (again.words, again.stems) == (parsed.words, parsed.stems)
    assert language._read_cached(written) is not None


def test_a_changed_dictionary_gets_a_new_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(language, "cache_dir", lambda: tmp_path)
    dic = tmp_path / "sv_SE.dic"
    dic.write_text("2\nkatt/A\nhund/B\n", encoding="utf-8")
    first = language._cache_file(dic, "lexicon")
    dic.write_text("3\nkatt/A\nhund/B\nhäst/C\n", encoding="utf-8")
    assert language._cache_file(dic, "lexicon") != first
    assert language._parse_dic(dic) == {"katt", "hund", "häst"}


def test_lemmas_come_from_the_cached_trie_as_from_simplemma_itself() -> None:
    import simplemma

    for word in ("undersköterskor", "demenssjukdomar", "kurserna", "utbildningar", "sår"):
        assert language.lemma(word) == simplemma.lemmatize(word, lang="sv").lower()


def test_the_hunspell_list_is_found_from_a_virtual_environment(tmp_path: Path) -> None:
    """A virtual environment that sees the system's packages has its own sys.prefix, while
    hunspell-sv's data file lies under the system's: compounds must be split there too."""
    venv.create(tmp_path / "venv", system_site_packages=True, with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    # The new environment sees its base interpreter's packages. When the tests themselves run in
    # a virtual environment (as the README's test command may), the dependencies are not there
    # but in this interpreter's site-packages: let the new environment see those as well.
    inner = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    (Path(inner.stdout.strip()) / "tested_with.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    root = Path(__file__).resolve().parent.parent
    found = subprocess.run(
        [
            str(python),
            "-c",
            f"import sys; sys.path.insert(0, {str(root)!r}); from storage import language; "
            "print(language.hunspell_dic_path().is_file())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("asked", "meant"),
    [
        ("andnöd och inhalatorer, finns utbildning för undersköterskor?", "andnöd och inhalatorer"),
        ("finns det nån gratis kurs om demens för usk?", "demens"),
        ("en brukare orkar inte leva längre, finns det nåt?", "en brukare orkar inte leva längre"),
        ("kurs", "kurs"),  # nothing but wrapping: the words themselves
    ],
)
def test_the_model_reads_what_a_question_is_about(asked: str, meant: str) -> None:
    assert language.meaning_text(asked) == meant


@pytest.mark.parametrize(
    ("asked", "role"),
    [
        ("courses for nurses", "sjuksköterska"),
        ("anything for assistant nurses?", "undersköterska"),
        ("training for occupational therapists", "arbetsterapeut"),
    ],
)
def test_roles_asked_for_in_english_are_audiences(asked: str, role: str) -> None:
    assert language.analyze(asked).audiences == {language.key(role)}


def test_a_compound_of_a_topic_and_a_course_word_is_the_topic() -> None:
    [term] = language.analyze("demenskurs").terms
    assert term.key == language.key("demens")
