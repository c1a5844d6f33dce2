defmodule Lab.MailboxProducer do
  @moduledoc """
  Mailbox overflow, the producer: while `mailbox_overflow` is on, sends 100 jobs every 50 ms
  (2000/s) to `Lab.MailboxConsumer`, ten times what it can take, until the consumer's queue holds
  300k messages (past the 100k of the critical BeamProcessMailboxBacklog alert; the cap keeps a
  forgotten fault from exhausting memory).
  """
  use Lab.Ticker, interval_ms: 50

  @batch 100
  @max_queue 300_000

  def tick(state) do
    if Lab.Faults.on?(:mailbox_overflow) do
      with consumer when is_pid(consumer) <- Process.whereis(Lab.MailboxConsumer),
           {:message_queue_len, queued} when queued < @max_queue <-
             Process.info(consumer, :message_queue_len) do
        for i <- 1..@batch, do: send(consumer, {:job, i})
      end
    end

    state
  end
end
