"""Store URLs as configuration: redacted for people, checked before use.

A URL may carry a password, so nothing here ever puts the URL as written into a message: every
message shows `redact_url(url)`, which works on any string, also one that no URL parser accepts
(a bad port, an unclosed `[`, a missing `//`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# scheme (optional, with or without //), userinfo up to the LAST @ (a password may hold an
# unencoded @), the rest. Redacting too much (an @ in a path) is safe; too little is not.
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:(?://)?)?(?P<userinfo>.*)@(?P<rest>[^@]*)$", re.DOTALL)
_PASSWORD_PARAMETER = re.compile(r"(?i)([?&;]password=)[^&;#]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, fit for logs and error messages."""
    redacted = _PASSWORD_PARAMETER.sub(r"\1***", str(url))
    match = _USERINFO.match(redacted)
    if match and ":" in match["userinfo"]:
        user = match["userinfo"].split(":", 1)[0]
        redacted = f"{match['scheme'] or ''}{user}:***@{match['rest']}"
    return redacted


def authority_problem(authority: str) -> str | None:
    """What is wrong with the `user:password@host:port` part of a URL (all after `//` up to the
    path), or None. The message never quotes any of it: the redacted URL goes beside it."""
    userinfo, _, hostport = authority.rpartition("@")
    hostport = re.split(r"[/?#]", hostport, maxsplit=1)[0]
    if _BAD_PERCENT.search(userinfo):
        return "the user or password holds a % not followed by two hex digits: percent-encode it (write % as %25)"
    if hostport.startswith("["):
        host, bracket, after = hostport[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            return "the IPv6 host is not written as [address] or [address]:port"
        port = after[1:]
    else:
        host, _, port = hostport.partition(":")
    if not host:
        return "no host"
    if port and not port.isdigit():
        return "the port is not a number"
    if port and not 0 < int(port) <= 65535:
        return "the port is outside 1-65535"
    return None


def userinfo_value(value: str | None) -> str | None:
    """A user name or password as the URL encodes it, decoded (%40 is @)."""
    return None if value is None else unquote(value)
