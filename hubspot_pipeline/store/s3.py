"""`S3Destination`: the export in an S3 bucket, reached through dagster-aws's `S3Resource`."""

from __future__ import annotations

import builtins
import datetime as dt
import os
import threading
from collections.abc import Iterable
from typing import Any, BinaryIO, cast

import boto3
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from dagster_aws.s3 import S3Resource

from hubspot_pipeline.store.destination import Destination, ObjectInfo
from hubspot_pipeline.store.errors import DestinationError, StoreError
from hubspot_pipeline.store.keys import check_key

_DELETE_BATCH = 1000  # the most keys one DeleteObjects call accepts
_REFRESH_BEFORE = dt.timedelta(minutes=10)  # re-assume the role this long before the credentials expire
ROLE_SESSION_NAME = "hubspot-pipeline"


class S3ClientProvider:
    """Builds the boto3 S3 client once (S3Resource.get_client builds a new one per call) and caches it.

    With `role_arn`, the client uses temporary credentials from `sts.assume_role` (HubSpot's
    IAM-role-with-external-ID setup) and is rebuilt shortly before they expire. STS is called with
    the resource's own credentials (or the default chain) and honours AWS_ENDPOINT_URL(_STS).
    """

    def __init__(
        self,
        resource: S3Resource,
        *,
        role_arn: str | None = None,
        external_id: str | None = None,
        refresh_before: dt.timedelta = _REFRESH_BEFORE,
    ) -> None:
        self._resource = resource
        self._refresh_before = refresh_before
        self._role_arn = role_arn
        self._external_id = external_id
        self._client: Any = None
        self._expires_at: dt.datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if self._client is None or (
                self._expires_at is not None
                and dt.datetime.now(dt.UTC) >= self._expires_at - self._refresh_before
            ):
                self._client = self._build()
            return self._client

    def _build(self) -> Any:
        if not self._role_arn:
            return self._resource.get_client()
        base = self._resource
        sts = boto3.session.Session(
            profile_name=base.profile_name,
            aws_access_key_id=base.aws_access_key_id,
            aws_secret_access_key=base.aws_secret_access_key,
            aws_session_token=base.aws_session_token,
        ).client("sts", region_name=base.region_name, use_ssl=base.use_ssl, verify=base.verify)
        request: dict[str, Any] = {"RoleArn": self._role_arn, "RoleSessionName": ROLE_SESSION_NAME}
        if self._external_id:
            request["ExternalId"] = self._external_id
        try:
            credentials = sts.assume_role(**request)["Credentials"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise DestinationError(
                f"could not assume AWS_ROLE_ARN={self._role_arn}: {describe_aws_error(exc)}. Check the role's "
                "trust policy allows these credentials and that AWS_EXTERNAL_ID matches it."
            ) from None
        self._expires_at = credentials["Expiration"]
        temporary = S3Resource(
            region_name=base.region_name,
            endpoint_url=base.endpoint_url,
            max_attempts=base.max_attempts,
            use_ssl=base.use_ssl,
            verify=base.verify,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return temporary.get_client()


class S3Destination(Destination):
    def __init__(
        self,
        client: S3ClientProvider,
        bucket: str,
        prefix: str = "",
        *,
        transfer_config: TransferConfig | None = None,
    ) -> None:
        self._client_provider = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._transfer_config = transfer_config or TransferConfig()

    @property
    def client(self) -> Any:
        """The cached boto3 S3 client (fresh credentials when a role is assumed)."""
        return self._client_provider()

    def check_bucket(self) -> None:
        """Fail with a clear message unless the bucket exists and these credentials can reach it."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket"):
                hint = f"bucket {self.bucket!r} does not exist: create it or fix the bucket in HUBSPOT_EXPORT_URL"
            elif code in ("403", "AccessDenied"):
                hint = (
                    f"access to bucket {self.bucket!r} is denied: check the AWS credentials or "
                    "AWS_ROLE_ARN / AWS_EXTERNAL_ID and the bucket policy"
                )
            else:
                hint = f"bucket {self.bucket!r} cannot be used: {describe_aws_error(exc)}"
            raise DestinationError(hint) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise DestinationError(
                f"bucket {self.bucket!r} is not reachable: {describe_aws_error(exc)}. "
                "Check the network, AWS_ENDPOINT_URL and the AWS credentials."
            ) from None

    def put_bytes(self, key: str, data: bytes | bytearray) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        # boto3's managed transfer switches to a multipart upload above the threshold.
        self.client.upload_file(os.fspath(path), self.bucket, self._full(key), Config=self._transfer_config)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return cast(bytes, self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"].read())
        except self.client.exceptions.NoSuchKey:
            return None

    def open_read(self, key: str) -> BinaryIO:
        try:
            return cast(BinaryIO, self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"])
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(self.url_for(key)) from None

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        root = f"{self.prefix}/" if self.prefix else ""
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=root + prefix
        ):
            found.extend(
                ObjectInfo(key=o["Key"][len(root) :], size=o["Size"]) for o in page.get("Contents", ())
            )
        return sorted(found, key=lambda info: info.key)

    def delete(self, keys: Iterable[str]) -> None:
        full = [self._full(k) for k in keys]
        for start in range(0, len(full), _DELETE_BATCH):
            batch = full[start : start + _DELETE_BATCH]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StoreError(
                    f"could not delete {len(errors)} objects in s3://{self.bucket}, e.g. {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message')}"
                )

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except botocore.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def url_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    def _full(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def __repr__(self) -> str:
        return f"S3Destination('s3://{self.bucket}/{self.prefix}')"


def describe_aws_error(exc: Exception) -> str:
    """A one-line description of a boto error that carries no credentials."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message') or exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}"
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role)"
    return f"{type(exc).__name__}: {exc}"
