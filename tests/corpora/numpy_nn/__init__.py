"""Student-style solutions written in the course's own template (see manifest.py); graded by tests/numpy_nn/test_corpus.py."""

