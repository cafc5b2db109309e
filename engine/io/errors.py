"""The two exceptions of bad input that every reader and command line shares."""


class UsageError(ValueError):
    """Bad input from the user — a flag, a file, a shape, a folder. Command lines print its
    message as one line and exit with code 2; anything else is an internal failure."""


class DamagedFile(UsageError):
    """A results file that exists but cannot be read as what it should be."""
