"""Staff accounts, roles, login and the deny-by-default guard."""
