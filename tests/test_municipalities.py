"""All 290 municipalities, and finding one in what people write."""

from __future__ import annotations

import pytest

from storage.municipalities import (
    COUNT,
    all_municipalities,
    by_code,
    extract_municipality,
    find_municipality,
)


def test_all_290_municipalities_with_unique_codes_and_names() -> None:
    municipalities = all_municipalities()
    assert len(municipalities) == COUNT == 290
    assert len({m.code for m in municipalities}) == 290
    assert len({m.name for m in municipalities}) == 290
    assert len({m.county for m in municipalities}) == 21
    for m in municipalities:
        assert len(m.code) == 4 and m.code.isdigit()
        assert m.county.endswith("län")
    # The county is in the code: its first two digits are the county's.
    counties: dict[str, set[str]] = {}
    for m in municipalities:
        counties.setdefault(m.county, set()).add(m.code[:2])
    assert all(len(prefixes) == 1 for prefixes in counties.values())


@pytest.mark.parametrize(
    ("code", "name", "county"),
    [
        ("1482", "Kungälv", "Västra Götalands län"),
        ("1480", "Göteborg", "Västra Götalands län"),
        ("0180", "Stockholm", "Stockholms län"),
        ("0980", "Gotland", "Gotlands län"),
        ("2584", "Kiruna", "Norrbottens län"),
        ("1280", "Malmö", "Skåne län"),
    ],
)
def test_codes(code: str, name: str, county: str) -> None:
    found = by_code(code)
    assert found is not None and (found.name, found.county) == (name, county)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("i Kungälv", "Kungälv"),
        ("Kungälvs kommun", "Kungälv"),
        ("kungalv", "Kungälv"),
        ("KUNGÄLV", "Kungälv"),
        ("i Göteborg", "Göteborg"),
        ("Gbg", "Göteborg"),
        ("Göteborgs stad", "Göteborg"),
        ("Gøteborg", "Göteborg"),
        ("Gothenburg", "Göteborg"),
        ("Sthlm", "Stockholm"),
        ("Stockholms stad", "Stockholm"),
        ("Mölndals stad", "Mölndal"),
        ("molndal", "Mölndal"),
        ("Lerums kommun", "Lerum"),
        ("Borås", "Borås"),
        ("Borås stad", "Borås"),
        ("Region Gotland", "Gotland"),
        ("Upplands Bro", "Upplands-Bro"),
        ("Upplands-Bro kommun", "Upplands-Bro"),
        ("Malung-Sälen", "Malung-Sälen"),
        ("Lilla Edet", "Lilla Edet"),
        ("Östra Göinge", "Östra Göinge"),
        ("Ö-vik", "Örnsköldsvik"),
        ("Jkpg", "Jönköping"),
        # misspelt, but only one municipality is close
        ("Kungelv", "Kungälv"),
        ("Göteborgh", "Göteborg"),
        ("Skövd", "Skövde"),
        ("Lerm", "Lerum"),
        # Habo and Håbo differ only by the ring: the spelling decides, and plain "habo" is Habo
        ("Håbo", "Håbo"),
        ("Habo", "Habo"),
    ],
)
def test_find_municipality(text: str, name: str) -> None:
    found = find_municipality(text)
    assert found is not None, text
    assert found.name == name


@pytest.mark.parametrize(
    "text", ["", "kommun", "Västra Götaland", "Skaraborg", "Sverige", "diabetes", "xyz", "Sal"]
)
def test_not_a_municipality(text: str) -> None:
    assert find_municipality(text) is None


def test_an_ambiguous_misspelling_is_not_guessed() -> None:
    # "Mora" and "Nora" are both a letter away from "Kora".
    assert find_municipality("Kora") is None


@pytest.mark.parametrize(
    ("question", "name", "rest"),
    [
        ("vem kan diabetes i Kungälv?", "Kungälv", "vem kan diabetes?"),
        ("finns det någon i Lerum som kan sårvård?", "Lerum", "finns det någon som kan sårvård?"),
        ("kontakt för palliativ vård i Mölndal", "Mölndal", "kontakt för palliativ vård"),
        ("vem kan diabetes i Kungälvs kommun?", "Kungälv", "vem kan diabetes?"),
        ("någon i Gbg som kan KOL", "Göteborg", "någon som kan KOL"),
        ("sårvård Skövde", "Skövde", "sårvård"),
        ("vem kan sårvård i kungelv", "Kungälv", "vem kan sårvård"),
        ("demens i Upplands Väsby", "Upplands Väsby", "demens"),
        ("vem kan vara expert på demens i Vara kommun?", "Vara", "vem kan vara expert på demens?"),
        ("vem i Boden kan diabetes", "Boden", "vem kan diabetes"),
    ],
)
def test_extract_municipality(question: str, name: str, rest: str) -> None:
    found, remainder = extract_municipality(question)
    assert found is not None and found.name == name
    assert remainder == rest


@pytest.mark.parametrize(
    "question",
    [
        "vem är expert på BPSD?",
        "jag behöver hjälp med läkemedelsgenomgångar",
        "det kan vara bra att veta",  # "vara" is a word here, not the municipality
        "erfarenhet i hemsjukvården",
        "kunskap i diabetesvård",
        "någon i Västra Götaland",
        "vem har mark och berg",
    ],
)
def test_no_municipality_in_question(question: str) -> None:
    found, rest = extract_municipality(question)
    assert found is None
    assert rest == question
