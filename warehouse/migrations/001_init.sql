-- Layers of the warehouse: raw (fetch attempts), staging (parsed source records), core (canonical
-- meetings), ops (what each run did), marts (views for analysts).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS marts;

-- One row per fetch attempt, also when it failed (from raw/<source>/<day>/<fetch>.fetch.json).
CREATE TABLE raw.fetches (
    fetch_id VARCHAR PRIMARY KEY,
    source_id VARCHAR NOT NULL,
    run_id VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,        -- ok | unchanged | failed | held | link_only
    reason_code VARCHAR,
    reason VARCHAR,
    snapshot_sha256 VARCHAR,
    records INTEGER,
    data_fetch_id VARCHAR,          -- the fetch whose records are current for the source after this attempt
    parts JSON                      -- url (secrets redacted), status, sha256, bytes, path, validators
);

-- One row per record parsed from a snapshot; replaced per fetch_id (idempotent loads).
CREATE TABLE staging.source_records (
    source_id VARCHAR NOT NULL,
    fetch_id VARCHAR NOT NULL,
    record_index INTEGER NOT NULL,
    weekday TINYINT,
    types VARCHAR[],
    languages VARCHAR[],
    raw JSON,                       -- the source-native record, contact fields included: never published
    source_key VARCHAR NOT NULL,
    name VARCHAR, weekday_raw VARCHAR, start_time VARCHAR, end_time VARCHAR, duration VARCHAR,
    timezone VARCHAR, fellowship VARCHAR, group_name VARCHAR, venue_name VARCHAR, address VARCHAR,
    city VARCHAR, region_code VARCHAR, postal_code VARCHAR, country VARCHAR, formatted_address VARCHAR,
    latitude VARCHAR, longitude VARCHAR, approximate VARCHAR, attendance_hint VARCHAR,
    conference_url VARCHAR, conference_url_notes VARCHAR, conference_phone VARCHAR,
    conference_phone_notes VARCHAR, notes VARCHAR, location_notes VARCHAR, source_url VARCHAR,
    source_updated_at VARCHAR, source_status VARCHAR,
    PRIMARY KEY (fetch_id, record_index)
);

-- Canonical fields per source record (columns: transforms.model.CANONICAL_FIELDS, in order).
CREATE TABLE core.meeting_versions (
    source_id VARCHAR,
    source_key VARCHAR,
    fetch_id VARCHAR,
    fellowship VARCHAR,
    name VARCHAR,
    group_name VARCHAR,
    weekday TINYINT,
    start_time TIME,
    end_time TIME,
    duration_min SMALLINT,
    timezone VARCHAR,
    timezone_source VARCHAR,
    attendance VARCHAR,
    venue_name VARCHAR,
    address_line VARCHAR,
    city VARCHAR,
    region_code VARCHAR,
    postal_code VARCHAR,
    postal_code_ext VARCHAR,
    country VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE,
    geo_precision VARCHAR,
    conference_url VARCHAR,
    conference_provider VARCHAR,
    conference_id VARCHAR,
    conference_phone VARCHAR,
    open_closed VARCHAR,
    types VARCHAR[],
    source_types VARCHAR[],
    unknown_types VARCHAR[],
    languages VARCHAR[],
    accessibility VARCHAR[],
    notes VARCHAR,
    location_notes VARCHAR,
    source_url VARCHAR,
    source_updated_at TIMESTAMP,
    record_hash VARCHAR,
    PRIMARY KEY (fetch_id, source_key)
);

-- Records that could not be normalized: nothing is dropped silently.
CREATE TABLE core.quarantine (
    source_id VARCHAR NOT NULL,
    fetch_id VARCHAR NOT NULL,
    source_key VARCHAR,
    record_index INTEGER,
    reason VARCHAR NOT NULL,        -- code, e.g. no_weekday, bad_time, duplicate_source_key
    field VARCHAR,
    value VARCHAR,
    detail VARCHAR                  -- what was expected, for a person
);

-- Fetches already normalized, with their reconciliation: parsed = normalized + quarantined.
CREATE TABLE ops.normalized_fetches (
    fetch_id VARCHAR PRIMARY KEY,
    source_id VARCHAR NOT NULL,
    parsed INTEGER NOT NULL,
    normalized INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    normalized_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE core.unknown_types (
    source_id VARCHAR NOT NULL,
    fetch_id VARCHAR NOT NULL,
    fellowship VARCHAR,
    code VARCHAR NOT NULL,
    count BIGINT NOT NULL
);

-- The data each source currently contributes: its last good fetch (kept when a fetch fails or is held).
CREATE TABLE ops.source_state (
    source_id VARCHAR PRIMARY KEY,
    current_fetch_id VARCHAR,
    last_good_at TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    last_status VARCHAR,
    last_reason VARCHAR
);

-- One row per real-world meeting after resolution; meeting_id is stable across runs.
CREATE TABLE core.meetings (
    meeting_id VARCHAR PRIMARY KEY,
    fellowship VARCHAR,
    name VARCHAR,
    group_name VARCHAR,
    weekday TINYINT,
    start_time TIME,
    end_time TIME,
    duration_min SMALLINT,
    timezone VARCHAR,
    timezone_source VARCHAR,
    attendance VARCHAR,
    venue_name VARCHAR,
    address_line VARCHAR,
    city VARCHAR,
    region_code VARCHAR,
    postal_code VARCHAR,
    postal_code_ext VARCHAR,
    country VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE,
    geo_precision VARCHAR,
    conference_url VARCHAR,
    conference_provider VARCHAR,
    conference_id VARCHAR,
    conference_phone VARCHAR,
    open_closed VARCHAR,
    types VARCHAR[],
    source_types VARCHAR[],
    unknown_types VARCHAR[],
    languages VARCHAR[],
    accessibility VARCHAR[],
    notes VARCHAR,
    location_notes VARCHAR,
    source_url VARCHAR,
    source_updated_at TIMESTAMP,
    record_hash VARCHAR,
    sources STRUCT(source_id VARCHAR, source_key VARCHAR)[] NOT NULL,
    first_seen TIMESTAMPTZ,
    last_seen TIMESTAMPTZ,
    status VARCHAR NOT NULL DEFAULT 'active'
);

-- Which source record backs which meeting, with how sure we are and why.
CREATE TABLE core.meeting_links (
    source_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    meeting_id VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    reason VARCHAR NOT NULL,
    first_linked_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_id, source_key)
);

CREATE TABLE ops.runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    status VARCHAR,
    release_id VARCHAR,
    summary JSON
);

CREATE TABLE ops.source_runs (
    run_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    fetch_id VARCHAR,
    status VARCHAR NOT NULL,
    reason_code VARCHAR,
    reason VARCHAR,
    parsed INTEGER,
    normalized INTEGER,
    quarantined INTEGER,
    PRIMARY KEY (run_id, source_id)
);

CREATE TABLE ops.dq_results (
    run_id VARCHAR NOT NULL,
    source_id VARCHAR,
    suite VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    unexpected_count BIGINT,
    severity VARCHAR NOT NULL,
    details JSON
);
