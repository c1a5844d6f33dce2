# Client-side aggregation (`metrics:`) against the per-event forwarder and the ETS-counter floor,
# in one BEAM run, with a real beam_exporter receiving (BEAM_EXPORTER_BINARY):
#
# 1. Caller cost per :telemetry.execute of the Phoenix endpoint stop event (Plug.Conn-shaped
#    metadata), best of the rounds (interleaved: round 1 of every variant, then round 2, ...),
#    every sender running (none suspended):
#      none               no handler
#      noop               a handler that does nothing: :telemetry's dispatch, the floor of any handler
#      ets_counter        :ets.update_counter/4 on a public table (the cheapest useful handler)
#      forwarder_live     the per-event forwarder, :phoenix preset
#      aggregated         metrics: [Metrics.summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond})]
#                         (the stock definition, untagged: sum and bucket in two :counters.add)
#      aggregated_tagged  the same with tags [:method, :status] read through tag_values from the conn
#                         (a row per series in ETS: sum and bucket in one update_counter)
# 2. Loss: two processes (one per scheduler) execute the event as fast as they can for DURATION
#    seconds with the aggregated forwarder flushing every second to the exporter; after a final
#    flush, /metrics must hold exactly the number of events executed.
# 3. Wire: bytes one flush sends (= bytes per second at the default 1 s interval) for S active
#    series and N events per interval.
#
#   BEAM_EXPORTER_BINARY=build/exporter/beam_exporter \
#     tests/support/run-with-forwarder WORK_DIR tests/bench/forwarder/aggregation_bench.exs [events] [rounds] [duration_s]
Code.require_file("../../support/telemetry_metrics_test_double/telemetry_metrics.ex", __DIR__)
Code.require_file("../../../collectors/telemetry/forwarder/test/support/real_exporter.ex", __DIR__)

# Remote calls (the double is loaded when this script runs, after it is compiled).
alias Telemetry.Metrics
alias BeamExporter.Forwarder
alias BeamExporter.Forwarder.RealExporter

{events, rounds, duration_s} =
  case Enum.map(System.argv(), &String.to_integer/1) do
    [n, r, d] -> {n, r, d}
    [n, r] -> {n, r, 10}
    [n] -> {n, 5, 10}
    [] -> {200_000, 5, 10}
  end

event = [:phoenix, :endpoint, :stop]
conn = %{method: "GET", status: 200, request_path: "/users/42", params: %{"id" => "42"}, private: %{}}
metadata = %{conn: conn, options: []}
duration = System.convert_time_unit(3, :millisecond, :native)
measurements = %{duration: duration}

exporter = RealExporter.start!()

stock = [Metrics.summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond})]

defmodule Bench.Handlers do
  def noop(_event, _measurements, _metadata, _config), do: :ok

  def ets_counter(_event, _measurements, _metadata, table), do: :ets.update_counter(table, :n, 1, {:n, 0})

  # The caller's loop, compiled: written in this script it would be run by erl_eval, which adds
  # its own ~60 ns per iteration to every variant.
  def execute_loop(0, _event, _measurements, _metadata), do: :ok

  def execute_loop(n, event, measurements, metadata) do
    :telemetry.execute(event, measurements, metadata)
    execute_loop(n - 1, event, measurements, metadata)
  end

  # Compiled, as an application's tag_values is (a fn written in this script would be run by the
  # interpreter, erl_eval, on every event).
  def conn_tags(%{conn: conn}), do: %{method: conn.method, status: conn.status}
end

tagged = [
  Metrics.summary("phoenix.endpoint.stop.duration",
    unit: {:native, :millisecond},
    tags: [:method, :status],
    tag_values: &Bench.Handlers.conn_tags/1
  )
]

time_per_event = fn ->
  {micros, _} = :timer.tc(Bench.Handlers, :execute_loop, [events, event, measurements, metadata])
  micros * 1000 / events
end

# Waits until the exporter has taken in everything sent so far (its packet counter holds still),
# so that it does not compete with the next variant for the 2 cores.
quiesce = fn ->
  read = fn -> RealExporter.value(RealExporter.metrics(exporter), "beam_exporter_telemetry_packets_total") end
  Enum.reduce_while(1..100, read.(), fn _, last ->
    Process.sleep(300)
    now = read.()
    if now == last, do: {:halt, now}, else: {:cont, now}
  end)
end

with_forwarder = fn opts ->
  {fn ->
     {:ok, pid} = Forwarder.start_link([port: exporter.udp, name: :bench] ++ opts)
     pid
   end,
   fn pid ->
     :ok = Forwarder.flush(:bench)
     Process.unlink(pid)
     Supervisor.stop(pid)
     quiesce.()
   end}
end

with_handler = fn id, function, config ->
  {fn -> :ok = :telemetry.attach(id, event, function, config) end, fn _ -> :telemetry.detach(id) end}
end

variants = [
  none: {fn -> nil end, fn _ -> :ok end},
  noop: with_handler.(:bench_noop, &Bench.Handlers.noop/4, nil),
  ets_counter: with_handler.(:bench_ets, &Bench.Handlers.ets_counter/4, :ets.new(:bench_counter, [:public, write_concurrency: true])),
  forwarder_live: with_forwarder.(presets: [:phoenix], buffer_size: events * 2),
  aggregated: with_forwarder.(metrics: stock),
  aggregated_tagged: with_forwarder.(metrics: tagged)
]

