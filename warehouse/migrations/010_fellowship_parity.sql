-- Informational parity (issues T and S): the fellowship directory and the registry in the warehouse, and marts
-- of what is listed where. `warehouse.fellowships.sync` rewrites the ref tables before every publish, from
-- fellowships/*.yaml and the registry; docs/analysts.md has example queries.

CREATE TABLE ref.fellowships (
    fellowship VARCHAR PRIMARY KEY,      -- canonical code (foundation/model.py)
    name VARCHAR NOT NULL,
    category VARCHAR NOT NULL,           -- 12-step | secular | buddhist | faith-based | mental-health-peer
    helps_with VARCHAR NOT NULL,
    website VARCHAR NOT NULL,
    finder_url VARCHAR,
    finder_kind VARCHAR NOT NULL,
    how_it_publishes VARCHAR NOT NULL,
    listing VARCHAR NOT NULL,            -- meetings | organizations
    access VARCHAR NOT NULL,             -- fetchable | referral_only | not_reviewed
    why VARCHAR NOT NULL,
    terms VARCHAR NOT NULL,
    terms_url VARCHAR,
    helpline VARCHAR,
    evidence VARCHAR[] NOT NULL,
    unverified VARCHAR[] NOT NULL
);

-- The registry as of the last publish: fetched = enabled and not link-only.
CREATE TABLE ref.registry_sources (
    source_id VARCHAR PRIMARY KEY,
    fellowship VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    region VARCHAR,                      -- the entry's `region` (a state code when it names one)
    country VARCHAR NOT NULL,
    fetched BOOLEAN NOT NULL,
    url VARCHAR NOT NULL
);

CREATE TABLE ref.us_states (
    state VARCHAR PRIMARY KEY,           -- two-letter code (states, DC and territories)
    name VARCHAR NOT NULL
);

-- Region × fellowship category: meetings listed, or "referral only" (no fellowship of the category has a
-- meeting in the region: people are pointed to the fellowships' own finders, and the operator has work to do).
CREATE VIEW marts.fellowship_parity AS
WITH counted AS (
    SELECT r.region_id, m.fellowship, count(*) AS meetings
    FROM core.meetings m JOIN core.meeting_regions r USING (meeting_id)
    WHERE m.status = 'active'
    GROUP BY ALL
)
SELECT g.region_id, g.name AS region_name, g.position, f.category,
       coalesce(sum(c.meetings), 0)::BIGINT AS meetings,
       coalesce(list(f.fellowship ORDER BY f.fellowship) FILTER (WHERE c.meetings > 0), []) AS listed,
       coalesce(list(f.fellowship ORDER BY f.fellowship) FILTER (WHERE c.meetings IS NULL), []) AS referral_only,
       CASE WHEN sum(c.meetings) > 0 THEN 'meetings listed' ELSE 'referral only' END AS status
FROM core.regions g
CROSS JOIN ref.fellowships f
LEFT JOIN counted c ON c.region_id = g.region_id AND c.fellowship = f.fellowship
GROUP BY ALL;

-- US state × fellowship: the sources the registry fetches for it there (a source covers the states its
-- meetings are in, and the state its entry names), the link-only ones, and the active meetings. sources = 0
-- is a state where the registry has no source for the fellowship.
CREATE VIEW marts.fellowship_coverage AS
WITH meeting_states AS (
    SELECT m.fellowship, m.region_code AS state, s.source_id, m.meeting_id
    FROM core.meetings m, unnest(m.sources) AS u(s)
    WHERE m.status = 'active' AND coalesce(m.country, 'US') = 'US' AND m.region_code IS NOT NULL
), source_states AS (
    SELECT DISTINCT fellowship, state, source_id FROM meeting_states
    UNION
    SELECT fellowship, region, source_id FROM ref.registry_sources WHERE country = 'US' AND region IS NOT NULL
), counted AS (
    SELECT s.fellowship, s.state,
           count(DISTINCT s.source_id) FILTER (WHERE r.fetched) AS sources,
           count(DISTINCT s.source_id) FILTER (WHERE NOT r.fetched) AS link_only_sources
    FROM source_states s JOIN ref.registry_sources r USING (source_id)
    GROUP BY ALL
), meetings AS (
    SELECT fellowship, state, count(DISTINCT meeting_id) AS meetings FROM meeting_states GROUP BY ALL
)
SELECT st.state, st.name AS state_name, f.fellowship, f.category,
       coalesce(c.sources, 0)::BIGINT AS sources, coalesce(c.link_only_sources, 0)::BIGINT AS link_only_sources,
       coalesce(m.meetings, 0)::BIGINT AS meetings
FROM ref.us_states st
CROSS JOIN ref.fellowships f
LEFT JOIN counted c ON c.state = st.state AND c.fellowship = f.fellowship
LEFT JOIN meetings m ON m.state = st.state AND m.fellowship = f.fellowship;

-- Per fellowship: how many US states have a source, and which have none.
CREATE VIEW marts.fellowship_source_gaps AS
SELECT fellowship, category,
       count(*) FILTER (WHERE sources > 0) AS states_with_source,
       count(*) FILTER (WHERE sources = 0) AS states_without_source,
       sum(meetings)::BIGINT AS meetings,
       coalesce(list(state ORDER BY state) FILTER (WHERE sources = 0), []) AS states_without
FROM marts.fellowship_coverage
GROUP BY ALL;
