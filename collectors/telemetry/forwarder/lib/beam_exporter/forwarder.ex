defmodule BeamExporter.Forwarder do
  @moduledoc """
  Forwards `:telemetry` events to beam_exporter over UDP, in the exporter's native form
  (Erlang external term format, see `BeamExporter.Forwarder.Encoder`).

  Add it to the application's supervision tree:

      children = [
        {BeamExporter.Forwarder,
         port: 8125,
         presets: [:phoenix, :live_view, :ecto, :oban, :logger],
         repo_prefixes: [[:my_app, :repo]]},
        ...
      ]

  Or give it the application's `Telemetry.Metrics` definitions, which it aggregates in the app and
  sends once per second (see `BeamExporter.Forwarder.MetricDefinitions`):

      children = [
        {BeamExporter.Forwarder, metrics: MyAppWeb.Telemetry.metrics()},
        ...
      ]

  Both can be combined. Options are documented in `BeamExporter.Forwarder.Config`. The handler costs the instrumented
  process one metadata extraction and one message to the forwarder's sender process; batching
  and sending happen there.
  On overload events are dropped and counted (`stats/1`), never waited for.
  """

  use Supervisor

  alias BeamExporter.Forwarder.{Buffer, Config, Sender}

  def start_link(opts) do
    config = Config.new(opts)
    Supervisor.start_link(__MODULE__, config, name: supervisor_name(config.name))
  end

  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :name, __MODULE__),
      start: {__MODULE__, :start_link, [opts]},
      type: :supervisor
    }
  end

  @impl true
  def init(config), do: Supervisor.init([{Sender, config}], strategy: :one_for_one)

  @doc """
  Counters of the instance: `queued`, `dropped_overload`, `dropped_oversize`, the events dropped
  because an extractor (or a definition's measurement, keep or tag_values function) could not
  read them (`dropped_missing_key`, `dropped_unexpected_type`, `dropped_extractor_failed`), the
  aggregated observations dropped over a definition's series cap (`dropped_series_limit`) or as a
  negative value of a counter-typed sum (`dropped_negative_sum`), `events_sent`,
  `datagrams_sent`, `send_errors`, `flushes`. They restart from zero if the sender restarts, and
  also reach `/metrics` (`BeamExporter.Forwarder.OwnMetrics`).
  """
  @spec stats(atom) :: map
  def stats(name \\ __MODULE__), do: Buffer.stats(instance(name).buffer)

  @doc """
  Sends everything queued and the aggregated deltas now (useful in tests and before a planned
  shutdown).
  """
  @spec flush(atom) :: :ok
  def flush(name \\ __MODULE__), do: Sender.flush(instance(name).sender)

  @doc """
  Emits `[:beam_exporter, :socket, :disconnect]` (forwarded by the `:phoenix` preset): call it
  from a socket's terminate callback with a transport (`:websocket`, `:longpoll`) and a
  low-cardinality reason (`:idle_timeout`, `:heartbeat_timeout`, `:closed`, `:shutdown`...).
  """
  @spec socket_disconnect(atom | String.t(), atom | String.t()) :: :ok
  def socket_disconnect(transport, reason) do
    :telemetry.execute([:beam_exporter, :socket, :disconnect], %{count: 1}, %{
      transport: transport,
      reason: reason
    })
  end

  @doc false
  # The sender process of an instance (tests suspend it to simulate a stalled sender).
  def sender(name \\ __MODULE__), do: instance(name).sender

  defp instance(name) do
    :persistent_term.get({__MODULE__, name}, nil) ||
      raise ArgumentError, "no forwarder named #{inspect(name)} is running"
  end

  defp supervisor_name(__MODULE__), do: __MODULE__
  defp supervisor_name(name), do: Module.concat(__MODULE__, name)
end
