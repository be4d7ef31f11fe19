"""Hand-run benchmarks (never part of the test suite). See docs/benchmarks.md."""
