"""The demo: a book of invented buildings and the synthetic books of the benchmarks, written as raw
interchange rows and built into the product only through its own import and services."""
