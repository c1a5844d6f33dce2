defmodule BeamExporter.Forwarder.LoggerHandlerTest do
  # Not async: the :logger handler is VM-wide.
  use ExUnit.Case, async: false

  alias BeamExporter.Forwarder
  alias BeamExporter.Forwarder.UdpSink

  # Elixir's Logger prints the (expected) crash reports; keep the test output readable.
  @moduletag :capture_log

  defmodule Slow do
    use GenServer
    def init(state), do: {:ok, state}
    def handle_call(:block, _from, state), do: Process.sleep(500) && {:reply, :ok, state}
  end

  # A GenServer that calls Slow with a short timeout: the real GenServer.call timeout exits it.
  defmodule Caller do
    use GenServer
    def init(slow), do: {:ok, slow}
    def handle_cast(:call_slow, slow), do: {:noreply, GenServer.call(slow, :block, 50) && slow}
  end

  setup do
    {socket, port} = UdpSink.open()

    start_supervised!({Forwarder, name: :logger_test, port: port, presets: [:logger]})

    on_exit(fn -> :gen_udp.close(socket) end)
    %{socket: socket}
  end

  defp named(events, name), do: for({^name, _, _, _} = e <- events, do: e)

  # Starts Slow (registered as `name`, or unnamed when nil) and a Caller that calls it by
  # `name` (or pid) and crashes on the timeout; returns the events forwarded meanwhile.
  defp call_timeout_events(socket, name) do
    opts = if name, do: [name: name], else: []
    slow = start_supervised!(%{id: Slow, start: {GenServer, :start_link, [Slow, nil, opts]}})
    {:ok, caller} = GenServer.start(Caller, name || slow)
    ref = Process.monitor(caller)
    GenServer.cast(caller, :call_slow)
    assert_receive {:DOWN, ^ref, :process, ^caller, {:timeout, {GenServer, :call, _}}}, 2000

    Forwarder.flush(:logger_test)
    UdpSink.events(socket, 500)
  end

  test "a real GenServer.call timeout produces exactly one crash event with reason timeout, naming the registered server",
       %{socket: socket} do
    events = call_timeout_events(socket, Slow)

    assert [{_, %{count: 1}, meta, _}] = named(events, [:beam_exporter, :logger, :crash])
    assert meta == %{reason: "timeout", server: "BeamExporter.Forwarder.LoggerHandlerTest.Slow"}

    messages = named(events, [:beam_exporter, :logger, :message])

    assert messages != [] and
             Enum.all?(messages, fn {_, _, meta, _} -> meta == %{level: "error"} end)
  end

  test "a real GenServer.call timeout on an unnamed server names it 'pid'", %{socket: socket} do
    events = call_timeout_events(socket, nil)

    assert [{_, _, %{reason: "timeout", server: "pid"}, _}] =
             named(events, [:beam_exporter, :logger, :crash])
  end

  test "real supervisor restarts produce restart events naming supervisor and child", %{
    socket: socket
  } do
    children = [%{id: :flaky_worker, start: {Agent, :start_link, [fn -> 0 end]}}]

    {:ok, sup} =
      Supervisor.start_link(children,
        strategy: :one_for_one,
        name: LoggerTestSup,
        max_restarts: 10
      )

    for _ <- 1..3 do
      [{:flaky_worker, pid, _, _}] = Supervisor.which_children(sup)
      Process.exit(pid, :kill)
      wait_restarted(sup, pid)
    end

    Forwarder.flush(:logger_test)
    restarts = named(UdpSink.events(socket, 500), [:beam_exporter, :logger, :supervisor_restart])
    assert length(restarts) == 3

    assert Enum.all?(restarts, fn {_, m, meta, _} ->
             m == %{count: 1} and meta == %{supervisor: "LoggerTestSup", child: "flaky_worker"}
           end)

    Supervisor.stop(sup)
  end

  test "a crashing spawned process is counted with its reason", %{socket: socket} do
    spawn(fn -> :erlang.binary_to_atom(Process.get(:not_a_binary)) end)
    Process.sleep(200)
    Forwarder.flush(:logger_test)

    assert [{_, _, %{reason: "badarg", server: ""}, _}] =
             named(UdpSink.events(socket, 500), [:beam_exporter, :logger, :crash])
  end

  test "info and warning logs are not counted", %{socket: socket} do
    :logger.warning('just a warning')
    :logger.info('fyi')
    Forwarder.flush(:logger_test)
    assert named(UdpSink.events(socket, 500), [:beam_exporter, :logger, :message]) == []
  end

  defp wait_restarted(sup, old_pid) do
    case Supervisor.which_children(sup) do
      [{_, pid, _, _}] when is_pid(pid) and pid != old_pid -> :ok
      _ -> Process.sleep(5) && wait_restarted(sup, old_pid)
    end
  end
end
