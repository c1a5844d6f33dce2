defmodule BeamExporter.Forwarder.Aggregates do
  @moduledoc """
  Client-side aggregation of `Telemetry.Metrics` definitions (see `MetricDefinitions`).

  The handler runs in the process that executes the event and adds the event to the series'
  cumulative values in place; nothing is queued, so nothing can be lost to a busy sender. Where
  the values live depends on the definition (measured, docs/benchmarks.md, "Forwarder:
  aggregation in the app"):

    * **Untagged** counters, sums and histograms have exactly one series, so it gets a range of
      slots of one `:counters` array (`write_concurrency`: each scheduler adds to its own copy, so
      processes on different schedulers do not contend) allocated when the handlers are
      attached. The caller does one or two `:counters.add/3` (about half of what an ETS update
      costs it) and never touches ETS.
    * **Tagged** definitions (a series per tag value combination, not known in advance) and
      every `last_value` (set, not add) have a row in one public ETS table, created on the
      series' first event and updated in place with one `:ets.update_counter/3` carrying every
      operation the event needs (`:ets.update_element/3` for a last value).

  Both hold the same cumulative values, never reset; as rows (`{key, ...}`, the ETS rows as
  stored, the slots read into the same shape):

      counter     {key, count}
      sum         {key, sum}                  (slots: {key, sum, events}, see below)
      last_value  {key, value}
      histogram   {key, sum, bucket_1, ..., bucket_n, bucket_inf}

  where `key` is the definition's id, or `{id, tag_value, ...}` for tagged definitions. Counters
  are integers, so sums are kept in millionths of the metric's unit (an integer measurement is
  summed exactly; a float one to 10^-6 of its unit). An untagged sum also counts its events, so
  that its series appears on the first event even when the values add up to 0, as a row does.

  `:counters` are 64-bit and wrap around; differences are taken modulo 2^64 (`deltas/4`), so a
  series stays exact as long as it changes by less than 2^63 millionths (9.2 * 10^12 of its unit)
  between two flushes. A single value that does not fit in 64 bits as millionths (beyond
  9.2 * 10^12 of its unit) is counted as `dropped_unexpected_type` and not added. ETS integers
  do not wrap.

  Memory is bounded: the slots are fixed when the handlers are attached; a definition has at most
  `max_series` rows, and an event for a further series is counted (`dropped_series_limit`) and not
  stored. A negative value for a `sum` served as a counter is counted (`dropped_negative_sum`) and
  not added.

  The sender reads the table and the slots every flush interval and sends, per series that
  changed since the last flush that was sent successfully, the difference (`deltas/4`); the
  exporter adds those up, so its totals are those of every event. Slots are read one by one, so
  an event being recorded during a read may have its sum in one flush and its bucket in the next:
  each flush's deltas are then off by that event, their totals never.
  """

  alias BeamExporter.Forwarder.{Buffer, Labels}

  # Sums are kept in millionths of the metric's unit.
  @sum_scale 1_000_000
  @wrap 0x1_0000_0000_0000_0000
  @half_wrap 0x8000_0000_0000_0000
  # The largest magnitude a slot takes from one event: under 2^63 millionths (9.22 * 10^12).
  @max_slot_value 9.2e12

  # `slotted`: {id, first_slot, slot_count} of the definitions kept in `counters`.
  defstruct [:table, :counters, :slotted, :series_counts, :max_series, :buffer]

  @doc "Creates the table (owned by the caller) and the slots for compiled `specs`."
  def new(specs, max_series, buffer) do
    table = :ets.new(__MODULE__, [:set, :public, write_concurrency: true, decentralized_counters: true])

    {slotted, slot_count} =
      specs
      |> Enum.filter(&slotted?/1)
      |> Enum.map_reduce(1, fn spec, first ->
        width = tuple_size(zero_row(spec)) - 1
        {{spec.id, first, width}, first + width}
      end)

    %__MODULE__{
      table: table,
      counters: :counters.new(max(slot_count - 1, 1), [:write_concurrency]),
      slotted: slotted,
      series_counts: :atomics.new(max(length(specs), 1), signed: true),
      max_series: max_series,
      buffer: buffer
    }
  end

  defp slotted?(spec), do: spec.tags == [] and spec.kind != :last_value

  @doc """
  The handler's record of one definition, a flat tuple the handler matches without map lookups:
  `{:slots, kind, counters, first_slot, measurement, keep, bounds}` for a definition kept in
  `:counters`, `{:table, kind, id, measurement, keep, tag_values, tags, bounds, zero_row}` for
  one kept in the table; `bounds` is a histogram's upper bounds as a list.
  """
  def handler_record(%__MODULE__{counters: counters, slotted: slotted}, spec) do
    tag_values = if identity?(spec.tag_values), do: nil, else: spec.tag_values
    # A sum served as a counter cannot go down: its handler refuses negative values.
    kind = if spec.kind == :sum and spec.type == :counter, do: :counter_sum, else: spec.kind
    bounds = Tuple.to_list(spec.bounds)

    case List.keyfind(slotted, spec.id, 0) do
      {_id, first, _width} -> {:slots, kind, counters, first, spec.measurement, spec.keep, bounds}
      nil -> {:table, kind, spec.id, spec.measurement, spec.keep, tag_values, spec.tags, bounds, zero_row(spec)}
    end
  end

  # The default tag_values of Telemetry.Metrics is the identity: skipping it spares a call.
  defp identity?(nil), do: true

  defp identity?(fun) do
    marker = make_ref()
    match?(%{^marker => true}, fun.(%{marker => true})) and map_size(fun.(%{})) == 0
  rescue
    _ -> false
  end

  defp zero_row(%{kind: :histogram, bounds: bounds}), do: List.to_tuple([nil, 0 | List.duplicate(0, tuple_size(bounds) + 1)])
  defp zero_row(%{kind: :sum, tags: []}), do: {nil, 0, 0}
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

  defp record_one({:slots, kind, counters, first, measurement, keep, bounds}, measurements, metadata, agg) do
    if keep == nil or keep.(metadata), do: add(kind, counters, first, value(kind, measurement, measurements, metadata), bounds, agg)
  catch
    _kind, _reason -> Buffer.count(agg.buffer, Buffer.dropped_extractor_failed())
  end

  defp record_one({:table, kind, id, measurement, keep, tag_values, tags, bounds, zero}, measurements, metadata, agg) do
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

  # Slots of an untagged definition (row layout without the key; see the moduledoc). The range
  # is checked on the value, before scaling: a comparison with a bignum (2^63) costs the caller
  # more than the two adds together (measured, docs/benchmarks.md).
  defp add(:counter, counters, first, _value, _bounds, _agg), do: :counters.add(counters, first, 1)
  defp add(_kind, _counters, _first, value, _bounds, _agg) when not is_number(value), do: :ok

  defp add(_kind, _counters, _first, value, _bounds, agg) when value >= @max_slot_value or value <= -@max_slot_value,
    do: Buffer.count(agg.buffer, Buffer.dropped_unexpected_type())

  defp add(:histogram, counters, first, value, bounds, _agg) do
    :counters.add(counters, first, fixed(value))
    :counters.add(counters, first + 1 + bucket(value, bounds, 0), 1)
  end

  defp add(:counter_sum, _counters, _first, value, _bounds, agg) when value < 0,
    do: Buffer.count(agg.buffer, Buffer.dropped_negative_sum())

  defp add(_sum, counters, first, value, _bounds, _agg) do
    :counters.add(counters, first, fixed(value))
    :counters.add(counters, first + 1, 1)
  end

  defp key(id, [], _tag_values, _metadata), do: id
  defp key(id, [tag], nil, metadata), do: {id, Map.get(metadata, tag)}
  defp key(id, [tag_a, tag_b], nil, metadata), do: {id, Map.get(metadata, tag_a), Map.get(metadata, tag_b)}
  defp key(id, tags, nil, metadata), do: List.to_tuple([id | Enum.map(tags, &Map.get(metadata, &1))])
  defp key(id, tags, tag_values, metadata), do: key(id, tags, nil, tag_values.(metadata))

  # Rows of the table (tagged definitions and last values).
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
    :ets.update_counter(agg.table, key, [{2, fixed(value)}, {3 + bucket(value, bounds, 0), 1}])
  rescue
    ArgumentError -> create(key, zero, id, agg) && update(:histogram, key, value, bounds, zero, id, agg)
  end

  defp fixed(value) when is_integer(value), do: value * @sum_scale
  defp fixed(value), do: round(value * @sum_scale)

  # The index of the first bound >= value (Prometheus' `le`), or the +Inf bucket. A linear walk
  # of a list: per bound passed, about half the cost of `elem/2` on a tuple, and cheaper than a
  # binary search up to a bucket between the 6th and the 10th of 11 (measured,
  # docs/benchmarks.md), so for observations that mostly fall in the lower buckets.
  defp bucket(value, [bound | bounds], i), do: if(value <= bound, do: i, else: bucket(value, bounds, i + 1))
  defp bucket(_value, [], i), do: i

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
  The rows (`{key, ...}`, of the table and read from the slots) that changed since `sent` (a map
  of the rows as last sent), grouped per metric as `{spec, [{label_values, delta, row}]}` for
  `Encoder.pack_metrics/3`. `extra_rows` are rows of definitions kept elsewhere (the forwarder's
  own counters).
  """
  def deltas(%__MODULE__{table: table} = agg, specs_by_id, sent, extra_rows \\ []) do
    (:ets.tab2list(table) ++ slot_rows(agg) ++ extra_rows)
    |> Enum.filter(fn row -> Map.get(sent, elem(row, 0)) != row end)
    |> Enum.group_by(fn row -> id(elem(row, 0)) end)
    |> Enum.sort()
    |> Enum.map(fn {id, rows} ->
      spec = Map.fetch!(specs_by_id, id)
      {spec, for(row <- rows, do: {label_values(elem(row, 0)), delta(spec, row, Map.get(sent, elem(row, 0))), row})}
    end)
  end

  # The rows of the slotted definitions that had an event (a row of zeros had none: a table row
  # would not exist yet).
  defp slot_rows(%__MODULE__{counters: counters, slotted: slotted}) do
    for {id, first, width} <- slotted,
        values = for(slot <- first..(first + width - 1), do: :counters.get(counters, slot)),
        Enum.any?(values, &(&1 != 0)),
        do: List.to_tuple([id | values])
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

  defp delta(%{kind: :counter}, row, prev), do: difference(row, prev, 1)

  defp delta(%{kind: :sum, type: type, factor: factor}, row, prev) do
    amount = difference(row, prev, 1) / @sum_scale * factor
    if type == :gauge, do: {:add, amount}, else: amount
  end

  defp delta(%{kind: :last_value, factor: factor}, {_, value}, _prev), do: {:set, value * factor * 1.0}

  defp delta(%{kind: :histogram, factor: factor}, row, prev) do
    sum = difference(row, prev, 1) / @sum_scale * factor
    buckets = for i <- 2..(tuple_size(row) - 1), do: difference(row, prev, i)
    {sum, List.to_tuple(buckets)}
  end

  # The change of a cumulative value since `prev`, modulo 2^64: a `:counters` slot that wrapped
  # around gives the right difference (see the moduledoc); a table's integers never wrap.
  defp difference(row, prev, index) do
    case elem(row, index) - old(prev, index) do
      d when d >= @half_wrap -> d - @wrap
      d when d < -@half_wrap -> d + @wrap
      d -> d
    end
  end

  defp old(nil, _index), do: 0
  defp old(row, index), do: elem(row, index)
end
