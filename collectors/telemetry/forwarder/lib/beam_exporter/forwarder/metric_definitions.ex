defmodule BeamExporter.Forwarder.MetricDefinitions do
  @moduledoc """
  Turns `Telemetry.Metrics` definitions (`MyAppWeb.Telemetry.metrics()`) into what the forwarder
  aggregates and what the exporter serves. The structs are read by field (`name`, `event_name`,
  `measurement`, `tags`, `tag_values`, `keep`, `description`, `unit`, `reporter_options`), so the
  forwarder has no compile-time dependency on the `telemetry_metrics` library.

  What each definition becomes on `/metrics`:

    * the name: the metric name joined by `_`, characters outside `[a-zA-Z0-9_:]` as `_`, plus the
      base unit (`_seconds` for time units, `_bytes` for byte units, `_<unit>` for any other unit
      but `:unit`), plus `_total` for counters: `summary("phoenix.endpoint.stop.duration", unit:
      {:native, :millisecond})` is `phoenix_endpoint_stop_duration_seconds`;
    * the type: `counter` -> counter (one per event); `sum` -> counter of the summed measurement
      (a gauge that adds, with `reporter_options: [prometheus_type: :gauge]`, for sums that may
      go down); `last_value` -> gauge; `summary` and `distribution` -> histogram;
    * values in base units: the measurement, already converted to the metric's `unit` by
      Telemetry.Metrics, is scaled from that unit to seconds or bytes when sent;
    * histogram buckets: `reporter_options: [buckets: [...]]`, in the metric's unit, else the
      exporter's default buckets (statsd_exporter's, in base units);
    * help: the `description`, else a text naming the definition.
  """

  # statsd_exporter's default buckets, in base units (seconds for durations).
  @default_buckets [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]

  @kinds %{
    Telemetry.Metrics.Counter => :counter,
    Telemetry.Metrics.Sum => :sum,
    Telemetry.Metrics.LastValue => :last_value,
    Telemetry.Metrics.Summary => :histogram,
    Telemetry.Metrics.Distribution => :histogram
  }

  @time_units [:second, :millisecond, :microsecond, :nanosecond, :native]
  @byte_units %{byte: 1, kilobyte: 1_000, megabyte: 1_000_000}

  @typedoc """
  A compiled definition. `kind` says how the handler records (`:counter`, `:sum`, `:last_value`,
  `:histogram`); `bounds` are the histogram's upper bounds in the metric's unit (a tuple, for
  the handler), `wire_buckets` the same in base units; `factor` scales values of the metric's
  unit to base units.
  """
  @type t :: %{
          id: pos_integer,
          event: [atom],
          kind: :counter | :sum | :last_value | :histogram,
          measurement: atom | function,
          keep: function | nil,
          tag_values: function | nil,
          tags: [atom],
          bounds: tuple,
          name: String.t(),
          type: :counter | :gauge | :histogram,
          help: String.t(),
          wire_buckets: [float],
          label_names: [String.t()],
          factor: number
        }

  @doc "Compiles definitions, numbering them from `first_id`. Raises on what it cannot serve."
  @spec compile([struct], pos_integer) :: [t]
  def compile(metrics, first_id \\ 1) do
    metrics
    |> Enum.with_index(first_id)
    |> Enum.map(fn {metric, id} -> compile_one(metric, id) end)
    |> check_unique_names!()
  end

  defp compile_one(%{__struct__: struct} = metric, id) when is_map_key(@kinds, struct) do
    kind = Map.fetch!(@kinds, struct)
    options = metric.reporter_options || []
    {suffix, factor} = base_unit(metric.unit)
    type = prometheus_type(kind, options)
    dotted = Enum.map_join(metric.name, ".", &to_string/1)
    base = escape(Enum.map_join(metric.name, "_", &to_string/1))
    base = if kind == :counter or suffix == "" or String.ends_with?(base, suffix), do: base, else: base <> suffix
    name = if type == :counter, do: base <> "_total", else: base
    bounds = bounds(kind, Keyword.get(options, :buckets), factor, dotted)
    label_names = label_names!(metric.tags || [], type, dotted)

    %{
      id: id,
      event: metric.event_name,
      kind: kind,
      measurement: metric.measurement,
      keep: metric.keep,
      tag_values: metric.tag_values,
      tags: metric.tags || [],
      bounds: List.to_tuple(bounds),
      name: name,
      type: type,
      help: metric.description || "Telemetry.Metrics #{kind_word(struct)}(#{inspect(dotted)})#{unit_text(metric.unit)}.",
      wire_buckets: Enum.map(bounds, &(&1 * factor * 1.0)),
      label_names: label_names,
      factor: factor
    }
  end

  defp compile_one(other, _id) do
    raise ArgumentError, "metrics: not a Telemetry.Metrics definition: #{inspect(other)}"
  end

  defp check_unique_names!(specs) do
    case specs |> Enum.frequencies_by(& &1.name) |> Enum.filter(fn {_, n} -> n > 1 end) do
      [] -> specs
      dups -> raise ArgumentError, "metrics: two definitions give the same name #{inspect(Enum.map(dups, &elem(&1, 0)))}"
    end
  end

  # What the exporter accepts (docs/telemetry.md, "Native form, aggregated"): at most 64 labels,
  # Prometheus label names, no `le` on histograms, no duplicates.
  @max_labels 64
  @max_buckets 64

  defp label_names!(tags, type, dotted) do
    names = Enum.map(tags, &escape(to_string(&1)))
    length(names) <= @max_labels || raise ArgumentError, "metrics: #{dotted}: more than #{@max_labels} tags"

    Enum.each(names, fn name ->
      valid = name =~ ~r/^[a-zA-Z_][a-zA-Z0-9_]*$/ and not String.starts_with?(name, "__") and not (type == :histogram and name == "le")
      valid || raise ArgumentError, "metrics: #{dotted}: #{inspect(name)} cannot be a Prometheus label name"
    end)

    length(Enum.uniq(names)) == length(names) || raise ArgumentError, "metrics: #{dotted}: tags repeat"
    names
  end

  defp prometheus_type(:counter, _), do: :counter
  defp prometheus_type(:sum, options), do: if(options[:prometheus_type] == :gauge, do: :gauge, else: :counter)
  defp prometheus_type(:last_value, _), do: :gauge
  defp prometheus_type(:histogram, _), do: :histogram

  defp base_unit(unit) when unit in @time_units, do: {"_seconds", 1 / per_second(unit)}
  defp base_unit(unit) when is_map_key(@byte_units, unit), do: {"_bytes", Map.fetch!(@byte_units, unit)}
  defp base_unit(unit) when unit in [nil, :unit], do: {"", 1}
  defp base_unit(unit) when is_atom(unit), do: {"_" <> escape(Atom.to_string(unit)), 1}

  defp per_second(:native), do: System.convert_time_unit(1, :second, :native)
  defp per_second(unit), do: System.convert_time_unit(1, :second, unit)

  defp bounds(:histogram, nil, factor, _), do: Enum.map(@default_buckets, &(&1 / factor))

  defp bounds(:histogram, buckets, _factor, dotted) do
    ok =
      is_list(buckets) and buckets != [] and length(buckets) <= @max_buckets and Enum.all?(buckets, &is_number/1) and
        buckets == Enum.sort(Enum.uniq(buckets))

    ok || raise ArgumentError, "metrics: #{dotted}: buckets must be an ascending list of at most #{@max_buckets} numbers, got #{inspect(buckets)}"
    buckets
  end

  defp bounds(_kind, _buckets, _factor, _dotted), do: []

  defp kind_word(struct), do: struct |> Module.split() |> List.last() |> Macro.underscore()

  defp unit_text(unit) when unit in [nil, :unit], do: ""
  defp unit_text(unit), do: ", unit #{unit}"

  defp escape(text), do: String.replace(text, ~r/[^a-zA-Z0-9_:]/, "_")
end
