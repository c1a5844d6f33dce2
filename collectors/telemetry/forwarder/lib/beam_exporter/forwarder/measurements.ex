defmodule BeamExporter.Forwarder.Measurements do
  @moduledoc """
  Turns a `:telemetry` measurements map into the wire form: numbers only, with every time
  measurement converted from native time units to seconds (float), so the exporter never has to
  know the sending VM's native unit. The timestamps `:telemetry.span/3` adds (`monotonic_time`,
  `system_time`) are points in time, not amounts: they are left out (each wire event carries its
  own monotonic time).
  """

  @timestamps [:monotonic_time, :system_time]

  @time_keys [:duration, :total_time, :query_time, :queue_time, :decode_time, :idle_time]

  @doc "Native time units per second on this VM (the divisor `to_wire/3` expects)."
  @spec native_per_second() :: pos_integer
  def native_per_second, do: System.convert_time_unit(1, :second, :native)

  @doc """
  Keeps numeric measurements except timestamps, converts time ones to seconds and adds
  `count: 1` when `counted?`.
  """
  @spec to_wire(map, pos_integer, boolean) :: %{atom => number}
  def to_wire(measurements, native_per_second, counted?) do
    wire =
      for {key, value} <- measurements,
          is_atom(key),
          is_number(value),
          key not in @timestamps,
          into: %{} do
        if time_key?(key), do: {key, value / native_per_second}, else: {key, value}
      end

    if counted?, do: Map.put(wire, :count, 1), else: wire
  end

  @doc "Whether a measurement is a duration in native units (by name)."
  @spec time_key?(atom) :: boolean
  def time_key?(key) when key in @time_keys, do: true

  def time_key?(key) do
    name = Atom.to_string(key)
    String.ends_with?(name, "_time") or String.ends_with?(name, "_duration")
  end
end
