defmodule BeamExporter.Forwarder.AggregatesTest do
  # Not async: :telemetry handlers are global.
  use ExUnit.Case, async: false

  import Telemetry.Metrics
  alias BeamExporter.Forwarder
  alias BeamExporter.Forwarder.UdpSink

  setup context, do: UdpSink.setup_for_test(context, "agg")

  # A long flush interval: the tests flush themselves.
  defp start(ctx, metrics, opts \\ []) do
    start_supervised!({Forwarder, [name: ctx.name, port: ctx.port, metrics: metrics, flush_interval: 3_600_000] ++ opts})
  end

  # The series of the BXT2 datagrams received, by metric name: %{name => %{label_values => delta}}
  # (several datagrams' deltas of one series added up).
  defp flushed(ctx) do
    Forwarder.flush(ctx.name)

    for {name, _type, _help, _buckets, _labels, series} <- UdpSink.metrics(ctx.socket), {values, delta} <- series,
        reduce: %{} do
      acc -> Map.update(acc, name, %{values => delta}, &Map.update(&1, values, delta, fn old -> add(old, delta) end))
    end
  end

  defp add(a, b) when is_number(a), do: a + b
  defp add({sum_a, buckets_a}, {sum_b, buckets_b}),
    do: {sum_a + sum_b, List.to_tuple(Enum.zip_with(Tuple.to_list(buckets_a), Tuple.to_list(buckets_b), &+/2))}

  test "every kind is aggregated in the app and sent as deltas with its name, type, help and buckets", ctx do
    start(ctx, [
      counter("agg_test.req.stop.duration", tags: [:route]),
      sum("agg_test.req.stop.bytes", tags: [:route]),
      last_value("agg_test.mem.total", unit: {:byte, :kilobyte}),
      summary("agg_test.req.stop.duration", tags: [:route, :method], unit: {:native, :millisecond},
        reporter_options: [buckets: [10, 100]], description: "Request time")
    ])

    ms = System.convert_time_unit(1, :millisecond, :native)

    for {route, method, duration_ms, bytes} <- [{"/a", "GET", 5, 100}, {"/a", "GET", 50, 200}, {"/b", "POST", 500, 7}] do
      :telemetry.execute([:agg_test, :req, :stop], %{duration: duration_ms * ms, bytes: bytes}, %{route: route, method: method})
    end

    :telemetry.execute([:agg_test, :mem], %{total: 49_388_616}, %{})

    Forwarder.flush(ctx.name)
    metrics = UdpSink.metrics(ctx.socket)
    by_name = Map.new(metrics, fn {name, _, _, _, _, _} = m -> {name, m} end)

    assert {_, :counter, _, [], ["route"], counts} = by_name["agg_test_req_stop_duration_total"]
    assert Enum.sort(counts) == [{["/a"], 2}, {["/b"], 1}]

    assert {_, :counter, _, [], ["route"], sums} = by_name["agg_test_req_stop_bytes_total"]
    assert Enum.sort(sums) == [{["/a"], 300.0}, {["/b"], 7.0}]

    assert {_, :gauge, _, [], [], [{[], {:set, 49_388_616.0}}]} = by_name["agg_test_mem_total_bytes"]

    assert {_, :histogram, "Request time", [0.01, 0.1], ["route", "method"], hist} =
             by_name["agg_test_req_stop_duration_seconds"]

    assert [{["/a", "GET"], {sum_a, {1, 1, 0}}}, {["/b", "POST"], {sum_b, {0, 0, 1}}}] = Enum.sort(hist)
    assert_in_delta sum_a, 0.055, 1.0e-9
    assert_in_delta sum_b, 0.5, 1.0e-9

    # The next flush sends only what changed since, as a difference.
    :telemetry.execute([:agg_test, :req, :stop], %{duration: 20 * ms, bytes: 1}, %{route: "/b", method: "POST"})
    again = flushed(ctx)
    assert again["agg_test_req_stop_duration_total"] == %{["/b"] => 1}
    assert again["agg_test_req_stop_bytes_total"] == %{["/b"] => 1.0}
    assert %{["/b", "POST"] => {sum, {0, 1, 0}}} = again["agg_test_req_stop_duration_seconds"]
    assert_in_delta sum, 0.02, 1.0e-9
    refute Map.has_key?(again, "agg_test_mem_total_bytes")
  end

  test "tag_values, keep, drop and measurement functions of one and two arguments are applied", ctx do
    start(ctx, [
      counter("agg_fn.job.stop.count", tags: [:queue], tag_values: &%{queue: &1.job.queue}, keep: &(&1.job.queue != "skip")),
      counter("agg_fn.job.stop.dropped", drop: &(&1.job.queue != "skip")),
      sum("agg_fn.job.stop.doubled", measurement: &(&1.n * 2)),
      sum("agg_fn.job.stop.weighted", measurement: fn m, meta -> m.n * meta.weight end)
    ])

    for queue <- ["default", "default", "mail", "skip"] do
      :telemetry.execute([:agg_fn, :job, :stop], %{n: 3}, %{job: %{queue: queue}, weight: 10})
    end

    got = flushed(ctx)
    assert got["agg_fn_job_stop_count_total"] == %{["default"] => 2, ["mail"] => 1}
    assert got["agg_fn_job_stop_dropped_total"] == %{[] => 1}
    assert got["agg_fn_job_stop_doubled_total"] == %{[] => 24.0}
    assert got["agg_fn_job_stop_weighted_total"] == %{[] => 120.0}
  end

  test "a definition's series are capped: further series are counted, not stored", ctx do
    start(ctx, [counter("agg_cap.hit.count", tags: [:user])], max_series_per_metric: 3)
    for user <- 1..10, _ <- 1..2, do: :telemetry.execute([:agg_cap, :hit], %{}, %{user: user})

    got = flushed(ctx)
    assert got["agg_cap_hit_count_total"] == %{["1"] => 2, ["2"] => 2, ["3"] => 2}
    assert %{dropped_series_limit: 14} = Forwarder.stats(ctx.name)
    forwarder = BeamExporter.Forwarder.Labels.module_name(ctx.name)
    assert got["beam_exporter_forwarder_dropped_total"][[forwarder, "series_limit"]] == 14
  end

  test "a raising measurement function is counted and the handler stays attached", ctx do
    start(ctx, [sum("agg_raise.x.v", measurement: fn %{v: v} -> 10 / v end)])
    :telemetry.execute([:agg_raise, :x], %{v: 0}, %{})
    :telemetry.execute([:agg_raise, :x], %{v: 2}, %{})
    assert flushed(ctx)["agg_raise_x_v_total"] == %{[] => 5.0}
    assert %{dropped_extractor_failed: 1} = Forwarder.stats(ctx.name)
  end

  test "a negative value of a sum served as a counter is counted, not added; a gauge sum adds it", ctx do
    start(ctx, [sum("agg_neg.x.v"), sum("agg_neg.x.w", measurement: :v, reporter_options: [prometheus_type: :gauge])])
    for v <- [5, -2], do: :telemetry.execute([:agg_neg, :x], %{v: v}, %{})
    got = flushed(ctx)
    assert got["agg_neg_x_v_total"] == %{[] => 5.0}
    assert got["agg_neg_x_w"] == %{[] => {:add, 3.0}}
    assert %{dropped_negative_sum: 1} = Forwarder.stats(ctx.name)
  end

  test "an untagged sum appears on its first event even when its values add up to 0", ctx do
    start(ctx, [sum("agg_zero.x.v"), sum("agg_zero.x.w", measurement: :v, tags: [:k])])
    assert flushed(ctx)["agg_zero_x_v_total"] == nil
    :telemetry.execute([:agg_zero, :x], %{v: 0}, %{k: "a"})
    got = flushed(ctx)
    assert got["agg_zero_x_v_total"] == %{[] => 0.0}
    assert got["agg_zero_x_w_total"] == %{["a"] => 0.0}
  end

  test "an untagged series whose slot wraps around 2^64 still sends exact differences", ctx do
    # 4.0e12 is 4.0e18 millionths: the third event takes the 64-bit slot past 2^63 (9.2e18).
    start(ctx, [sum("agg_wrap.x.v"), sum("agg_wrap.x.w", measurement: :w, reporter_options: [prometheus_type: :gauge])])

    for {v, w} <- [{4.0e12, 4.0e12}, {4.0e12, 4.0e12}, {4.0e12, 4.0e12}, {1, -4.0e12}, {4.0e12, -4.0e12}] do
      :telemetry.execute([:agg_wrap, :x], %{v: v, w: w}, %{})
      got = flushed(ctx)
      assert got["agg_wrap_x_v_total"] == %{[] => v * 1.0}
      assert got["agg_wrap_x_w"] == %{[] => {:add, w * 1.0}}
    end
  end

  test "an untagged value too large for a 64-bit slot is counted, not added", ctx do
    start(ctx, [sum("agg_big.x.v")])
    # 1.0e13 is 1.0e19 millionths: over 2^63 (and under 2^64, which :counters.add would take).
    :telemetry.execute([:agg_big, :x], %{v: 1.0e13}, %{})
    :telemetry.execute([:agg_big, :x], %{v: 2}, %{})
    assert flushed(ctx)["agg_big_x_v_total"] == %{[] => 2.0}
    assert %{dropped_unexpected_type: 1} = Forwarder.stats(ctx.name)
  end

  test "the forwarder's own counters are sent every flush, labelled with the instance", ctx do
    start(ctx, [], buffer_size: 10, events: [[:agg_own, :e]])
    :sys.suspend(Forwarder.sender(ctx.name))
    for _ <- 1..25, do: :telemetry.execute([:agg_own, :e], %{n: 1}, %{})
    :sys.resume(Forwarder.sender(ctx.name))

    got = flushed(ctx)
    forwarder = BeamExporter.Forwarder.Labels.module_name(ctx.name)
    assert got["beam_exporter_forwarder_dropped_total"][[forwarder, "overload"]] == 15
    assert got["beam_exporter_forwarder_dropped_total"][[forwarder, "oversize"]] == 0
    assert got["beam_exporter_forwarder_flushes_total"] == %{[forwarder] => 1}
    assert got["beam_exporter_forwarder_send_errors_total"] == %{[forwarder] => 0}
  end

  test "a metric's series are split over datagrams under the MTU, each with the header", ctx do
    start(ctx, [counter("agg_split.hit.count", tags: [:k])], mtu: 400)
    for k <- 1..200, do: :telemetry.execute([:agg_split, :hit], %{}, %{k: k})
    Forwarder.flush(ctx.name)
    datagrams = UdpSink.receive_all(ctx.socket, 300, "BXT2")
    assert length(datagrams) > 5
    assert Enum.all?(datagrams, &(byte_size(&1) <= 400))

    series =
      for d <- datagrams, {"agg_split_hit_count_total", :counter, _, [], ["k"], s} <- elem(UdpSink.decode(d), 1), x <- s, do: x

    assert Enum.sort(series) == Enum.sort(for k <- 1..200, do: {[Integer.to_string(k)], 1})
  end
end
