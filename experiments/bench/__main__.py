"""`python -m experiments.bench`: the benchmark tables."""
from experiments.bench.runner import main

main()
