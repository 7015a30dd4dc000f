-- Run lifecycle (issue N): who runs a run and when it last showed life, why it failed, and one row per stage.
ALTER TABLE ops.runs ADD COLUMN host VARCHAR;            -- where the latest stage of the run ran
ALTER TABLE ops.runs ADD COLUMN pid INTEGER;             -- its process id there
ALTER TABLE ops.runs ADD COLUMN heartbeat_at TIMESTAMPTZ; -- the latest stage start or end
ALTER TABLE ops.runs ADD COLUMN error VARCHAR;           -- why it failed, was blocked or had nothing to publish

CREATE TABLE ops.stage_runs (
    run_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,          -- load | normalize | resolve | quality | publish
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,         -- running | done | failed | blocked | nothing_to_publish | abandoned
    host VARCHAR,
    pid INTEGER,
    error VARCHAR,
    counts JSON,                     -- what the stage returned (small summaries)
    PRIMARY KEY (run_id, stage)
);
