"""Errors the engine raises for a person to read."""


class DataError(Exception):
    """Bad input or a bad choice: the message names the file, sheet or column and what to do."""


class OutputExists(DataError):
    """The output folder exists and may not be replaced, and overwriting was not asked for."""


class UsageError(ValueError):
    """An option's value that cannot work (a k below 2, a seed out of range): a usage error."""


class Cancelled(Exception):
    """Long work was cancelled by the user between two steps."""
