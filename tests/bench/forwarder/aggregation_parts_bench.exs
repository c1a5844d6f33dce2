# What the aggregated handler's parts cost the caller, each alone, in one BEAM run (the choices in
# BeamExporter.Forwarder.Aggregates and Handler rest on these; results in docs/benchmarks.md,
# "Forwarder: aggregation in the app"). Loops are compiled; best of the rounds, ns per iteration.
#
# 1. Storage, per event of an untagged histogram (sum + bucket) or a counter, one process:
#      ets_update_3 / ets_update_2   one :ets.update_counter/3 with count+sum+bucket / sum+bucket
#      ets_counter_floor             :ets.update_counter/4 of one counter (the bench's ets_counter)
#      counters_wc / counters / atomics   two adds: :counters with and without write_concurrency,
#                                    :atomics
#    and the two adds from 2 processes (one per scheduler) on the same slots at once.
# 2. Range check of the scaled sum: against 2^63 (a bignum) or of the value against a float.
# 3. Bucket search over the 11 default bounds (in ms), for values in the 1st, 6th, 10th and +Inf
#    bucket: linear over a tuple (elem/2), linear over a list, binary over a tuple.
# 4. Through :telemetry (the test double), the handler's records read from :persistent_term
#    against the same records as the handler's config (copied out of the handler table per event).
#
#   tests/support/run-with-forwarder WORK_DIR tests/bench/forwarder/aggregation_parts_bench.exs [iterations] [rounds]
Code.require_file("../../support/telemetry_metrics_test_double/telemetry_metrics.ex", __DIR__)

{n, rounds} =
  case Enum.map(System.argv(), &String.to_integer/1) do
    [n, r] -> {n, r}
    [n] -> {n, 5}
    [] -> {1_000_000, 5}
  end

defmodule Parts do
  @max_slot 9.2e12
  @half_wrap 0x8000_0000_0000_0000

  def repeat(0, _fun), do: :ok
  def repeat(k, fun), do: (fun.(); repeat(k - 1, fun))

  def ets_update_3(t, v, b), do: :ets.update_counter(t, :h, [{2, 1}, {3, round(v * 1_000_000)}, {4 + lin(v, b, 0), 1}])
  def ets_update_2(t, v, b), do: :ets.update_counter(t, :h, [{2, round(v * 1_000_000)}, {3 + lin(v, b, 0), 1}])
  def ets_counter_floor(t), do: :ets.update_counter(t, :n, 1, {:n, 0})

  def counters_2(c, v, b) do
    :counters.add(c, 1, round(v * 1_000_000))
    :counters.add(c, 2 + lin(v, b, 0), 1)
  end

  def atomics_2(a, v, b) do
    :atomics.add(a, 1, round(v * 1_000_000))
    :atomics.add(a, 2 + lin(v, b, 0), 1)
  end

  def bignum_guard(v) do
    case round(v * 1_000_000) do
      f when f < @half_wrap and f >= -@half_wrap -> f
      _ -> :too_large
    end
  end

  def float_guard(v) when v < @max_slot and v > -@max_slot, do: round(v * 1_000_000)
  def float_guard(_v), do: :too_large

  def lin(value, bounds, i) when i < tuple_size(bounds) do
    if value <= elem(bounds, i), do: i, else: lin(value, bounds, i + 1)
  end

  def lin(_value, _bounds, i), do: i

  def list(value, [bound | bounds], i), do: if(value <= bound, do: i, else: list(value, bounds, i + 1))
  def list(_value, [], i), do: i

  def binary(value, bounds), do: binary(value, bounds, 0, tuple_size(bounds))
  defp binary(_value, _bounds, lo, hi) when lo >= hi, do: lo

  defp binary(value, bounds, lo, hi) do
    mid = div(lo + hi, 2)
    if value <= elem(bounds, mid), do: binary(value, bounds, lo, mid), else: binary(value, bounds, mid + 1, hi)
  end

  # :telemetry handlers: the records from :persistent_term, or as the config.
  def from_persistent_term(_event, measurements, _metadata, key), do: record(:persistent_term.get(key), measurements)
  def from_config(_event, measurements, _metadata, records), do: record(records, measurements)

  defp record({counters, measurement, bounds}, measurements) do
    v = measurement.(measurements)
    :counters.add(counters, 1, round(v * 1_000_000))
    :counters.add(counters, 2 + list(v, bounds, 0), 1)
  end

  def execute_loop(0, _event, _measurements, _metadata), do: :ok

  def execute_loop(k, event, measurements, metadata) do
    :telemetry.execute(event, measurements, metadata)
    execute_loop(k - 1, event, measurements, metadata)
  end

  # Closures made here are compiled (a fn in the script would be interpreted by erl_eval).
  def cases(table, c_wc, c, a, bounds_tuple, bounds_list) do
    v = 3.0

    storage = [
      ets_update_3: fn -> ets_update_3(table, v, bounds_tuple) end,
      ets_update_2: fn -> ets_update_2(table, v, bounds_tuple) end,
      ets_counter_floor: fn -> ets_counter_floor(table) end,
      counters_wc: fn -> counters_2(c_wc, v, bounds_tuple) end,
      counters: fn -> counters_2(c, v, bounds_tuple) end,
      atomics: fn -> atomics_2(a, v, bounds_tuple) end
    ]

    guards = [bignum_guard: fn -> bignum_guard(v) end, float_guard: fn -> float_guard(v) end]

    buckets =
      for value <- [3.0, 200.0, 3000.0, 20_000.0], {name, search} <- [tuple_linear: &lin(&1, bounds_tuple, 0), list_linear: &list(&1, bounds_list, 0), tuple_binary: &binary(&1, bounds_tuple)] do
        {:"#{name}_#{search.(value) + 1}", fn -> search.(value) end}
      end

    {storage, guards, buckets}
  end
