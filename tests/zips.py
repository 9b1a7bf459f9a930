"""Zip archives built in memory for the tests, hostile ones included (what zipfile will not write by itself)."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

__all__ = ["zip_bytes", "encrypted", "bad_crc"]


def zip_bytes(entries: dict[str, bytes] | list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, data) entries in order; a list may repeat names (zipfile warns; the tests mean it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name, data in (entries.items() if isinstance(entries, dict) else entries):
            archive.writestr(name, data)
    return buffer.getvalue()


def encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag bit of every entry, as a password-protected zip has it (zipfile cannot write one)."""
    patched = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := patched.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", patched, start + flag_offset)[0]
            struct.pack_into("<H", patched, start + flag_offset, flags | 0x1)
            start += 4
    return bytes(patched)


def bad_crc(entries: list[tuple[str, bytes]], offset: int = 5) -> bytes:
    """A stored (uncompressed) zip whose last entry has one flipped byte, so its CRC no longer matches."""
    data = bytearray(zip_bytes(entries, zipfile.ZIP_STORED))
    last = entries[-1][1]
    data[data.index(last) + offset] ^= 0xFF
    return bytes(data)
