"""Hypothesis profiles for the differential fuzzer.

"ci" (the default) is derandomized so CI is reproducible and sized to a few minutes for both devices;
"long" runs tens of thousands of cases: ``pytest tests/fuzz --hypothesis-profile=long``.
Each test scales the profile's max_examples down for 'cuda' (see fuzz_run.examples_for), because the
interpreter runs every Triton kernel on the CPU."""
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
          HealthCheck.function_scoped_fixture, HealthCheck.large_base_example]

settings.register_profile("ci", max_examples=120, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("long", max_examples=1500, deadline=None, suppress_health_check=_QUIET,
                          print_blob=True)


def pytest_configure(config) -> None:
    # hypothesis' plugin loads --hypothesis-profile itself; only the default is ours to choose
    if config.getoption("hypothesis_profile", None) is None:
        settings.load_profile("ci")


def pytest_terminal_summary(terminalreporter) -> None:
    from fuzz_run import CASES_RUN  # (imported late: the tests' directory is on the path by now)
    if CASES_RUN:
        counts = ", ".join(f"{count} on '{device}'" for device, count in sorted(CASES_RUN.items()))
        profile = terminalreporter.config.getoption("hypothesis_profile", None) or "ci"
        terminalreporter.write_line(f"differential fuzz: {counts} cases compared with torch (profile {profile})")
