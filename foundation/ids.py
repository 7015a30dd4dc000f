"""The only places identifiers are made: run ids, source keys for id-less records, fetch ids, meeting ids,
venue ids and the UUIDs of HSDS records."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

_SEP = "\x1f"


def _digest(*parts: object, length: int) -> str:
    raw = hashlib.sha256(_SEP.join("" if p is None else str(p) for p in parts).encode("utf-8")).digest()
    return base64.b32encode(raw).decode("ascii").lower()[:length]


def new_run_id(now: datetime | None = None, prefix: str = "cli") -> str:
    """The id of a run started without Airflow (``clearinghouse run``, ``publish``): ``<prefix>__<UTC time>``."""
    return f"{prefix}__{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}"


def safe_run_id(run_id: str) -> str:
    """Airflow run ids contain ':' and '+': keep them readable but path-safe."""
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", run_id)


def hashed_source_key(*stable_fields: object) -> str:
    """Deterministic key for a record whose source gives no id: a hash of fields that identify it."""
    return "h-" + _digest(*stable_fields, length=16)


def fetch_id(source_id: str, started_at: datetime) -> str:
    return f"{source_id}@{started_at.strftime('%Y%m%dT%H%M%S%fZ')}"


def meeting_id(source_id: str, source_key: str) -> str:
    """A new meeting's id, from the provenance of its first member (never from name or time, which change).

    Resolution carries it over run after run through ``core.meeting_links``.
    """
    return "m-" + _digest(source_id, source_key, length=20)


def venue_id_sql(key_expression: str) -> str:
    """SQL for a venue's id: a digest of its normalized address key, so a place keeps its id every night.

    SQL rather than Python because venues are built set-based in DuckDB over every meeting.
    """
    return f"'v-' || left(md5({key_expression}), 20)"


def uuid_for(kind: str, key: str) -> str:
    """The UUID ``uuid_sql`` gives ``key`` (the same bytes, computed in Python for records built outside SQL)."""
    h = hashlib.md5(f"{kind}\x1f{key}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-3{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def uuid_sql(kind: str, key_expression: str) -> str:
    """SQL for a stable UUID (name-based, version 3 layout: MD5 of ``kind`` and the key).

    Open Referral HSDS requires UUIDs for every id; deriving them from the meeting id (or another stable key)
    gives a meeting's service, location and schedule the same ids in every release.
    """
    digest = f"md5('{kind}' || chr(31) || ({key_expression}))"
    variant = "substr('89ab', (strpos('0123456789abcdef', substr(h, 17, 1)) - 1) % 4 + 1, 1)"
    return (
        f"list_transform([{digest}], lambda h: substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-3' || substr(h, 14, 3)"
        f" || '-' || {variant} || substr(h, 18, 3) || '-' || substr(h, 21, 12))[1]"
    )
