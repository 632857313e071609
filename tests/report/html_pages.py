"""The HTML pages the report tests produce: each is checked as markup (test_html.py) and
opened in headless Chromium (test_html_browser.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from auditor.model import (
    CorsRule,
    Difference,
    LifecycleRule,
    Report,
    Scope,
    Status,
    Waiver,
)
from tests.report.conftest import build_sample_report, result
from tests.report.synthetic import big_report

# A bucket name, tag and CORS origin that try to become markup or script in the page.
HOSTILE_NAME = 'evil"><img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
HOSTILE_TAG = "</script><script>window.pwned=3</script><!--"
HOSTILE_ORIGIN = "javascript:window.pwned=4//<svg/onload=window.pwned=5>"


def hostile_report() -> Report:
    origin = CorsRule(allowed_origins=(HOSTILE_ORIGIN,), allowed_methods=("GET",))
    tagged = LifecycleRule(id=HOSTILE_TAG, tags=((HOSTILE_TAG, HOSTILE_TAG),), expiration_days=1)
    waiver = Waiver(bucket=HOSTILE_NAME, control="cors", reason=HOSTILE_TAG, expires="2027-01-01",
                    owner=HOSTILE_NAME)
    results = (
        result(bucket=HOSTILE_NAME, control="cors", rule_id="S3-COR-001", status=Status.DRIFT,
               expected=(), actual=(origin,), message=f"CORS allows origin {HOSTILE_ORIGIN}",
               remediation=f"aws s3api delete-bucket-cors --bucket {HOSTILE_NAME}",
               differences=(Difference(HOSTILE_TAG, [], [HOSTILE_ORIGIN], HOSTILE_TAG),)),
        result(bucket=HOSTILE_NAME, control="lifecycle", rule_id="S3-LCY-001", status=Status.ERROR,
               message=HOSTILE_TAG, region=HOSTILE_TAG),
        result(bucket=HOSTILE_NAME, actual=(tagged,), message=HOSTILE_TAG),
        result(bucket=HOSTILE_NAME, control="website", rule_id="S3-WEB-001", status=Status.WAIVED,
               waiver=waiver, message=HOSTILE_NAME),
        result(bucket=None, scope=Scope.ACCOUNT, account=HOSTILE_NAME, control="public_access_block",
               rule_id="S3-PAB-001", status=Status.DRIFT, message=HOSTILE_TAG),
    )
    return build_sample_report(results=results, accounts=(HOSTILE_NAME,), spec_files=(HOSTILE_TAG,),
                               unused_waivers=(waiver,), endpoint_url=HOSTILE_ORIGIN,
                               baseline=HOSTILE_TAG, extra=((HOSTILE_TAG, HOSTILE_NAME),))


def compliant_report() -> Report:
    return build_sample_report(results=(result(),))


PAGES: dict[str, Callable[[], Report]] = {
    "sample": build_sample_report,
    "hostile": hostile_report,
    "compliant": compliant_report,
    "empty": lambda: build_sample_report(results=()),
    "fleet-300-with-history": lambda: big_report(300, 14),
    "fleet-40-one-run-of-history": lambda: big_report(40, 1),
    "fleet-40-no-history": lambda: replace(big_report(40, 0), baseline=None),
}
