"""Release formats, one module each, all reading the release's meetings from DuckDB and writing set-based.

``common`` holds what they share: the scope being written (the whole release or one region), manifest file
entries, JSON written by DuckDB and streamed out batch by batch, and value formats. A release holds:

- ``meetings.{parquet,csv,geojson}``, ``meeting-guide.json``, ``hsds/`` — every meeting (``tables``,
  ``meeting_guide``, ``hsds``);
- ``regions/<region>/meetings.{parquet,csv,geojson}``, ``regions/<region>/hsds/`` and
  ``meeting-guide/<region>.json`` — the meetings of each region;
- ``CHANGES.json`` against the previous release (``changes``), ``index.html`` and its plot (``page``),
  and ``manifest.json`` (``warehouse.publish``).
"""
