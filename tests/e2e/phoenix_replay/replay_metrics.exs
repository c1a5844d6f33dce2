# The Elixir side of the Telemetry.Metrics replay test: every :telemetry event of a real Phoenix
# 1.7 app (../shared/fixtures/phoenix-1.7/events.etf) is executed again through the :telemetry API
# with the forwarder started as `{BeamExporter.Forwarder, metrics: MyAppWeb.Telemetry.metrics()}`,
# the stock list of scenario.md ("metrics/0, in order"), through the test-only Telemetry.Metrics
# double (tests/support/telemetry_metrics_test_double).
#   tests/support/run-with-forwarder WORK_DIR tests/e2e/phoenix_replay/replay_metrics.exs PORT EVENTS_ETF
# Prints the forwarder's counters as one `stats key=value ...` line, and for every histogram the
# sum the recorded events give, computed here straight from the recording (not through the
# forwarder): `sum <prometheus name> <value in base units>`.
Code.require_file("../../support/telemetry_metrics_test_double/telemetry_metrics.ex", __DIR__)

defmodule MyAppWeb.Telemetry do
  import Telemetry.Metrics

  # scenario.md, "`metrics/0`, in order (the generator's list, unchanged)".
  def metrics do
    [
      summary("phoenix.endpoint.start.system_time", unit: {:native, :millisecond}),
      summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond}),
      summary("phoenix.router_dispatch.start.system_time", tags: [:route], unit: {:native, :millisecond}),
      summary("phoenix.router_dispatch.exception.duration", tags: [:route], unit: {:native, :millisecond}),
      summary("phoenix.router_dispatch.stop.duration", tags: [:route], unit: {:native, :millisecond}),
      summary("phoenix.socket_connected.duration", unit: {:native, :millisecond}),
      sum("phoenix.socket_drain.count"),
      summary("phoenix.channel_joined.duration", unit: {:native, :millisecond}),
      summary("phoenix.channel_handled_in.duration", tags: [:event], unit: {:native, :millisecond}),
      summary("my_app.repo.query.total_time", unit: {:native, :millisecond}, description: "The sum of the other measurements"),
      summary("my_app.repo.query.decode_time", unit: {:native, :millisecond}, description: "The time spent decoding the data received from the database"),
      summary("my_app.repo.query.query_time", unit: {:native, :millisecond}, description: "The time spent executing the query"),
      summary("my_app.repo.query.queue_time", unit: {:native, :millisecond}, description: "The time spent waiting for a database connection"),
      summary("my_app.repo.query.idle_time", unit: {:native, :millisecond},
        description: "The time the connection spent waiting before being checked out for the query"),
      summary("vm.memory.total", unit: {:byte, :kilobyte}),
      summary("vm.total_run_queue_lengths.total"),
      summary("vm.total_run_queue_lengths.cpu"),
      summary("vm.total_run_queue_lengths.io")
    ]
  end
end

[port, events_path] = System.argv()
events = events_path |> File.read!() |> :erlang.binary_to_term()

{:ok, _} = BeamExporter.Forwarder.start_link(port: String.to_integer(port), metrics: MyAppWeb.Telemetry.metrics())

for {event, measurements, metadata, _monotonic_time} <- events do
  :telemetry.execute(event, measurements, metadata)
end

:ok = BeamExporter.Forwarder.flush()

IO.puts(
  "stats events=#{length(events)} " <>
    Enum.map_join(Enum.sort(BeamExporter.Forwarder.stats()), " ", fn {k, v} -> "#{k}=#{v}" end)
)

# The expected sums, in base units: native time units to seconds, bytes as recorded.
native = System.convert_time_unit(1, :second, :native)

expected = [
  {"phoenix_endpoint_stop_duration_seconds", [:phoenix, :endpoint, :stop], :duration, native},
  {"phoenix_router_dispatch_stop_duration_seconds", [:phoenix, :router_dispatch, :stop], :duration, native},
  {"phoenix_router_dispatch_exception_duration_seconds", [:phoenix, :router_dispatch, :exception], :duration, native},
  {"phoenix_socket_connected_duration_seconds", [:phoenix, :socket_connected], :duration, native},
  {"phoenix_channel_joined_duration_seconds", [:phoenix, :channel_joined], :duration, native},
  {"phoenix_channel_handled_in_duration_seconds", [:phoenix, :channel_handled_in], :duration, native},
  {"my_app_repo_query_total_time_seconds", [:my_app, :repo, :query], :total_time, native},
  {"my_app_repo_query_decode_time_seconds", [:my_app, :repo, :query], :decode_time, native},
  {"my_app_repo_query_query_time_seconds", [:my_app, :repo, :query], :query_time, native},
  {"my_app_repo_query_queue_time_seconds", [:my_app, :repo, :query], :queue_time, native},
  {"my_app_repo_query_idle_time_seconds", [:my_app, :repo, :query], :idle_time, native},
  {"vm_memory_total_bytes", [:vm, :memory], :total, 1},
  {"vm_total_run_queue_lengths_total", [:vm, :total_run_queue_lengths], :total, 1},
  {"vm_total_run_queue_lengths_cpu", [:vm, :total_run_queue_lengths], :cpu, 1},
  {"vm_total_run_queue_lengths_io", [:vm, :total_run_queue_lengths], :io, 1}
]

for {name, event, key, divisor} <- expected do
  sum = for({^event, %{^key => v}, _, _} when is_number(v) <- events, do: v) |> Enum.sum()
  IO.puts("sum #{name} #{:erlang.float_to_binary(sum / divisor, [{:scientific, 17}])}")
end
