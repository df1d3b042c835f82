"""Student-style solutions written in the course's own template (see manifest.py); graded by tests/test_corpus.py."""

