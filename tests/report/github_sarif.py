"""GitHub code scanning's documented requirements for an uploaded SARIF file, as a checker.

From docs.github.com, "SARIF support for code scanning" (the properties code scanning
requires) and "SARIF results exceed limits" (hard limits: a file over them is rejected whole).
The JSON schema cannot express these: a result with only logical locations is valid SARIF
but makes GitHub refuse the upload.
"""

from __future__ import annotations

from typing import Any

MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 25_000
MAX_RULES_PER_RUN = 25_000
MAX_LOCATIONS_PER_RESULT = 1_000
MAX_TAGS_PER_RULE = 20


def github_upload_problems(doc: dict[str, Any]) -> list[str]:
    """Every way the document breaks an upload requirement (empty: GitHub accepts it)."""
    problems: list[str] = []
    if doc.get("version") != "2.1.0":
        problems.append("version must be 2.1.0")
    runs = doc.get("runs", [])
    if len(runs) > MAX_RUNS:
        problems.append(f"{len(runs)} runs > {MAX_RUNS}")
    for n, run in enumerate(runs):
        problems += _run_problems(run, f"runs[{n}]")
    return problems


def _run_problems(run: dict[str, Any], where: str) -> list[str]:
    driver = run.get("tool", {}).get("driver", {})
    problems = [] if driver.get("name") else [f"{where}: tool.driver.name is required"]
    rules = driver.get("rules", [])
    results = run.get("results", [])
    if len(results) > MAX_RESULTS_PER_RUN:
        problems.append(f"{where}: {len(results)} results > {MAX_RESULTS_PER_RUN}")
    if len(rules) > MAX_RULES_PER_RUN:
        problems.append(f"{where}: {len(rules)} rules > {MAX_RULES_PER_RUN}")
    for i, rule in enumerate(rules):
        problems += _rule_problems(rule, f"{where}.rules[{i}]")
    ids = {rule.get("id") for rule in rules}
    for i, result in enumerate(results):
        problems += _result_problems(result, ids, f"{where}.results[{i}]")
    return problems


def _rule_problems(rule: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}: {key} is required" for key in ("id",) if not rule.get(key)]
    for key in ("shortDescription", "fullDescription", "help"):
        if not rule.get(key, {}).get("text"):
            problems.append(f"{where}: {key}.text is required")
    props = rule.get("properties", {})
    if len(props.get("tags", [])) > MAX_TAGS_PER_RULE:
        problems.append(f"{where}: more than {MAX_TAGS_PER_RULE} tags")
    if "security-severity" in props and not 0.0 <= float(props["security-severity"]) <= 10.0:
        problems.append(f"{where}: security-severity outside 0.0-10.0")
    return problems


def _result_problems(result: dict[str, Any], rule_ids: set[Any], where: str) -> list[str]:
    problems = []
    if result.get("ruleId") not in rule_ids:
        problems.append(f"{where}: ruleId {result.get('ruleId')!r} is not a rule of the run")
    if not result.get("message", {}).get("text"):
        problems.append(f"{where}: message.text is required")
    locations = result.get("locations", [])
    if not 1 <= len(locations) <= MAX_LOCATIONS_PER_RESULT:
        problems.append(f"{where}: needs 1 to {MAX_LOCATIONS_PER_RESULT} locations")
    for j, location in enumerate(locations):
        physical = location.get("physicalLocation")
        if not physical:
            problems.append(f"{where}.locations[{j}]: physicalLocation is required")
            continue
        uri = physical.get("artifactLocation", {}).get("uri", "")
        if not uri or "://" in uri and not uri.startswith("file://"):
            problems.append(f"{where}.locations[{j}]: artifactLocation.uri must be a file path")
        if physical.get("region", {}).get("startLine", 0) < 1:
            problems.append(f"{where}.locations[{j}]: region.startLine is required")
    for value in result.get("partialFingerprints", {}).values():
        if not isinstance(value, str):
            problems.append(f"{where}: partialFingerprints values must be strings")
    return problems
