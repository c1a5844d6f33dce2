defmodule Lab.Ticker do
  @moduledoc """
  What the fault workers share: a GenServer registered under its module name that calls its
  `tick/1` every `interval_ms`. `tick/1` gets the state and returns the next one, or
  `{:hibernate, state}` to hibernate until the next tick (which compacts the heap).
  `initial_state` is an expression evaluated in `init/1`, in the new process (so it may set
  things up, e.g. create a table the process owns).

      use Lab.Ticker, interval_ms: 200, initial_state: []
  """

  defmacro __using__(opts) do
    interval_ms = Keyword.fetch!(opts, :interval_ms)
    initial_state = Keyword.get(opts, :initial_state)

    quote do
      use GenServer

      def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

      @impl true
      def init(nil), do: {:ok, Lab.Ticker.schedule(unquote(interval_ms), unquote(initial_state))}

      @impl true
      def handle_info(:tick, state) do
        case tick(state) do
          {:hibernate, next} ->
            {:noreply, Lab.Ticker.schedule(unquote(interval_ms), next), :hibernate}

          next ->
            {:noreply, Lab.Ticker.schedule(unquote(interval_ms), next)}
        end
      end
    end
  end

  @doc false
  def schedule(interval_ms, state) do
    Process.send_after(self(), :tick, interval_ms)
    state
  end
end
