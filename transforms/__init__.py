"""Transform: normalization to the canonical meeting, resolution (dedup, stable ids) and history."""
