"""The clinic's settings: their values and rules, the file they live in, and the secrets kept in
the keyring."""
