defmodule BeamExporter.Forwarder.EncoderTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.Encoder

  defp event(i, pad \\ ""),
    do:
      {[:app, :event], %{duration: i / 1000, count: 1},
       %{route: "/users/:id" <> pad, status: 200}, i}

  test "one datagram is the magic followed by term_to_binary({node, events})" do
    events = [event(1), event(2)]
    {[{datagram, 2}], 0} = Encoder.pack(:"a@127.0.0.1", events, 1400)
    assert datagram == "BXT1" <> :erlang.term_to_binary({:"a@127.0.0.1", events})
  end

  test "batches split so every datagram is at most the MTU and events keep their order" do
    events = for i <- 1..200, do: event(i)
    {packed, 0} = Encoder.pack(:"a@127.0.0.1", events, 512)
    assert length(packed) > 1
    assert Enum.all?(packed, fn {d, _} -> byte_size(d) <= 512 end)

    decoded =
      Enum.flat_map(packed, fn {"BXT1" <> etf, n} ->
        {_node, evs} = :erlang.binary_to_term(etf)
        assert length(evs) == n
        evs
      end)

    assert decoded == events
  end

  test "the computed size is exact: a batch filling the MTU to the byte is kept whole" do
    node = :"a@127.0.0.1"
    base = byte_size(Encoder.encode(node, [event(1, "")]))
    # An MTU exactly the size of the single-event datagram fits it.
    assert {[{_, 1}], 0} = Encoder.pack(node, [event(1, "")], base)
    # One byte less drops it as oversize.
    assert {[], 1} = Encoder.pack(node, [event(1, "")], base - 1)
  end

  test "an event larger than the MTU alone is dropped and counted, the others are kept" do
    big = event(2, String.duplicate("x", 2000))
    {packed, 1} = Encoder.pack(:"a@127.0.0.1", [event(1), big, event(3)], 1400)
    evs = Enum.flat_map(packed, fn {"BXT1" <> etf, _} -> elem(:erlang.binary_to_term(etf), 1) end)
    assert evs == [event(1), event(3)]
  end

  test "no events give no datagrams" do
    assert Encoder.pack(:"a@127.0.0.1", [], 1400) == {[], 0}
  end
end
