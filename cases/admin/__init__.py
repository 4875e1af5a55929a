"""Account administration. Admins manage staff accounts and never read case files."""
