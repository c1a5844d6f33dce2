defmodule Lab.MailboxConsumer do
  @moduledoc """
  Mailbox overflow, the consumer: a named process that takes 5 ms per `{:job, _}` message
  (200/s). Fed faster than that by `Lab.MailboxProducer`, its message queue grows; once the
  fault is off it drains the backlog without the delay.
  """
  use GenServer

  @work_ms 5

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil), do: {:ok, 0}

  @impl true
  def handle_info({:job, _payload}, handled) do
    if Lab.Faults.on?(:mailbox_overflow), do: Process.sleep(@work_ms)
    {:noreply, handled + 1}
  end
end
