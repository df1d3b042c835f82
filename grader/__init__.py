"""The checker: hidden differential tests run in a sandboxed child, judged in the parent."""
