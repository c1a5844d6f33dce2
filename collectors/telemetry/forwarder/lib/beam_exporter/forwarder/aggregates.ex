defmodule BeamExporter.Forwarder.Aggregates do
  @moduledoc """
  Client-side aggregation of `Telemetry.Metrics` definitions (see `MetricDefinitions`).

  The handler runs in the process that executes the event and updates the series' row of one
  public ETS table in place, with one `:ets.update_counter/3` carrying every operation the event
  needs (a histogram's count, sum and bucket at once); nothing is queued, so nothing can be lost
  to a busy sender. Rows are cumulative and never reset:

      counter     {key, count}
      sum         {key, sum}                          sums in millionths of the metric's unit
      last_value  {key, value}
      histogram   {key, count, sum, bucket_1, ..., bucket_n, bucket_inf}

  where `key` is the definition's id, or `{id, tag_value, ...}` for tagged definitions. ETS
  counters are integers, so sums are kept in millionths of the metric's unit (an integer
  measurement is summed exactly; a float one to 10^-6 of its unit).

  Memory is bounded: a definition has at most `max_series` rows; an event for a further series is
  counted (`dropped_series_limit`) and not stored. A negative value for a `sum` served as a
  counter is counted (`dropped_negative_sum`) and not added.

  The sender reads the table every flush interval and sends, per row that changed since the last
  flush that was sent successfully, the difference (`deltas/3`); the exporter adds those up, so
  its totals are those of every event.
  """

  alias BeamExporter.Forwarder.{Buffer, Labels}

  # Sums are kept in millionths of the metric's unit.
  @sum_scale 1_000_000

  defstruct [:table, :series_counts, :max_series, :buffer]

  @doc "Creates the table (owned by the caller) for compiled `specs`."
  def new(specs, max_series, buffer) do
    table = :ets.new(__MODULE__, [:set, :public, write_concurrency: true, decentralized_counters: true])

    %__MODULE__{
      table: table,
      series_counts: :atomics.new(max(length(specs), 1), signed: true),
      max_series: max_series,
      buffer: buffer
    }
  end

  @doc """
  The handler's record of one definition: `{kind, id, measurement, keep, tag_values, tags,
  bounds, zero_row}`, a flat tuple the handler matches without map lookups.
  """
  def handler_record(spec) do
    tag_values = if identity?(spec.tag_values), do: nil, else: spec.tag_values
    # A sum served as a counter cannot go down: its handler refuses negative values.
    kind = if spec.kind == :sum and spec.type == :counter, do: :counter_sum, else: spec.kind
    {kind, spec.id, spec.measurement, spec.keep, tag_values, spec.tags, spec.bounds, zero_row(spec)}
  end

  # The default tag_values of Telemetry.Metrics is the identity: skipping it spares a call.
  defp identity?(nil), do: true

  defp identity?(fun) do
    marker = make_ref()
    match?(%{^marker => true}, fun.(%{marker => true})) and map_size(fun.(%{})) == 0
  rescue
    _ -> false
  end

  defp zero_row(%{kind: :histogram, bounds: bounds}), do: List.to_tuple([nil, 0, 0 | List.duplicate(0, tuple_size(bounds) + 1)])
  defp zero_row(_spec), do: {nil, 0}

  @doc """
  Records one event for the handler records `records` (all definitions of that event), in the
  calling process. Never raises: a measurement, keep or tag_values function that raises drops
  the event for that definition, counted as `dropped_extractor_failed`.
  """
  def record([record | rest], measurements, metadata, agg) do
    record_one(record, measurements, metadata, agg)
    record(rest, measurements, metadata, agg)
  end

  def record([], _measurements, _metadata, _agg), do: :ok

  defp record_one({kind, id, measurement, keep, tag_values, tags, bounds, zero}, measurements, metadata, agg) do
    if keep == nil or keep.(metadata) do
      case value(kind, measurement, measurements, metadata) do
        value when is_number(value) ->
          key = key(id, tags, tag_values, metadata)
          update(kind, key, value, bounds, zero, id, agg)

        _missing ->
          :ok
      end
    end
  catch
    _kind, _reason -> Buffer.count(agg.buffer, Buffer.dropped_extractor_failed())
  end

  defp value(:counter, _measurement, _measurements, _metadata), do: 1
  defp value(_kind, measurement, measurements, _metadata) when is_atom(measurement), do: Map.get(measurements, measurement)
  defp value(_kind, measurement, measurements, _metadata) when is_function(measurement, 1), do: measurement.(measurements)
  defp value(_kind, measurement, measurements, metadata), do: measurement.(measurements, metadata)

  defp key(id, [], _tag_values, _metadata), do: id
  defp key(id, [tag], nil, metadata), do: {id, Map.get(metadata, tag)}
  defp key(id, [tag_a, tag_b], nil, metadata), do: {id, Map.get(metadata, tag_a), Map.get(metadata, tag_b)}
  defp key(id, tags, nil, metadata), do: List.to_tuple([id | Enum.map(tags, &Map.get(metadata, &1))])
  defp key(id, tags, tag_values, metadata), do: key(id, tags, nil, tag_values.(metadata))

  defp update(:counter, key, _value, _bounds, zero, id, agg) do
    :ets.update_counter(agg.table, key, {2, 1})
  rescue
    ArgumentError -> create(key, zero, id, agg) && update(:counter, key, 1, nil, zero, id, agg)
  end

  defp update(:counter_sum, key, value, bounds, zero, id, agg) do
    if value < 0,
      do: Buffer.count(agg.buffer, Buffer.dropped_negative_sum()),
      else: update(:sum, key, value, bounds, zero, id, agg)
  end

  defp update(:sum, key, value, _bounds, zero, id, agg) do
    :ets.update_counter(agg.table, key, {2, fixed(value)})
  rescue
    ArgumentError -> create(key, zero, id, agg) && update(:sum, key, value, nil, zero, id, agg)
  end

  defp update(:last_value, key, value, _bounds, zero, id, agg) do
    :ets.update_element(agg.table, key, {2, value}) or
      (create(key, zero, id, agg) && :ets.update_element(agg.table, key, {2, value}))
  end

  defp update(:histogram, key, value, bounds, zero, id, agg) do
    :ets.update_counter(agg.table, key, [{2, 1}, {3, fixed(value)}, {4 + bucket(value, bounds, 0), 1}])
  rescue
    ArgumentError -> create(key, zero, id, agg) && update(:histogram, key, value, bounds, zero, id, agg)
  end

  defp fixed(value) when is_integer(value), do: value * @sum_scale
  defp fixed(value), do: round(value * @sum_scale)

  # The index of the first bound >= value (Prometheus' `le`), or the +Inf bucket.
  defp bucket(value, bounds, i) when i < tuple_size(bounds) do
    if value <= elem(bounds, i), do: i, else: bucket(value, bounds, i + 1)
  end

  defp bucket(_value, _bounds, i), do: i

  # Makes the series' row if the definition is under its cap; false (counted) when it is not.
  defp create(key, zero, id, agg) do
    if :atomics.add_get(agg.series_counts, id, 1) > agg.max_series do
      :atomics.sub(agg.series_counts, id, 1)
      Buffer.count(agg.buffer, Buffer.dropped_series_limit())
      false
    else
      # Another process may have made it meanwhile: then this one does not count.
      :ets.insert_new(agg.table, :erlang.setelement(1, zero, key)) or :atomics.sub(agg.series_counts, id, 1)
      true
    end
  end

  @doc """
  The rows (`{key, row}`) that changed since `sent` (a map of the rows as last sent), grouped
  per metric as `{spec, [{label_values, delta, key, row}]}` for `Encoder.pack_metrics/3`.
  `extra_rows` are rows of definitions that are not in the table (the forwarder's own counters).
  """
  def deltas(%__MODULE__{table: table}, specs_by_id, sent, extra_rows \\ []) do
    (:ets.tab2list(table) ++ extra_rows)
    |> Enum.filter(fn row -> Map.get(sent, elem(row, 0)) != row end)
    |> Enum.group_by(fn row -> id(elem(row, 0)) end)
    |> Enum.sort()
    |> Enum.map(fn {id, rows} ->
      spec = Map.fetch!(specs_by_id, id)
      {spec, for(row <- rows, do: {label_values(elem(row, 0)), delta(spec, row, Map.get(sent, elem(row, 0))), row})}
    end)
  end

  defp id(key) when is_tuple(key), do: elem(key, 0)
  defp id(id), do: id

  defp label_values(key) when is_tuple(key), do: key |> Tuple.delete_at(0) |> Tuple.to_list() |> Enum.map(&label_value/1)
  defp label_values(_id), do: []

  # Tag values as label text: strings as they are (valid UTF-8, at most 250 characters), atoms
  # and modules by name (Elixir modules without `Elixir.`), numbers in decimal, nil as "".
  defp label_value(nil), do: ""
  defp label_value(value) when is_binary(value), do: if(String.valid?(value), do: String.slice(value, 0, 250), else: label_value(inspect(value)))
  defp label_value(value) when is_atom(value), do: Labels.module_name(value)
  defp label_value(value) when is_integer(value), do: Integer.to_string(value)
  defp label_value(value) when is_float(value), do: Float.to_string(value)
  defp label_value(value), do: label_value(inspect(value))

  defp delta(%{kind: :counter}, {_, count}, prev), do: count - old(prev, 1)

  defp delta(%{kind: :sum, type: type, factor: factor}, {_, sum}, prev) do
    amount = (sum - old(prev, 1)) / @sum_scale * factor
    if type == :gauge, do: {:add, amount}, else: amount
  end

  defp delta(%{kind: :last_value, factor: factor}, {_, value}, _prev), do: {:set, value * factor * 1.0}

  defp delta(%{kind: :histogram, factor: factor}, row, prev) do
    sum = (elem(row, 2) - old(prev, 2)) / @sum_scale * factor
    buckets = for i <- 3..(tuple_size(row) - 1), do: elem(row, i) - old(prev, i)
    {sum, List.to_tuple(buckets)}
  end

  defp old(nil, _index), do: 0
  defp old(row, index), do: elem(row, index)
end
