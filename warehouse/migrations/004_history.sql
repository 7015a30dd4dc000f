-- History (issue F): which source records are still listed, the versions and events of every meeting, the
-- regions meetings belong to, and the county reference the regions and coverage marts use.
CREATE SCHEMA IF NOT EXISTS ref;

-- Each source record's presence in its source's healthy fetches: a listing that disappears is carried with
-- its last known version until it has been absent for the configured number of consecutive healthy
-- observations of its source (transforms/presence.py). A failed or held fetch observes nothing.
CREATE TABLE core.record_presence (
    source_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    last_fetch_id VARCHAR NOT NULL,         -- the last fetch whose data listed the record: its last version
    last_present_at TIMESTAMPTZ NOT NULL,   -- the resolution run that last found it listed
    last_verified_at TIMESTAMPTZ,           -- start of the last healthy fetch (ok or unchanged) that listed it
    absent_runs INTEGER NOT NULL            -- healthy observations of its source since, without it
);

-- The healthy fetch of each source last counted into core.record_presence: a re-run counts nothing twice.
CREATE TABLE ops.source_observations (
    source_id VARCHAR NOT NULL,
    fetch_id VARCHAR NOT NULL,              -- ops.source_state.current_fetch_id when observed
    good_at TIMESTAMPTZ,                    -- ops.source_state.last_good_at when observed
    observed_at TIMESTAMPTZ NOT NULL
);

-- SCD2: one row per version of a meeting's published fields; valid_to NULL is the current version.
-- version_hash covers transforms/history.py TRACKED_FIELDS (source_updated_at and last_seen are not versions).
CREATE TABLE core.meeting_history AS
SELECT meeting_id, CAST(NULL AS TIMESTAMPTZ) AS valid_from, CAST(NULL AS TIMESTAMPTZ) AS valid_to,
       CAST(NULL AS VARCHAR) AS version_hash,
       * EXCLUDE (meeting_id, record_hash, first_seen, last_seen, status, venue_id)
FROM core.meetings LIMIT 0;

-- What happened to meetings, run by run: created, changed (with the fields), closed (gone from every
-- source for the grace period), reopened, merged (into related_meeting_id), split (from related_meeting_id).
CREATE TABLE core.meeting_events (
    event_at TIMESTAMPTZ NOT NULL,
    meeting_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    fields VARCHAR[],
    related_meeting_id VARCHAR,
    sources STRUCT(source_id VARCHAR, source_key VARCHAR)[]
);

-- Every meeting id ever published, with its life span: what survival analysis needs after a meeting is gone.
CREATE TABLE core.meeting_lifecycle (
    meeting_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,                -- active | closed | merged
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,         -- the last run a source listed it
    last_verified TIMESTAMPTZ,              -- the last healthy fetch that listed it
    ended_at TIMESTAMPTZ                    -- closed or merged: the run that ended it
);

ALTER TABLE core.meetings ADD COLUMN last_verified TIMESTAMPTZ;

-- Regions (regions/*.yaml) each published meeting belongs to; rebuilt at publish.
CREATE TABLE core.meeting_regions (
    meeting_id VARCHAR NOT NULL,
    region_id VARCHAR NOT NULL
);

-- US counties (Census 2020 FIPS) and the county of each ZIP code (the zipcodes package), filled on first use.
CREATE TABLE ref.us_counties (
    fips VARCHAR PRIMARY KEY,
    state VARCHAR NOT NULL,
    name VARCHAR NOT NULL
);
CREATE TABLE ref.us_zip_counties (
    postal_code VARCHAR PRIMARY KEY,
    fips VARCHAR NOT NULL
);
