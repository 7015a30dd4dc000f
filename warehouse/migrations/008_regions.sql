-- Regions (issue L): where each published meeting is and from which evidence, the sub-region and feed labels
-- of each membership, and the regions of the last assignment (automatic ones and the operator's). All three
-- are rebuilt at every publish (transforms/regions.py assign).

CREATE TABLE core.meeting_places (
    meeting_id VARCHAR PRIMARY KEY,
    region_evidence VARCHAR,         -- coordinates | postal_code | city | source_region | state; NULL: no place
    country VARCHAR,
    state VARCHAR,                   -- state or province code: the address's, else what its evidence implies
    county VARCHAR,                  -- US county FIPS when the evidence names exactly one
    coordinates_county VARCHAR,      -- the county the source's own coordinates lie in
    coordinates_conflict BOOLEAN NOT NULL,  -- the coordinates contradict the address (the address wins)
    conflict_km DOUBLE,              -- how far the coordinates are from the address's nearest county
    address_latitude DOUBLE,         -- what a release publishes instead of contradicted coordinates:
    address_longitude DOUBLE,        --   the ZIP code's centroid, or nothing
    labels VARCHAR[],                -- the meeting's place in the national feed's hierarchy
    unplaced VARCHAR                 -- why the meeting is in no region (no_place | unknown_place | unknown_state)
);

ALTER TABLE core.meeting_regions ADD COLUMN sub_region VARCHAR;  -- e.g. the borough of new-york-city
ALTER TABLE core.meeting_regions ADD COLUMN labels VARCHAR[];    -- the meeting's place in the region's feed

CREATE TABLE core.regions (
    region_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,           -- state | province | country | online | operator
    sub_regions VARCHAR[] NOT NULL,
    position INTEGER NOT NULL        -- automatic regions first (as the release lists them), then the operator's
);
