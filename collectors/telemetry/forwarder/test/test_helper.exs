# The test-only Telemetry.Metrics double (tests/support/telemetry_metrics_test_double): this
# repository's tests run offline, without Hex.
Code.require_file("../../../../tests/support/telemetry_metrics_test_double/telemetry_metrics.ex", __DIR__)
ExUnit.start()
