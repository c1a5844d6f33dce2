# The Elixir side of forwarder_e2e_test: a real node running BeamExporter.Forwarder emits real
# :telemetry events (Phoenix's, and Bandit's WebSocket events as Bandit sends them) and one real
# GenServer.call-timeout crash (calling the registered E2E.Slow), then flushes and exits.
#   tests/support/run-with-forwarder WORK_DIR tests/e2e/forwarder/emit_events.exs PORT
[port] = System.argv()
{:ok, _} = BeamExporter.Forwarder.start_link(port: String.to_integer(port), presets: [:phoenix, :logger])

native = fn ms -> System.convert_time_unit(ms, :millisecond, :native) end
conn = fn status, path -> %{method: "GET", status: status, request_path: path, params: %{}, private: %{}} end

# 10 requests of 100 ms and 5 of 300 ms to /users/:id (200); 2 of 20 ms to / (404).
for _ <- 1..10 do
  :telemetry.execute([:phoenix, :router_dispatch, :stop], %{duration: native.(100)},
    %{conn: conn.(200, "/users/1"), route: "/users/:id", plug: MyAppWeb.UserController, plug_opts: :show})
end

for _ <- 1..5 do
  :telemetry.execute([:phoenix, :router_dispatch, :stop], %{duration: native.(300)},
    %{conn: conn.(200, "/users/2"), route: "/users/:id", plug: MyAppWeb.UserController, plug_opts: :show})
end

for _ <- 1..2 do
  :telemetry.execute([:phoenix, :router_dispatch, :stop], %{duration: native.(20)},
    %{conn: conn.(404, "/"), route: "/", plug: MyAppWeb.PageController, plug_opts: :index})
end

# Bandit's WebSocket spans, with the measurements Bandit sends: 3 upgrades, 2 closed after 30 s
# and 90 s (the frame counts are dropped by the mapping).
span = %{telemetry_span_context: make_ref()}

for _ <- 1..3 do
  :telemetry.execute([:bandit, :websocket, :start], %{monotonic_time: System.monotonic_time(), compress: false}, span)
end

for seconds <- [30, 90] do
  :telemetry.execute([:bandit, :websocket, :stop],
    %{monotonic_time: System.monotonic_time(), duration: native.(seconds * 1000), recv_text_frame_count: 4,
      recv_text_frame_bytes: 120, send_text_frame_count: 4, send_text_frame_bytes: 300}, span)
end

defmodule E2E.Slow do
  use GenServer
  def init(state), do: {:ok, state}
  def handle_call(:block, _from, state), do: Process.sleep(300) && {:reply, :ok, state}
end

defmodule E2E.Caller do
  use GenServer
  def init(slow), do: {:ok, slow}
  def handle_cast(:go, slow), do: {:noreply, GenServer.call(slow, :block, 50) && slow}
end

# Registered, so the crash names the called server (server="E2E.Slow").
{:ok, _} = GenServer.start(E2E.Slow, nil, name: E2E.Slow)
{:ok, caller} = GenServer.start(E2E.Caller, E2E.Slow)
ref = Process.monitor(caller)
GenServer.cast(caller, :go)
receive do
  {:DOWN, ^ref, _, _, _} -> :ok
after
  5_000 -> raise "the caller did not crash"
end

# Let the logger handler run, then send everything.
Process.sleep(200)
:ok = BeamExporter.Forwarder.flush()
IO.puts("emitted #{inspect(BeamExporter.Forwarder.stats())}")
