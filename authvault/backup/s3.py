"""Backup account kind `s3`: a prefix in a bucket of any S3-compatible store (AWS, MinIO, Garage).

Uses boto3, an optional extra (requirements-s3.txt): it is imported when an s3 store is built,
so AuthVault runs without it. S3 conditional writes (If-None-Match: *, If-Match: <etag>) were
atomic in every trial (ten concurrent writers, twenty trials: exactly one winner each time, for
both), so a claim is a create-only PUT of its record.
"""
from __future__ import annotations

import io
import logging
import re
import threading
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from ..errors import N_
from . import http, reach
from .base import CLAIM_RECORD, ClaimInfo, Store, require
from .errors import (
    BackupError,
    BackupNotAStore,
    BackupPreconditionFailed,
    BackupServerError,
    BackupTargetInvalid,
    BackupUnauthorized,
    BackupUnreachable,
)

log = logging.getLogger(__name__)

_UNAUTHORIZED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                 "InvalidToken", "ExpiredToken", "AllAccessDisabled", "Forbidden", "401", "403"}
_PRECONDITION = {"PreconditionFailed", "ConditionalRequestConflict", "412"}
_MISSING = {"NoSuchKey", "404", "NotFound"}
_BUCKET = re.compile(r"^[A-Za-z0-9._-]+$")
_REGION = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")  # botocore's rule
# The bounds of every request and operation are backup/http.py's. botocore reads whole answers
# itself (an object, a listing, an error page), so its requests go through http.BoundedSession
# here (botocore's `before-send` event), streamed and cut at the bound.
# One boto3 session per process: building one loads the service models (tens of ms).
_SESSION: Any = None
_SESSION_LOCK = threading.Lock()


