defmodule Lab.Burner do
  @moduledoc """
  Overload: while `overload` is on, keeps 6 busy processes per online scheduler spinning on
  pure CPU work, so every scheduler is saturated and about 5 runnable processes wait per
  scheduler (the BeamRunQueueHigh alert fires above 2). Switched off, they
  are stopped.
  """
  use Lab.Ticker, interval_ms: 200, initial_state: []

  @per_scheduler 6

  def tick(burners) do
    case {Lab.Faults.on?(:overload), burners} do
      {true, []} ->
        for _ <- 1..(@per_scheduler * System.schedulers_online()), do: spawn_link(&spin/0)

      {false, [_ | _]} ->
        Enum.each(burners, &(Process.unlink(&1) && Process.exit(&1, :kill))) && []

      _ ->
        burners
    end
  end

  defp spin do
    Enum.reduce(1..10_000, 0, &(&1 + &2))
    spin()
  end
end
