"""The DuckDB warehouse: connection and migrations, loading, quality gates, marts and publishing."""
