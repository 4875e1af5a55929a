"""Case files: the missing person, notes, status workflow, assignment and access."""
