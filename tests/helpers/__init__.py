"""Code that Ray workers import during tests."""
