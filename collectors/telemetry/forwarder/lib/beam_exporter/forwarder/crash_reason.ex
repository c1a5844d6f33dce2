defmodule BeamExporter.Forwarder.CrashReason do
  @moduledoc """
  Normalises a process exit/error reason to one of a small, fixed set of label values, so that
  `beam_crash_reports_total{reason}` stays low-cardinality whatever the application throws.

  Values: "timeout", "noproc", "killed", "badarg", "badmatch", "function_clause", "undef",
  "exit", "error", "other".
  """

  @type class :: :error | :exit | :throw | :unknown

  @doc """
  `class` is the exception class from a crash report's `error_info` (`:unknown` when the
  source does not say); `reason` is the raw reason term.
  """
  @spec normalize(class, term) :: String.t()
  def normalize(class, reason) do
    case known(unwrap(reason)) do
      nil -> by_class(class)
      value -> value
    end
  end

  @doc """
  The reason without the stacktrace that gen_server terminate reasons and emulator reports wrap
  it in (`{reason, stacktrace}`); any other term as it is.
  """
  @spec unwrap(term) :: term
  def unwrap({reason, stack}) when is_list(stack) and stack != [] do
    if stacktrace?(stack), do: reason, else: {reason, stack}
  end

  def unwrap(reason), do: reason

  defp stacktrace?([{m, f, a, loc} | _]) when is_atom(m) and is_atom(f) and is_list(loc),
    do: is_integer(a) or is_list(a)

  defp stacktrace?(_), do: false

  # `{:timeout, {GenServer, :call, args}}`, `{:timeout, {:gen_server, :call, args}}`,
  # `{:timeout, {Task, :await, args}}`: any call-with-timeout exit.
  defp known({:timeout, {m, f, a}}) when is_atom(m) and is_atom(f) and is_list(a), do: "timeout"
  defp known(:timeout), do: "timeout"
  defp known(:noproc), do: "noproc"
  defp known({:noproc, {m, f, a}}) when is_atom(m) and is_atom(f) and is_list(a), do: "noproc"
  defp known(:killed), do: "killed"
  defp known({:killed, {m, f, a}}) when is_atom(m) and is_atom(f) and is_list(a), do: "killed"
  defp known(:badarg), do: "badarg"
  defp known(%ArgumentError{}), do: "badarg"
  defp known({:badmatch, _}), do: "badmatch"
  defp known(%MatchError{}), do: "badmatch"
  defp known(:function_clause), do: "function_clause"
  defp known(%FunctionClauseError{}), do: "function_clause"
  defp known(:undef), do: "undef"
  defp known(%UndefinedFunctionError{}), do: "undef"
  defp known(_), do: nil

  defp by_class(:exit), do: "exit"
  defp by_class(:error), do: "error"
  defp by_class(_), do: "other"
end
