"""Default encryption, with KMS keys compared by identity rather than spelling."""

from __future__ import annotations

import json

from auditor.model import Difference, Encryption, EncryptionSpec, Facet, KmsKeys, Outcome, Severity
from auditor.rules.registry import BucketRef, rule

# A live aws:kms rule without KMSMasterKeyID uses the AWS-managed key for S3.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
AWS_MANAGED_KEY = "alias/aws/s3"


def live_key_ref(have: Encryption) -> str | None:
    """The key reference a live rule uses, or None when the algorithm takes no KMS key."""
    if not have.algorithm.startswith("aws:kms"):
        return None
    return have.kms_key or AWS_MANAGED_KEY


def _fix(bucket: BucketRef, want: EncryptionSpec, have: Encryption | None, keys: KmsKeys) -> str:
    default: dict[str, str] = {"SSEAlgorithm": want.algorithm}
    if want.kms_key:
        default["KMSMasterKeyID"] = want.kms_key
    rule_: dict[str, object] = {"ApplyServerSideEncryptionByDefault": default}
    if want.bucket_key is not None:
        rule_["BucketKeyEnabled"] = want.bucket_key
    config = json.dumps({"Rules": [rule_]}, separators=(",", ":"))
    return (
        f"aws s3api put-bucket-encryption --bucket {bucket.name} "
        f"--server-side-encryption-configuration '{config}'"
    )


def _key_difference(want: EncryptionSpec, have: Encryption, keys: KmsKeys) -> Difference | None:
    wanted, live = want.kms_key, live_key_ref(have)
    if wanted is None or live is None or wanted == live:
        return None
    wanted_arn, live_arn = keys.arn(wanted), keys.arn(live)
    if wanted_arn is None:
        return Difference(
            "kms_key", wanted, live,
            f"The spec's KMS key {wanted} does not exist in the bucket's account and region; "
            f"the bucket uses {live}",
        )
    if wanted_arn == live_arn:
        return None
    return Difference(
        "kms_key", wanted, live,
        f"Bucket encrypts with KMS key {live} ({live_arn or 'not found in KMS'}); "
        f"the spec requires {wanted} ({wanted_arn})",
    )


@rule(
    id="S3-ENC-001",
    control="encryption",
    title="Default encryption uses the algorithm and KMS key the spec names",
    severity=Severity.HIGH,
    reads=(Facet.ENCRYPTION, Facet.KMS_KEYS),
    remediation="aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration '...'",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",),
    fix=_fix,
)
def encryption(want: EncryptionSpec, bucket: BucketRef, have: Encryption | None, keys: KmsKeys) -> Outcome:
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
        diffs.append(Difference("algorithm", want.algorithm, have.algorithm,
                                f"Default encryption is {have.algorithm}; the spec requires {want.algorithm}"))
    else:
        key_diff = _key_difference(want, have, keys)
        if key_diff is not None:
            diffs.append(key_diff)
    if want.bucket_key is not None and have.bucket_key != want.bucket_key:
        diffs.append(Difference("bucket_key", want.bucket_key, have.bucket_key,
                                f"S3 Bucket Key is {'on' if have.bucket_key else 'off'}; "
                                f"the spec requires it {'on' if want.bucket_key else 'off'}"))
    actual = Encryption(have.algorithm, live_key_ref(have), have.bucket_key)
    return Outcome(actual=actual, differences=tuple(diffs))
