"""load_specs: files and directories, path errors, every problem of every file at once."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from textwrap import dedent

import pytest
from jsonschema import Draft202012Validator

from auditor.controls import keys
from auditor.errors import SpecError
from auditor.model import Scope
from auditor.spec import SCHEMA_PATH, check_specs, load_specs, schema

ONE = "version: 1\nbuckets:\n  - name: {name}\n    versioning: Enabled\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def _problems(paths: list[str | Path]) -> list[str]:
    with pytest.raises(SpecError) as raised:
        load_specs(paths)
    return [str(p) for p in raised.value.problems]


def test_directory_loads_nested_files_with_both_extensions_in_sorted_order(tmp_path: Path) -> None:
    _write(tmp_path / "b.yml", ONE.format(name="bucket-b"))
    _write(tmp_path / "a.yaml", ONE.format(name="bucket-a"))
    _write(tmp_path / "team" / "deep" / "c.yaml", ONE.format(name="bucket-c"))
    _write(tmp_path / "notes.txt", "not a spec")
    _write(tmp_path / ".hidden" / "x.yaml", "not: [valid")
    specs = load_specs([tmp_path])
    assert [b.name for b in specs.buckets] == ["bucket-a", "bucket-b", "bucket-c"]
    assert specs.files == tuple(
        str(tmp_path / p) for p in ("a.yaml", "b.yml", "team/deep/c.yaml")
    )


def test_files_and_directories_mix_and_a_file_named_twice_loads_once(tmp_path: Path) -> None:
    a = _write(tmp_path / "specs" / "a.yaml", ONE.format(name="bucket-a"))
    b = _write(tmp_path / "other.yaml", ONE.format(name="bucket-b"))
    specs = load_specs([a, tmp_path / "specs", str(b)])
    assert [s.name for s in specs.buckets] == ["bucket-a", "bucket-b"]


def test_missing_path_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert _problems([missing]) == [f"{missing}:1:1: no such file or directory"]


def test_directory_without_spec_files_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "README.md", "# nothing here")
    (problem,) = _problems([tmp_path])
    assert problem.startswith(f"{tmp_path}:1:1: ") and "no *.yaml or *.yml" in problem


def test_file_that_is_not_utf8_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"version: 1\nbuckets: []\n# caf\xe9\n")
    (problem,) = _problems([bad])
    assert problem.startswith(f"{bad}:3:6: ") and "not UTF-8" in problem  # at the byte itself


def test_all_problems_of_all_files_are_reported_at_once_sorted(tmp_path: Path) -> None:
    _write(tmp_path / "b.yaml", """\
        version: 1
        buckets:
          - name: bucket-b
            tls_only: "yes"
            versionning: Enabled
        """)
    _write(tmp_path / "a.yaml", "version: 1\nbuckets:\n  - name: bucket-a\n    cors: [\n")
    _write(tmp_path / "c.yaml", ONE.format(name="bucket-c"))
    problems = _problems([tmp_path, tmp_path / "missing"])
    assert [p.split(": ")[0] for p in problems] == [
        f"{tmp_path}/a.yaml:5:1",
        f"{tmp_path}/b.yaml:4:5",
        f"{tmp_path}/b.yaml:5:5",
        f"{tmp_path}/missing:1:1",
    ]
    assert "YAML syntax error" in problems[0]
    assert problems[1].endswith("buckets[0].tls_only: must be true or false, not the string 'yes'")
    assert "unknown key 'versionning'; did you mean 'versioning'?" in problems[2]


def test_spec_error_message_lists_file_line_column_key_message(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.yaml", "version: 1\nbuckets:\n  - name: bucket-x\n    tls: true\n")
    with pytest.raises(SpecError) as raised:
        load_specs([path])
    assert str(raised.value) == (
        f"{path}:4:5: buckets[0].tls: unknown key 'tls'; did you mean 'tls_only'?"
    )


def test_check_specs_returns_problems_instead_of_raising(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yaml", ONE.format(name="bucket-a"))
    assert check_specs([good]) == ()
    assert len(check_specs([tmp_path / "missing.yaml"])) == 1


def test_unquoted_dates_stay_strings(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.yaml", """\
        version: 1
        buckets:
          - name: bucket-d
            lifecycle:
              - {id: end, expiration_date: 2030-01-01}
        waivers:
          - {bucket: bucket-d, control: lifecycle, reason: r, expires: 2027-01-31, owner: me}
        """)
    (bucket,) = load_specs([path]).buckets
    assert bucket.want("lifecycle") is not None and bucket.want("lifecycle")[0].expiration_date == "2030-01-01"


# --------------------------------------------------------------------------- the schema


def test_schema_is_a_valid_draft_2020_12_schema_for_editors() -> None:
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(loaded)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert loaded["$id"] and loaded["title"]
    assert schema() == loaded


def test_schema_knows_every_control_of_the_model() -> None:
    defs = schema()["$defs"]
    bucket = defs["bucket"]["properties"]
    stated = keys(Scope.BUCKET, implicit=False)
    assert set(stated) <= set(bucket)
    assert set(keys(Scope.ACCOUNT, implicit=False)) <= set(defs["account"]["properties"])
    assert defs["control"]["enum"] == list(keys())
    assert set(bucket["severity"]["properties"]) == {"exists", *stated}


def test_every_bucket_and_rule_property_is_described() -> None:
    defs = schema()["$defs"]
    for name in ("bucket", "account", "encryption", "public_access_block", "website",
                 "lifecycle_rule", "transition", "noncurrent_transition", "cors_rule", "waiver"):
        if name not in defs:  # a control's own shape, inlined in its property
            name_defs = defs["bucket"]["properties"][name]
            defs = {**defs, name: name_defs}
        for key, prop in defs[name]["properties"].items():
            described = "description" in prop or "description" in defs.get(
                prop.get("$ref", "#/$defs/").rsplit("/", 1)[1], {}
            )
            assert described, f"{name}.{key} has no description"


def test_spec_package_imports_no_aws_sdk() -> None:
    package = Path(__file__).resolve().parents[2] / "auditor" / "spec"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("boto3", "botocore") for n in names), module


def test_unreadable_file_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "locked.yaml", ONE.format(name="bucket-a"))

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert _problems([path]) == [f"{path}:1:1: cannot read the file: Permission denied"]
