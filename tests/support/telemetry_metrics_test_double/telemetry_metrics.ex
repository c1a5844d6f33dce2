# A test-only implementation of the documented API of the `telemetry_metrics` library
# (Telemetry.Metrics 1.x): the five metric structs, with the documented fields, and their
# constructor functions with the documented options. Written from the library's documentation,
# for this repository's offline tests (no Hex here); never shipped. The forwarder reads these
# structs by field, as it reads the real library's.
#
# Load it with Code.require_file/1 (the forwarder's test_helper.exs, the replay and bench scripts).

defmodule Telemetry.Metrics.Counter do
  @moduledoc false
  defstruct [:name, :event_name, :measurement, :tags, :tag_values, :keep, :description, :unit, :reporter_options]
end

defmodule Telemetry.Metrics.Sum do
  @moduledoc false
  defstruct [:name, :event_name, :measurement, :tags, :tag_values, :keep, :description, :unit, :reporter_options]
end

defmodule Telemetry.Metrics.LastValue do
  @moduledoc false
  defstruct [:name, :event_name, :measurement, :tags, :tag_values, :keep, :description, :unit, :reporter_options]
end

defmodule Telemetry.Metrics.Summary do
  @moduledoc false
  defstruct [:name, :event_name, :measurement, :tags, :tag_values, :keep, :description, :unit, :reporter_options]
end

defmodule Telemetry.Metrics.Distribution do
  @moduledoc false
  defstruct [:name, :event_name, :measurement, :tags, :tag_values, :keep, :description, :unit, :reporter_options]
end

defmodule Telemetry.Metrics do
  @moduledoc false

  def counter(name, opts \\ []), do: build(Telemetry.Metrics.Counter, name, opts)
  def sum(name, opts \\ []), do: build(Telemetry.Metrics.Sum, name, opts)
  def last_value(name, opts \\ []), do: build(Telemetry.Metrics.LastValue, name, opts)
  def summary(name, opts \\ []), do: build(Telemetry.Metrics.Summary, name, opts)
  def distribution(name, opts \\ []), do: build(Telemetry.Metrics.Distribution, name, opts)

  @known_options [:event_name, :measurement, :tags, :tag_values, :keep, :drop, :description, :unit, :reporter_options]

  # As documented: the name is a string or a list of atoms; by default the event name is the
  # name without its last segment and the measurement is that last segment; `keep` and `drop`
  # are exclusive (`drop` becomes the negated `keep`); `unit: {from, to}` converts the
  # measurement, which then becomes a function, and the metric's unit is `to`.
  defp build(struct, name, opts) do
    unknown = Keyword.keys(opts) -- @known_options
    if unknown != [], do: raise(ArgumentError, "unknown options #{inspect(unknown)}")
    name = normalize_name(name)
    if Keyword.has_key?(opts, :keep) and Keyword.has_key?(opts, :drop),
      do: raise(ArgumentError, "the :keep and :drop options are mutually exclusive")

    keep =
      case Keyword.fetch(opts, :drop) do
        {:ok, drop} -> fn metadata -> not drop.(metadata) end
        :error -> Keyword.get(opts, :keep)
      end

    {unit, ratio} = unit(Keyword.get(opts, :unit, :unit))
    measurement = convert(Keyword.get(opts, :measurement, List.last(name)), ratio)

    struct!(struct,
      name: name,
      event_name: Keyword.get(opts, :event_name, Enum.drop(name, -1)),
      measurement: measurement,
      tags: Keyword.get(opts, :tags, []),
      tag_values: Keyword.get(opts, :tag_values, & &1),
      keep: keep,
      description: Keyword.get(opts, :description),
      unit: unit,
      reporter_options: Keyword.get(opts, :reporter_options, [])
    )
  end

  defp normalize_name(name) when is_binary(name), do: name |> String.split(".") |> Enum.map(&String.to_atom/1)
  defp normalize_name(name) when is_list(name), do: name

  @time_units [:second, :millisecond, :microsecond, :nanosecond, :native]
  @byte_units %{byte: 1, kilobyte: 1_000, megabyte: 1_000_000}

  defp unit({from, to}) when from in @time_units and to in @time_units do
    {to, per_second(to) / per_second(from)}
  end

  defp unit({from, to}) when is_map_key(@byte_units, from) and is_map_key(@byte_units, to) do
    {to, @byte_units[from] / @byte_units[to]}
  end

  defp unit(unit) when is_atom(unit), do: {unit, 1}

  defp per_second(:native), do: System.convert_time_unit(1, :second, :native)
  defp per_second(unit), do: System.convert_time_unit(1, :second, unit)

  defp convert(measurement, 1), do: measurement

  defp convert(measurement, ratio) when is_atom(measurement) do
    fn measurements ->
      case measurements do
        %{^measurement => value} when is_number(value) -> value * ratio
        _ -> nil
      end
    end
  end

  defp convert(measurement, ratio) when is_function(measurement, 1) do
    fn measurements -> scale(measurement.(measurements), ratio) end
  end

  defp convert(measurement, ratio) when is_function(measurement, 2) do
    fn measurements, metadata -> scale(measurement.(measurements, metadata), ratio) end
  end

  defp scale(value, ratio) when is_number(value), do: value * ratio
  defp scale(_value, _ratio), do: nil
end
