defmodule BeamExporter.Forwarder.ExtractFailure do
  @moduledoc """
  Why an extractor could not read an event's metadata, as the name of the counter that counts
  the dropped event (`BeamExporter.Forwarder.stats/1`). The handler catches everything an
  extractor raises (`:telemetry` would detach a handler that raises), so these reasons are what
  an operator sees of metadata that does not have the shape a preset expects. Pure.
  """

  @doc """
  The counter for a failure caught as `kind, reason` (raw, as `catch` gives it):
  `:dropped_missing_key` (a key the extractor needs is absent), `:dropped_unexpected_type` (a
  value of another type than documented), `:dropped_extractor_failed` (anything else).
  """
  @spec counter(atom, term) ::
          :dropped_missing_key | :dropped_unexpected_type | :dropped_extractor_failed
  def counter(:error, %KeyError{}), do: :dropped_missing_key
  def counter(:error, {:badkey, _}), do: :dropped_missing_key
  def counter(:error, {:badkey, _, _}), do: :dropped_missing_key

  def counter(:error, %module{})
      when module in [
             FunctionClauseError,
             CaseClauseError,
             MatchError,
             BadMapError,
             ArgumentError,
             ArithmeticError,
             Protocol.UndefinedError,
             BadStructError
           ],
      do: :dropped_unexpected_type

  def counter(:error, reason)
      when reason in [:function_clause, :badarg, :badarith] or
             (is_tuple(reason) and
                elem(reason, 0) in [:case_clause, :badmatch, :badmap, :badstruct]),
      do: :dropped_unexpected_type

  def counter(_kind, _reason), do: :dropped_extractor_failed
end