class S3Store(Store):
    """A backup account that is a key prefix in an S3 bucket."""

    kind = "s3"

    def __init__(self, endpoint_url: str, bucket: str, prefix: str, access_key_id: str,
                 secret_access_key: str, region: str) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise BackupTargetInvalid(
                N_("S3 backup accounts need the boto3 package: pip install -r "
                   "requirements-s3.txt.")) from exc
        self.endpoint_url = endpoint_url or None
        self.bucket = bucket
        self.prefix = prefix
        with _SESSION_LOCK:  # a boto3 Session is not thread-safe; its clients are
            global _SESSION
            if _SESSION is None:
                _SESSION = boto3.session.Session()
            try:
                self.client = _SESSION.client(
                    "s3", endpoint_url=self.endpoint_url, region_name=region or "us-east-1",
                    aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
                    config=Config(s3={"addressing_style": "path"}, connect_timeout=http.CONNECT_SECONDS,
                                  read_timeout=http.READ_SECONDS,
                                  retries={"max_attempts": 1, "mode": "standard"}))
            except ValueError as exc:  # botocore refuses the endpoint ("Invalid endpoint")
                raise BackupTargetInvalid(N_("The S3 endpoint must be an address such as "
                                             "https://s3.example.com.")) from exc
        self._http = http.BoundedSession()
        self.client.meta.events.register("before-send.s3", self._send)

    @classmethod
    def from_target(cls, target: dict[str, Any]) -> S3Store:
        """`{"kind": "s3", "endpoint_url", "bucket", "prefix", "access_key_id",
        "secret_access_key", "region"}` (endpoint_url empty means AWS)."""
        endpoint = require(target, "endpoint_url", optional=True)
        if endpoint and not endpoint.startswith(("https://", "http://")):
            raise BackupTargetInvalid(N_("The S3 endpoint must start with https://."))
        if endpoint:
            try:
                parts = urlsplit(endpoint)
                parts.port  # noqa: B018  (ValueError when not a port number)
            except ValueError:
                parts = urlsplit("")
            if not parts.hostname:
                raise BackupTargetInvalid(N_("The S3 endpoint must be an address such as "
                                             "https://s3.example.com."))
            if parts.username or parts.password:
                raise BackupTargetInvalid(N_("Put the S3 keys in their own fields, not in the "
                                             "endpoint address."))
            reach.check_host(parts.hostname)  # not an address only this server reaches
        bucket = require(target, "bucket")
        if not 3 <= len(bucket) <= 63:
            raise BackupTargetInvalid(N_("An S3 bucket name has 3 to 63 characters."))
        if not _BUCKET.match(bucket):
            raise BackupTargetInvalid(N_("An S3 bucket name has only letters, digits, dots, "
                                         "hyphens and underscores."))
        region = require(target, "region", optional=True)
        if region and not _REGION.match(region):
            raise BackupTargetInvalid(N_("%(region)s is not an S3 region name."), region=region)
        prefix = require(target, "prefix", optional=True).strip("/")
        return cls(endpoint, bucket, prefix, require(target, "access_key_id"),
                   require(target, "secret_access_key"), region)

    def identity(self) -> str:
        """s3:<endpoint>/<bucket>/<prefix>."""
        return f"s3:{self.endpoint_url or 'aws'}/{self.bucket}/{self.prefix}"

    def describe(self) -> str:
        """s3://bucket/prefix (at the endpoint)."""
        where = f"s3://{self.bucket}/{self.prefix}"
        return f"{where} ({self.endpoint_url})" if self.endpoint_url else where

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()
        self._http.close()

    def _send(self, request: Any, **_kwargs: Any) -> Any:
        """Send one botocore request through the bounded session (time and answer size)."""
        from botocore.awsrequest import AWSResponse
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "expect"}
        with http.as_backup_errors(self.describe(), "s3", "S3"):
            resp = self._http.request(request.method, request.url, headers=headers, data=body,
                                      decode=False)
        return AWSResponse(request.url, resp.status_code, resp.headers, _Raw(resp.content))

    # -- helpers -----------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _name(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key

    def _call(self, method: str, name: str, **kwargs: Any) -> Any:
        """Call the client, mapping botocore failures onto the backup family."""
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, NoCredentialsError
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            raise self._client_error(exc, name) from exc
        except NoCredentialsError as exc:
            raise BackupUnauthorized(self.describe()) from exc
        except ConnectionError as exc:  # includes connect/read timeouts and refused connections
            raise BackupUnreachable(self.describe()) from exc
        except BotoCoreError as exc:
            raise BackupServerError(self.describe(), type(exc).__name__) from exc

    def _client_error(self, exc: Any, name: str) -> BackupError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in _PRECONDITION or status == "412":
            return BackupPreconditionFailed(name)
        if code in _MISSING or status == "404" and code != "NoSuchBucket":
            return _Missing(name)
        if code in _UNAUTHORIZED or status in ("401", "403"):
            return BackupUnauthorized(self.describe())
        if code == "NoSuchBucket":
            return BackupTargetInvalid(N_("There is no bucket %(bucket)s at this S3 endpoint."),
                                       bucket=self.bucket)
        # The code goes to the log only: an S3 error's <Code> from an internal service is not
        # shown (issue 12). An answer without any S3 error code is not an S3 service at all.
        log.warning("S3 at %s answered %s (HTTP %s)", self.describe(), code[:60], status)
        if not code or code == status:
            return BackupNotAStore(self.describe(), "s3")
        return BackupServerError(self.describe(), code or f"HTTP {status}")

    # -- hooks -------------------------------------------------------------------------------

    def _read(self, name: str) -> tuple[bytes, str] | None:
        try:
            resp = self._call("get_object", name, Key=self._key(name))
        except _Missing:
            return None
        return resp["Body"].read(), self._etag(resp, name)

    def _etag(self, resp: dict[str, Any], name: str) -> str:
        """The ETag of an answer, or of a HEAD of `name`. Conditional writes need it: an S3
        service that gives none cannot hold a backup safely (it gave a 500 before)."""
        etag = resp.get("ETag")
        if not etag:
            try:
                etag = self._call("head_object", name, Key=self._key(name)).get("ETag")
            except _Missing:
                etag = None
        if not isinstance(etag, str) or not etag:
            log.warning("S3 at %s gives no ETag", self.describe())
            raise BackupNotAStore(self.describe(), "s3")
        return etag

    def _write(self, name: str, data: bytes, *, create_only: bool,
               if_match: str | None) -> str:
        kwargs: dict[str, Any] = {"Key": self._key(name), "Body": data}
        if create_only:
            kwargs["IfNoneMatch"] = "*"
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        try:
            resp = self._call("put_object", name, **kwargs)
        except _Missing as exc:  # If-Match on an absent key answers NoSuchKey
            raise BackupPreconditionFailed(name) from exc
        return self._etag(resp, name)

    def _list(self, prefix: str) -> list[str]:
        key_prefix = self._key(prefix) + "/" if prefix else (f"{self.prefix}/" if self.prefix
                                                            else "")
        names: list[str] = []
        token: str | None = None
        for _ in range(1000):  # bounded: 1000 pages of 1000 keys
            kwargs: dict[str, Any] = {"Prefix": key_prefix, "Delimiter": "/"}
            if token:
                kwargs["ContinuationToken"] = token
            resp = self._call("list_objects_v2", prefix, **kwargs)
            names.extend(self._name(o["Key"]) for o in resp.get("Contents", []))
            if not resp.get("IsTruncated"):
                break
            token = resp.get("NextContinuationToken")
        return names

    def _delete(self, name: str, *, if_match: str | None) -> None:
        kwargs: dict[str, Any] = {"Key": self._key(name)}
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        try:
            self._call("delete_object", name, **kwargs)
        except _Missing as exc:
            if if_match is not None:
                raise BackupPreconditionFailed(name) from exc

    def _claim(self, name: str, record: bytes) -> bool:
        try:
            self._write(f"{name}/{CLAIM_RECORD}", record, create_only=True, if_match=None)
        except BackupPreconditionFailed:
            return False
        return True

    def _read_claim(self, name: str) -> ClaimInfo:
        try:
            resp = self._call("get_object", name, Key=self._key(f"{name}/{CLAIM_RECORD}"))
        except _Missing:
            return ClaimInfo(False)
        age = None
        try:
            headers = resp["ResponseMetadata"]["HTTPHeaders"]
            now = parsedate_to_datetime(headers["date"]) if "date" in headers else \
                datetime.now(timezone.utc)
            age = (now - resp["LastModified"]).total_seconds()
        except (KeyError, TypeError, ValueError):
            age = None
        return ClaimInfo(True, resp["Body"].read(), age)

    def _delete_claim(self, name: str) -> None:
        for key in self._list(name):  # the record and anything kept with it
            self._delete(key, if_match=None)
        self._delete(f"{name}/{CLAIM_RECORD}", if_match=None)

    def _list_claims(self, prefix: str) -> list[str]:
        key_prefix = self._key(prefix) + "/"
        resp = self._call("list_objects_v2", prefix, Prefix=key_prefix, Delimiter="/")
        return [self._name(p["Prefix"].rstrip("/")) for p in resp.get("CommonPrefixes", [])]

    def _test_connection(self) -> None:
        self._call("head_bucket", "")


class _Raw(io.BytesIO):
    """An answer already read (bounded), as botocore's response streams expect it."""

    def stream(self, amt: int = 64 * 1024, decode_content: bool | None = None) -> Any:
        while chunk := self.read(amt):
            yield chunk


class _Missing(BackupError):
    """Internal: the key does not exist (turned into None or a failed precondition)."""

    def __init__(self, name: str) -> None:
        super().__init__("backup_missing", N_("%(name)s does not exist."), name=name)


STORE = S3Store
