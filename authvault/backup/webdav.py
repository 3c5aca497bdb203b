"""Backup account kind `webdav`: a collection on any WebDAV server (Nextcloud, Synology, Apache).

Reads and writes use `requests` with HTTP Basic auth. Conditional writes send If-None-Match: *
or If-Match: <etag>, but neither Apache mod_dav nor wsgidav makes them atomic under concurrency
(ten create-only PUTs at once: more than one succeeded in 24 of 30 trials on Apache, 6 of 30 on
wsgidav), and wsgidav even creates an absent file on If-Match. So the rule that
one backup account holds one device's backup rests on `claim`, which is a MKCOL: the server does
a mkdir on its disk, exactly one concurrent creator gets 201 and the others 405. The claim's
record is a small file PUT inside the new collection.
"""
from __future__ import annotations

import email.utils
import logging
import time
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests

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

# The bounds of every request and operation are backup/http.py's.
READ_RETRIES = 3
_PROPFIND_BODY = (b'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
                  b'<d:resourcetype/><d:getlastmodified/><d:getetag/></d:prop></d:propfind>')
_DAV = "{DAV:}"


class WebDavStore(Store):
    """A backup account that is a WebDAV collection."""

    kind = "webdav"

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.base_path = urlsplit(self.url).path
        self.http = http.BoundedSession()
        self.session = self.http.session
        self.session.auth = (username, password) if username else None
        self.session.headers["User-Agent"] = "AuthVault backup"
        self._username = username

    @classmethod
    def from_target(cls, target: dict[str, Any]) -> WebDavStore:
        """`{"kind": "webdav", "url", "username", "password"}`."""
        url = require(target, "url")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (ValueError when out of range)
            (parts.hostname or "").encode("idna")  # UnicodeError when a label is too long
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackupTargetInvalid(
                N_("The WebDAV address must start with https:// (or http://) and name a server."))
        if parts.username or parts.password:
            raise BackupTargetInvalid(
                N_("Put the WebDAV user name and password in their own fields, not in the "
                   "address."))
        reach.check_host(parts.hostname)  # not an address only this server reaches
        if parts.query or parts.fragment:
            raise BackupTargetInvalid(N_("The WebDAV address must not have a ? or # part."))
        username = require(target, "username", optional=True)
        password = target.get("password") or ""
        if not isinstance(password, str):
            raise BackupTargetInvalid(N_("The backup account setting %(field)s is missing."),
                                      field="password")
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            log.warning("WebDAV backup account %s uses plain http: the password travels "
                        "unencrypted", parts.hostname)
        return cls(url, username, password)

    def identity(self) -> str:
        """webdav:<collection URL>."""
        return f"webdav:{self.url}"

    def describe(self) -> str:
        """The collection's URL."""
        return self.url

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    # -- HTTP helpers ------------------------------------------------------------------------

    def _href(self, name: str, collection: bool = False) -> str:
        url = self.url + quote(name, safe="/")
        return url + "/" if collection and not url.endswith("/") else url

    def _request(self, method: str, url: str, *, allow_403: bool = False,
                 retry_broken: bool = False, **kwargs: Any) -> requests.Response:
        with http.as_backup_errors(self.describe(), "webdav", "WebDAV"):
            try:
                resp = self.http.request(method, url, **kwargs)
            except requests.exceptions.ChunkedEncodingError as exc:
                if retry_broken:
                    raise _BrokenBody() from exc
                raise BackupUnreachable(self.describe()) from exc
            except requests.exceptions.InvalidURL as exc:  # e.g. a space in the server's name
                raise BackupTargetInvalid(
                    N_("The WebDAV address must start with https:// (or http://) and name a "
                       "server.")) from exc
        if resp.status_code == 401 or (resp.status_code == 403 and not allow_403):
            raise BackupUnauthorized(self.describe())
        return resp

    def _fail(self, resp: requests.Response, what: str) -> BackupError:
        # The status goes to the log only (issue 12: answers must not tell internal services apart).
        log.warning("WebDAV %s at %s answered HTTP %d", what, self.describe(), resp.status_code)
        if what == "PROPFIND" and resp.status_code not in (500, 502, 503, 504, 507):
            return BackupNotAStore(self.describe(), "webdav")  # no WebDAV server answers so
        return BackupServerError(self.describe(), f"HTTP {resp.status_code} on {what}")

    def _etag_of(self, name: str, resp: requests.Response) -> str:
        etag = resp.headers.get("ETag")
        if etag:
            return etag
        head = self._request("HEAD", self._href(name))
        if head.status_code != 200 or not head.headers.get("ETag"):
            raise self._fail(head, "HEAD")
        return head.headers["ETag"]

    def _mkcol(self, name: str) -> bool:
        """MKCOL `name`: True if this call created it, False if it already existed.

        Under concurrency the losers do not all get 405: Apache answers some of them 403 and
        wsgidav 500 (its mkdir raised), so an unexpected answer is settled by looking: if the
        collection exists, somebody else made it; if not, the failure is real.
        """
        resp = self._request("MKCOL", self._href(name, collection=True), allow_403=True)
        if resp.status_code == 201:
            return True
        if resp.status_code == 405:
            return False
        if resp.status_code == 409:
            raise _ParentMissing(name)
        if resp.status_code == 403 or resp.status_code >= 500:
            if self._propfind(name, "0").status_code == 207:
                return False
            if resp.status_code == 403:
                raise BackupUnauthorized(self.describe())
        raise self._fail(resp, "MKCOL")

    def _mkcol_parents(self, name: str) -> None:
        """Create the collections above `name` that are missing, the store's own first."""
        parts = name.split("/")[:-1]
        try:
            for i in range(len(parts) + 1):
                self._mkcol("/".join(parts[:i]))
        except _ParentMissing as exc:
            raise BackupTargetInvalid(
                N_("There is no WebDAV folder at %(url)s and it could not be created."),
                url=self.url) from exc

    def _propfind(self, name: str, depth: str) -> requests.Response:
        return self._request("PROPFIND", self._href(name, collection=True),
                             headers={"Depth": depth,
                                      "Content-Type": "application/xml; charset=utf-8"},
                             data=_PROPFIND_BODY)

    def _members(self, prefix: str) -> list[tuple[str, bool]]:
        """(name relative to the store, is_collection) of the members directly under prefix."""
        resp = self._propfind(prefix, "1")
        if resp.status_code == 404:
            return []
        if resp.status_code != 207:
            raise self._fail(resp, "PROPFIND")
        try:
            root = ET.fromstring(resp.content)
        except ET.ParseError as exc:
            raise BackupNotAStore(self.describe(), "webdav") from exc
        own = (self.base_path + quote(prefix, safe="/")).rstrip("/")
        out = []
        for response in root.iter(f"{_DAV}response"):
            href = response.findtext(f"{_DAV}href") or ""
            path = unquote(urlsplit(href).path)
            if path.rstrip("/") == unquote(own):
                continue  # the collection itself
            base = unquote(self.base_path)
            if not path.startswith(base):
                continue
            rel = path[len(base):].rstrip("/")
            is_col = response.find(f".//{_DAV}resourcetype/{_DAV}collection") is not None
            out.append((rel, is_col))
        return out

    # -- hooks -------------------------------------------------------------------------------

    def _read(self, name: str) -> tuple[bytes, str] | None:
        # A GET racing another client's PUT can break off mid-body on servers that write in
        # place (wsgidav: the length it announced no longer holds): read again, bounded.
        for attempt in range(READ_RETRIES + 1):
            try:
                resp = self._request("GET", self._href(name), retry_broken=True)
                break
            except _BrokenBody:
                if attempt == READ_RETRIES:
                    raise BackupUnreachable(self.describe()) from None
                time.sleep(0.05 * 2 ** attempt)
        if resp.status_code in (404, 410):
            return None
        if resp.status_code != 200:
            raise self._fail(resp, "GET")
        return resp.content, self._etag_of(name, resp)

    def _write(self, name: str, data: bytes, *, create_only: bool,
               if_match: str | None) -> str:
        headers = {"Content-Type": "application/octet-stream"}
        if create_only:
            headers["If-None-Match"] = "*"
        if if_match is not None:
            headers["If-Match"] = if_match
        for attempt in range(2):
            resp = self._request("PUT", self._href(name), data=data, headers=headers)
            if resp.status_code == 409 and attempt == 0:
                self._mkcol_parents(name)  # a missing parent collection
                continue
            break
        if resp.status_code == 412:
            raise BackupPreconditionFailed(name)
        if resp.status_code not in (200, 201, 204):
            raise self._fail(resp, "PUT")
        if if_match is not None and resp.status_code == 201:
            # wsgidav creates an absent file despite If-Match (RFC 9110 says 412): undo that.
            self._request("DELETE", self._href(name))
            raise BackupPreconditionFailed(name)
        return self._etag_of(name, resp)

    def _list(self, prefix: str) -> list[str]:
        return [n for n, is_col in self._members(prefix) if not is_col]

    def _delete(self, name: str, *, if_match: str | None) -> None:
        headers = {"If-Match": if_match} if if_match is not None else {}
        resp = self._request("DELETE", self._href(name), headers=headers)
        if resp.status_code == 412:
            raise BackupPreconditionFailed(name)
        if resp.status_code == 404 and if_match is not None:
            raise BackupPreconditionFailed(name)
        if resp.status_code not in (200, 204, 404):
            raise self._fail(resp, "DELETE")

    def _claim(self, name: str, record: bytes) -> bool:
        try:
            created = self._mkcol(name)
        except _ParentMissing:
            self._mkcol_parents(name)
            created = self._mkcol(name)
        if not created:
            return False  # it exists: somebody else created it first
        put = self._request("PUT", self._href(f"{name}/{CLAIM_RECORD}"), data=record,
                            headers={"Content-Type": "application/json"})
        if put.status_code not in (200, 201, 204):
            raise self._fail(put, "PUT")
        return True

    def _read_claim(self, name: str) -> ClaimInfo:
        found = self._read(f"{name}/{CLAIM_RECORD}")
        resp = self._propfind(name, "0")
        if resp.status_code == 404:
            return ClaimInfo(False)
        if resp.status_code != 207:
            raise self._fail(resp, "PROPFIND")
        # The age comes from the collection's getlastmodified against the server's own clock
        # (the Date header): it is all there is when the record is missing or torn (its writer
        # stopped between MKCOL and the end of its PUT).
        age = None
        try:
            root = ET.fromstring(resp.content)
            modified = root.findtext(f".//{_DAV}getlastmodified")
            now = resp.headers.get("Date")
            if modified and now:
                age = (email.utils.parsedate_to_datetime(now)
                       - email.utils.parsedate_to_datetime(modified)).total_seconds()
        except (ET.ParseError, TypeError, ValueError):
            age = None
        return ClaimInfo(True, found[0] if found else None, age)

    def _delete_claim(self, name: str) -> None:
        resp = self._request("DELETE", self._href(name, collection=True))
        if resp.status_code not in (200, 204, 404):
            raise self._fail(resp, "DELETE")

    def _list_claims(self, prefix: str) -> list[str]:
        return [n for n, is_col in self._members(prefix) if is_col]

    def _test_connection(self) -> None:
        resp = self._propfind("", "0")
        if resp.status_code == 404:
            made = self._request("MKCOL", self.url)
            if made.status_code != 201:
                raise BackupTargetInvalid(
                    N_("There is no WebDAV folder at %(url)s and it could not be created."),
                    url=self.url)
            log.info("created the WebDAV backup folder %s", self.url)
            return
        if resp.status_code != 207:
            raise self._fail(resp, "PROPFIND")
        try:
            ET.fromstring(resp.content)  # a 207 that is not a multistatus is no WebDAV answer
        except ET.ParseError as exc:
            raise BackupNotAStore(self.describe(), "webdav") from exc


class _BrokenBody(Exception):
    """Internal: the response body broke off before its announced length."""


class _ParentMissing(Exception):
    """Internal: MKCOL answered 409, a parent collection is missing."""


STORE = WebDavStore
