"""losslab's version: the one place it is written (setup.cfg reads it: `attr:`), saved with
every results file so a folder made by another version is never silently reused."""
__version__ = "0.1.0"