# The rounds interleave the variants (round 1 of each, then round 2 of each, ...), so that load
# from elsewhere on the machine falls on all of them alike; each variant's best round counts.
best =
  for _ <- 1..rounds, {name, {setup, teardown}} <- variants, reduce: %{} do
    acc ->
      state = setup.()
      ns = time_per_event.()
      teardown.(state)
      Map.update(acc, name, ns, &min(&1, ns))
  end

%{ets_counter: ets_counter, forwarder_live: forwarder_live} = best

IO.puts("otp=#{System.otp_release()} elixir=#{System.version()} schedulers=#{System.schedulers_online()} events=#{events} rounds=#{rounds}")

for {name, _} <- variants do
  ns = best[name]
  IO.puts(:io_lib.format("~-20s ~8.3f us/event  ~6.2fx ets_counter  forwarder_live/this ~6.2fx", [Atom.to_string(name), ns / 1000, ns / ets_counter, forwarder_live / ns]))
end

# 2. Loss at the highest rate two schedulers execute, for duration_s seconds. The histogram series
# already holds the aggregated_tagged rounds' events: the loss run must add exactly its own.
histogram = ~s(phoenix_endpoint_stop_duration_seconds_count{method="GET",status="200"})
before = RealExporter.value(RealExporter.metrics(exporter), histogram)
{:ok, pid} =
  Forwarder.start_link(
    port: exporter.udp,
    name: :bench_loss,
    metrics: [Metrics.counter("phoenix.endpoint.stop.count", tags: [:route]) | tagged]
  )

deadline = System.monotonic_time(:millisecond) + duration_s * 1000

loop = fn route ->
  Task.async(fn ->
    meta = Map.put(metadata, :route, route)

    Stream.repeatedly(fn ->
      Bench.Handlers.execute_loop(1000, event, measurements, meta)
      1000
    end)
    |> Enum.reduce_while(0, fn n, total ->
      if System.monotonic_time(:millisecond) < deadline, do: {:cont, total + n}, else: {:halt, total + n}
    end)
  end)
end

executed = [loop.("/a"), loop.("/b")] |> Enum.map(&Task.await(&1, (duration_s + 30) * 1000))
:ok = Forwarder.flush(:bench_loss)
total = Enum.sum(executed)
count_a = ~s(phoenix_endpoint_stop_count_total{route="/a"})
count_b = ~s(phoenix_endpoint_stop_count_total{route="/b"})

on_metrics = fn ->
  m = RealExporter.metrics(exporter)
  {RealExporter.value(m, count_a), RealExporter.value(m, count_b), RealExporter.value(m, histogram)}
end

expected = {Enum.at(executed, 0), Enum.at(executed, 1), before + total}
got = Enum.find_value(1..100, fn _ -> (on_metrics.() == expected && expected) || (Process.sleep(100) && nil) end) || on_metrics.()
stats = Forwarder.stats(:bench_loss)
Process.unlink(pid)
Supervisor.stop(pid)

IO.puts(
  "loss: 2 processes x #{duration_s} s executed #{total} events (#{round(total / duration_s)} events/s); " <>
    "/metrics counts {/a, /b, histogram} #{inspect(got)} expected #{inspect(expected)} (histogram held #{before} before); flushes #{stats.flushes}, send_errors #{stats.send_errors}, " <>
    "dropped_series_limit #{stats.dropped_series_limit}"
)

# 3. Bytes of one flush for S series and N events in the interval (to a plain UDP sink).
{:ok, sink} = :gen_udp.open(0, [:binary, active: false, ip: {127, 0, 0, 1}, recbuf: 8 * 1024 * 1024])
{:ok, sink_port} = :inet.port(sink)

drain = fn drain, bytes ->
  case :gen_udp.recv(sink, 0, 200) do
    {:ok, {_, _, <<"BXT2", _::binary>> = d}} -> drain.(drain, bytes + byte_size(d))
    {:ok, _} -> drain.(drain, bytes)
    {:error, :timeout} -> bytes
  end
end

IO.puts("wire: bytes per flush (= bytes/s at flush_interval 1 s), histogram with 11 buckets tagged by route, own counters included")

for series <- [1, 10, 100, 1000], per_interval <- [10_000, 1_000_000] do
  {:ok, pid} = Forwarder.start_link(port: sink_port, name: :bench_wire, flush_interval: 3_600_000,
    metrics: [Metrics.summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond}, tags: [:route])])
  :ok = Forwarder.flush(:bench_wire)
  drain.(drain, 0)
  metas = List.to_tuple(for i <- 1..series, do: %{route: "/route/#{i}"})
  for i <- 1..per_interval, do: :telemetry.execute(event, measurements, elem(metas, rem(i, series)))
  :ok = Forwarder.flush(:bench_wire)
  bytes = drain.(drain, 0)
  IO.puts(:io_lib.format("  series ~5w  events ~8w  bytes ~8w  bytes/series ~6.1f", [series, per_interval, bytes, bytes / series]))
  Process.unlink(pid)
  Supervisor.stop(pid)
end

RealExporter.stop(exporter)
if got != expected, do: System.halt(1)
