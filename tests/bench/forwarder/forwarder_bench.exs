# Cost per :telemetry.execute in the calling process, in one BEAM run, for:
#   none        - no handler attached (the floor),
#   ets_counter - a handler that bumps an ETS counter (the cheapest useful handler),
#   forwarder   - BeamExporter.Forwarder's handler (Phoenix endpoint preset, a Plug.Conn-shaped map),
#                 see below for its two variants,
#   udp_sync    - a handler that encodes and sends one UDP datagram per event in the caller (for scale).
# Prints µs/event, the best of the rounds (other load on the machine only ever adds time), and
# the ratios to `none` and `ets_counter`.
#
# Run through ./run-bench (which compiles the forwarder offline):  run-bench WORK_DIR [events] [rounds]

alias BeamExporter.Forwarder

[events, rounds] =
  case System.argv() do
    [n, r] -> [String.to_integer(n), String.to_integer(r)]
    [n] -> [String.to_integer(n), 5]
    [] -> [200_000, 5]
  end

event = [:phoenix, :endpoint, :stop]
measurements = %{duration: 123_456}
conn = %{method: "GET", status: 200, request_path: "/users/42", params: %{"id" => "42"}, private: %{phoenix_route: "/users/:id"}}
metadata = %{conn: conn, options: []}

{:ok, sink} = :gen_udp.open(0, [:binary, active: false, ip: {127, 0, 0, 1}, recbuf: 8 * 1024 * 1024])
{:ok, sink_port} = :inet.port(sink)

# Keep the sink drained so the kernel does not spend time on a full queue.
drainer = spawn(fn -> Stream.repeatedly(fn -> :gen_udp.recv(sink, 0, 1000) end) |> Enum.find(&match?({:error, _}, &1)) end)
:ok = :gen_udp.controlling_process(sink, drainer)

time_per_event = fn ->
  {micros, _} = :timer.tc(fn -> for _ <- 1..events, do: :telemetry.execute(event, measurements, metadata) end)
  micros * 1000 / events
end


measure = fn setup, teardown ->
  samples =
    for _ <- 1..rounds do
      state = setup.()
      ns = time_per_event.()
      teardown.(state)
      ns
    end

  Enum.min(samples)
end

defmodule Bench.Handlers do
  def ets_counter(_event, _measurements, _metadata, table), do: :ets.update_counter(table, :n, 1, {:n, 0})

  def udp_sync(event, measurements, _metadata, {socket, port}) do
    :gen_udp.send(socket, {127, 0, 0, 1}, port, :erlang.term_to_binary({node(), [{event, measurements, %{}, 0}]}))
  end
end

none = measure.(fn -> nil end, fn _ -> :ok end)

ets_counter =
  measure.(
    fn ->
      table = :ets.new(:bench_counter, [:public, write_concurrency: true])
      :telemetry.attach(:bench_ets, event, &Bench.Handlers.ets_counter/4, table)
    end,
    fn _ -> :telemetry.detach(:bench_ets) end
  )

# The forwarder twice: `forwarder` with its sender suspended while the loop runs (the cost paid by
# the calling process alone; the sender then drains, timed separately as its throughput), and
# `forwarder_live` with the sender running alongside (on 2 cores it competes with the caller).
forwarder_round = fn suspend? ->
  parent = self()

  measure.(
    fn ->
      {:ok, pid} = Forwarder.start_link(port: sink_port, presets: [:phoenix], buffer_size: events * 2)
      if suspend?, do: :sys.suspend(Forwarder.sender())
      pid
    end,
    fn pid ->
      if suspend?, do: :sys.resume(Forwarder.sender())
      {drain_us, :ok} = :timer.tc(fn -> Forwarder.flush() end)
      send(parent, {:round, Forwarder.stats(), drain_us})
      Process.unlink(pid)
      Supervisor.stop(pid)
    end
  )
end

collect_rounds = fn -> for _ <- 1..rounds, do: receive(do: ({:round, stats, drain_us} -> {stats, drain_us})) end

forwarder = forwarder_round.(true)
caller_rounds = collect_rounds.()
forwarder_live = forwarder_round.(false)
live_rounds = collect_rounds.()
stats = Enum.map(caller_rounds ++ live_rounds, &elem(&1, 0))
sender_events_per_s = Enum.max(for {_, drain_us} <- caller_rounds, do: events / drain_us * 1_000_000)

udp_sync =
  measure.(
    fn ->
      {:ok, socket} = :gen_udp.open(0, [:binary])
      :telemetry.attach(:bench_udp, event, &Bench.Handlers.udp_sync/4, {socket, sink_port})
      socket
    end,
    fn socket ->
      :telemetry.detach(:bench_udp)
      :gen_udp.close(socket)
    end
  )

IO.puts("otp=#{System.otp_release()} elixir=#{System.version()} schedulers=#{System.schedulers_online()} events=#{events} rounds=#{rounds}")

for {name, ns} <- [none: none, ets_counter: ets_counter, forwarder: forwarder, forwarder_live: forwarder_live, udp_sync: udp_sync] do
  IO.puts(:io_lib.format("~-14s ~8.3f us/event  ~6.2fx none  ~6.2fx ets_counter", [Atom.to_string(name), ns / 1000, ns / none, ns / ets_counter]))
end

dropped = stats |> Enum.map(&(&1.dropped_overload + &1.dropped_oversize + &1.handler_errors)) |> Enum.sum()
sent = stats |> Enum.map(& &1.events_sent) |> Enum.sum()
IO.puts("sender: drains #{round(sender_events_per_s)} events/s (encode + send, best round)")
IO.puts("forwarder: events sent #{sent} of #{2 * events * rounds}, dropped or failed #{dropped}")
if dropped != 0 or sent != 2 * events * rounds, do: System.halt(1)
