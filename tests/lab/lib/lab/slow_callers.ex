defmodule Lab.SlowCallers do
  @moduledoc """
  Calls `Lab.SlowServer.work/0` twice a second, each from a fresh proc_lib process (like a
  request process): healthy, each call returns at once; under `genserver_timeout` each caller
  crashes with a call timeout (one crash report per caller, no supervisor involved).
  """
  use Lab.Ticker, interval_ms: 500

  def tick(state) do
    :proc_lib.spawn(fn -> Lab.SlowServer.work() end)
    state
  end
end
