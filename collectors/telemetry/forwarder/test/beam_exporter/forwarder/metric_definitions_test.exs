defmodule BeamExporter.Forwarder.MetricDefinitionsTest do
  use ExUnit.Case, async: true

  import Telemetry.Metrics
  alias BeamExporter.Forwarder.MetricDefinitions

  defp compile_one(metric), do: hd(MetricDefinitions.compile([metric]))

  test "a stock Phoenix summary becomes a histogram in seconds with the default buckets" do
    spec = compile_one(summary("phoenix.router_dispatch.stop.duration", tags: [:route], unit: {:native, :millisecond}))
    assert spec.name == "phoenix_router_dispatch_stop_duration_seconds"
    assert spec.type == :histogram
    assert spec.event == [:phoenix, :router_dispatch, :stop]
    assert spec.label_names == ["route"]
    assert spec.wire_buckets == [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
    # The handler compares values in the metric's unit (milliseconds here).
    assert_in_delta elem(spec.bounds, 0), 5.0, 1.0e-9
    assert_in_delta spec.factor, 0.001, 1.0e-15
    assert spec.help == ~s{Telemetry.Metrics summary("phoenix.router_dispatch.stop.duration"), unit millisecond.}
  end

  test "names, types, units and help of every kind" do
    [count, sum, last, dist, gauge_sum, bytes] =
      MetricDefinitions.compile([
        counter("http.request.stop.duration"),
        sum("phoenix.socket_drain.count"),
        last_value("vm.memory.total", unit: {:byte, :kilobyte}, description: "Memory in use"),
        distribution("my_app.repo.query.total_time", unit: {:native, :millisecond}, reporter_options: [buckets: [10, 100, 1000]]),
        sum("my_app.balance.change", reporter_options: [prometheus_type: :gauge]),
        sum("my_app.upload.size", unit: :byte)
      ])

    assert {count.name, count.type, count.kind} == {"http_request_stop_duration_total", :counter, :counter}
    assert {sum.name, sum.type, sum.kind} == {"phoenix_socket_drain_count_total", :counter, :sum}
    assert {last.name, last.type, last.help, last.factor} == {"vm_memory_total_bytes", :gauge, "Memory in use", 1000}
    assert {dist.name, dist.type} == {"my_app_repo_query_total_time_seconds", :histogram}
    assert dist.wire_buckets == [0.01, 0.1, 1.0]
    assert dist.bounds == {10, 100, 1000}
    assert {gauge_sum.name, gauge_sum.type} == {"my_app_balance_change", :gauge}
    assert bytes.name == "my_app_upload_size_bytes_total"
  end

  test "definitions it cannot serve raise at start-up" do
    assert_raise ArgumentError, ~r/ascending/, fn ->
      MetricDefinitions.compile([distribution("a.b", reporter_options: [buckets: [3, 1]])])
    end

    assert_raise ArgumentError, ~r/label name/, fn -> MetricDefinitions.compile([summary("a.b", tags: [:le])]) end
    assert_raise ArgumentError, ~r/label name/, fn -> MetricDefinitions.compile([counter("a.b", tags: [:__x])]) end
    assert_raise ArgumentError, ~r/at most 64/, fn ->
      MetricDefinitions.compile([distribution("a.b", reporter_options: [buckets: Enum.to_list(1..65)])])
    end

    assert_raise ArgumentError, ~r/same name/, fn -> MetricDefinitions.compile([counter("a.b"), counter("a.b")]) end
    assert_raise ArgumentError, ~r/not a Telemetry.Metrics definition/, fn -> MetricDefinitions.compile([%{name: [:a]}]) end
  end
end
