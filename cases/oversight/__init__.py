"""Supervisor oversight: the approvals queue (dashboards and exports come later)."""
