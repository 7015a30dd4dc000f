-- Incremental resolution (issue O): what the last resolution saw, so the next one re-matches only the records
-- that changed. `transforms.matching` and `transforms.survivorship` keep these; a full pass (`clearinghouse
-- resolve --full`, the weekly maintenance) rewrites them from scratch. core.match_state says what they hold: a
-- run finding them otherwise (rows deleted, another code version) makes a full pass, and a meeting is kept only
-- while its row in core.meetings is the one that was built.

-- One row: the code version and the row counts of core.match_records and core.match_pairs as last written.
CREATE TABLE core.match_state (
    code VARCHAR NOT NULL,
    records BIGINT NOT NULL,
    pairs BIGINT NOT NULL
);

-- Each current record's matching fingerprint: a hash of everything matching reads of it (its keys, fields and
-- the name's distinctiveness) and of the matching code. A record whose fingerprint moved is re-matched.
CREATE TABLE core.match_records (
    source_id VARCHAR,
    source_key VARCHAR,
    fingerprint UBIGINT NOT NULL,
    PRIMARY KEY (source_id, source_key)
);

-- The links matching found between two records that depend on those two records alone: scored links between
-- sources, and a source's pairwise duplicate listings. `a` sorts before `b` (source_id, source_key).
-- `duplicate_rank`: the strength of a duplicate-listing reason (lower wins); null for a scored link.
CREATE TABLE core.match_pairs (
    a_source_id VARCHAR NOT NULL,
    a_source_key VARCHAR NOT NULL,
    b_source_id VARCHAR NOT NULL,
    b_source_key VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    reasons VARCHAR NOT NULL,
    same_listing BOOLEAN NOT NULL,
    duplicate_rank TINYINT
);

-- The Postal Service's name of each (city, region, country) a record gave, as `transforms.gazetteer` found it
-- with the code and reference data of `code` (rows of another code are recomputed).
CREATE TABLE core.match_localities (
    city VARCHAR,
    region_code VARCHAR,
    country VARCHAR,
    locality VARCHAR,
    code VARCHAR NOT NULL
);

-- Each meeting as the last resolution built it: a digest of its records (their fields, priority, first link)
-- and of the survivorship code, a hash of the row it built, and the record its address came from. A meeting
-- whose digest did not move and whose row is still that row keeps it (transforms.survivorship).
CREATE TABLE core.match_meetings (
    meeting_id VARCHAR PRIMARY KEY,
    digest UBIGINT NOT NULL,
    row_hash UBIGINT NOT NULL,
    address_source_id VARCHAR NOT NULL,
    address_source_key VARCHAR NOT NULL
);
