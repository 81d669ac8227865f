"""Page types the test suite uses. Features add their own here."""
