defmodule BeamExporter.Forwarder.Handler do
  @moduledoc """
  The `:telemetry` handler. It runs in the process that executes the event, so it does the
  minimum: extract the low-cardinality metadata and queue the event under its spec index (see
  `Buffer.push/2`). The event's time is stamped by the sender when it takes the event (reading
  the clock costs the caller ~0.1 µs here, and the exporter does not use the time: Prometheus
  stamps samples at scrape time). It never raises: `:telemetry` detaches a handler that raises,
  so any failure (a bad extractor, odd metadata) is caught and counted as a handler error.
  """

  alias BeamExporter.Forwarder.Buffer

  @doc false
  def handle_event(_event, measurements, metadata, %{
        buffer: buffer,
        extract: extract,
        counted: counted,
        index: index
      }) do
    measurements = if counted, do: Map.put(measurements, :count, 1), else: measurements
    Buffer.push(buffer, {index, measurements, extract.(metadata)})
  catch
    _kind, _reason -> Buffer.count(buffer, Buffer.handler_errors())
  end
end
