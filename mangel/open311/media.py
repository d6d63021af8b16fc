"""The ``media_url`` of an Open311 report: fetched by a job, never from a private address.

The host name is resolved once and every address it resolves to must be public (no
loopback, private, link-local, reserved or multicast network); the connection then goes
to that checked address, so a second DNS answer cannot point it elsewhere.  Redirects are
not followed.  The download stops at the photo size limit and at a deadline, and what
arrives goes through the same photo pipeline as an upload.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import logging
import socket
import time
from urllib.parse import urlsplit

from flask import current_app

from lotse.extensions import db
from mangel import services
from mangel.models import Report
from mangel.photos import PhotoError, process_photo

log = logging.getLogger(__name__)

FETCH_SECONDS = 10
CHUNK = 64 * 1024


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052, RFC 8215).
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class MediaRefused(ValueError):
    """A media_url we do not fetch or cannot use; the message says why."""


def globally_routable(text: str) -> bool:
    """Whether an address is globally routable unicast, judged by the IPv4 address inside
    the IPv6 forms that carry one (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo)."""
    address = ipaddress.ip_address(text.split("%")[0])
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and (int(address) >> 32 == 0 or any(address in n for n in NAT64)):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


def public_address(host: str, port: int) -> str:
    """The first address of ``host``, provided every address it resolves to is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, http.client.HTTPException) as exc:
        raise MediaRefused(f"cannot resolve {host}") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if not globally_routable(address):
            raise MediaRefused(f"{host} resolves to a non-public address")
    if not addresses:
        raise MediaRefused(f"cannot resolve {host}")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address, with the URL's host name in the Host header."""

    def __init__(self, host: str, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is still checked for the host name."""

    def __init__(self, host: str, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def download(url: str, max_bytes: int, seconds: float = FETCH_SECONDS) -> bytes:
    """The body of ``url``, at most ``max_bytes``, within ``seconds``; else MediaRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MediaRefused("only http and https URLs")
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = public_address(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, address, port=port, timeout=seconds)
    deadline = time.monotonic() + seconds
    try:
        path = parts.path or "/"
        connection.request("GET", f"{path}?{parts.query}" if parts.query else path)
        response = connection.getresponse()
        if response.status != 200:
            raise MediaRefused(f"HTTP status {response.status}")
        body = bytearray()
        while chunk := response.read1(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise MediaRefused("larger than the photo limit")
            if time.monotonic() > deadline:
                raise MediaRefused("took too long")
        return bytes(body)
    except (OSError, http.client.HTTPException) as exc:
        raise MediaRefused(f"download failed: {type(exc).__name__}") from exc
    finally:
        connection.close()


def fetch_media(report_id: int, url: str) -> None:
    """Job: fetch a report's media_url and store it as its photo.

    Enqueued only for reports posted without a photo, so a report that has one is done:
    running the job twice stores nothing twice.
    """
    report = db.session.get(Report, report_id)
    config = current_app.config
    if report is None or report.photos:
        return
    try:
        data = download(url, config["MANGEL_PHOTO_MAX_BYTES"])
        processed = process_photo(
            io.BytesIO(data),
            max_bytes=config["MANGEL_PHOTO_MAX_BYTES"],
            max_pixels=config["MANGEL_PHOTO_MAX_PIXELS"],
        )
    except (MediaRefused, PhotoError) as exc:
        log.warning("media_url of report %d not used: %s", report_id, exc)
        return
    written = services.add_photos(report, [processed])
    services.commit_with_photos(written)
