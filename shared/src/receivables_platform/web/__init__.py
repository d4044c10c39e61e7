"""HTTP conventions every service follows (DESIGN.md section 5)."""
