# The lab app is started by the tests (mix test --no-start): they choose its ports and the UDP
# socket that receives its telemetry first.

defmodule Lab.TestSink do
  @moduledoc "A real UDP socket receiving the lab's forwarded telemetry; keeps the decoded events."
  use GenServer

  def start_link, do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)
  def port, do: GenServer.call(__MODULE__, :port)
  def clear, do: GenServer.call(__MODULE__, :clear)
  def events, do: GenServer.call(__MODULE__, :events)

  @impl true
  def init(nil) do
    {:ok, socket} =
      :gen_udp.open(0, [:binary, active: true, ip: {127, 0, 0, 1}, recbuf: 4 * 1024 * 1024])

    {:ok, %{socket: socket, events: []}}
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, elem(:inet.port(state.socket), 1), state}
  def handle_call(:clear, _from, state), do: {:reply, :ok, %{state | events: []}}
  def handle_call(:events, _from, state), do: {:reply, Enum.reverse(state.events), state}

  @impl true
  def handle_info({:udp, _, _, _, "BXT1" <> etf}, state) do
    {_node, events} = :erlang.binary_to_term(etf, [:safe])
    {:noreply, %{state | events: Enum.reverse(events, state.events)}}
  end

  # The forwarder's own counters (aggregated form, every flush interval): not what these tests read.
  def handle_info({:udp, _, _, _, "BXT2" <> _}, state), do: {:noreply, state}
end

defmodule Lab.TestHelpers do
  @doc "Polls `check` every 100 ms until it returns a truthy value or `timeout_ms` passes."
  def wait_until(check, timeout_ms) do
    deadline = System.monotonic_time(:millisecond) + timeout_ms
    poll(check, deadline)
  end

  defp poll(check, deadline) do
    cond do
      value = check.() -> value
      System.monotonic_time(:millisecond) > deadline -> false
      true -> Process.sleep(100) && poll(check, deadline)
    end
  end

  def events_named(name), do: for({^name, _, _, _} = e <- Lab.TestSink.events(), do: e)

  @doc "Waits up to `timeout_ms` for a forwarded event `name` for which `matches?` is true."
  def wait_for_event(name, matches?, timeout_ms \\ 5_000),
    do: wait_until(fn -> Enum.find(events_named(name), matches?) end, timeout_ms)

  def free_tcp_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end
end

ExUnit.start()
