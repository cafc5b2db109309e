"""The quick results of each plots reader under its own name, for the tests that draw them or
damage copies of them: each is conftest's session-wide quick_<name>, run once however many
modules read it."""
import pytest
from conftest import READER_FLAGS


def reader_results(*names) -> dict:
    """{reader: a module-scoped fixture of its quick results} for `names` (default: every
    reader): a test module takes them into its namespace, `globals().update(reader_results())`,
    where pytest finds fixtures by name."""

    def alias(name):
        @pytest.fixture(scope="module", name=name)
        def quick(request):
            return request.getfixturevalue(f"quick_{name}")

        return quick

    return {name: alias(name) for name in names or READER_FLAGS}
