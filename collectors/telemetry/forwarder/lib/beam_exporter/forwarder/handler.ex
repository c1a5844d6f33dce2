defmodule BeamExporter.Forwarder.Handler do
  @moduledoc """
  The `:telemetry` handler. It runs in the process that executes the event, so it does the
  minimum: extract the low-cardinality metadata and queue the event under its spec index (see
  `Buffer.push/4`). It never raises: `:telemetry` detaches a handler that raises, so any failure
  (a bad extractor, odd metadata) is caught, the event dropped and counted by reason
  (`ExtractFailure`).

  What the caller pays is kept small by where things live (measured, docs/benchmarks.md):

    * `:telemetry` keeps handlers in an ETS table and copies each handler's id, function and
      config out of it on every event. So the config is only `{instance_key, spec_index}` (a few
      words, no references or closures), and everything else (the buffer, the extractors) is read
      from the instance's `:persistent_term` entry, which is read without copying. That entry is
      written when the sender attaches the handlers and erased when it detaches them, never per
      event (updating a persistent term makes the VM scan every process).
    * The aggregated definitions' handler (`handle_metrics/4`) reads its records (with their
      `:counters` reference, measurement functions and bucket bounds) from the same entry: in its
      config they would be copied out of `:telemetry`'s table on every event, which measured
      slower than the `:persistent_term` read.
    * The function is a remote capture, `&Handler.handle_event/4`.
    * The caller adds nothing to the measurements (the sender adds `count: 1` for counted specs)
      and stamps no time (reading the clock costs the caller ~0.1 µs here; the sender stamps the
      batch, and the exporter does not use the time anyway: Prometheus stamps samples at scrape).
  """

  alias BeamExporter.Forwarder.{Aggregates, Buffer, ExtractFailure}

  @doc """
  Attaches one handler per spec of instance `name`, whose `:persistent_term` entry under
  `instance_key` holds `buffer` and `extracts` (the specs' extractors, as a tuple in spec order).
  Returns the handler ids.
  """
  @spec attach(term, atom, [map]) :: [term]
  def attach(instance_key, name, specs) do
    attach_each(instance_key, Enum.map(specs, & &1.event), &{BeamExporter.Forwarder, name, &1}, &__MODULE__.handle_event/4)
  end

  @doc """
  Attaches one handler per event of the aggregated definitions: `events` in the order of the
  `metric_records` tuple of the instance's `:persistent_term` entry. Returns the handler ids.
  """
  @spec attach_metrics(term, atom, [[atom]]) :: [term]
  def attach_metrics(instance_key, name, events) do
    attach_each(instance_key, events, &{BeamExporter.Forwarder, name, :metrics, &1}, &__MODULE__.handle_metrics/4)
  end

  # Attaches `handler` to each of `events` under the id `id_of.(event)`, its config the instance
  # key and the event's index in `events`.
  defp attach_each(instance_key, events, id_of, handler) do
    for {event, index} <- Enum.with_index(events) do
      id = id_of.(event)
      # A sender killed without running terminate/2 left its handlers attached: replace them.
      :telemetry.detach(id)
      :ok = :telemetry.attach(id, event, handler, {instance_key, index})
      id
    end
  end

  @doc false
  def handle_metrics(_event, measurements, metadata, {instance_key, index}) do
    case :persistent_term.get(instance_key, nil) do
      %{aggregates: aggregates, metric_records: records} ->
        Aggregates.record(elem(records, index), measurements, metadata, aggregates)

      nil ->
        :ok
    end
  end

  @doc false
  def handle_event(_event, measurements, metadata, {instance_key, index}) do
    case :persistent_term.get(instance_key, nil) do
      %{buffer: buffer, extracts: extracts} ->
        push(buffer, index, measurements, metadata, elem(extracts, index))

      # The instance is stopping: its handlers are being detached.
      nil ->
        :ok
    end
  end

  defp push(buffer, index, measurements, metadata, extract) do
    Buffer.push(buffer, index, measurements, extract.(metadata))
  catch
    kind, reason -> Buffer.count(buffer, apply(Buffer, ExtractFailure.counter(kind, reason), []))
  end
end
