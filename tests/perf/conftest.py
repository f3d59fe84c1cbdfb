"""tests/perf holds benchmarks (run with `make bench`), not tests: pytest collects nothing here."""
collect_ignore_glob = ["*.py"]
