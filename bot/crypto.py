"""Field encryption at rest: a stolen copy of a database reveals no student's words.

Keys come from DATA_ENCRYPTION_KEYS (comma-separated Fernet keys; the first one
encrypts, all of them decrypt, so a key can be rotated: put the new key first, run
`python -m bot keys rotate`, then drop the old key). In development, when the
variable is empty, a key is generated once into var/data-encryption.key (mode
0600); production refuses to start without the variable (bot/config.py).

Two column types, both stored as ASCII text:

* `EncryptedText`: Fernet (AES-128-CBC + HMAC-SHA256, random IV), stored as
  ``enc1:<token>``. Equal texts give different ciphertexts, so the column cannot
  be compared or grouped in SQL; the type refuses such comparisons (only IS NULL).
* `DeterministicEncryptedText`: AES-SIV (RFC 5297, key derived from the same
  Fernet key with HKDF), stored as ``det1:<base64>``. Equal texts give equal
  ciphertexts under one key, so `==`, unique constraints and GROUP BY keep
  working; it reveals which rows hold the same text, nothing more. `column ==
  value` matches the value under every configured key, so lookups keep working
  during a key rotation.

A stored value without one of these prefixes is legacy plaintext (written before
migration 0003): it is returned as it is and encrypted by `keys rotate`.
A value no configured key can decrypt raises `DecryptionError`, never an empty
value. Nothing happens at import time.
"""
from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import stat
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text, bindparam
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator

from bot import config

logger = logging.getLogger(__name__)

RANDOM_PREFIX = "enc1:"
DETERMINISTIC_PREFIX = "det1:"
DEV_KEY_FILE_NAME = "data-encryption.key"
_SIV_INFO = b"stagecoach deterministic field encryption v1"

# A key state, as reported by `Keyring.state` (keys check / rotate).
PRIMARY, OLDER_KEY, PLAINTEXT, UNREADABLE = "primary", "older_key", "plaintext", "unreadable"


class DecryptionError(SQLAlchemyError):
    """A stored value cannot be decrypted with any configured key (wrong or missing key).

    A subclass of SQLAlchemyError on purpose: every place that already turns an
    unusable database into a friendly Dutch message (the actions, the portal's chat
    history, the tracker-store commands) does the same here, and the log says why.
    """

    MESSAGE = (
        "Versleutelde gegevens kunnen niet worden gelezen: geen van de sleutels in "
        "DATA_ENCRYPTION_KEYS past. Zet de sleutel terug waarmee deze gegevens zijn "
        "versleuteld (zie `python -m bot keys check`). / Encrypted data cannot be read: none of "
        "the keys in DATA_ENCRYPTION_KEYS fits. Restore the key the data was encrypted with."
    )

    def __init__(self, detail: str = "") -> None:
        super().__init__(self.MESSAGE + (f" ({detail})" if detail else ""))


def generate_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def _siv_key(fernet_key: str) -> AESSIV:
    raw = base64.urlsafe_b64decode(fernet_key.encode("ascii"))
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_SIV_INFO).derive(raw)
    return AESSIV(derived)


