defmodule Lab.FlakySupervisor do
  @moduledoc """
  Restart storm: supervises `Lab.FlakyWorker` (child id `:flaky_worker`). While `restart_storm`
  is on, the worker crashes 200 ms after each start, so this supervisor restarts it ~5 times a
  second (its restart intensity is set high enough to keep going rather than give up).
  """
  use Supervisor

  def start_link(_), do: Supervisor.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil) do
    children = [%{id: :flaky_worker, start: {Lab.FlakyWorker, :start_link, []}}]
    Supervisor.init(children, strategy: :one_for_one, max_restarts: 1_000, max_seconds: 1)
  end
end

defmodule Lab.FlakyWorker do
  @moduledoc "The worker of `Lab.FlakySupervisor` (registered as `Lab.FlakyWorker`)."
  use GenServer

  @crash_after_ms 200

  def start_link, do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil) do
    Process.send_after(self(), :check, @crash_after_ms)
    {:ok, nil}
  end

  @impl true
  def handle_info(:check, state) do
    if Lab.Faults.on?(:restart_storm), do: raise("flaky worker crashed (restart_storm fault)")
    Process.send_after(self(), :check, @crash_after_ms)
    {:noreply, state}
  end
end
