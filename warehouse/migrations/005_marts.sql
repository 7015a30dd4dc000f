-- Analyst marts (issue F): views over core and ops, always current; docs/analysts.md has example queries
-- (a test runs them against the demo warehouse).

-- Which fellowships follow the Twelve Steps, for informational parity (share of non-12-step options).
CREATE VIEW marts.fellowship_traditions AS
SELECT * FROM (VALUES
    ('AA', 'twelve_step'), ('NA', 'twelve_step'), ('AL-ANON', 'twelve_step'), ('ALATEEN', 'twelve_step'),
    ('CA', 'twelve_step'), ('CMA', 'twelve_step'), ('OA', 'twelve_step'), ('GA', 'twelve_step'),
    ('CODA', 'twelve_step'), ('SAA', 'twelve_step'), ('SLAA', 'twelve_step'), ('SA', 'twelve_step'),
    ('SCA', 'twelve_step'), ('MA', 'twelve_step'), ('HA', 'twelve_step'), ('ACA', 'twelve_step'),
    ('EA', 'twelve_step'), ('DA', 'twelve_step'), ('DRA', 'twelve_step'), ('FA', 'twelve_step'),
    ('NAR-ANON', 'twelve_step'), ('GAM-ANON', 'twelve_step'), ('COSA', 'twelve_step'), ('S-ANON', 'twelve_step'),
    ('CLA', 'twelve_step'), ('UA', 'twelve_step'), ('CR', 'twelve_step'),
    ('SMART', 'non_twelve_step'), ('LIFERING', 'non_twelve_step'), ('WFS', 'non_twelve_step'),
    ('RD', 'non_twelve_step'), ('RR', 'non_twelve_step'), ('DBSA', 'non_twelve_step'), ('NAMI', 'non_twelve_step')
) AS t(fellowship, tradition);

-- The kind of place a meeting is held in, from its venue name (survival strata): online, religious,
-- healthcare, clubhouse, community, other, unknown.
CREATE MACRO marts.meeting_setting(venue_name, attendance) AS
CASE
    WHEN attendance = 'online' THEN 'online'
    WHEN venue_name IS NULL THEN 'unknown'
    WHEN regexp_matches(lower(venue_name), '(church|chapel|parish|cathedral|temple|synagogue|mosque|lutheran|'
                                           'methodist|presbyterian|episcopal|baptist|catholic|congregation|'
                                           'unitarian|ministr|\bst\.? [a-z]|\bsaint )') THEN 'religious'
    WHEN regexp_matches(lower(venue_name), '(hospital|medical|clinic|health|treatment|rehab|detox|behavioral)')
        THEN 'healthcare'
    WHEN regexp_matches(lower(venue_name), '(\bclub|alano)') THEN 'clubhouse'
    WHEN regexp_matches(lower(venue_name), '(library|community|center|centre|ymca|ywca|school|college|'
                                           'university|senior|town hall|township|municipal|fire)') THEN 'community'
    ELSE 'other'
END;

-- Meetings per region × fellowship × weekday (ISO, 1 = Monday) × attendance.
CREATE VIEW marts.meetings_by_region AS
SELECT r.region_id, m.fellowship, m.weekday,
       ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][m.weekday] AS weekday_name,
       m.attendance, count(*) AS meetings
FROM core.meetings m JOIN core.meeting_regions r USING (meeting_id)
GROUP BY ALL;

-- In-person meetings (in person or hybrid) per US county and fellowship, for every county of each state the
-- fellowship has meetings in; meetings = 0 is a gap. The county comes from the meeting's ZIP code.
CREATE VIEW marts.county_coverage AS
WITH located AS (
    SELECT m.fellowship, z.fips
    FROM core.meetings m JOIN ref.us_zip_counties z ON z.postal_code = m.postal_code
    WHERE coalesce(m.country, 'US') = 'US' AND m.attendance IN ('in_person', 'hybrid')
), present AS (
    SELECT DISTINCT c.state, l.fellowship FROM located l JOIN ref.us_counties c USING (fips)
), counted AS (
    SELECT fips, fellowship, count(*) AS meetings FROM located GROUP BY ALL
)
SELECT c.fips, c.state, c.name AS county, p.fellowship, coalesce(n.meetings, 0) AS meetings
FROM ref.us_counties c
JOIN present p USING (state)
LEFT JOIN counted n ON n.fips = c.fips AND n.fellowship = p.fellowship;

