-- The place cache (transforms/regions.py assign): what each distinct place — one combination of the inputs a
-- meeting's place depends on — gave at the last publish, so that the next one locates only new and changed
-- places. Internal to assign, which prunes it: a key no active meeting has any more is deleted, and so is every
-- row when the code, the operator's regions or source labels, or the region catalogue changed (fingerprint).
-- The place columns are those of core.meeting_places but the meeting id; regions are its rows of
-- core.meeting_regions, in order.

CREATE TABLE core.place_cache (
    place_key VARCHAR PRIMARY KEY,   -- sha256 of the place inputs (transforms/regions.py MEETINGS_SQL)
    fingerprint VARCHAR NOT NULL,    -- the code, operator regions, source labels and region catalogue used
    region_evidence VARCHAR,
    country VARCHAR,
    state VARCHAR,
    county VARCHAR,
    coordinates_county VARCHAR,
    coordinates_conflict BOOLEAN NOT NULL,
    conflict_km DOUBLE,
    address_latitude DOUBLE,
    address_longitude DOUBLE,
    labels VARCHAR[],
    unplaced VARCHAR,
    regions STRUCT(region_id VARCHAR, sub_region VARCHAR, labels VARCHAR[])[] NOT NULL
);
