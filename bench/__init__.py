"""The benchmark of issue 6: `make bench` runs bench/run.py (never part of CI)."""
