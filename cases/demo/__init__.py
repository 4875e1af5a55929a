"""A clearly marked demo instance: synthetic accounts and cases for trying Athar out."""
