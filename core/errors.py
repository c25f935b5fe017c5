"""Errors the engine raises for a person to read."""


class DataError(Exception):
    """Bad input or a bad choice: the message names the file, sheet or column and what to do."""


class OutputExists(DataError):
    """The output folder exists and is not empty, and overwriting was not asked for."""


class Cancelled(Exception):
    """Long work was cancelled by the user between two steps."""
