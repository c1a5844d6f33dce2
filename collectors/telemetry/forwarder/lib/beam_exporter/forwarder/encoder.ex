defmodule BeamExporter.Forwarder.Encoder do
  @moduledoc """
  Packs wire events into datagrams for beam_exporter's native telemetry form:

      "BXT1" <> :erlang.term_to_binary({node(), [event, ...]})

  where an event is `{event_name, measurements, metadata, monotonic_time_native}`, and aggregated
  deltas (`Aggregates`) into its version 2 (the exporter's docs/telemetry.md, "Native form,
  aggregated"):

      "BXT2" <> :erlang.term_to_binary({node(), [{name, type, help, buckets, label_names, series}, ...]})

  Every datagram is at most `mtu` bytes; an event or series that cannot fit even alone is dropped
  and counted.

  Sizes are computed without encoding the whole batch: in the external term format a 2-tuple
  `{node, list}` is `131, 104, 2, <node>, 108, <len:32>, <elements...>, 106`, and each element is
  encoded exactly as it would be on its own (minus the leading version byte).
  """

  @magic "BXT1"
  @aggregate_magic "BXT2"
  # version byte + small tuple header (2) + list header (5) + list tail NIL (1)
  @frame_overhead byte_size(@magic) + 1 + 2 + 5 + 1

  @type wire_event :: {[atom], map, map, integer}

  @doc "The 4-byte protocol magic (version 1)."
  def magic, do: @magic

  @doc """
  Returns `{[{datagram, event_count}], dropped_oversize}`; datagrams keep the events' order.
  """
  @spec pack(node, [wire_event], pos_integer) :: {[{binary, pos_integer}], non_neg_integer}
  def pack(node, events, mtu) do
    budget = mtu - @frame_overhead - encoded_size(node)
    {batches, current, dropped} = Enum.reduce(events, {[], {[], 0}, 0}, &add(&1, &2, budget))
    batches = if elem(current, 0) == [], do: batches, else: [current | batches]

    datagrams =
      batches
      |> Enum.reverse()
      |> Enum.map(fn {evs, _} -> {encode(node, Enum.reverse(evs)), length(evs)} end)

    {datagrams, dropped}
  end

  defp add(event, {batches, {evs, used} = current, dropped}, budget) do
    size = encoded_size(event)

    cond do
      size > budget -> {batches, current, dropped + 1}
      used + size <= budget -> {batches, {[event | evs], used + size}, dropped}
      true -> {[current | batches], {[event], size}, dropped}
    end
  end

  @doc "Encodes one datagram (no size check)."
  @spec encode(node, [wire_event]) :: binary
  def encode(node, events), do: @magic <> :erlang.term_to_binary({node, events})

  @doc """
  Packs per-metric deltas (`{spec, [{label_values, delta, row}]}`, see `Aggregates.deltas/4`)
  into version 2 datagrams. A metric's series may be split over several datagrams, each with the
  metric's header. Returns `{[{datagram, rows}], dropped_oversize}`, where `rows` are the table
  rows whose deltas the datagram carries.
  """
  @spec pack_metrics(node, [{map, [{[String.t()], term, tuple}]}], pos_integer) :: {[{binary, [tuple]}], non_neg_integer}
  def pack_metrics(node, groups, mtu) do
    budget = mtu - @frame_overhead - encoded_size(node)

    {done, parts, _used, dropped} =
      Enum.reduce(groups, {[], [], 0, 0}, fn {spec, series}, acc ->
        header = metric_term(spec, [])
        # A non-empty list adds a 5-byte header to the empty list's 1-byte tail.
        header_size = encoded_size(header) + 5
        Enum.reduce(series, acc, &add_series(&1, &2, spec, header_size, budget))
      end)

    done = if parts == [], do: done, else: [parts | done]
    {done |> Enum.reverse() |> Enum.map(&metric_datagram(node, &1)), dropped}
  end

  defp add_series({label_values, delta, row}, {done, parts, used, dropped}, spec, header_size, budget) do
    size = encoded_size({label_values, delta})
    id = spec.id

    open =
      case parts do
        [{%{id: ^id}, _} | _] -> true
        _ -> false
      end

    cost = if open, do: size, else: header_size + size

    cond do
      header_size + size > budget ->
        {done, parts, used, dropped + 1}

      used + cost <= budget and open ->
        [{spec, series} | rest] = parts
        {done, [{spec, [{label_values, delta, row} | series]} | rest], used + cost, dropped}

      used + cost <= budget ->
        {done, [{spec, [{label_values, delta, row}]} | parts], used + cost, dropped}

      true ->
        {[parts | done], [{spec, [{label_values, delta, row}]}], header_size + size, dropped}
    end
  end

  defp metric_datagram(node, parts) do
    metrics = for {spec, series} <- Enum.reverse(parts), do: metric_term(spec, Enum.reverse(series))
    rows = for {_spec, series} <- parts, {_, _, row} <- series, do: row
    {@aggregate_magic <> :erlang.term_to_binary({node, metrics}), rows}
  end

  defp metric_term(spec, series) do
    {spec.name, spec.type, spec.help, spec.wire_buckets, spec.label_names,
     for({label_values, delta, _row} <- series, do: {label_values, delta})}
  end

  defp encoded_size(term), do: byte_size(:erlang.term_to_binary(term)) - 1
end
