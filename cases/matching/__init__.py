"""Name matching: normalisation and search tokens for people's names."""
