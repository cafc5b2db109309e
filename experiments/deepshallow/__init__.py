"""HW1-1, deep vs shallow (`python -m experiments.deepshallow`): MLPs of several depths at one
parameter budget on target functions and two classification tasks; the experiment and its
summary."""
from experiments.deepshallow.experiment import Config, run, unit
from experiments.deepshallow.summary import rank, summarize

__all__ = ["Config", "run", "unit", "rank", "summarize"]
