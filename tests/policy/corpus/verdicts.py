"""Write VERDICTS.md: the corpus judged by an earlier checkout's evaluator and by this one.

    python tests/policy/corpus/verdicts.py OLD_CHECKOUT > tests/policy/corpus/VERDICTS.md

OLD_CHECKOUT is a work tree of the commit to compare with (for issue 8: 8072860, `git worktree
add /tmp/old-eval 8072860`). Each evaluator runs in its own interpreter, so the two never mix.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
JUDGE = """
import json, sys
from pathlib import Path
import yaml
sys.path.insert(0, sys.argv[1])
from auditor.policy.document import parse_policy
from auditor.policy import evaluate as ev
out = {}
for path in sorted(Path(sys.argv[2]).glob("*.yaml")):
    e = yaml.safe_load(path.read_text())
    try:
        doc = parse_policy(e["policy"])
    except ValueError:
        out[path.stem] = ["error", "error"]
        continue
    acts = ev.public_actions(doc, e["bucket"], e["account"])
    level = "write" if acts.beyond_read else ("read" if acts.public else "none")
    out[path.stem] = [level, "yes" if not ev.tls_only_gaps(doc, e["bucket"]) else "no"]
print(json.dumps(out))
"""
WHY = {
    "aws-22-access-point-delegation": "s3:DataAccessPointAccount with a fixed value limits the grant (BPA key list); the old evaluator did not know the key and called AWS's recommended delegation public write.",
    "aws-23-access-point-cross-account": "the same key limits delegation to another account's access points; not public (cross_account reports the other account instead).",
    "aws-29-bpa-federated": 'any Federated principal is public (the BPA page\'s own example); the old evaluator knew only "*" and {"AWS": "*"}.',
    "aws-31-bpa-wildcard-vpc": "aws:SourceVpc vpc-* contains a wildcard, so it limits nothing (the BPA page's own example); the old evaluator counted every value that was not all wildcards as fixed.",
    "c7n-04-bare-principal-bad-operator": 'old: error (bare-string principal); new: judged. The statement is malformed (bare string, "ForAllValues" is no operator) and grants only the fixed account it names.',
    "c7n-06-actions-and-principal-list": 'old: error (unknown elements Actions, StatementId); new: malformed, no Action and an unreadable Principal ["*"], so read as every action for everyone.',
    "c7n-07-actions-without-principal": "old: error (unknown elements); new: malformed with no Action and no Principal, so every action for everyone; its condition limits nothing.",
    "moto-01-deny-bare-principal": 'old: error (bare-string principal "y"); new: a malformed Deny grants nothing and takes nothing away, so not public, and tls_only drifts as it did not enforce TLS anyway.',
    "prowler-04-wildcard-account-root": "a wildcard inside a principal ARN (arn:aws:iam::*:root) is public and makes the statement malformed; the old evaluator read it as one fixed principal.",
}


def judge(checkout: Path) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", JUDGE, str(checkout), str(HERE)],
                          check=True, capture_output=True, text=True, cwd="/")
    verdicts: dict[str, list[str]] = json.loads(done.stdout)
    return verdicts


def _extra(expect: dict[str, Any]) -> str:
    parts = [f"min_tls {v}: {'yes' if ok else 'no'}" for v, ok in expect.get("min_tls", {}).items()]
    for check in expect.get("cross_account", []):
        form = "none" if check["allowed"] is None else "allow-list " + json.dumps(check["allowed"])
        parts.append(f"cross_account {form}: {'pass' if check['ok'] else 'drift'}")
    return "; ".join(parts) or "—"


def main(old_checkout: str) -> None:
    old, new = judge(Path(old_checkout)), judge(ROOT)
    entries = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(HERE.glob("*.yaml"))}
    changed = [k for k in entries if old[k] != new[k]]
    print("# Corpus verdicts: before and after issue 8\n")
    print(f"{len(entries)} bucket policies from AWS documentation and other projects' public test "
          "suites (one file each in this directory, with its source). `public` is the exposure "
          "from the policy alone (none / read / write, write = anything beyond reading); "
          "`tls_only` whether the policy denies every plain-HTTP request. *Before* is commit "
          f"8072860 (main when issue 8 started), *after* this branch. {len(changed)} verdicts "
          "differ; each is explained. Regenerate with `python tests/policy/corpus/verdicts.py "
          "OLD_CHECKOUT`.\n")
    print("| policy | public before → after | tls_only before → after | what changed |")
    print("|:--|:--|:--|:--|")
    for name, entry in entries.items():
        (po, to), (pn, tn) = old[name], new[name]
        same = "same verdict" + ("; the malformed statement is now named in the message"
                                 if entry["expect"].get("malformed") else "")
        why = WHY.get(name, same if old[name] == new[name] else "UNEXPLAINED")
        link = f"[{name}]({entry['source']})"
        print(f"| {link} | {po} → **{pn}** | {to} → **{tn}** | {why} |")
    print("\nThe controls the old evaluator did not have, as judged now (each also a corpus "
          "test):\n")
    print("| policy | min_tls_version / cross_account (after) |")
    print("|:--|:--|")
    for name, entry in entries.items():
        extra = _extra(entry["expect"])
        if extra != "—":
            print(f"| {name} | {extra} |")


if __name__ == "__main__":
    main(sys.argv[1])
