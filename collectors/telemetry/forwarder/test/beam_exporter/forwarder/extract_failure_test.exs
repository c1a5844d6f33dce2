defmodule BeamExporter.Forwarder.ExtractFailureTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.ExtractFailure

  # What `catch kind, reason` gives for real failures of extractor code.
  defp caught(fun) do
    fun.()
    flunk("expected a failure")
  catch
    kind, reason -> ExtractFailure.counter(kind, reason)
  end

  test "a missing key is dropped_missing_key" do
    assert caught(fn -> Map.fetch!(%{}, :conn) end) == :dropped_missing_key
    # nil where a map was expected: the key was absent.
    assert caught(fn -> Map.get(%{}, :conn).status end) == :dropped_missing_key
    map = Enum.random([%{}])
    assert caught(fn -> map.conn end) == :dropped_missing_key
  end

  test "a value of another type is dropped_unexpected_type" do
    assert caught(fn -> String.length(Enum.random([42])) end) == :dropped_unexpected_type
    assert caught(fn -> Enum.random(["1"]) + 1 end) == :dropped_unexpected_type
    assert caught(fn -> Map.get(Enum.random([:not_a_map]), :k) end) == :dropped_unexpected_type
    assert caught(fn -> Enum.count(Enum.random([nil])) end) == :dropped_unexpected_type
  end

  test "anything else is dropped_extractor_failed" do
    assert caught(fn -> raise "bad" end) == :dropped_extractor_failed
    assert caught(fn -> throw(:x) end) == :dropped_extractor_failed
    assert caught(fn -> exit(:x) end) == :dropped_extractor_failed
  end
end
