defmodule BeamExporter.Forwarder.ConfigTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.Config

  test "defaults: loopback:8125, MTU 1400, no events" do
    config = Config.new([])

    assert %{host: {127, 0, 0, 1}, port: 8125, mtu: 1400, specs: [], logger_handler: false} =
             config
  end

  test "presets, repo prefixes and custom events become specs, without duplicates" do
    config =
      Config.new(
        presets: [:ecto, :logger],
        repo_prefixes: [[:a, :repo]],
        events: [[:a, :repo, :query], [:my, :event]]
      )

    events = Enum.map(config.specs, & &1.event)
    assert [:a, :repo, :query] in events and [:my, :event] in events
    assert length(events) == length(Enum.uniq(events))
    assert config.logger_handler
  end

  test "a custom event with metadata keys forwards only those keys with scalar values" do
    %{specs: [%{extract: extract}]} = Config.new(events: [{[:my, :event], [:kind, :user]}])
    assert extract.(%{kind: :a, user: %{id: 1}, other: "x"}) == %{kind: :a}
  end

  test "bad options raise with a clear message" do
    assert_raise ArgumentError, ~r/unknown forwarder options \[:prot\]/, fn ->
      Config.new(prot: 1)
    end

    assert_raise ArgumentError, ~r/mtu must be an integer/, fn -> Config.new(mtu: 0) end
    assert_raise ArgumentError, ~r/non-empty list of atoms/, fn -> Config.new(events: [["a"]]) end
    assert_raise ArgumentError, ~r/unknown preset/, fn -> Config.new(presets: [:phx]) end
  end

  test "a host name is resolved once" do
    assert Config.new(host: "localhost").host == {127, 0, 0, 1}
  end
end
