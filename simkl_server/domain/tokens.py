"""Credentials and codes: how they are made, hashed for storage and checked.

Every credential is stored only as its SHA-256 (random 256-bit values need no slow hash), so a
database dump yields nothing usable. AUTH V1 tokens are not random: they are an HMAC of the
server's secret key over (app, user, grant generation), so authorising the same app again
returns the same token, as Simkl does, and revoking (a new generation) kills it for good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

V1_SCOPE = "public"
READ_SCOPE = "media:read"
WRITE_SCOPE = "media:read media:write"
ACCESS_PREFIX = "simkl_at_"
REFRESH_PREFIX = "simkl_rt_"
_BASE62 = string.ascii_letters + string.digits
_TOKEN_BODY = 34  # prefix + 34 characters: Simkl's 43-character tokens
# PIN codes avoid the look-alikes 0/O and 1/I (spec §7); device codes read them as 0 and 1.
PIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PIN_LENGTH = 5
DEVICE_ALPHABET = "BCDFGHJKMNPQRSTVWXZ0123456789"
DEVICE_LENGTH = 8
_DEVICE_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CODE_SEPARATORS = re.compile(r"[\s\-_.]+")
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def token_hash(token: str) -> str:
    """What the database keeps of a credential: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def random_token(prefix: str = "") -> str:
    """A fresh random credential: 34 base62 characters (about 202 bits) after `prefix`."""
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(_TOKEN_BODY))


def random_code() -> str:
    """An authorization code or a device code: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_user_code(*, device: bool) -> str:
    """A PIN (5 characters) or a device user code (8, shown as `XXXX-YYYY`)."""
    if not device:
        return "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_LENGTH))
    code = "".join(secrets.choice(DEVICE_ALPHABET) for _ in range(DEVICE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(typed: str) -> str:
    """A code as typed, in its stored form: case, spaces and hyphens ignored; in an 8-character
    device code I and L read as 1 and O as 0 (5-character PINs contain none of them)."""
    code = _CODE_SEPARATORS.sub("", typed.strip()).upper()[:32]
    if len(code) == DEVICE_LENGTH:
        code = code.translate(_DEVICE_LOOKALIKES)
        return f"{code[:4]}-{code[4:]}"
    return code


def pkce_matches(verifier: str, *, challenge: str, method: str) -> bool:
    """RFC 7636: the verifier is well formed and hashes (S256) or equals (plain) the challenge.
    Any other method never matches: Simkl ignores a lowercase `s256` and the exchange fails."""
    if not _VERIFIER.fullmatch(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return hmac.compare_digest(derived, challenge)
    if method == "plain":
        return hmac.compare_digest(verifier, challenge)
    return False


def secret_matches(presented: str, stored_hash: str | None) -> bool:
    """A client secret against the hash kept for it, in constant time."""
    return stored_hash is not None and hmac.compare_digest(token_hash(presented), stored_hash)


def grants_write(scope: str | None) -> bool:
    """Whether a stored scope allows writes (AUTH V1 tokens can do everything)."""
    return scope is None or scope in (V1_SCOPE, WRITE_SCOPE)


def requested_scope(text: str | None) -> str:
    """The AUTH V2 scope a request gets: write only when the exact lowercase `media:write`
    appears among its words (Simkl: anything else, a typo included, is read-only)."""
    words = re.split(r"[^a-z:]+", text or "")
    return WRITE_SCOPE if "media:write" in words else READ_SCOPE


@dataclass(frozen=True, slots=True)
class Keys:
    """Derivations from the server's secret key."""

    secret: bytes

    def v1_token(self, *, app_id: int, user_id: int, generation: int) -> str:
        """The AUTH V1 access token of an (app, user) grant: 64 hex characters, like Simkl's."""
        message = f"v1-token|{app_id}|{user_id}|{generation}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def csrf_token(self, binding: str) -> str:
        """The form token tied to a browser (its session, or its anonymous nonce)."""
        return hmac.new(self.secret, f"csrf|{binding}".encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, token: str, binding: str) -> bool:
        """Whether a submitted form token belongs to that browser."""
        return hmac.compare_digest(self.csrf_token(binding), token)
