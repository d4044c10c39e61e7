"""Use cases: reports assembled from read-model queries and the domain's formulas."""
