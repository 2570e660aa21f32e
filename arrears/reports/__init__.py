"""Reports: what the book and the work on it say, read from every domain part, imported by none."""
