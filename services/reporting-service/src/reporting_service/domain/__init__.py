"""Reporting domain: metric definitions (DESIGN.md section 6), pure."""
