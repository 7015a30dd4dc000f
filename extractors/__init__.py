"""Extract: the source registry, the polite HTTP client, the raw archive and one parser per source family."""
