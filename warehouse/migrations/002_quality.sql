-- Quality results say which fetch a staging check judged and when each check ran: the release manifest and
-- the source scorecard read the staging results of each source's current fetch and the latest core results,
-- which come from other runs than the publishing one (build and publish are separate DAG runs).
ALTER TABLE ops.dq_results ADD COLUMN fetch_id VARCHAR;
ALTER TABLE ops.dq_results ADD COLUMN checked_at TIMESTAMPTZ;
