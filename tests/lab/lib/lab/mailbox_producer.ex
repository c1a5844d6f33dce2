defmodule Lab.MailboxProducer do
  @moduledoc """
  Mailbox overflow, the producer: while `mailbox_overflow` is on, sends 100 jobs every 50 ms
  (2000/s) to `Lab.MailboxConsumer`, ten times what it can take, until the consumer's queue holds
  300k messages (past the 100k of the critical BeamProcessMailboxBacklog alert; the cap keeps a
  forgotten fault from exhausting memory).
  """
  use GenServer

  @interval_ms 50
  @batch 100
  @max_queue 300_000

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil), do: {:ok, schedule(nil)}

  @impl true
  def handle_info(:tick, state) do
    if Lab.Faults.on?(:mailbox_overflow) do
      with consumer when is_pid(consumer) <- Process.whereis(Lab.MailboxConsumer),
           {:message_queue_len, queued} when queued < @max_queue <-
             Process.info(consumer, :message_queue_len) do
        for i <- 1..@batch, do: send(consumer, {:job, i})
      end
    end

    {:noreply, schedule(state)}
  end

  defp schedule(state) do
    Process.send_after(self(), :tick, @interval_ms)
    state
  end
end
