defmodule Lab.Cache do
  @moduledoc """
  ETS bloat: owns the named table `:lab_cache` (a cache without eviction). The app keeps 100
  entries in it normally; while `ets_bloat` is on it inserts 50k rows (~8 MB) every 200 ms
  (~40 MB/s) up to about 1.5 GiB (past the 1 GiB of the BeamEtsTableLarge alert; the cap keeps a
  forgotten fault from exhausting the machine). Switched off, the cache is cleared back to its
  100 entries.
  """
  use Lab.Ticker, interval_ms: 200, initial_state: create_table()

  @table :lab_cache
  @rows 50_000
  @max_bytes 1_610_612_736

  def tick(bloated?) do
    cond do
      Lab.Faults.on?(:ets_bloat) ->
        if :ets.info(@table, :memory) * :erlang.system_info(:wordsize) < @max_bytes do
          base = System.unique_integer([:positive])
          :ets.insert(@table, for(i <- 1..@rows, do: {{:page, base, i}, :binary.copy("x", 64)}))
        end

        true

      bloated? ->
        # One call rather than match_delete, which takes seconds on millions of rows.
        :ets.delete_all_objects(@table)
        put_users()
        false

      true ->
        false
    end
  end

  # Runs in init/1: the table belongs to this process. The state says whether it is bloated.
  defp create_table do
    :ets.new(@table, [:named_table, :public, :set])
    put_users()
    false
  end

  defp put_users, do: :ets.insert(@table, for(i <- 1..100, do: {{:user, i}, "user #{i}"}))
end
