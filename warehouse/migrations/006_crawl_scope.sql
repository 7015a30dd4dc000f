-- Crawl scope (issue M): links a crawl skipped because they lead to hosts outside the source's scope
-- (its url's host and allowed_hosts). They are never requested; the fetch record counts them and keeps the
-- first few URLs (feed keys redacted).
ALTER TABLE raw.fetches ADD COLUMN off_scope_links INTEGER DEFAULT 0;
ALTER TABLE raw.fetches ADD COLUMN off_scope_examples VARCHAR[];
