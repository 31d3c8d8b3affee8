"""The emulator's storage host: the short-lived signed URLs GitHub's download redirects point
to (artifacts on blob storage, tarballs on codeload). The signature is the only credential;
like Azure blob storage, a request that also carries an Authorization header is refused, so
a client forwarding GitHub's token there fails here as it would on GitHub."""

from __future__ import annotations

import hmac
import time

from app.github_emulator.emulator import Call, Emulator
from app.github_emulator.responses import GitHubError


def signed_url(emulator: Emulator, url: str, subject: str, expires: int) -> str:
    """`url` with the query that lets it serve `subject` until `expires` (epoch seconds)."""
    return f"{url}?expires={expires}&sig={emulator.sign(subject, expires)}"


def expiry(ttl_seconds: float) -> int:
    return int(time.time() + ttl_seconds)


def check_signed(call: Call, subject: str) -> None:
    """400 for a request with credentials, 403 for a bad or expired signature."""
    if "authorization" in call.request.headers:
        raise GitHubError(
            400,
            "Authorization header is not allowed on a signed storage URL; "
            "do not forward GitHub credentials to the storage host.",
        )
    query = call.request.query_params
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        expires = 0
    expected = call.emulator.sign(subject, expires)
    if not hmac.compare_digest(query.get("sig", ""), expected):
        raise GitHubError(403, "Server failed to authenticate the request: bad signature.")
    if expires < time.time():
        raise GitHubError(403, "Server failed to authenticate the request: URL expired.")
