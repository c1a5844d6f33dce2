defmodule Lab.SlowServer do
  @moduledoc """
  GenServer timeouts: a named server whose `:work` call answers at once, or, while the
  `genserver_timeout` fault is on, blocks for 6 s: longer than GenServer.call's 5 s default, so
  every caller (`Lab.SlowCallers`) exits with `{:timeout, {GenServer, :call, _}}` and writes a
  crash report, and callers pile up in this server's mailbox.
  """
  use GenServer

  @block_ms 6_000

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @doc "The call the app makes (default 5 s timeout)."
  def work, do: GenServer.call(__MODULE__, :work)

  @impl true
  def init(nil), do: {:ok, nil}

  @impl true
  def handle_call(:work, _from, state) do
    if Lab.Faults.on?(:genserver_timeout), do: Process.sleep(@block_ms)
    {:reply, :ok, state}
  end
end
