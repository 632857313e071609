"""The rules: importing this package registers every rule module, listed explicitly."""

from auditor.rules import (  # noqa: F401  (imported for their @rule registrations)
    bucket,
    cors,
    encryption,
    lifecycle,
    public_access,
    transport,
    versioning,
    website,
)
from auditor.rules.registry import RULES, BucketRef, Rule, by_control

__all__ = ["RULES", "BucketRef", "Rule", "by_control"]
