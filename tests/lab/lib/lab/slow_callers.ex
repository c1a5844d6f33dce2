defmodule Lab.SlowCallers do
  @moduledoc """
  Calls `Lab.SlowServer.work/0` twice a second, each from a fresh proc_lib process (like a
  request process): healthy, each call returns at once; under `genserver_timeout` each caller
  crashes with a call timeout (one crash report per caller, no supervisor involved).
  """
  use GenServer

  @interval_ms 500

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil), do: {:ok, schedule(nil)}

  @impl true
  def handle_info(:tick, state) do
    :proc_lib.spawn(fn -> Lab.SlowServer.work() end)
    {:noreply, schedule(state)}
  end

  defp schedule(state) do
    Process.send_after(self(), :tick, @interval_ms)
    state
  end
end
