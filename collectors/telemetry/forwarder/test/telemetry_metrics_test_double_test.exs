# The documented behaviour of the test-only Telemetry.Metrics double
# (tests/support/telemetry_metrics_test_double) that the forwarder's tests rely on.
defmodule TelemetryMetricsTestDoubleTest do
  use ExUnit.Case, async: true

  import Telemetry.Metrics

  test "the name gives the event name and the measurement; options are kept as documented" do
    m = summary("phoenix.router_dispatch.stop.duration", tags: [:route], description: "d", reporter_options: [buckets: [1]])
    assert %Telemetry.Metrics.Summary{name: [:phoenix, :router_dispatch, :stop, :duration]} = m
    assert m.event_name == [:phoenix, :router_dispatch, :stop]
    assert m.measurement == :duration
    assert {m.tags, m.description, m.reporter_options, m.unit} == {[:route], "d", [buckets: [1]], :unit}
    assert m.tag_values.(%{a: 1}) == %{a: 1}
    assert %Telemetry.Metrics.Counter{} = counter("a.b")
    assert %Telemetry.Metrics.Sum{} = sum("a.b")
    assert %Telemetry.Metrics.LastValue{} = last_value("a.b")
    assert %Telemetry.Metrics.Distribution{} = distribution("a.b")
  end

  test "a unit conversion turns the measurement into a converting function and keeps the target unit" do
    m = summary("a.b.duration", unit: {:native, :millisecond})
    assert m.unit == :millisecond
    assert_in_delta m.measurement.(%{duration: System.convert_time_unit(250, :millisecond, :native)}), 250.0, 1.0e-9
    assert m.measurement.(%{}) == nil
    assert last_value("vm.memory.total", unit: {:byte, :kilobyte}).measurement.(%{total: 2500}) == 2.5
  end

  test "drop is the negated keep, and they are exclusive" do
    m = counter("a.b", drop: &(&1.x == 1))
    assert {m.keep.(%{x: 1}), m.keep.(%{x: 2})} == {false, true}
    assert_raise ArgumentError, fn -> counter("a.b", keep: & &1, drop: & &1) end
  end
end
