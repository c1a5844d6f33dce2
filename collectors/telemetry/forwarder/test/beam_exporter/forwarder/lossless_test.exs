defmodule BeamExporter.Forwarder.LosslessTest do
  # Against a real beam_exporter: exact totals on /metrics for more events than the sender could
  # forward one by one. Not async: :telemetry handlers are global.
  use ExUnit.Case, async: false

  import Telemetry.Metrics
  alias BeamExporter.Forwarder
  alias BeamExporter.Forwarder.RealExporter

  @moduletag timeout: 120_000

  setup do
    exporter = RealExporter.start!()
    on_exit(fn -> RealExporter.stop(exporter) end)
    %{exporter: exporter}
  end

  test "a burst two processes execute with the sender stopped is counted exactly on /metrics", %{exporter: exporter} do
    per_process = 200_000
    name = :lossless_test

    start_supervised!(
      {Forwarder,
       name: name,
       port: exporter.udp,
       flush_interval: 200,
       # The same event also forwarded one by one, through a 10 000-event queue.
       events: [[:lossless, :req, :stop]],
       buffer_size: 10_000,
       metrics: [
         counter("lossless.req.stop.count", tags: [:route]),
         summary("lossless.req.stop.duration", tags: [:route], unit: {:native, :millisecond},
           reporter_options: [buckets: [1, 10]]),
         # Untagged: kept in :counters slots (write_concurrency) instead of table rows.
         counter("lossless.req.stop.calls"),
         summary("lossless.req.stop.latency", event_name: [:lossless, :req, :stop], measurement: :duration,
           unit: {:native, :millisecond}, reporter_options: [buckets: [1, 10]])
       ]}
    )

    # The sender forwards nothing while suspended: every event beyond the queue is lost to the
    # per-event path; the aggregated definitions are updated by the callers themselves.
    sender = Forwarder.sender(name)
    :sys.suspend(sender)
    ms = System.convert_time_unit(1, :millisecond, :native)

    burst = fn route, durations_ms ->
      Task.async(fn ->
        for i <- 1..per_process do
          :telemetry.execute([:lossless, :req, :stop], %{duration: elem(durations_ms, rem(i, 3)) * ms}, %{route: route})
        end
      end)
    end

    [burst.("/a", {0, 5, 50}), burst.("/b", {2, 2, 20})] |> Enum.each(&Task.await(&1, 60_000))
    :sys.resume(sender)
    :ok = Forwarder.flush(name)

    forwarder = "lossless_test"
    dropped = ~s(beam_exporter_forwarder_dropped_total{forwarder="#{forwarder}",reason="overload"})

    RealExporter.wait_until!(fn ->
      RealExporter.value(RealExporter.metrics(exporter), dropped) == 2 * per_process - 10_000
    end, 10_000)

    m = RealExporter.metrics(exporter)
    value = &RealExporter.value(m, &1)
    # rem(i, 3) over 1..200_000 gives 0 for 66_666, 1 for 66_667, 2 for 66_667.
    {n0, n1, n2} = {66_666, 66_667, 66_667}
    assert value.(~s(lossless_req_stop_count_total{route="/a"})) == per_process
    assert value.(~s(lossless_req_stop_count_total{route="/b"})) == per_process
    assert value.(~s(lossless_req_stop_duration_seconds_count{route="/a"})) == per_process
    # /a: 0 ms (n0), 5 ms (n1), 50 ms (n2); le 0.001, 0.01 are cumulative.
    assert value.(~s(lossless_req_stop_duration_seconds_bucket{route="/a",le="0.001"})) == n0
    assert value.(~s(lossless_req_stop_duration_seconds_bucket{route="/a",le="0.01"})) == n0 + n1
    assert value.(~s(lossless_req_stop_duration_seconds_bucket{route="/a",le="+Inf"})) == per_process
    assert_in_delta value.(~s(lossless_req_stop_duration_seconds_sum{route="/a"})), (n1 * 5 + n2 * 50) / 1000, 1.0e-6
    assert value.(~s(lossless_req_stop_duration_seconds_bucket{route="/b",le="0.01"})) == n0 + n1
    assert_in_delta value.(~s(lossless_req_stop_duration_seconds_sum{route="/b"})), ((n0 + n1) * 2 + n2 * 20) / 1000, 1.0e-6
    # The untagged definitions, both processes' events in one series.
    assert value.(~s(lossless_req_stop_calls_total)) == 2 * per_process
    assert value.(~s(lossless_req_stop_latency_seconds_count)) == 2 * per_process
    assert value.(~s(lossless_req_stop_latency_seconds_bucket{le="0.001"})) == n0
    assert value.(~s(lossless_req_stop_latency_seconds_bucket{le="0.01"})) == 2 * (n0 + n1)
    assert_in_delta value.(~s(lossless_req_stop_latency_seconds_sum)),
                    (n1 * 5 + n2 * 50 + (n0 + n1) * 2 + n2 * 20) / 1000, 1.0e-6
    # The per-event path, with the same events, lost all but its queue, and said so on /metrics.
    assert value.(dropped) == 2 * per_process - 10_000
    assert value.(~s(beam_exporter_forwarder_send_errors_total{forwarder="#{forwarder}"})) == 0
    assert value.(~s(beam_exporter_forwarder_flushes_total{forwarder="#{forwarder}"})) >= 1
    assert %{dropped_overload: 390_000, dropped_series_limit: 0} = Forwarder.stats(name)
  end
end
