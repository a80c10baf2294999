"""A post's link reduced to what names the post, so two listening tools reporting one post are seen as one.

Tools copy the same link differently: ``HTTPS://X.com/zed/status/1/``, ``https://x.com/zed/status/1?utm_source=…``.
The key keeps what tells posts apart (host, path, the query that is not tracking) and drops what does not: the
scheme (http or https), the case of the host, a default port, a trailing slash, the fragment and tracking
parameters. It goes no further: two hosts (``twitter.com`` and ``x.com``) stay two, as calmly cannot know which
sites serve the same posts; the channel and external id catch those.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["url_key"]

#: Query parameters that say how someone came to a link, not which post it is.
_TRACKING = frozenset({"fbclid", "gclid", "dclid", "msclkid", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "yclid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING


def url_key(url: str | None) -> str | None:
    """The normalised link (``x.com/zed/status/1``), or None when there is none or it is not a web address."""
    if url is None:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a malformed host or port: not a link calmly can compare
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(name)]
    key = host + path
    return f"{key}?{urlencode(query)}" if query else key
