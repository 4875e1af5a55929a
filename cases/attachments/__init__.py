"""Photos and documents of the missing person, from staff and from families (issue 5)."""