end

best = fn fun, k ->
  Enum.min(for _ <- 1..rounds, do: elem(:timer.tc(Parts, :repeat, [k, fun]), 0)) * 1000 / k
end

empty = best.(fn -> :ok end, n)
table = :ets.new(:parts, [:set, :public, write_concurrency: true, decentralized_counters: true])
:ets.insert(table, {:h, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
bounds = Enum.map([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0], &(&1 * 1000))
c_wc = :counters.new(13, [:write_concurrency])
c = :counters.new(13, [])
a = :atomics.new(13, signed: true)
{storage, guards, buckets} = Parts.cases(table, c_wc, c, a, List.to_tuple(bounds), bounds)

IO.puts("otp=#{System.otp_release()} schedulers=#{System.schedulers_online()} iterations=#{n} rounds=#{rounds}; ns per iteration, the empty loop's #{Float.round(empty, 1)} ns subtracted")
report = fn name, ns -> IO.puts(:io_lib.format("  ~-28s ~7.1f ns", [Atom.to_string(name), ns - empty])) end

IO.puts("1. storage, one process")
for {name, fun} <- storage, do: report.(name, best.(fun, n))

IO.puts("   two processes at once on the same slots (wall time per iteration of each)")

for {name, fun} <- storage, name in [:ets_update_2, :counters_wc, :counters, :atomics] do
  ns =
    Enum.min(
      for _ <- 1..rounds do
        {us, _} = :timer.tc(fn -> [Task.async(Parts, :repeat, [n, fun]), Task.async(Parts, :repeat, [n, fun])] |> Enum.each(&Task.await(&1, :infinity)) end)
        us * 1000 / n
      end
    )

  report.(name, ns)
end

IO.puts("2. range check of one value")
for {name, fun} <- guards, do: report.(name, best.(fun, n))
IO.puts("3. bucket search, 11 bounds (name_N: the value falls in bucket N, 12 = +Inf)")
for {name, fun} <- buckets, do: report.(name, best.(fun, n))

IO.puts("4. through :telemetry, two :counters adds per event; per event, the none run subtracted")
event = [:parts, :stop]
[metric] = [Telemetry.Metrics.summary("parts.stop.duration", unit: {:native, :millisecond})]
measurements = %{duration: System.convert_time_unit(3, :millisecond, :native)}
records = {c_wc, metric.measurement, bounds}
:persistent_term.put({Parts, :records}, records)

loop = fn -> elem(:timer.tc(Parts, :execute_loop, [n, event, measurements, %{}]), 0) * 1000 / n end

telemetry_cases = [
  none: nil,
  persistent_term: {&Parts.from_persistent_term/4, {Parts, :records}},
  config: {&Parts.from_config/4, records}
]

telemetry =
  for _ <- 1..rounds, {name, handler} <- telemetry_cases, reduce: %{} do
    acc ->
      with {fun, config} <- handler, do: :telemetry.attach(:parts, event, fun, config)
      ns = loop.()
      if handler, do: :telemetry.detach(:parts)
      Map.update(acc, name, ns, &min(&1, ns))
  end

for name <- [:persistent_term, :config] do
  IO.puts(:io_lib.format("  ~-28s ~7.1f ns", [Atom.to_string(name), telemetry[name] - telemetry[:none]]))
end

:persistent_term.erase({Parts, :records})
