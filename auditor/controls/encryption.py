"""`encryption`: default encryption, with KMS keys compared by identity rather than spelling."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from auditor.cfn.values import Invalid, Origin, as_bool, as_list, as_map, as_str
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Encryption, Facet, KmsKeys, Outcome, Severity

# A live aws:kms rule without KMSMasterKeyID uses the AWS-managed key for S3.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
AWS_MANAGED_KEY = "alias/aws/s3"

SCHEMA = {
    "description": "Default encryption of new objects.",
    "type": "object",
    "additionalProperties": False,
    "required": ["algorithm"],
    "properties": {
        "algorithm": {
            "description": "SSE algorithm: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse (DSSE-KMS).",
            "enum": ["AES256", "aws:kms", "aws:kms:dsse"],
        },
        "kms_key": {"$ref": "#/$defs/kms_key"},
        "bucket_key": {
            "description": "Whether S3 Bucket Keys are enabled (SSE-KMS only).",
            "type": "boolean",
        },
    },
}
DEFS = {
    "kms_key": {
        "description": "The KMS key: alias name, alias ARN, key id or key ARN; any form of the same key passes.",
        "type": "string",
        "pattern": "^(alias/[A-Za-z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$",
        "errorMessage": {
            "pattern": "{value} is not a KMS key reference (alias/NAME, an alias or key ARN, or a key id)"
        },
    },
}


@dataclass(frozen=True, slots=True)
class EncryptionSpec:
    algorithm: Literal["AES256", "aws:kms", "aws:kms:dsse"]
    kms_key: str | None = None
    bucket_key: bool | None = None


def _build(raw: Mapping[str, Any]) -> EncryptionSpec:
    return EncryptionSpec(raw["algorithm"], raw.get("kms_key"), raw.get("bucket_key"))


def live_key_ref(have: Encryption) -> str | None:
    """The key reference a live rule uses, or None when the algorithm takes no KMS key."""
    if not have.algorithm.startswith("aws:kms"):
        return None
    return have.kms_key or AWS_MANAGED_KEY


def _named(ref: str, keys: KmsKeys) -> str:
    """A key as people know it, each name once: `alias/x (arn:...:key/1)`, or the key ARN with
    its alias where KMS gave one, or the reference as written when it did not resolve."""
    arn = keys.arn(ref)
    if "alias/" in ref:
        return f"{ref} ({arn})" if arn else ref
    aliases = [a for a in keys.aliases(ref) if not a.startswith("alias/aws/")] or list(keys.aliases(ref))
    shown = arn or ref  # a key id is part of its ARN: the ARN says both
    return f"{shown} ({aliases[0]})" if aliases else shown


def _key_difference(want: EncryptionSpec, have: Encryption, keys: KmsKeys) -> Difference | None:
    wanted, live = want.kms_key, live_key_ref(have)
    if wanted is None or live is None or wanted == live:
        return None
    wanted_arn, live_arn = keys.arn(wanted), keys.arn(live)
    if wanted_arn is None:
        return Difference(
            "encryption.kms_key", wanted, live,
            f"The spec's KMS key {wanted} does not exist in the bucket's account and region; "
            f"the bucket uses {_named(live, keys)}",
        )
    if wanted_arn == live_arn:
        return None
    found = _named(live, keys) if live_arn else f"{live} (not found in KMS)"
    return Difference(
        "encryption.kms_key", wanted, live,
        f"Bucket encrypts with KMS key {found}; the spec requires {_named(wanted, keys)}",
    )


def encryption(want: EncryptionSpec, ref: Ref, have: Encryption | None, keys: KmsKeys) -> Outcome:
    """Default encryption uses another algorithm or another KMS key than the spec.

    Why it matters: the KMS key decides who can decrypt; objects under the AWS-managed key
    or SSE-S3 are readable by anyone with s3:GetObject, without a KMS grant.
    Notes: `kms_key` may be an alias name, alias ARN, key id or key ARN on either side;
    both are resolved with KMS in the bucket's region and compared as key ARNs. A live
    aws:kms rule without a key is the AWS-managed key alias/aws/s3. aws:kms:dsse
    (dual-layer) is a different algorithm from aws:kms.
    Example: `encryption: {algorithm: aws:kms, kms_key: alias/amply-s3-key}`
    """
    if have is None:
        return Outcome(
            actual=None,
            differences=(Difference("", want, None, "Bucket has no default encryption configured"),),
        )
    diffs: list[Difference] = []
    if have.algorithm != want.algorithm:
        diffs.append(Difference("encryption.algorithm", want.algorithm, have.algorithm,
                                f"Default encryption is {have.algorithm}; the spec requires {want.algorithm}"))
    else:
        key_diff = _key_difference(want, have, keys)
        if key_diff is not None:
            diffs.append(key_diff)
    if want.bucket_key is not None and have.bucket_key != want.bucket_key:
        diffs.append(Difference("encryption.bucket_key", want.bucket_key, have.bucket_key,
                                f"S3 Bucket Key is {'on' if have.bucket_key else 'off'}; "
                                f"the spec requires it {'on' if want.bucket_key else 'off'}"))
    actual = Encryption(have.algorithm, live_key_ref(have), have.bucket_key)
    return Outcome(actual=actual, differences=tuple(diffs))


def _put(ref: Ref, want: EncryptionSpec) -> tuple[Request, ...]:
    default: dict[str, str] = {"SSEAlgorithm": want.algorithm}
    if want.kms_key:
        default["KMSMasterKeyID"] = want.kms_key
    rule: dict[str, object] = {"ApplyServerSideEncryptionByDefault": default}
    if want.bucket_key is not None:
        rule["BucketKeyEnabled"] = want.bucket_key
    return (Request("s3", "PutBucketEncryption", {
        "Bucket": ref.name, "ServerSideEncryptionConfiguration": {"Rules": [rule]}}),)


def _kms_refs(want: EncryptionSpec) -> tuple[str, ...]:
    return (want.kms_key,) if want.kms_key else ()


def _derive(ref: Ref, have: Encryption | None, keys: KmsKeys) -> Derived:
    if have is None:
        return None, ("encryption: not stated: the bucket has no default encryption, "
                      "and a spec can only require one")
    out: dict[str, Any] = {"algorithm": have.algorithm}
    key = live_key_ref(have)  # aws:kms without a key id is the AWS-managed alias/aws/s3
    if key is not None:
        out["kms_key"] = key
    # S3 Bucket Keys exist only for aws:kms; a spec cannot say "true" for anything else.
    if have.algorithm == "aws:kms" or not have.bucket_key:
        out["bucket_key"] = have.bucket_key
    return out, None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    algorithm = value.get("algorithm")
    if algorithm == "AES256" and "kms_key" in value:
        yield at.problem(("encryption", "kms_key"),
                         "kms_key is given but algorithm is AES256 (SSE-S3 uses no KMS key); "
                         "use algorithm aws:kms or drop kms_key")
    if value.get("bucket_key") is True and algorithm in ("AES256", "aws:kms:dsse"):
        yield at.problem(("encryption", "bucket_key"),
                         f"bucket_key: true cannot hold with algorithm {algorithm}: "
                         "S3 Bucket Keys exist only for SSE-KMS (aws:kms)")


def _from_template(raw: Any, path: str, origin: Origin) -> dict[str, Any]:
    rules = as_list(as_map(raw, path).get("ServerSideEncryptionConfiguration"),
                    f"{path}.ServerSideEncryptionConfiguration")
    if len(rules) != 1:
        raise Invalid(f"{path}.ServerSideEncryptionConfiguration", "S3 takes exactly one rule")
    rule_path = f"{path}.ServerSideEncryptionConfiguration[0]"
    rule = as_map(rules[0], rule_path)
    name = "ServerSideEncryptionByDefault"
    if name not in rule:
        name = "ApplyServerSideEncryptionByDefault"  # the S3 API's spelling
    where = f"{rule_path}.{name}"
    default = as_map(rule.get(name), where)
    out: dict[str, Any] = {"algorithm": as_str(default.get("SSEAlgorithm"), f"{where}.SSEAlgorithm")}
    # The key and the Bucket Key are single values: one that cannot be imported is left
    # unchecked, the algorithm still is.
    if default.get("KMSMasterKeyID") is not None:
        key = origin.attempt(as_str, default["KMSMasterKeyID"], f"{where}.KMSMasterKeyID")
        if key is not None:
            out["kms_key"] = key
    if rule.get("BucketKeyEnabled") is not None:
        bucket_key = origin.attempt(as_bool, rule["BucketKeyEnabled"], f"{rule_path}.BucketKeyEnabled")
        if bucket_key is not None:
            out["bucket_key"] = bucket_key
    return out


CONTROL = Control(
    key="encryption",
    id="S3-ENC-001",
    title="Default encryption uses the algorithm and KMS key the spec names",
    severity=Severity.HIGH,
    check=encryption,
    reads=(Facet.ENCRYPTION, Facet.KMS_KEYS),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport.prop("BucketEncryption", _from_template),
    put_requests=_put,
    kms_refs=_kms_refs,
    example={"algorithm": "aws:kms", "kms_key": "alias/amply-s3-key"},
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",),
)