class Keyring:
    """The configured keys: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise config.ConfigurationError("no data encryption key configured (DATA_ENCRYPTION_KEYS)")
        self._fernets = [Fernet(key.encode("ascii")) for key in keys]
        self._multi = MultiFernet(self._fernets)
        self._sivs = [_siv_key(key) for key in keys]

    def __len__(self) -> int:
        return len(self._fernets)

    # --- encrypt -------------------------------------------------------------------

    def encrypt(self, text: str) -> str:
        return RANDOM_PREFIX + self._multi.encrypt(text.encode("utf-8")).decode("ascii")

    def encrypt_deterministic(self, text: str, key_index: int = 0) -> str:
        sealed = self._sivs[key_index].encrypt(text.encode("utf-8"), None)
        return DETERMINISTIC_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def deterministic_candidates(self, text: str) -> List[str]:
        """The stored form of `text` under every key, primary first."""
        return list(dict.fromkeys(self.encrypt_deterministic(text, i) for i in range(len(self._sivs))))

    # --- decrypt -------------------------------------------------------------------

    def _open_random(self, token: str, fernets) -> str:
        body = token[len(RANDOM_PREFIX):].encode("ascii", "replace")
        for fernet in fernets:
            try:
                return fernet.decrypt(body).decode("utf-8")
            except InvalidToken:
                continue
        raise DecryptionError("Fernet")

    def _open_deterministic(self, token: str, sivs) -> str:
        try:
            sealed = base64.urlsafe_b64decode(token[len(DETERMINISTIC_PREFIX):].encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise DecryptionError("AES-SIV, damaged value")
        for siv in sivs:
            try:
                return siv.decrypt(sealed, None).decode("utf-8")
            except (InvalidTag, ValueError):
                continue
        raise DecryptionError("AES-SIV")

    def decrypt(self, value: Optional[str]) -> Optional[str]:
        """The plaintext of a stored value (legacy plaintext is returned as it is)."""
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = bytes(value).decode("utf-8")
        if value.startswith(RANDOM_PREFIX):
            return self._open_random(value, self._fernets)
        if value.startswith(DETERMINISTIC_PREFIX):
            return self._open_deterministic(value, self._sivs)
        return value

    def state(self, value: str) -> str:
        """PRIMARY, OLDER_KEY, PLAINTEXT or UNREADABLE for a stored value."""
        if not is_encrypted(value):
            return PLAINTEXT
        opener = self._open_random if value.startswith(RANDOM_PREFIX) else self._open_deterministic
        keys = self._fernets if value.startswith(RANDOM_PREFIX) else self._sivs
        try:
            opener(value, keys[:1])
            return PRIMARY
        except DecryptionError:
            pass
        try:
            opener(value, keys[1:])
            return OLDER_KEY
        except DecryptionError:
            return UNREADABLE

    def reencrypt(self, value: str, deterministic: bool) -> str:
        """`value` (ciphertext under any key, or plaintext) under the primary key."""
        plain = self.decrypt(value)
        return self.encrypt_deterministic(plain) if deterministic else self.encrypt(plain)


def is_encrypted(value: Optional[str]) -> bool:
    return isinstance(value, str) and value.startswith((RANDOM_PREFIX, DETERMINISTIC_PREFIX))


# --- keys from the configuration -----------------------------------------------------


def dev_key_file() -> Path:
    return config.VAR_DIR / DEV_KEY_FILE_NAME


def _write_new_key_file(path: Path) -> None:
    """Atomically create `path` (mode 0600) with a new key unless it exists: several
    processes of `make run` may start at the same moment; exactly one key wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails when another process was first
            logger.warning("generated a development data encryption key in %s", path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


@functools.lru_cache(maxsize=4)
def _dev_key(path_text: str) -> str:
    path = Path(path_text)
    if not path.exists():
        _write_new_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
    key = path.read_text(encoding="ascii").strip()
    try:
        Fernet(key.encode("ascii"))
    except (ValueError, binascii.Error):
        raise config.ConfigurationError(f"{path} does not hold a valid data encryption key")
    return key


def configured_keys() -> Tuple[str, ...]:
    settings = config.get_settings()
    if settings.data_encryption_keys:
        return settings.data_encryption_keys
    if settings.is_production:  # bot.config refuses this already; never fall back silently
        raise config.ConfigurationError("DATA_ENCRYPTION_KEYS must be set in production")
    return (_dev_key(str(dev_key_file())),)


@functools.lru_cache(maxsize=8)
def _keyring_for(keys: Tuple[str, ...]) -> Keyring:
    return Keyring(keys)


def keyring() -> Keyring:
    return _keyring_for(configured_keys())


def encrypt_text(text: Optional[str]) -> Optional[str]:
    return None if text is None else keyring().encrypt(text)


def decrypt_text(value) -> Optional[str]:
    """The one helper for everything that reads an encrypted column with raw SQL
    (e.g. Rasa's `events.data`): plaintext of a stored value, DecryptionError when no
    key fits."""
    return keyring().decrypt(value)


# --- column types --------------------------------------------------------------------


def _plain_text_param(value: str):
    return bindparam(None, value, type_=Text())


class EncryptedText(TypeDecorator):
    """Free text encrypted with a random IV (Fernet). Not comparable in SQL."""

    impl = Text
    cache_ok = True
    deterministic = False

    class comparator_factory(TypeDecorator.Comparator, Text.comparator_factory):
        def operate(self, op, *other, **kwargs):
            if op in (operators.is_, operators.is_not) or all(o is None for o in other):
                return super().operate(op, *other, **kwargs)
            raise TypeError(
                "an EncryptedText column cannot be compared in SQL (its ciphertext is random); "
                "use DeterministicEncryptedText for columns used in WHERE/GROUP BY"
            )

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{type(self).__name__} stores text, got {type(value).__name__}")
        return keyring().encrypt(value)

    def process_result_value(self, value, dialect):
        return keyring().decrypt(value)


class DeterministicEncryptedText(EncryptedText):
    """Free text encrypted with AES-SIV: `==`, `!=`, unique constraints and GROUP BY work."""

    cache_ok = True
    deterministic = True

    class comparator_factory(TypeDecorator.Comparator, Text.comparator_factory):
        def operate(self, op, *other, **kwargs):
            if op in (operators.eq, operators.ne) and len(other) == 1:
                value = other[0]
                if isinstance(value, str):
                    candidates = [_plain_text_param(c) for c in keyring().deterministic_candidates(value)]
                    if len(candidates) == 1:
                        return super().operate(op, candidates[0], **kwargs)
                    in_op = operators.in_op if op is operators.eq else operators.not_in_op
                    return super().operate(in_op, candidates, **kwargs)
                if value is None or isinstance(value, ClauseElement):
                    return super().operate(op, *other, **kwargs)
            if op in (operators.is_, operators.is_not) or all(o is None for o in other):
                return super().operate(op, *other, **kwargs)
            raise TypeError(
                "a DeterministicEncryptedText column supports only ==, != and IS NULL comparisons"
            )

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{type(self).__name__} stores text, got {type(value).__name__}")
        return keyring().encrypt_deterministic(value)


def encrypted_columns(metadata) -> List[Tuple[str, str, bool]]:
    """(table, column, deterministic) of every encrypted column in `metadata`."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                found.append((table.name, column.name, column.type.deterministic))
    return found
