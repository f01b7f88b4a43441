"""Personal data at rest: AES-GCM encryption and a keyed hash, both from EMERGENCY_DATA_KEY."""

import base64
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

VERSION = "g1"


def _derive(master, purpose):
    """A 32-byte key for one purpose, so encryption and hashing never share a key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"emergency-registry",
                info=purpose.encode()).derive(master)


class Cipher:
    """Encrypts, decrypts and hashes personal data with keys derived from the data key."""

    def __init__(self, data_key):
        """Build from the urlsafe-base64 32-byte key of the app config."""
        if not data_key:
            raise ValueError("EMERGENCY_DATA_KEY is not set")
        master = base64.urlsafe_b64decode(data_key)
        if len(master) != 32:
            raise ValueError("EMERGENCY_DATA_KEY must be 32 bytes, urlsafe base64")
        self._aead = AESGCM(_derive(master, "personal-data-encryption"))
        self._hash_key = _derive(master, "personal-data-lookup")

    def encrypt(self, text):
        """Ciphertext as ASCII text: version, 96-bit nonce and the sealed value."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), VERSION.encode())
        return VERSION + ":" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token):
        """The clear text of a value sealed by ``encrypt``."""
        version, _, body = token.partition(":")
        raw = base64.urlsafe_b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], version.encode()).decode()

    def lookup_hash(self, text):
        """A keyed HMAC-SHA256 hex digest, to find the same value without decrypting."""
        return hmac.digest(self._hash_key, text.encode(), "sha256").hex()


_CACHE = {}


def cipher_for(data_key):
    """A cached Cipher for this key (key derivation is done once per key)."""
    if data_key not in _CACHE:
        _CACHE[data_key] = Cipher(data_key)
    return _CACHE[data_key]


def app_cipher():
    """The personal-data cipher of the running app's EMERGENCY_DATA_KEY."""
    return cipher_for(current_app.config["EMERGENCY_DATA_KEY"])
