"""Release formats, one module each, all reading the release's meetings from DuckDB and writing set-based.

``common`` holds what they share: the scope being written (the whole release or one region), manifest file
entries, JSON written by DuckDB and streamed out batch by batch, and value formats. A release holds:

- ``meetings.{parquet,csv,geojson}``, ``meeting-guide.json``, ``hsds/`` — every meeting (``tables``,
  ``meeting_guide``, ``hsds``);
- ``meeting-guide/<region>.json`` and ``regions/<region>/index.json`` (``region_index``) — each region's
  feed and index; ``regions/<region>/meetings.{parquet,csv,geojson}`` and ``regions/<region>/hsds/`` only when
  the operator opts in (``CLEARINGHOUSE_REGION_FORMATS``);
- ``verification.parquet`` (``verification``) — when each meeting was last listed and verified;
- ``CHANGES.json`` against the previous release (``changes``), ``index.html`` and its plot (``page``),
  and ``manifest.json`` (``warehouse.publish``).
"""
