defmodule BeamExporter.Forwarder.MeasurementsTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.Measurements

  @nps 1_000_000_000

  test "time measurements in native units become seconds as floats" do
    wire =
      Measurements.to_wire(
        %{
          duration: 250_000_000,
          total_time: 2 * @nps,
          query_time: 1,
          queue_time: 0,
          decode_time: 5,
          idle_time: @nps
        },
        @nps,
        false
      )

    assert wire == %{
             duration: 0.25,
             total_time: 2.0,
             query_time: 1.0e-9,
             queue_time: 0.0,
             decode_time: 5.0e-9,
             idle_time: 1.0
           }

    assert Enum.all?(Map.values(wire), &is_float/1)
  end

  test "any key ending in _time or _duration is a time; other numbers pass unchanged" do
    wire =
      Measurements.to_wire(
        %{wait_time: @nps, handshake_duration: @nps, memory: 4096, reductions: 12},
        @nps,
        false
      )

    assert wire == %{wait_time: 1.0, handshake_duration: 1.0, memory: 4096, reductions: 12}
  end

  test "span timestamps (monotonic_time, system_time) are left out" do
    assert Measurements.to_wire(
             %{duration: @nps, monotonic_time: -5 * @nps, system_time: 17 * @nps},
             @nps,
             false
           ) == %{duration: 1.0}
  end

  test "non-numeric measurements are dropped" do
    assert Measurements.to_wire(%{duration: nil, info: %{a: 1}, n: 3}, @nps, false) == %{n: 3}
  end

  test "counted events get count: 1" do
    assert Measurements.to_wire(%{duration: @nps}, @nps, true) == %{duration: 1.0, count: 1}
  end

  test "native_per_second is this VM's native unit" do
    assert Measurements.native_per_second() == System.convert_time_unit(1, :second, :native)
  end
end
