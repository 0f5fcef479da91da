"""API token keys: only a SHA-256 hash of a key is stored."""

from __future__ import annotations

import hashlib


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
