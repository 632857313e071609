"""The CSV report: one row per result, RFC 4180 quoting, no cell a spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from auditor.model import AwsFailure, Report, Result, Scope, Status, Waiver
from auditor.report import RENDERERS, csv_report
from tests.report.synthetic import big_report

HOSTILE = '=HYPERLINK("http://evil.example","x"), "quoted"\r\nline two'


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _unprefixed(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:2] in csv_report.FORMULA_START else cell


def test_one_row_per_result_under_a_header(sample_report: Report) -> None:
    text = csv_report.render(sample_report)
    assert text.startswith(",".join(csv_report.COLUMNS) + "\r\n")
    rows = _rows(text)
    assert len(rows) == len(sample_report.results)
    assert [(r["bucket"], r["control"], r["status"]) for r in rows] == [
        (x.bucket, x.control, x.status.value) for x in sample_report.results]


def test_lines_end_in_crlf_and_fields_with_breaks_are_quoted(
    sample_report: Report, make_result: Callable[..., Result],
) -> None:
    text = csv_report.render(replace(sample_report, results=(make_result(message='a "b",\nc'),)))
    _header, row, end = text.split("\r\n")
    assert end == ""
    assert '"a ""b"",\nc"' in row


def test_round_trips_through_the_csv_module(sample_report: Report) -> None:
    big = big_report(30, 0)
    for report in (sample_report, big):
        rows = _rows(csv_report.render(report))
        for row, result in zip(rows, report.results, strict=True):
            assert _unprefixed(row["message"]) == result.message
            assert json.loads(_unprefixed(row["expected"])) == json.loads(
                csv_report._json(result.expected))
            assert row["spec_line"] == (str(result.source.line) if result.source else "")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_would_be_a_formula_is_prefixed(
    start: str, sample_report: Report, make_result: Callable[..., Result],
) -> None:
    value = f"{start}1+1"
    (row,) = _rows(csv_report.render(replace(sample_report, results=(
        make_result(bucket=value, message=value, remediation=value, region=value),))))
    for column in ("bucket", "message", "remediation", "region"):
        assert row[column] == "'" + value
        assert _unprefixed(row[column]) == value


def test_hostile_values_round_trip_and_stay_inert(
    sample_report: Report, make_result: Callable[..., Result],
) -> None:
    waiver = Waiver(bucket="*", control="cors", reason=HOSTILE, expires="2027-01-01", owner="@ops")
    hostile = make_result(bucket=HOSTILE, status=Status.WAIVED, message=HOSTILE, waiver=waiver,
                          actual=[HOSTILE], error=AwsFailure("GetBucketCors", "-1", HOSTILE))
    (row,) = _rows(csv_report.render(replace(sample_report, results=(hostile,))))
    assert row["bucket"] == "'" + HOSTILE and _unprefixed(row["bucket"]) == HOSTILE
    assert row["waiver_reason"] == "'" + HOSTILE
    assert row["waiver_owner"] == "'@ops"
    assert row["error_code"] == "'-1"
    assert json.loads(row["actual"]) == [HOSTILE]  # JSON starts with "[": not a formula
    assert all(not cell.startswith(csv_report.FORMULA_START) for cell in row.values())


def test_scope_principal_frameworks_and_error_columns(
    sample_report: Report, make_result: Callable[..., Result],
) -> None:
    role = make_result(bucket=None, scope=Scope.PRINCIPAL, principal="arn:aws:iam::1:role/app",
                       control="principals", status=Status.ERROR,
                       error=AwsFailure("GetRolePolicy", "AccessDenied", "denied"),
                       frameworks=(("aws-fsbp", ("S3.5", "S3.6")), ("cis-aws", ("2.1.1",))))
    (row,) = _rows(csv_report.render(replace(sample_report, results=(role,))))
    assert (row["scope"], row["bucket"], row["principal"]) == ("principal", "", "arn:aws:iam::1:role/app")
    assert row["frameworks"] == "aws-fsbp:S3.5,S3.6; cis-aws:2.1.1"
    assert (row["error_api"], row["error_code"]) == ("GetRolePolicy", "AccessDenied")


def test_registered_as_csv() -> None:
    assert RENDERERS["csv"] is csv_report.render
