defmodule BeamExporter.Forwarder.Config do
  @moduledoc """
  Validates the forwarder's options (at start-up: a bad option raises with a clear message).

    * `:host` - exporter IPv4 address: a string (`"127.0.0.1"`, a hostname resolved once), charlist
      or IP tuple. Default `{127, 0, 0, 1}` (the exporter runs as a sidecar).
    * `:port` - UDP port of the exporter's telemetry listener. Default 8125.
    * `:mtu` - maximum datagram size in bytes. Default 1400.
    * `:presets` - any of `#{inspect(BeamExporter.Forwarder.Presets.names())}`. Default `[]`.
    * `:repo_prefixes` - Ecto telemetry prefixes for the `:ecto` preset. Default `[]`.
    * `:events` - extra events: `event`, `{event, [metadata_key, ...]}` (only those keys, only
      scalar values) or `{event, fun/1}` (a custom extractor returning a map of scalars).
    * `:metrics` - `Telemetry.Metrics` definitions (e.g. `MyAppWeb.Telemetry.metrics()`), aggregated
      in the app and sent every `:flush_interval` (see `BeamExporter.Forwarder.MetricDefinitions`
      for what each becomes on `/metrics`). Default `[]`.
    * `:flush_interval` - milliseconds between two sends of the aggregated metrics and the
      forwarder's own counters. Default 1000.
    * `:max_series_per_metric` - series one definition may have in the app; events of further
      series are dropped and counted. Default 10_000 (the exporter's own per-metric default).
    * `:buffer_size` - events queued at most before new ones are dropped. Default 10_000.
    * `:name` - instance name (for several forwarders in one VM). Default `BeamExporter.Forwarder`.
  """

  alias BeamExporter.Forwarder.{Labels, MetricDefinitions, Presets}

  @defaults [
    host: {127, 0, 0, 1},
    port: 8125,
    mtu: 1400,
    presets: [],
    repo_prefixes: [],
    events: [],
    metrics: [],
    flush_interval: 1000,
    max_series_per_metric: 10_000,
    buffer_size: 10_000,
    name: BeamExporter.Forwarder
  ]

  @spec new(keyword) :: map
  def new(opts) do
    unknown = Keyword.keys(opts) -- Keyword.keys(@defaults)
    if unknown != [], do: raise(ArgumentError, "unknown forwarder options #{inspect(unknown)}")
    opts = Keyword.merge(@defaults, opts)

    presets = Keyword.fetch!(opts, :presets)
    repo_prefixes = Keyword.fetch!(opts, :repo_prefixes)
    Enum.each(repo_prefixes, &check_event!/1)

    specs =
      Enum.flat_map(presets, &Presets.specs(&1, repo_prefixes)) ++
        Enum.map(Keyword.fetch!(opts, :events), &custom_spec/1)

    %{
      name: Keyword.fetch!(opts, :name),
      host: resolve_host!(Keyword.fetch!(opts, :host)),
      port: positive!(opts, :port, 65_535),
      mtu: positive!(opts, :mtu, 65_000),
      buffer_size: positive!(opts, :buffer_size, 100_000_000),
      specs: Enum.uniq_by(specs, & &1.event),
      metric_specs: MetricDefinitions.compile(Keyword.fetch!(opts, :metrics)),
      flush_interval: positive!(opts, :flush_interval, 3_600_000),
      max_series_per_metric: positive!(opts, :max_series_per_metric, 10_000_000),
      logger_handler: :logger in presets
    }
  end

  defp custom_spec({event, keys}) when is_list(keys) do
    check_event!(event)

    Enum.each(keys, fn key ->
      is_atom(key) or raise ArgumentError, "metadata keys must be atoms: #{inspect(key)}"
    end)

    %{event: event, extract: fn meta -> take_scalars(meta, keys) end, counted: false}
  end

  defp custom_spec({event, extract}) when is_function(extract, 1) do
    check_event!(event)
    %{event: event, extract: extract, counted: false}
  end

  defp custom_spec(event), do: custom_spec({event, []})

  defp take_scalars(meta, keys) do
    for key <- keys,
        Map.has_key?(meta, key),
        Labels.scalar?(meta[key]),
        into: %{},
        do: {key, meta[key]}
  end

  defp check_event!(event) do
    (is_list(event) and event != [] and Enum.all?(event, &is_atom/1)) or
      raise ArgumentError,
            "a telemetry event name is a non-empty list of atoms, got #{inspect(event)}"
  end

  defp positive!(opts, key, max) do
    case Keyword.fetch!(opts, key) do
      n when is_integer(n) and n > 0 and n <= max ->
        n

      other ->
        raise ArgumentError, "#{key} must be an integer in 1..#{max}, got #{inspect(other)}"
    end
  end

  defp resolve_host!(host) when is_tuple(host), do: host
  defp resolve_host!(host) when is_binary(host), do: resolve_host!(String.to_charlist(host))

  defp resolve_host!(host) when is_list(host) do
    case :inet.getaddr(host, :inet) do
      {:ok, address} -> address
      {:error, reason} -> raise ArgumentError, "cannot resolve forwarder host #{host}: #{reason}"
    end
  end
end
