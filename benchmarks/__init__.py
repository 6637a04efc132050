"""The djangopackages-sdk benchmark: ``python benchmarks/run.py`` (see README.md here)."""
