"""The time parser against a corpus of what people write, plus the Swedish formatting helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from scheduler.swedish import (
    format_date,
    format_span,
    format_when,
    holiday_name,
    is_klamdag,
    is_working_day,
)
from scheduler.when import (
    Recurrence,
    Span,
    When,
    WhenError,
    find_week,
    parse,
    parse_duration,
    parse_slots,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CORPUS = Path(__file__).parent / "data" / "when_corpus.tsv"
NOWS = {
    "A": datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM),  # a Monday
    "Y": datetime(2026, 12, 30, 15, 0, tzinfo=STOCKHOLM),  # near the year end
    "S": datetime(2027, 3, 27, 12, 0, tzinfo=STOCKHOLM),  # summer time starts the next night
    "F": datetime(2027, 10, 30, 12, 0, tzinfo=STOCKHOLM),  # summer time ends the next night
    "M": datetime(2027, 5, 3, 8, 0, tzinfo=STOCKHOLM),  # spring holidays ahead
}


def load_corpus() -> list[tuple[str, str, str, str | None]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        rest = fields[3] if len(fields) > 3 else None
        rows.append((fields[0], fields[1], fields[2], rest))
    return rows


ROWS = load_corpus()


def local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def describe(text: str, now: datetime) -> tuple[str, str | None]:
    """The parse result in the corpus notation, and the rest."""
    try:
        parsed = parse(text, now)
    except WhenError as error:
        return f"error {error}", None
    if parsed is None:
        return "none", None
    value = parsed.value
    if isinstance(value, When):
        kind = "day" if value.all_day else "at"
        return f"{kind} {local(value.at)} utc={value.at.astimezone(UTC):%H:%M}", parsed.rest
    if isinstance(value, Span):
        return f"span {local(value.start)}-{local(value.end)[11:]}", parsed.rest
    return f"rule {value.rule} first {local(value.first)}", parsed.rest


def test_corpus_is_large_and_covers_every_now() -> None:
    assert len(ROWS) >= 250
    assert {now for now, *_ in ROWS} == set(NOWS)


@pytest.mark.parametrize(("now", "text", "expected", "rest"), ROWS, ids=[r[1] for r in ROWS])
def test_corpus(now: str, text: str, expected: str, rest: str | None) -> None:
    got, got_rest = describe(text, NOWS[now])
    if expected.startswith("error "):
        assert got.startswith("error ") and expected[6:] in got[6:], got
        return
    if " utc=" in expected:
        assert got == expected, got
    else:
        assert got.split(" utc=")[0] == expected, got
    if rest is not None:
        assert got_rest == rest


def test_a_date_alone_says_which_hour_was_assumed() -> None:
    parsed = parse("imorgon", NOWS["A"])
    assert parsed is not None and isinstance(parsed.value, When)
    assert parsed.value.all_day
    assert parsed.value.assumed == "jag antog kl. 09.00 eftersom ingen tid angavs"


def test_a_part_of_the_day_says_which_hour_was_assumed() -> None:
    parsed = parse("imorgon på förmiddagen", NOWS["A"])
    assert parsed is not None and isinstance(parsed.value, When)
    assert parsed.value.assumed == "jag antog kl. 09.00 för ”på förmiddagen”"
    assert not parsed.value.all_day


def test_a_passed_clock_time_moves_to_tomorrow_and_says_so() -> None:
    parsed = parse("kl 9", NOWS["A"])
    assert parsed is not None and isinstance(parsed.value, When)
    assert "har redan passerat i dag" in (parsed.value.assumed or "")


def test_the_spring_gap_moves_forward_and_says_so() -> None:
    parsed = parse("imorgon kl 02.30", NOWS["S"])
    assert parsed is not None and isinstance(parsed.value, When)
    assert "finns inte den natten" in (parsed.value.assumed or "")


def test_nasta_weekday_says_how_it_was_read() -> None:
    parsed = parse("nästa fredag", NOWS["A"])
    assert parsed is not None and isinstance(parsed.value, When)
    assert "fredag i nästa vecka" in (parsed.value.assumed or "")


def test_past_is_allowed_when_asked() -> None:
    parsed = parse("igår kl 10", NOWS["A"], future=False)
    assert parsed is not None and isinstance(parsed.value, When)
    assert local(parsed.value.at) == "2026-11-22 10:00"


def test_default_hour_is_configurable() -> None:
    parsed = parse("på fredag", NOWS["A"], default_hour=8)
    assert parsed is not None and isinstance(parsed.value, When)
    assert local(parsed.value.at) == "2026-11-27 08:00"


def test_matched_and_rest() -> None:
    parsed = parse("påminn mig imorgon kl 9 om att skicka enkäten", NOWS["A"])
    assert parsed is not None
    assert parsed.matched == "imorgon kl 9"
    assert parsed.rest == "påminn mig om att skicka enkäten"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        parse("imorgon", datetime(2026, 11, 23, 10))


def test_recurrence_keeps_wall_time_across_both_dst_changes() -> None:
    parsed = parse("varje dag kl 10", NOWS["S"])
    assert parsed is not None and isinstance(parsed.value, Recurrence)
    spring = parsed.value.occurrences_after(NOWS["S"], 3)
    assert [local(moment) for moment in spring] == [
        "2027-03-28 10:00",
        "2027-03-29 10:00",
        "2027-03-30 10:00",
    ]
    assert spring[0].utcoffset() == timedelta(0) and spring[0].hour == 8
    autumn = parsed.value.occurrences_after(NOWS["F"], 2)
    assert [moment.astimezone(UTC).hour for moment in autumn] == [9, 9]
    assert [local(moment) for moment in autumn] == ["2027-10-31 10:00", "2027-11-01 10:00"]


def test_recurrence_rule_works_with_rrulestr_and_describes_itself() -> None:
    parsed = parse("varje första måndag i månaden kl 10", NOWS["A"])
    assert parsed is not None and isinstance(parsed.value, Recurrence)
    assert parsed.value.description == "varje första måndag i månaden kl. 10.00"
    rule = rrulestr(parsed.value.rule, dtstart=datetime(2026, 11, 23))
    assert rule.after(datetime(2026, 11, 23)) == datetime(2026, 12, 7, 10, 0)
    after = parsed.value.occurrences_after(parsed.value.first, 2)
    assert [local(moment) for moment in after] == ["2027-01-04 10:00", "2027-02-01 10:00"]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("varje vardag kl 8", "varje vardag kl. 08.00"),
        ("varannan tisdag", "varannan tisdag kl. 09.00"),
        ("sista fredagen i varje månad", "varje sista fredag i månaden kl. 09.00"),
        ("varje år den 15 mars", "varje år den 15 mars kl. 09.00"),
        ("varje måndag och torsdag kl 10", "varje måndag och torsdag kl. 10.00"),
    ],
)
def test_recurrence_descriptions(text: str, description: str) -> None:
    parsed = parse(text, NOWS["A"])
    assert parsed is not None and isinstance(parsed.value, Recurrence)
    assert parsed.value.description == description


@pytest.mark.parametrize(
    ("text", "now", "first", "then"),
    [
        # A Thursday: the coming Tuesday, not the one two weeks ahead (issue 15.4).
        (
            "varannan tisdag kl 13",
            datetime(2026, 11, 26, 10, 0, tzinfo=STOCKHOLM),
            "2026-12-01 13:00",
            "2026-12-15 13:00",
        ),
        # A Monday: tomorrow's Tuesday comes first.
        ("varannan tisdag kl 13", NOWS["A"], "2026-11-24 13:00", "2026-12-08 13:00"),
        (
            "varannan dag kl 8",
            datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM),
            "2026-11-26 08:00",
            "2026-11-28 08:00",
        ),
        ("varannan månad den 15 kl 9", NOWS["A"], "2026-12-15 09:00", "2027-02-15 09:00"),
    ],
)
def test_an_interval_starts_at_the_next_matching_time(
    text: str, now: datetime, first: str, then: str
) -> None:
    parsed = parse(text, now)
    assert parsed is not None and isinstance(parsed.value, Recurrence)
    assert local(parsed.value.first) == first
    assert [local(m) for m in parsed.value.occurrences_after(parsed.value.first, 1)] == [then]


def spans(text: str, now: datetime) -> list[str]:
    return [format_span(slot.start, slot.end) for slot in parse_slots(text, now)]


POLL_NOW = datetime(2027, 8, 20, 10, 0, tzinfo=STOCKHOLM)


def test_slots_several_in_one_message() -> None:
    assert spans("tis 7/9 13-15, ons 8/9 9-11, tors 9/9 13-15", POLL_NOW) == [
        "tisdag 7 september 2027 kl. 13.00–15.00",
        "onsdag 8 september 2027 kl. 09.00–11.00",
        "torsdag 9 september 2027 kl. 13.00–15.00",
    ]


def test_slots_reuse_the_day_and_know_heldag_and_default_length() -> None:
    assert spans("tis 7/9 9-11, 13-15; mån 6/9 heldag\nfre 10/9 kl 10", POLL_NOW) == [
        "tisdag 7 september 2027 kl. 09.00–11.00",
        "tisdag 7 september 2027 kl. 13.00–15.00",
        "måndag 6 september 2027 kl. 08.00–17.00",
        "fredag 10 september 2027 kl. 10.00–12.00",
    ]
    assert spans("onsdag 8 september eller torsdag 9 september", POLL_NOW) == [
        "onsdag 8 september 2027 kl. 08.00–17.00",
        "torsdag 9 september 2027 kl. 08.00–17.00",
    ]


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("tis 7/9 13-15, blabla", "”blabla”"),
        ("tis 7/9 13-15, ons 8/9 25-26", "”ons 8/9 25-26”"),
        ("tis 8/9 13-15", "onsdag, inte en tisdag"),
        ("kl 10-12", "Vilken dag"),
    ],
)
def test_slots_name_the_bad_part(text: str, part: str) -> None:
    with pytest.raises(WhenError, match=part):
        parse_slots(text, POLL_NOW)


@pytest.mark.parametrize(
    ("text", "week"),
    [
        ("vecka 36", (date(2027, 9, 6), date(2027, 9, 10))),
        ("v. 36", (date(2027, 9, 6), date(2027, 9, 10))),
        ("v36", (date(2027, 9, 6), date(2027, 9, 10))),
        ("möte i vecka 1 2028", (date(2028, 1, 3), date(2028, 1, 7))),
        ("nästa vecka", (date(2027, 8, 23), date(2027, 8, 27))),
        ("vecka 33", (date(2027, 8, 16), date(2027, 8, 20))),
        ("vecka 32", (date(2028, 8, 7), date(2028, 8, 11))),
        ("hej", None),
    ],
)
def test_find_week(text: str, week: tuple[date, date] | None) -> None:
    assert find_week(text, POLL_NOW) == week


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("om 10 minuter", timedelta(minutes=10)),
        ("en halvtimme", timedelta(minutes=30)),
        ("två timmar", timedelta(hours=2)),
        ("1,5 h", timedelta(minutes=90)),
        ("tre kvart", timedelta(minutes=45)),
        ("en och en halv timme", timedelta(minutes=90)),
        ("2 timmar och 15 minuter", timedelta(minutes=135)),
        ("om 2 veckor", timedelta(days=14)),
        ("in 3 days", timedelta(days=3)),
        ("om en månad", None),
        ("hej", None),
    ],
)
def test_parse_duration(text: str, length: timedelta | None) -> None:
    assert parse_duration(text) == length


def test_confirmation_format() -> None:
    moment = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert format_when(moment) == "måndag 30 november 2026 kl. 09.00"
    assert format_date(date(2026, 11, 30)) == "måndag 30 november 2026"
    start = datetime(2023, 9, 5, 13, 0, tzinfo=STOCKHOLM)
    assert format_span(start, start + timedelta(hours=2)) == (
        "tisdag 5 september 2023 kl. 13.00–15.00"
    )
    summer = datetime(2027, 7, 1, 7, 5, tzinfo=UTC)
    assert format_when(summer) == "torsdag 1 juli 2027 kl. 09.05"


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        (date(2026, 11, 23), True, None),
        (date(2026, 11, 22), False, None),  # a Sunday is not a holiday by name
        (date(2026, 6, 19), False, "Midsommarafton"),
        (date(2026, 12, 24), False, "Julafton"),
        (date(2026, 12, 31), False, "Nyårsafton"),
        (date(2026, 5, 14), False, "Kristi himmelsfärdsdag"),
        (date(2026, 5, 15), True, None),
        (date(2026, 6, 6), False, "Nationaldagen"),
        (date(2027, 1, 6), False, "Trettondedag jul"),
    ],
)
def test_working_days(day: date, working: bool, name: str | None) -> None:
    assert is_working_day(day) is working
    assert holiday_name(day) == name


def test_klamdag() -> None:
    assert is_klamdag(date(2026, 5, 15))  # Friday after Ascension Day
    assert is_klamdag(date(2026, 1, 5))  # Monday before Epiphany on a Tuesday
    assert not is_klamdag(date(2026, 5, 13))
    assert not is_klamdag(date(2026, 11, 23))
