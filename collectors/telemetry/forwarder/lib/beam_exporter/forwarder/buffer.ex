defmodule BeamExporter.Forwarder.Buffer do
  @moduledoc """
  The bounded hand-off between instrumented processes and the sender.

  A caller (any process executing a telemetry event) sends the event as a message to the sender,
  whose message queue is kept off-heap so many concurrent senders do not contend on its heap.
  An atomics cell counts the events queued and not yet taken by the sender, so the bound is
  checked without looking at the mailbox: over the limit, the event is dropped and counted,
  never waited for. (Measured here, a message send costs the caller less than an ETS insert of
  the same term; see docs/benchmarks.md.)

  Counters (`:counters`, write_concurrency) are readable by anyone through `stats/1`.
  """

  defstruct [:size, :counters, :limit, :sender]

  @type t :: %__MODULE__{}

  @counter_names [
    :dropped_overload,
    :dropped_oversize,
    :dropped_missing_key,
    :dropped_unexpected_type,
    :dropped_extractor_failed,
    :dropped_series_limit,
    :dropped_negative_sum,
    :events_sent,
    :datagrams_sent,
    :send_errors,
    :flushes
  ]
  @dropped_overload 1 + Enum.find_index(@counter_names, &(&1 == :dropped_overload))

  for {name, index} <- Enum.with_index(@counter_names, 1) do
    @doc false
    def unquote(name)(), do: unquote(index)
  end

  @doc "Creates the counters for the sender process `sender`."
  @spec new(pos_integer, pid) :: t
  def new(limit, sender) do
    %__MODULE__{
      size: :atomics.new(1, signed: true),
      counters: :counters.new(length(@counter_names), [:write_concurrency]),
      limit: limit,
      sender: sender
    }
  end

  @doc """
  Queues one event (the index of its spec, its measurements and extracted metadata) from the
  calling process, or drops and counts it.
  """
  @spec push(t, non_neg_integer, map, map) :: :ok
  def push(%__MODULE__{size: size, limit: limit} = buffer, index, measurements, metadata) do
    if :atomics.add_get(size, 1, 1) > limit do
      :atomics.sub(size, 1, 1)

      :counters.add(buffer.counters, @dropped_overload, 1)
    else
      # One flat tuple: the smallest message that carries the event.
      send(buffer.sender, {__MODULE__, index, measurements, metadata})
    end

    :ok
  end

  @doc """
  The event `{index, measurements, metadata}` a message of the sender's mailbox carries, or nil
  for any other message (the sender passes events it received itself to `take/3`).
  """
  @spec event(term) :: {non_neg_integer, map, map} | nil
  def event({__MODULE__, index, measurements, metadata}), do: {index, measurements, metadata}
  def event(_other), do: nil

  @doc """
  Takes up to `max` more queued events (`{index, measurements, metadata}`) from the calling
  (sender) process's mailbox, without waiting, after `received` (events the caller already took
  out of its mailbox).
  """
  @spec take(t, pos_integer, [tuple]) :: [tuple]
  def take(%__MODULE__{size: size}, max, received \\ []) do
    events = receive_events(max, received)
    :atomics.sub(size, 1, length(events))
    events
  end

  defp receive_events(0, acc), do: acc

  defp receive_events(n, acc) do
    receive do
      {__MODULE__, index, measurements, metadata} ->
        receive_events(n - 1, [{index, measurements, metadata} | acc])
    after
      0 -> acc
    end
  end

  @doc "Adds `n` to a counter (by index, see the counter functions)."
  def count(%__MODULE__{counters: counters}, index, n \\ 1), do: :counters.add(counters, index, n)

  @doc "A snapshot of the counters and the current queue length."
  @spec stats(t) :: map
  def stats(%__MODULE__{counters: counters, size: size}) do
    for {name, index} <- Enum.with_index(@counter_names, 1),
        into: %{queued: :atomics.get(size, 1)} do
      {name, :counters.get(counters, index)}
    end
  end
end
