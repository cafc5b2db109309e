"""`python -m experiments.report`: the report from the results and figures folders."""
from experiments.report.assemble import main

main()
