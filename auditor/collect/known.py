"""What botocore knows without calling AWS: the configured profiles and the regions.

Used to refuse a bad invocation before anything is read: an unknown profile (naming the
ones that exist), a region no partition has. The region list is botocore's own partition
data (partitions.json), so it grows with botocore, not with a list kept here.
"""

from __future__ import annotations

import functools
import re

import botocore.session

_REGION_NAME = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+-\d+$")  # leaves out pseudo-regions: aws-global


def profiles() -> list[str]:
    """The profiles of the AWS config and credentials files (AWS_CONFIG_FILE ... honoured)."""
    try:
        return sorted(botocore.session.Session().available_profiles)
    except Exception:  # an unparseable config file: the session reports it when it is used
        return []


@functools.cache
def regions() -> tuple[str, ...]:
    """Every region of every partition botocore knows (aws, aws-cn, aws-us-gov, ...)."""
    loader = botocore.session.get_session().get_component("data_loader")
    data = loader.load_data("partitions")
    names = {name for p in data.get("partitions", []) for name in p.get("regions", {})}
    return tuple(sorted(n for n in names if _REGION_NAME.match(n)))
