defmodule BeamExporter.Forwarder.Encoder do
  @moduledoc """
  Packs wire events into datagrams for beam_exporter's native telemetry form:

      "BXT1" <> :erlang.term_to_binary({node(), [event, ...]})

  where an event is `{event_name, measurements, metadata, monotonic_time_native}`. Every datagram
  is at most `mtu` bytes; an event that cannot fit even alone is dropped and counted.

  Sizes are computed without encoding the whole batch: in the external term format a 2-tuple
  `{node, list}` is `131, 104, 2, <node>, 108, <len:32>, <elements...>, 106`, and each element is
  encoded exactly as it would be on its own (minus the leading version byte).
  """

  @magic "BXT1"
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

  defp encoded_size(term), do: byte_size(:erlang.term_to_binary(term)) - 1
end
