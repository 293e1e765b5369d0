"""A realistic demo clinic for trying the console and for the benchmarks."""
