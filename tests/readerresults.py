"""The quick results of each plots reader as module-scoped fixtures (conftest.quick_results), for
the tests that draw them or damage copies of them."""
from conftest import quick_results


def reader_results() -> dict:
    """{reader: a fixture of its quick results}: a test module takes them into its namespace,
    `globals().update(reader_results())`, where pytest finds fixtures by name."""
    return {
        # the tiniest census that runs: its quick preset takes minutes (a search costs seconds:
        # the exact 2,410-parameter Hessian)
        "census": quick_results("census", "--jobs", 1, "--runs", 1, "--embedded", 0,
                                "--max-hvp", 20, "--switch-min", 1, "--switch-max", 2,
                                "--continue-steps", 1, "--continue-hvp", 1),
        **{name: quick_results(name, "--jobs", 1) for name in (
            "deepshallow", "generalization", "gradnorm", "minratio", "spectrum", "surface",
            "trajectory")}}
