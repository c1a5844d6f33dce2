defmodule BeamExporter.Forwarder.OwnMetrics do
  @moduledoc """
  The forwarder's own counters, sent to the exporter with the aggregated metrics every flush
  interval so that an application's losses show on `/metrics`, labelled with the instance
  (`forwarder`):

    * `beam_exporter_forwarder_dropped_total{forwarder, reason}`: events or observations not
      delivered: `overload` (queue full), `oversize` (does not fit a datagram), `missing_key`,
      `unexpected_type`, `extractor_failed` (metadata or a definition's function could not be
      read), `series_limit` (a definition's series cap), `negative_sum`;
    * `beam_exporter_forwarder_send_errors_total{forwarder}`: datagrams the socket refused;
    * `beam_exporter_forwarder_flushes_total{forwarder}`: flush intervals completed;
    * `beam_exporter_forwarder_datagrams_sent_total{forwarder}`.

  They are rows like the aggregated ones (`Aggregates.deltas/4`), made from `Buffer.stats/1`.
  """

  @drop_reasons [
    overload: :dropped_overload,
    oversize: :dropped_oversize,
    missing_key: :dropped_missing_key,
    unexpected_type: :dropped_unexpected_type,
    extractor_failed: :dropped_extractor_failed,
    series_limit: :dropped_series_limit,
    negative_sum: :dropped_negative_sum
  ]

  @singles [
    {"beam_exporter_forwarder_send_errors_total", "Datagrams the forwarder's socket refused.", :send_errors},
    {"beam_exporter_forwarder_flushes_total", "Flush intervals the forwarder completed.", :flushes},
    {"beam_exporter_forwarder_datagrams_sent_total", "Datagrams the forwarder sent.", :datagrams_sent}
  ]

  @doc "The definitions of the own counters, numbered from `first_id` (after the app's)."
  def specs(first_id) do
    dropped = %{
      id: first_id,
      kind: :counter,
      type: :counter,
      name: "beam_exporter_forwarder_dropped_total",
      help: "Events or observations the forwarder did not deliver, by reason.",
      wire_buckets: [],
      label_names: ["forwarder", "reason"],
      factor: 1
    }

    singles =
      for {{name, help, _stat}, i} <- Enum.with_index(@singles, first_id + 1) do
        %{dropped | id: i, name: name, help: help, label_names: ["forwarder"]}
      end

    [dropped | singles]
  end

  @doc "The rows of the own counters of instance `forwarder` (its name) from `stats`."
  def rows([dropped | singles], forwarder, stats) do
    drops = for {reason, stat} <- @drop_reasons, do: {{dropped.id, forwarder, reason}, Map.fetch!(stats, stat)}
    drops ++ for {spec, {_, _, stat}} <- Enum.zip(singles, @singles), do: {{spec.id, forwarder}, Map.fetch!(stats, stat)}
  end
end
