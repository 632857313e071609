"""SpecLoader: marks for every key and value, duplicate keys refused, keys kept as written."""

from __future__ import annotations

from textwrap import dedent

from auditor.spec.yaml_loader import Marks, format_path, load_yaml


def test_marks_give_one_based_line_and_column_of_keys_and_values() -> None:
    doc = load_yaml(dedent("""\
        version: 1
        buckets:
          - name: a-bucket
            cors:
              - {allowed_origins: ["*"], allowed_methods: [GET]}
        """), "f.yaml")
    assert doc.problems == ()
    assert doc.marks.keys[("version",)] == (1, 1)
    assert doc.marks.values[("version",)] == (1, 10)
    assert doc.marks.keys[("buckets", 0, "name")] == (3, 5)
    assert doc.marks.values[("buckets", 0)] == (3, 5)
    assert doc.marks.keys[("buckets", 0, "cors", 0, "allowed_methods")] == (5, 34)
    assert doc.marks.values[("buckets", 0, "cors", 0, "allowed_methods", 0)] == (5, 52)


def test_position_falls_back_to_the_nearest_enclosing_mark() -> None:
    doc = load_yaml("a:\n  b: 1\n", "f.yaml")
    assert doc.marks.position(("a", "b")) == (2, 3)
    assert doc.marks.position(("a", "missing", 3)) == (1, 1)  # key 'a'
    assert Marks().position(("anything",)) == (1, 1)


def test_duplicate_key_is_reported_on_the_second_occurrence() -> None:
    doc = load_yaml("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", "f.yaml")
    (problem,) = doc.problems
    assert (problem.file, problem.line, problem.column, problem.key) == ("f.yaml", 5, 3, "b.c")
    assert problem.message == "duplicate key 'c' (first given on line 3)"
    assert doc.marks.keys[("b", "c")] == (5, 3)  # marks describe the value that was kept
    assert doc.data == {"a": 1, "b": {"c": 3, "d": 2}}


def test_keys_differing_only_in_quoting_are_duplicates() -> None:
    (problem,) = load_yaml('a: 1\n"a": 2\n', "f.yaml").problems
    assert problem.line == 2


def test_merge_keys_are_not_duplicates_but_repeated_own_keys_are() -> None:
    doc = load_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  x: 3\n", "f.yaml")
    assert doc.problems == ()
    assert doc.data["use"] == {"x": 3, "y": 2}
    doc = load_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  z: 3\n  z: 4\n", "f.yaml")
    assert [p.line for p in doc.problems] == [5]


def test_keys_are_kept_as_written_and_dates_stay_strings() -> None:
    doc = load_yaml("yes: 1\n1: on\nwhen: 2026-01-01\n", "f.yaml")
    assert doc.data == {"yes": 1, "1": True, "when": "2026-01-01"}


def test_syntax_error_carries_the_parsers_line_and_column() -> None:
    doc = load_yaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    (problem,) = doc.problems
    assert (problem.line, problem.column, problem.key) == (3, 2, "")
    assert problem.message.startswith("YAML syntax error: while parsing a flow sequence")
    assert doc.data is None


def test_a_list_as_mapping_key_is_a_problem() -> None:
    (problem,) = load_yaml("? [a, b]\n: 1\n", "f.yaml").problems
    assert problem.line == 1 and "plain name" in problem.message


def test_recursive_aliases_are_refused_not_looped() -> None:
    # No spec needs a structure that contains itself, and schema validation would recurse.
    (problem,) = load_yaml("a: &x [*x]\n", "f.yaml").problems
    assert (problem.line, problem.column) == (1, 4) and "recursive structure" in problem.message


def test_format_path_is_readable() -> None:
    assert format_path(("buckets", 0, "lifecycle", 1, "transitions", 0, "days")) == (
        "buckets[0].lifecycle[1].transitions[0].days"
    )
    assert format_path(("tags", "cost centre")) == 'tags["cost centre"]'
    assert format_path(()) == ""