CREATE VIEW marts.coverage_gaps AS
SELECT fips, state, county, fellowship FROM marts.county_coverage WHERE meetings = 0;

-- Informational parity: how many of a region's meetings are non-12-step options.
CREATE VIEW marts.informational_parity AS
SELECT r.region_id, count(*) AS meetings,
       count(*) FILTER (WHERE t.tradition = 'twelve_step') AS twelve_step,
       count(*) FILTER (WHERE t.tradition = 'non_twelve_step') AS non_twelve_step,
       round(count(*) FILTER (WHERE t.tradition = 'non_twelve_step') / count(*), 4) AS non_twelve_step_share
FROM core.meetings m
JOIN core.meeting_regions r USING (meeting_id)
LEFT JOIN marts.fellowship_traditions t USING (fellowship)
GROUP BY r.region_id;

-- Source health over time: every fetch attempt of every run, with the rolling success rate of the source's
-- last 7 runs.
CREATE VIEW marts.source_health AS
SELECT r.run_id, u.started_at AS run_started_at, (u.started_at AT TIME ZONE 'UTC')::DATE AS run_date, r.source_id,
       r.status, r.status IN ('ok', 'unchanged') AS healthy, r.reason_code, r.reason, r.parsed, r.normalized,
       r.quarantined, round(r.quarantined / nullif(r.parsed, 0), 4) AS quarantine_rate,
       round(avg((r.status IN ('ok', 'unchanged'))::INTEGER) OVER (
           PARTITION BY r.source_id ORDER BY u.started_at ROWS BETWEEN 6 PRECEDING AND CURRENT ROW), 4)
           AS success_rate_7_runs
FROM ops.source_runs r LEFT JOIN ops.runs u USING (run_id);

-- Created, changed, closed, reopened, merged and split meetings per day.
CREATE VIEW marts.meeting_changes AS
SELECT (event_at AT TIME ZONE 'UTC')::DATE AS day, kind, count(*) AS meetings
FROM core.meeting_events GROUP BY ALL;

-- Every meeting ever published with its life span and survival strata (of its last version): days from
-- first seen to last listed; closed = the event (a merge or a meeting still listed is censored).
CREATE VIEW marts.meeting_lifetimes AS
WITH last_version AS (
    SELECT meeting_id, arg_max(fellowship, valid_from) AS fellowship, arg_max(attendance, valid_from) AS attendance,
           arg_max(venue_name, valid_from) AS venue_name
    FROM core.meeting_history GROUP BY meeting_id
)
SELECT l.meeting_id, v.fellowship, v.attendance, marts.meeting_setting(v.venue_name, v.attendance) AS setting,
       l.status, l.first_seen, l.last_seen, l.ended_at, l.status = 'closed' AS closed,
       floor(epoch(l.last_seen - l.first_seen) / 86400)::INTEGER AS days
FROM core.meeting_lifecycle l JOIN last_version v USING (meeting_id);

-- Kaplan–Meier survival of meetings by fellowship, attendance mode and setting: at each day a meeting closed
-- or was last seen, the meetings at risk, those closed and censored, and the survival estimate S(days).
CREATE VIEW marts.group_survival AS
WITH strata AS (
    SELECT 'fellowship' AS dimension, fellowship AS stratum, days, closed FROM marts.meeting_lifetimes
    UNION ALL SELECT 'attendance', attendance, days, closed FROM marts.meeting_lifetimes
    UNION ALL SELECT 'setting', setting, days, closed FROM marts.meeting_lifetimes
), at_day AS (
    SELECT dimension, stratum, days, count(*) FILTER (WHERE closed) AS closed,
           count(*) FILTER (WHERE NOT closed) AS censored, count(*) AS leaving
    FROM strata GROUP BY ALL
), risk AS (
    SELECT *, sum(leaving) OVER (PARTITION BY dimension, stratum ORDER BY days DESC
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_risk
    FROM at_day
)
SELECT dimension, stratum, days, at_risk::BIGINT AS at_risk, closed, censored,
       product(1 - closed / at_risk) OVER (PARTITION BY dimension, stratum ORDER BY days
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS survival
FROM risk;
