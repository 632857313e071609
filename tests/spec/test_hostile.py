"""Hostile spec files are refused fast, each problem at file:line, with short messages: alias
bombs, deep nesting, huge files and values, symlink loops and dangling links, bytes that are
not UTF-8. Symlinked directories are read, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import SpecError
from auditor.spec import MAX_FILE_BYTES, check_specs, load_specs, spec_files
from auditor.spec.yaml_loader import MAX_ALIASES, MAX_DEPTH, load_yaml

GOOD = "version: 1\nbuckets:\n  - name: amply-widgets-prod\n    versioning: Enabled\n"


def _problems(path: Path) -> list[str]:
    return [str(p) for p in check_specs([path])]


def test_an_alias_bomb_is_refused_at_the_first_alias(tmp_path: Path) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nbuckets: []\n")
    assert _problems(bomb) == [f"{bomb}:3:10: aliases expand the document past 200000 nodes; refusing what "
                               "may be an alias bomb"]


def test_too_many_aliases_are_refused_where_the_limit_is_crossed() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 5)) + "]\n"
    (problem,) = load_yaml(text, "many.yaml").problems
    assert (problem.line, problem.message) == (2, f"more than {MAX_ALIASES} aliases (*name) in one document; "
                                                  "refusing what may be an alias bomb")


def test_a_recursive_alias_is_refused() -> None:
    (problem,) = load_yaml("version: 1\nbuckets: &b\n  - *b\n", "rec.yaml").problems
    assert problem.line == 2 and "recursive structure" in problem.message


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("version: 1\nbuckets: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (problem,) = _problems(deep)
    assert problem.startswith(f"{deep}:2:") and problem.endswith(f"nested more than {MAX_DEPTH} levels deep")


def test_ordinary_anchors_still_work(tmp_path: Path) -> None:
    spec = tmp_path / "anchors.yaml"
    spec.write_text("version: 1\nbuckets:\n  - name: a-bucket\n    cors: &cors\n"
                    "      - {allowed_origins: [\"https://x.org\"], allowed_methods: [GET]}\n"
                    "  - name: b-bucket\n    cors: *cors\n")
    assert len(load_specs([spec]).buckets) == 2


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    assert _problems(big) == [f"{big}:1:1: the file is 4.0 MiB; a spec file may be at most 4 MiB "
                              "(split it, or use match: globs)"]


def test_a_huge_value_is_quoted_as_a_short_excerpt(tmp_path: Path) -> None:
    spec = tmp_path / "long.yaml"
    spec.write_text(f"version: 1\nbuckets:\n  - name: amply-x\n    versioning: {'E' * 1_000_000}\n")
    (problem,) = _problems(spec)
    assert problem.startswith(f"{spec}:4:5: buckets[0].versioning: 'EEEE")
    assert "(1,000,000 characters)" in problem and len(problem) < 300
    key = tmp_path / "key.yaml"
    key.write_text(f"version: 1\nbuckets:\n  - name: amply-x\n    ? {'k' * 100_000}\n    : 1\n")
    (problem,) = _problems(key)
    assert len(problem) < 1500 and "(100,000 characters)" in problem


def test_bytes_that_are_not_utf8_are_reported_at_their_line_and_column(tmp_path: Path) -> None:
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes("version: 1\nbuckets:\n  - name: amply-x\n    # Größe\n".encode()
                     + b"    tags: caf\xe9\n")
    assert _problems(spec) == [f"{spec}:5:14: not UTF-8 text: byte 0xe9 (invalid continuation byte); "
                               "save the file as UTF-8"]


def test_dangling_links_and_link_loops_are_errors_naming_the_file(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "good.yaml").write_text(GOOD)
    (specs / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    (specs / "loop.yaml").symlink_to(specs / "loop.yaml")
    (specs / "notes.txt").symlink_to(tmp_path / "gone.txt")  # not a spec name: ignored
    with pytest.raises(SpecError) as raised:
        load_specs([specs])
    assert [str(p) for p in raised.value.problems] == [
        f"{specs / 'dangling.yaml'}:1:1: dangling symbolic link to {tmp_path / 'gone.yaml'}",
        f"{specs / 'loop.yaml'}:1:1: symbolic link loop: the link never reaches a file",
    ]
    assert _problems(specs / "loop.yaml") == [f"{specs / 'loop.yaml'}:1:1: symbolic link loop: the link never "
                                              "reaches a file"]


def test_symlinked_directories_are_read_once_and_loops_end(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "widgets.yaml").write_text(GOOD)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "team").symlink_to(shared)
    (specs / "again").symlink_to(shared)  # the same directory twice: read once
    (specs / "team-loop").symlink_to(specs)  # back up: must not walk forever
    files, problems = spec_files([specs])
    assert problems == []
    assert [f.relative_to(specs).as_posix() for f in files] == ["again/widgets.yaml"]
    assert len(load_specs([specs]).buckets) == 1
