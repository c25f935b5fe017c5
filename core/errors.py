"""Errors the engine raises for a person to read."""

import zipfile
import zlib

# What reading a zip (a workbook, a model file) raises for one that is broken, cut short, encrypted
# or compressed by a method Python lacks: each is said as a DataError naming the file.
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,  # another compression method (Deflate64, AES)
    RuntimeError,  # a part encrypted with a password
)


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
