"""`open_destination`: the one entry point from `HUBSPOT_EXPORT_URL` to a checked `Destination`."""

from __future__ import annotations

import os
import re
import urllib.parse
import urllib.request
from pathlib import Path

from dagster_aws.s3 import S3Resource

from hubspot_pipeline.store.destination import Destination
from hubspot_pipeline.store.errors import DestinationError
from hubspot_pipeline.store.local import LocalDestination
from hubspot_pipeline.store.s3 import S3ClientProvider, S3Destination

# S3 bucket naming rules (general purpose buckets): 3-63 chars, lower case, digits, '.', '-'.
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_HOW = "set HUBSPOT_EXPORT_URL to s3://bucket/prefix or a local folder path"


def open_destination(
    url: str, *, s3: S3Resource | None = None, role_arn: str | None = None, external_id: str | None = None
) -> Destination:
    """The destination named by `url`, checked usable before anything is written.

    `s3://bucket/some/prefix` goes through `s3` (default: an `S3Resource` on AWS_ENDPOINT_URL when set),
    assuming `role_arn` with `external_id` (default: AWS_ROLE_ARN, AWS_EXTERNAL_ID) when set. A local path (relative, absolute or
    `file://`) is created if missing. Raises DestinationError saying what to fix.
    """
    text = url.strip()
    if not text:
        raise DestinationError(f"the export URL is empty: {_HOW}")
    scheme = _SCHEME_RE.match(text)
    if scheme is None:
        return _open_local(Path(text).expanduser())
    name = scheme.group(1).lower()
    if name == "file":
        parsed = urllib.parse.urlsplit(text)
        if parsed.netloc not in ("", "localhost"):
            raise DestinationError(f"file URL {text!r} names a host; use file:///absolute/path ({_HOW})")
        return _open_local(Path(urllib.request.url2pathname(parsed.path)))
    if name == "s3":
        return _open_s3(text, s3, role_arn, external_id)
    raise DestinationError(f"unsupported export URL scheme {name!r} in {text!r}: {_HOW}")


def _open_local(path: Path) -> LocalDestination:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DestinationError(f"cannot create the export folder {str(path)!r}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DestinationError(
            f"the export folder {str(path)!r} is not writable: fix its permissions or {_HOW}"
        )
    return LocalDestination(path)


def _open_s3(
    text: str, s3: S3Resource | None, role_arn: str | None, external_id: str | None
) -> S3Destination:
    parsed = urllib.parse.urlsplit(text)
    bucket = parsed.netloc
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise DestinationError(
            f"{text!r} does not name a valid S3 bucket (3-63 lower-case letters, digits, '.', '-'): {_HOW}"
        )
    if parsed.query or parsed.fragment:
        raise DestinationError(f"{text!r} has a query or fragment; an S3 export URL is s3://bucket/prefix")
    resource = s3 if s3 is not None else S3Resource(endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    provider = S3ClientProvider(
        resource,
        role_arn=(os.environ.get("AWS_ROLE_ARN") if role_arn is None else role_arn) or None,
        external_id=(os.environ.get("AWS_EXTERNAL_ID") if external_id is None else external_id) or None,
    )
    dest = S3Destination(provider, bucket, parsed.path.strip("/"))
    dest.check_bucket()
    return dest
