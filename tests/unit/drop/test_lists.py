"""Reading DROP list files: good lines in chunks, each bad line reported and the rest kept."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from rightful.core.errors import InvalidInputError
from rightful.drop import lists
from rightful.drop.hashing import ListType

GOOD = "KA18MT/ph6IHYjzT9zwETySDQyvSh87YuoSBpOQtkhE="


def read(path: Path) -> tuple[list[lists.Line], lists.Problems]:
    problems = lists.Problems()
    return [line for chunk in lists.read_lines(path, problems) for line in chunk], problems


def test_a_bad_line_is_reported_by_file_and_line_and_the_others_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "20260312_4821_Email.csv"
    path.write_text(
        f"ID,Hash\nA7kP2xQ9Lm4R,{GOOD}\nshort,{GOOD}\nB7kP2xQ9Lm4R,not-a-hash\n"
        f"C7kP2xQ9Lm4R,{GOOD},extra\nD7kP2xQ9Lm4R,{GOOD}\n"
    )
    good, problems = read(path)
    assert [line.item_id for line in good] == ["A7kP2xQ9Lm4R", "D7kP2xQ9Lm4R"]
    assert {line.list_type for line in good} == {ListType.EMAIL}
    assert [(p["line"], p["file"]) for p in problems.first] == [
        (3, "20260312_4821_Email"),
        (4, "20260312_4821_Email"),
        (5, "20260312_4821_Email"),
    ]
    assert GOOD not in str(problems.first)  # a line's content is never kept


def test_a_zip_holds_one_file_per_list_a_removed_file_and_header_only_lists(tmp_path: Path) -> None:
    path = tmp_path / "20260312_4821_DROP.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("20260312_4821_NDZ.csv", "ID,Hash\n")
        archive.writestr("20260312_4821_Phone_part01.csv", f"ID,Hash\nA7kP2xQ9Lm4R,{GOOD}\n")
        archive.writestr(
            "20260312_4821_Removed.csv", f"ID,Hash,ListType\nZ7kP2xQ9Lm4R,{GOOD},Email\n"
        )
        archive.writestr("notes.txt", "hello")
    good, problems = read(path)
    assert [(g.list_type, g.removed, g.file_name) for g in good] == [
        (ListType.PHONE, False, "20260312_4821_Phone_part01"),
        (ListType.EMAIL, True, "20260312_4821_Removed"),
    ]
    assert problems.count == 1 and problems.first[0]["file"] == "notes.txt"
    assert lists.broker_of(path) == "4821"


def test_a_file_with_the_wrong_header_is_skipped_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "20260312_4821_Email.csv"
    path.write_text(f"Id,Status\nA7kP2xQ9Lm4R,{GOOD}\n")
    good, problems = read(path)
    assert good == [] and "header" in str(problems.first[0]["reason"])


def test_a_million_lines_come_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "20260312_4821_Email.csv"
    path.write_text("ID,Hash\n" + "".join(f"{i:012d},{GOOD}\n" for i in range(25_000)))
    problems = lists.Problems()
    sizes = [len(chunk) for chunk in lists.read_lines(path, problems)]
    assert sizes == [10_000, 10_000, 5_000]


def test_a_file_not_named_as_drop_names_lists_is_refused_by_name() -> None:
    with pytest.raises(InvalidInputError, match="YYYYMMDD"):
        lists.parse_name("deletions.csv")
