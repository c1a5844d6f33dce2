defmodule Lab.LeakyServer do
  @moduledoc """
  Memory leak: a named process that, while `memory_leak` is on, adds about 4 MB of heap terms
  (a list of 80k small tuples) to its state every 200 ms (~20 MB/s) and never lets go, up to
  about 1 GiB (past the 512 MiB of the BeamProcessMemoryHigh alert; the cap keeps a forgotten
  fault from exhausting the machine). Switched off, it drops the state and hibernates (which
  compacts its heap).
  """
  use Lab.Ticker, interval_ms: 200, initial_state: []

  @chunk 81_920
  # 80k x 48 bytes (a 3-tuple and a list cell) ~ 3.9 MB per tick; stop adding at ~1 GiB.
  @max_chunks 270

  def tick(leaked) do
    cond do
      Lab.Faults.on?(:memory_leak) -> leak_more(leaked)
      # Hibernating compacts the heap, so the memory is really given back.
      leaked != [] -> {:hibernate, []}
      true -> leaked
    end
  end

  defp leak_more(leaked) do
    if length(leaked) < @max_chunks,
      do: [Enum.map(1..@chunk, &{:session, &1, System.unique_integer()}) | leaked],
      else: leaked
  end
end
