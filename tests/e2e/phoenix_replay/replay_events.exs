# The Elixir side of the native replay test: every :telemetry event that a real Phoenix 1.7 app
# emitted (../shared/fixtures/phoenix-1.7/events.etf, in emission order, with the real
# measurements and metadata) is executed again through the :telemetry API, where the forwarder's
# real handlers (presets :phoenix, :live_view, :ecto, :oban) pick them up and send them over UDP.
#   tests/support/run-with-forwarder WORK_DIR tests/e2e/phoenix_replay/replay_events.exs PORT EVENTS_ETF
# Prints the forwarder's counters as one `stats key=value ...` line (with the number of recorded
# events and of handlers still attached), then exits.
[port, events_path] = System.argv()

events = events_path |> File.read!() |> :erlang.binary_to_term()

{:ok, _} =
  BeamExporter.Forwarder.start_link(
    port: String.to_integer(port),
    presets: [:phoenix, :live_view, :ecto, :oban],
    repo_prefixes: [[:my_app, :repo]]
  )

for {event, measurements, metadata, _monotonic_time} <- events do
  :telemetry.execute(event, measurements, metadata)
end

# Bad input: one recorded LiveView render whose socket is not a map. The preset cannot read it:
# the forwarder drops and counts it, and its handler stays attached.
{render, measurements, metadata, _} = Enum.find(events, &match?({[:phoenix, :live_view, :render, :stop], _, _, _}, &1))
:telemetry.execute(render, measurements, %{metadata | socket: "not a socket"})

:ok = BeamExporter.Forwarder.flush()
stats = BeamExporter.Forwarder.stats()
# The handlers must all still be attached: a preset that cannot read an event counts it, never
# gets its handler detached.
attached = length(:telemetry.list_handlers([]))

IO.puts(
  "stats events=#{length(events)} attached=#{attached} " <>
    Enum.map_join(Enum.sort(stats), " ", fn {k, v} -> "#{k}=#{v}" end)
)
