"""User-facing errors: what the CLI reports as exit status 2, without a traceback."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ConfigError", "TwinError", "quote_value"]


class TwinError(Exception):
    """A problem the user can fix (a bad config, a bad argument, a missing GPU).

    The CLI prints ``str(err)`` and exits with status 2; anything else is a bug (status 1).
    """


class ConfigError(TwinError):
    """An invalid plant config.

    Attributes
    ----------
    problems : list[str]
        One line per problem, each naming the file, the YAML line where known, the field path
        (``stations[2].process.mean``), what is wrong and how to fix it.
    """

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def quote_value(value: object) -> str:
    """Render a value from a config file the way its author wrote it, for error messages.

    >>> quote_value("45"), quote_value(45), quote_value(True), quote_value(None)
    ("'45'", "'45'", "'true'", 'an empty value')
    """
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    return f"'{value}'"
