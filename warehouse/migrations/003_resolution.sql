-- Resolution (issue E): why records are linked, how meetings merged and split, which source won each
-- field of a meeting, and the venues meetings share across fellowships.

-- The link's score and reasons ("same_zoom_id, name≈0.93, Δt=0, 40 m") are core.meeting_links.score and
-- .reason; the record it matched best names the other end of that link.
ALTER TABLE core.meeting_links ADD COLUMN matched_source_id VARCHAR;
ALTER TABLE core.meeting_links ADD COLUMN matched_source_key VARCHAR;

-- Records that changed meeting in a run: merge (their old id was absorbed and retired), split (they left
-- for a new meeting), move (they went to another existing meeting).
CREATE TABLE core.resolution_events (
    run_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,              -- merge | split | move
    meeting_id VARCHAR NOT NULL,        -- the meeting the records belong to after the run
    from_meeting_id VARCHAR NOT NULL,   -- the meeting they belonged to before
    records INTEGER NOT NULL,
    members STRUCT(source_id VARCHAR, source_key VARCHAR)[] NOT NULL
);

-- Survivorship: for each meeting backed by several records, the position (1-based) in core.meetings.sources
-- of the record each field's value came from; the rule per field is transforms/survivorship.py RULES.
-- Meetings backed by one record take every field from it and have no row here.
CREATE TABLE core.meeting_field_sources (
    meeting_id VARCHAR PRIMARY KEY,
    fellowship SMALLINT, name SMALLINT, group_name SMALLINT,                        -- priority
    weekday SMALLINT, start_time SMALLINT, end_time SMALLINT, duration_min SMALLINT,
    timezone SMALLINT, timezone_source SMALLINT,                                    -- priority
    venue_name SMALLINT,                                                            -- priority
    address_line SMALLINT, city SMALLINT, region_code SMALLINT, postal_code SMALLINT,
    postal_code_ext SMALLINT, country SMALLINT,                                     -- completeness
    latitude SMALLINT, longitude SMALLINT, geo_precision SMALLINT,                  -- completeness
    attendance SMALLINT, conference_url SMALLINT, conference_provider SMALLINT,
    conference_id SMALLINT, conference_phone SMALLINT,                              -- recency
    open_closed SMALLINT,                                                           -- priority
    types SMALLINT, source_types SMALLINT, unknown_types SMALLINT,                  -- completeness
    languages SMALLINT, accessibility SMALLINT,                                     -- completeness
    notes SMALLINT, location_notes SMALLINT,                                        -- recency
    source_url SMALLINT,                                                            -- priority
    source_updated_at SMALLINT                                                      -- recency
);

-- In-person places, clustered across all fellowships by normalized street address.
CREATE TABLE core.venues (
    venue_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    address_line VARCHAR,
    city VARCHAR,
    region_code VARCHAR,
    postal_code VARCHAR,
    country VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE,
    fellowships VARCHAR[] NOT NULL,
    meetings INTEGER NOT NULL
);

ALTER TABLE core.meetings ADD COLUMN venue_id VARCHAR;
