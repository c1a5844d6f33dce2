# Cost per :telemetry.execute in the calling process, in one BEAM run, for:
#   none        - no handler attached (the floor),
#   noop        - a handler that does nothing (telemetry's dispatch to one handler: what any handler pays),
#   ets_counter - a handler that bumps an ETS counter (the cheapest useful handler),
#   send_only   - a handler that only sends a constant one-word message to a descheduled process (the
#                 floor of any design that hands each event to another process as a message),
#   forwarder   - BeamExporter.Forwarder's handler (Phoenix endpoint preset, a Plug.Conn-shaped map),
#                 see below for its three variants,
#   udp_sync    - a handler that encodes and sends one UDP datagram per event in the caller (for scale),
# and then none and the forwarder again after :telemetry.persist() (see the end).
# Prints µs/event, the best of the rounds (other load on the machine only ever adds time), and
# the ratios to `none` and `ets_counter`.
#
# Run through tests/support/run-with-forwarder (which compiles the forwarder offline):
#   tests/support/run-with-forwarder WORK_DIR tests/bench/forwarder/forwarder_bench.exs [events] [rounds]

alias BeamExporter.Forwarder

[events, rounds] =
  case System.argv() do
    [n, r] -> [String.to_integer(n), String.to_integer(r)]
    [n] -> [String.to_integer(n), 5]
    [] -> [200_000, 5]
  end

event = [:phoenix, :endpoint, :stop]
measurements = %{duration: 123_456}
conn = %{method: "GET", status: 200, request_path: "/users/42", params: %{"id" => "42"}, private: %{}}
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
  def noop(_event, _measurements, _metadata, _config), do: :ok

  def ets_counter(_event, _measurements, _metadata, table), do: :ets.update_counter(table, :n, 1, {:n, 0})

  def send_only(_event, _measurements, _metadata, pid), do: send(pid, :event)

  def udp_sync(event, measurements, _metadata, {socket, port}) do
    :gen_udp.send(socket, {127, 0, 0, 1}, port, :erlang.term_to_binary({node(), [{event, measurements, %{}, 0}]}))
  end
end

none = measure.(fn -> nil end, fn _ -> :ok end)

noop =
  measure.(
    fn -> :telemetry.attach(:bench_noop, event, &Bench.Handlers.noop/4, nil) end,
    fn _ -> :telemetry.detach(:bench_noop) end
  )

ets_counter =
  measure.(
    fn ->
      table = :ets.new(:bench_counter, [:public, write_concurrency: true])
      :telemetry.attach(:bench_ets, event, &Bench.Handlers.ets_counter/4, table)
    end,
    fn _ -> :telemetry.detach(:bench_ets) end
  )

send_only =
  measure.(
    fn ->
      pid = spawn(fn -> receive(do: (:stop -> :ok)) end)
      :erlang.suspend_process(pid)
      :telemetry.attach(:bench_send, event, &Bench.Handlers.send_only/4, pid)
      pid
    end,
    fn pid ->
      :telemetry.detach(:bench_send)
      Process.exit(pid, :kill)
    end
  )

# The forwarder three ways:
#   forwarder        - its sender suspended with :sys.suspend/1 while the loop runs: the cost paid by
#                      the calling process, the sender then drains (timed separately as its
#                      throughput). A sys-suspended process waits in a receive, like an idle sender,
#                      so each event message also wakes it: the caller pays that wake-up.
#   forwarder_nowake - its sender descheduled with :erlang.suspend_process/1: the same without the
#                      wake-ups (as when the sender is busy and the events only queue), i.e. the
#                      handler's own work.
#   forwarder_live   - the sender running alongside (on 2 cores it competes with the caller).
forwarder_round = fn suspension ->
  parent = self()

  {suspend, resume} =
    case suspension do
      :sys -> {&:sys.suspend/1, &:sys.resume/1}
      :process -> {&:erlang.suspend_process/1, &:erlang.resume_process/1}
      :live -> {fn _ -> :ok end, fn _ -> :ok end}
    end

  measure.(
    fn ->
      {:ok, pid} = Forwarder.start_link(port: sink_port, presets: [:phoenix], buffer_size: events * 2)
      suspend.(Forwarder.sender())
      pid
    end,
    fn pid ->
      resume.(Forwarder.sender())
      {drain_us, :ok} = :timer.tc(fn -> Forwarder.flush() end)
      send(parent, {:round, Forwarder.stats(), drain_us})
      Process.unlink(pid)
      Supervisor.stop(pid)
    end
  )
end

collect_rounds = fn -> for _ <- 1..rounds, do: receive(do: ({:round, stats, drain_us} -> {stats, drain_us})) end

forwarder = forwarder_round.(:sys)
caller_rounds = collect_rounds.()
forwarder_nowake = forwarder_round.(:process)
nowake_rounds = collect_rounds.()
forwarder_live = forwarder_round.(:live)
live_rounds = collect_rounds.()
stats = Enum.map(caller_rounds ++ nowake_rounds ++ live_rounds, &elem(&1, 0))
sender_events_per_s = Enum.max(for {_, drain_us} <- caller_rounds ++ nowake_rounds, do: events / drain_us * 1_000_000)

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

# Last, because it cannot be undone in this VM: :telemetry.persist/0 (telemetry >= 1.4) moves the
# handler table from ETS to a persistent term, so `execute` no longer copies the handlers out of
# ETS. An application calls it once after start-up (later attaches and detaches become slow).
:ok = :telemetry.persist()
none_persist = measure.(fn -> nil end, fn _ -> :ok end)
forwarder_persist = forwarder_round.(:sys)
forwarder_persist_nowake = forwarder_round.(:process)
persist_rounds = collect_rounds.() ++ collect_rounds.()
stats = stats ++ Enum.map(persist_rounds, &elem(&1, 0))

IO.puts("otp=#{System.otp_release()} elixir=#{System.version()} schedulers=#{System.schedulers_online()} events=#{events} rounds=#{rounds}")

print = fn variants ->
  for {name, ns} <- variants do
    IO.puts(:io_lib.format("~-24s ~8.3f us/event  ~6.2fx none  ~6.2fx ets_counter", [Atom.to_string(name), ns / 1000, ns / none, ns / ets_counter]))
  end
end

print.(none: none, noop: noop, ets_counter: ets_counter, send_only: send_only, forwarder: forwarder, forwarder_nowake: forwarder_nowake, forwarder_live: forwarder_live, udp_sync: udp_sync)
IO.puts("after :telemetry.persist() (ratios still to the ETS-table none and ets_counter above):")
print.(none_persist: none_persist, forwarder_persist: forwarder_persist, forwarder_persist_nowake: forwarder_persist_nowake)

dropped = stats |> Enum.map(&(&1.dropped_overload + &1.dropped_oversize + &1.dropped_missing_key + &1.dropped_unexpected_type +
  &1.dropped_extractor_failed)) |> Enum.sum()
sent = stats |> Enum.map(& &1.events_sent) |> Enum.sum()
IO.puts("sender: drains #{round(sender_events_per_s)} events/s (encode + send, best round)")
IO.puts("forwarder: events sent #{sent} of #{5 * events * rounds}, dropped or failed #{dropped}")
if dropped != 0 or sent != 5 * events * rounds, do: System.halt(1)
