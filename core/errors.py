"""Errors the engine raises for a person to read."""


class DataError(Exception):
    """Bad input or a bad choice: the message names the file, sheet or column and what to do."""


class OverLimit(DataError):
    """Input past one of the limits of core.limits (the message names its variable): a table of
    a database over a limit is refused as a sheet of a workbook is, chosen or not."""


class OutputExists(DataError):
    """The output folder exists and may not be replaced, and overwriting was not asked for."""


class UsageError(ValueError):
    """An option's value that cannot work (a k below 2, a seed out of range): a usage error."""


class Cancelled(Exception):
    """Long work was cancelled by the user between two steps."""
