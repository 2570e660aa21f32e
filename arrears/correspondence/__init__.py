"""Letters, email in and out, calls and texts, statements, the document archive."""
