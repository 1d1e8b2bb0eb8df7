"""The multipart request's map: files land where it says, and a map that does not fit is a 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from resolvers.upload_map import UploadMapError, place_files
from tests.api.helpers import create_binder
from tests.api.test_received_form import CREATE


def test_files_replace_their_placeholders_in_objects_and_lists_and_one_file_may_fill_two() -> None:
    operations = {"query": "…", "variables": {"input": {"file": None}, "files": [None, None], "again": None}}
    files = {"0": "first", "1": "second"}
    placed = place_files(
        operations, {"0": ["variables.input.file", "variables.again"], "1": ["variables.files.1"]}, files
    )
    assert placed["variables"] == {"input": {"file": "first"}, "files": [None, "second"], "again": "first"}
    assert operations["variables"]["input"]["file"] is None  # the parsed request itself is left as it was


@pytest.mark.parametrize(
    ("files_map", "message"),
    [
        ({"0": ["variables.input.file"], "1": ["variables.input.file"]}, "two files at variables.input.file"),
        ({"0": ["variables.input.file.x"]}, "nothing at variables.input.file.x"),
        ({"0": ["variables.input.title.0"]}, "nothing at variables.input.title.0"),
        ({"0": ["variables.files.2"]}, "nothing at variables.files.2"),
        ({"0": ["variables.files.-1"]}, "nothing at variables.files.-1"),
        ({"0": ["variables.input.nothing"]}, "nothing at variables.input.nothing"),
        ({"0": ["variables.input.title"]}, "must be null"),
        ({"0": ["query"]}, "into the variables"),
        ({"0": ["variables"]}, "into the variables"),
        ({"0": "variables.input.file"}, "a non-empty list of variable paths"),
        ({"0": [1]}, "a non-empty list of variable paths"),
        ({"0": []}, "a non-empty list of variable paths"),
        ({"9": ["variables.input.file"]}, "does not carry"),
        (["variables.input.file"], "a JSON object"),
    ],
)
def test_a_map_that_does_not_fit_says_what_is_wrong(files_map: Any, message: str) -> None:
    operations = {"query": "…", "variables": {"input": {"file": None, "title": "Umowa"}, "files": [None, None]}}
    with pytest.raises(UploadMapError, match=message):
        place_files(operations, files_map, {"0": "first", "1": "second"})


@pytest.mark.parametrize(
    "files_map",
    [
        {"0": ["variables.input.file"], "1": ["variables.input.file"]},
        {"0": ["variables.input.file.name"]},
        {"0": ["variables.input.title.0"]},
        {"0": ["variables.input.nothing"]},
        {"operations": ["variables.input.file"]},  # a text part is not a file
    ],
)
async def test_a_request_whose_map_does_not_fit_is_refused_with_400_and_stores_nothing(alice, http, files_map):
    binder = await create_binder(alice, "Umowy")
    operations = {"query": CREATE, "variables": {"input": {"binderId": binder["id"], "title": "Umowa", "file": None}}}
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files={"0": ("a.txt", b"abc", "text/plain"), "1": ("b.txt", b"def", "text/plain")},
        headers={**alice.headers, "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"]
    listed = await alice.gql("query($b: ID!) { documents(filter: {binderId: $b}) { totalCount } }", b=binder["id"])
    assert listed.data["documents"]["totalCount"] == 0


FILE_0 = ("0", "a.txt", b"abc")


async def post_parts(client: Any, http: Any, parts: list[tuple[str, str | None, bytes]]) -> Any:
    """A multipart request of exactly these parts, in this order (names may repeat)."""
    boundary = "kartoteka-test-boundary"
    body = b""
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    headers = {
        **client.headers,
        "Apollo-Require-Preflight": "true",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    return await http.post("/graphql", content=body, headers=headers)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("map", '{"0": ["variables.input.file"]}')], "has no 'operations' part"),
        ([("operations", "{}")], "has no 'map' part"),
        ([("operations", "{}"), ("operations", "{}"), ("map", "{}")], "has 2 parts named 'operations'"),
        ([("operations", "{}"), ("map", '["variables.input.file"]')], "the map part is a JSON object"),
        ([("operations", "{}"), ("map", "{nie json")], "the map part is not JSON"),
        ([("operations", "{}"), ("map", '{"0": ["variables.\\ud800"]}')], "not valid Unicode"),
    ],
)
async def test_a_missing_doubled_or_malformed_part_is_named(alice, http, parts, message):
    response = await post_parts(alice, http, [*((name, None, value.encode()) for name, value in parts), FILE_0])
    assert response.status_code == 400, response.text
    assert message in response.json()["errors"][0]["message"]


async def test_two_files_under_one_name_are_refused(alice, http):
    binder = await create_binder(alice, "Umowy")
    operations = {"query": CREATE, "variables": {"input": {"binderId": binder["id"], "title": "Umowa", "file": None}}}
    parts = [
        ("operations", None, json.dumps(operations).encode()),
        ("map", None, json.dumps({"0": ["variables.input.file"]}).encode()),
        ("0", "a.txt", b"F1"),
        ("0", "b.txt", b"F2"),
    ]
    response = await post_parts(alice, http, parts)
    assert response.status_code == 400
    assert "several parts named '0'" in response.json()["errors"][0]["message"]


async def test_a_malformed_multipart_body_is_a_400_with_a_json_error(alice, http):
    response = await http.post(
        "/graphql",
        content=b"this is not a multipart body at all",
        headers={
            **alice.headers,
            "Apollo-Require-Preflight": "true",
            "Content-Type": "multipart/form-data; boundary=kartoteka",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "the multipart body is malformed"}]}
