defmodule BeamExporter.Forwarder.Sender do
  @moduledoc """
  Owns the buffer, the UDP socket and the `:telemetry` handlers of one forwarder instance.

  Every `flush_interval` it sends what the aggregated definitions (`Aggregates`) and its own
  counters (`OwnMetrics`) changed since the last flush; a datagram that could not be sent leaves
  its rows to the next flush, so a send error delays those deltas instead of losing them.

  Events arrive as messages (see `Buffer`). The sender sends as soon as they come: it takes
  everything queued (in passes of 512), converts measurements to the wire form (adding `count: 1`
  for counted specs), packs datagrams under the MTU and sends them, so batches grow with the load
  (whatever queued while it was busy goes out together). All of this happens in this process, off
  the instrumented callers' path.
  A send error is counted and the datagram is dropped (UDP is best effort; the exporter counts
  what it receives).
  """

  use GenServer

  alias BeamExporter.Forwarder.{Aggregates, Buffer, Encoder, Handler, LoggerHandler, Measurements, OwnMetrics}

  # Events taken from the buffer per pass; a drain makes passes until the buffer is empty.
  @take_per_pass 512
  # A UDP send blocks only when the socket's send buffer is full; give up on that datagram then.
  @send_timeout_ms 100

  def start_link(config), do: GenServer.start_link(__MODULE__, config)

  @doc """
  Drains now, sends the aggregated deltas, and returns when both have been sent (for tests and
  shutdown).
  """
  def flush(pid), do: GenServer.call(pid, :flush)

  @impl true
  def init(config) do
    Process.flag(:trap_exit, true)
    Process.flag(:message_queue_data, :off_heap)
    # :socket rather than :gen_udp: gen_udp's send waits for its port's reply with a receive that
    # scans this process's mailbox, which holds the queued events; that made each send O(queue).
    {:ok, socket} = :socket.open(:inet, :dgram, :udp)
    buffer = Buffer.new(config.buffer_size, self())
    # The instance's :persistent_term entry (read by the handlers on every event, and by
    # `Forwarder.stats/1`...): written once, before the handlers are attached, and erased after
    # they are detached (terminate/2); a restarted sender overwrites it.
    instance_key = {BeamExporter.Forwarder, config.name}
    extracts = config.specs |> Enum.map(& &1.extract) |> List.to_tuple()
    specs = config.metric_specs
    aggregates = Aggregates.new(specs, config.max_series_per_metric, buffer)
    by_event = Enum.group_by(specs, & &1.event, &Aggregates.handler_record(aggregates, &1))
    metric_events = Map.keys(by_event)
    metric_records = metric_events |> Enum.map(&Map.fetch!(by_event, &1)) |> List.to_tuple()
    own_specs = OwnMetrics.specs(length(specs) + 1)

    :persistent_term.put(instance_key, %{
      buffer: buffer,
      sender: self(),
      extracts: extracts,
      aggregates: aggregates,
      metric_records: metric_records
    })

    handler_ids =
      Handler.attach(instance_key, config.name, config.specs) ++
        Handler.attach_metrics(instance_key, config.name, metric_events)
    logger_id = if config.logger_handler, do: add_logger_handler(config.name)

    state = %{
      config: config,
      buffer: buffer,
      socket: socket,
      handler_ids: handler_ids,
      logger_id: logger_id,
      native_per_second: Measurements.native_per_second(),
      # Callers queue the spec's index instead of the event name: less to copy on their path.
      event_names: config.specs |> Enum.map(& &1.event) |> List.to_tuple(),
      counted: config.specs |> Enum.map(& &1.counted) |> List.to_tuple(),
      aggregates: aggregates,
      own_specs: own_specs,
      specs_by_id: Map.new(specs ++ own_specs, &{&1.id, &1}),
      forwarder_label: BeamExporter.Forwarder.Labels.module_name(config.name),
      # The rows as last sent (see Aggregates.deltas/4).
      sent: %{}
    }

    schedule_flush(config.flush_interval)
    {:ok, state}
  end

  @impl true
  def handle_info(:flush_aggregates, state) do
    schedule_flush(state.config.flush_interval)
    {:noreply, flush_aggregates(state)}
  end

  def handle_info(message, state) do
    case Buffer.event(message) do
      nil ->
        {:noreply, state}

      event ->
        {:noreply, drain(state, [event])}
    end
  end

  @impl true
  def handle_call(:flush, _from, state), do: {:reply, :ok, state |> drain() |> flush_aggregates()}

  @impl true
  def terminate(_reason, state) do
    Enum.each(state.handler_ids, &:telemetry.detach/1)
    if state.logger_id, do: LoggerHandler.remove(state.logger_id)
    state |> drain() |> flush_aggregates()
    :socket.close(state.socket)
    :persistent_term.erase({BeamExporter.Forwarder, state.config.name})
    :ok
  end

  defp schedule_flush(interval), do: Process.send_after(self(), :flush_aggregates, interval)

  # Sends every row that changed since it was last sent, with the own counters; rows of a datagram
  # that could not be sent stay as they were in `sent`, so the next flush sends their deltas again.
  defp flush_aggregates(state) do
    %{buffer: buffer, config: config} = state
    Buffer.count(buffer, Buffer.flushes())
    own_rows = OwnMetrics.rows(state.own_specs, state.forwarder_label, Buffer.stats(buffer))
    groups = Aggregates.deltas(state.aggregates, state.specs_by_id, state.sent, own_rows)
    {datagrams, oversize} = Encoder.pack_metrics(node(), groups, config.mtu)
    Buffer.count(buffer, Buffer.dropped_oversize(), oversize)

    sent =
      Enum.reduce(datagrams, state.sent, fn {datagram, rows}, sent ->
        if send_datagram(state, datagram),
          do: Enum.reduce(rows, sent, fn row, acc -> Map.put(acc, elem(row, 0), row) end),
          else: sent
      end)

    %{state | sent: sent}
  end

  defp send_datagram(state, datagram) do
    destination = %{family: :inet, addr: state.config.host, port: state.config.port}

    case :socket.sendto(state.socket, datagram, destination, @send_timeout_ms) do
      :ok ->
        Buffer.count(state.buffer, Buffer.datagrams_sent())
        true

      {:error, _reason} ->
        Buffer.count(state.buffer, Buffer.send_errors())
        false
    end
  end

  defp add_logger_handler(name) do
    id = :"beam_exporter_forwarder_#{:erlang.phash2(name)}"
    LoggerHandler.remove(id)
    :ok = LoggerHandler.add(id)
    id
  end

  # Sends the queued events in batches until the mailbox holds no more (`first`: already received).
  defp drain(state, first \\ []) do
    case Buffer.take(state.buffer, @take_per_pass, first) do
      [] ->
        state

      events ->
        send_events(state, events)
        drain(state)
    end
  end

  defp send_events(state, events) do
    %{config: config, buffer: buffer, native_per_second: nps, counted: counted} = state
    # The wire event's time: when this batch was taken (see Handler).
    time = :erlang.monotonic_time()

    wire =
      for {spec_index, measurements, metadata} <- events do
        {elem(state.event_names, spec_index),
         Measurements.to_wire(measurements, nps, elem(counted, spec_index)), metadata, time}
      end

    {datagrams, oversize} = Encoder.pack(node(), wire, config.mtu)
    Buffer.count(buffer, Buffer.dropped_oversize(), oversize)

    Enum.each(datagrams, fn {datagram, event_count} ->
      if send_datagram(state, datagram), do: Buffer.count(buffer, Buffer.events_sent(), event_count)
    end)
  end
end
