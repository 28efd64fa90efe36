"""Reproducible speed measurements, run by `make bench`; each module's `main()` prints a report."""
